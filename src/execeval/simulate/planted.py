"""`fake:planted[?KEY=VALUE&...]` (or `fake:FILE.json|.toml`): a model whose truth is known.
(`fake:prompted?...`, whose success depends on its MBPP prompt, is simulate/prompted.py.)

Studies estimate things no one can check on a real model: the best temperature for each
k, how much ranking by log-probability gains, how pass rates grow with size. This
backend plants them. It writes real programs for real problems (the reference solution
when a sample is correct, a program that fails otherwise) with a probability that
depends on the task, the temperature, the model's size and the prompt in a stated way,
and log-probabilities that are higher for correct samples by a stated margin. Every
draw is a hash of (seed, run --seed, size, prompt, task, sample index), so the same spec
always writes the same samples, and sample i at temperature 0.2 and at 0.8 share their
random number (common random numbers, as a seeded sampler has: the comparison is
paired), while models of different sizes, and one model on MBPP's original and edited
descriptions, draw independently, as different models and different prompts do.

The planted model (docs/studies.md has the derivation and the recovered values):

    difficulty   a_t = mu + sd * z_t,            z_t ~ N(0, 1), one per task
    size         s   = beta * log10(params / 1e9)
    prompt       e   = edit on MBPP's edited (sanitized) descriptions, else 0
    correct      logit p_t(T) = (a_t + s + e) / (T + tau) - gamma * T

so low temperatures sharpen (easy tasks become certain, hard ones impossible) and high
ones spread and degrade: the best temperature rises with k, as Chen et al. found.
Wrong samples are, with probability `memo`, programs that special-case the examples the
prompt shows (they pass HumanEval's docstring examples and fail its hidden tests; on
MBPP, whose shown tests are its tests, they pass), with probability `base_only` (HumanEval+
and MBPP+ only) the reference wrapped to answer the base inputs only, else a function that
returns None. A sample's mean log-probability is N(lp, lp_sd) when correct and
N(lp - margin, lp_sd) when wrong; `distinct=1` adds a comment naming the sample, so
samples differ as text (0 leaves equal programs equal, which grades faster).
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import tomllib
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from pathlib import Path
from statistics import NormalDist
from typing import Any, TypeVar
from urllib.parse import unquote

import numpy as np

from execeval.dataset import Dataset, Problem
from execeval.errors import UserError
from execeval.models.base import Generation, Request, Settings
from execeval.prompts.mbpp import tested_function
from execeval.sandbox import codec
from execeval.studies.examples import Example, literal_call, round_trips, shown_examples

MAX_LITERALS = 20_000  # characters of base inputs a base_only program may spell out
VERSION = "1"  # part of the fingerprint: bump when the same spec would write other samples


@dataclass(frozen=True)
class Planted:
    """The planted quantities (defaults give Codex-like curves on HumanEval and MBPP)."""

    seed: int = 0
    mu: float = -0.5        # mean task logit
    sd: float = 1.2         # spread of task logits
    tau: float = 0.1        # temperature offset: greedy (T=0) is sharp but finite
    gamma: float = 1.5      # degradation per unit of temperature
    params: float = 1e9     # model size
    beta: float = 0.8       # logit gain per decade of parameters
    edit: float = 0.0       # logit gain on edited (sanitized) MBPP descriptions
    memo: float = 0.3       # share of wrong samples that special-case the shown examples
    base_only: float = 0.3  # share of wrong samples right on base inputs only (EvalPlus)
    lp: float = -0.4        # mean log-probability of a correct sample
    margin: float = 0.15    # ... and how much lower it is for a wrong one
    lp_sd: float = 0.1      # spread of a sample's mean log-probability
    distinct: int = 1       # 1: a comment naming the sample makes every sample unique

    def logit(self, difficulty: float, temperature: float, edited: bool) -> float:
        shift = self.beta * math.log10(self.params / 1e9) + (self.edit if edited else 0.0)
        return (difficulty + shift) / (temperature + self.tau) - self.gamma * temperature


T = TypeVar("T")


def _query(text: str) -> dict[str, str]:
    """`a=1&b=2e+9` (a `+` stays a plus: sizes are written 1.5e+09)."""
    pairs = (part.partition("=") for part in text.split("&") if part)
    return {unquote(k): unquote(v) for k, _, v in pairs}


def typed(cls: type[T], values: dict[str, Any], name: str) -> T:
    """A planted-parameter dataclass from text values, refusing unknown keys by name."""
    types = {f.name: f.type for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(types))
    if unknown:
        raise UserError(f"fake:{name}: unknown parameter {unknown[0]!r} (known: "
                        f"{', '.join(types)})")
    try:
        out = {k: (int(float(v)) if types[k] == "int" else float(v)) for k, v in values.items()}
    except (TypeError, ValueError) as e:
        raise UserError(f"fake:{name}: {e}") from None
    return cls(**out)


def parse_planted(name: str) -> Planted:
    """`planted`, `planted?k=v&...`, or a JSON/TOML file of the same keys."""
    base, _, query = name.partition("?")
    if base == "planted":
        values: dict[str, Any] = _query(query)
    else:
        path = Path(base)
        try:
            text = path.read_text()
            values = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (OSError, ValueError) as e:
            raise UserError(f"fake:{name}: expected `planted[?key=value&...]` or a readable "
                            f".json/.toml file ({e})") from None
        values.update(_query(query))
    planted = typed(Planted, values, name)
    if planted.params <= 0 or planted.tau < 0 or planted.lp_sd <= 0 \
            or not 0 <= planted.memo <= 1 or not 0 <= planted.base_only <= 1 - planted.memo:
        raise UserError(f"fake:{name}: needs params > 0, tau >= 0, lp_sd > 0, and memo, "
                        "base_only >= 0 with memo + base_only <= 1")
    return planted


def uniform(*parts: object) -> float:
    """A uniform number in (0, 1) that is a pure function of `parts`."""
    digest = hashlib.blake2b("\0".join(map(str, parts)).encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 0.5) / 2.0**64


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _tree(code: str) -> ast.Module:
    try:
        with warnings.catch_warnings():  # old references say "\d" in plain strings
            warnings.simplefilter("ignore")
            return ast.parse(code)
    except (SyntaxError, ValueError):
        return ast.Module([], [])


def _function(problem: Problem, name: str) -> ast.FunctionDef | None:
    for source in (problem.code_prefix, problem.reference):
        for node in _tree(source).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return node
    return None


class FakeModel:
    """The planted model as a backend: whole programs (`is_program`), with logprobs."""

    chat = False
    request_size = 1 << 30

    def __init__(self, name: str, dataset: Dataset):
        self.spec = f"fake:{name}"
        self.planted = parse_planted(name)
        self.dataset = dataset
        self.edited = dataset.name == "mbpp-sanitized"
        self._texts: dict[tuple[str, str], str | None] = {}
        self._covered: dict[str, bool] = {}

    def fingerprint(self) -> str:
        """The planted parameters and the problems: unlike a real model, this one reads the
        dataset (HumanEval+ and HumanEval share prompts but not references)."""
        return (f"fake:v{VERSION}:{self.dataset.hash[:16]}:"
                + json.dumps(asdict(self.planted), sort_keys=True))

    # the planted truth ------------------------------------------------------------
    def difficulty(self, task_id: str) -> float:
        return self.planted.mu + self.planted.sd * NormalDist().inv_cdf(
            uniform(self.planted.seed, "difficulty", task_id))

    def p_correct(self, task_id: str, temperature: float) -> float:
        """The probability that a sample is the reference solution."""
        return _sigmoid(self.planted.logit(self.difficulty(task_id), temperature, self.edited))

    def pass_probability(self, task_id: str, temperature: float) -> float:
        """The probability that a sample passes the benchmark's tests: correct, or a
        special-cased program where the shown tests are all the tests (MBPP)."""
        p = self.p_correct(task_id, temperature)
        return p + (1 - p) * self.planted.memo * self._covers(task_id)

    def kind(self, task_id: str, index: int, settings: Settings) -> str:
        """correct, memorized (special-cases the shown examples), base_only or mutant."""
        draw = (self.planted.seed, settings.seed, self.planted.params, self.edited, task_id,
                index)
        if uniform(*draw, "correct") < self.p_correct(task_id, settings.temperature):
            return "correct"
        v = uniform(*draw, "kind")
        if v < self.planted.memo:
            return "memorized" if self._text(task_id, "memorized") else "mutant"
        if v < self.planted.memo + self.planted.base_only and self._text(task_id, "base_only"):
            return "base_only"
        return "mutant"

    def mean_logprob(self, task_id: str, index: int, settings: Settings, kind: str) -> float:
        centre = self.planted.lp - (0.0 if kind == "correct" else self.planted.margin)
        z = NormalDist().inv_cdf(uniform(self.planted.seed, settings.seed, self.planted.params,
                                         self.edited, task_id, index, "lp"))
        return min(centre + self.planted.lp_sd * z, -1e-3)

    @cached_property
    def _score_grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """x, the correct and wrong scores' CDFs at x, the correct density (centred on lp)."""
        sigma, margin = self.planted.lp_sd, self.planted.margin
        x = np.linspace(-margin - 9 * sigma, 9 * sigma, 6001)
        cdf = np.frompyfunc(lambda v: 0.5 * (1 + math.erf(v / math.sqrt(2))), 1, 1)
        dens = np.exp(-0.5 * (x / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
        return x, cdf(x / sigma).astype(float), cdf((x + margin) / sigma).astype(float), dens

    def expected_ranked(self, p: float, k: int) -> float:
        """The planted chance that the best-scored (mean log-probability) of k samples is
        correct, each correct with probability p: sum over j correct of the binomial
        weight times P(max of j N(lp, sd) > max of k-j N(lp - margin, sd))."""
        x, cdf_correct, cdf_wrong, dens = self._score_grid
        total = 0.0
        for j in range(1, k + 1):
            top = float(np.trapezoid(j * dens * cdf_correct ** (j - 1) * cdf_wrong ** (k - j), x))
            total += math.comb(k, j) * p**j * (1 - p) ** (k - j) * top
        return total

    # programs ---------------------------------------------------------------------
    def _text(self, task_id: str, kind: str) -> str | None:
        """A task's program of one kind (None where that kind cannot be written), built once."""
        if (task_id, kind) not in self._texts:
            problem = self.dataset.problems[task_id]
            build = {"correct": lambda q: q.reference, "memorized": self._memorized,
                     "base_only": self._base_only, "mutant": self._mutant}[kind]
            self._texts[task_id, kind] = build(problem)
        return self._texts[task_id, kind]

    def _head(self, problem: Problem) -> tuple[str, list[str]] | None:
        """The definition a program starts with and its positional parameters: HumanEval's
        prompt as it is (it ends in the function's docstring), else the reference's
        signature."""
        with warnings.catch_warnings():  # the asserts' "\d" in plain strings
            warnings.simplefilter("ignore")
            name = problem.entry_point or tested_function(problem)
        definition = _function(problem, name) if name else None
        if definition is None:
            return None
        params = [a.arg for a in definition.args.posonlyargs + definition.args.args]
        last = _tree(problem.code_prefix).body[-1:]
        if last and isinstance(last[0], ast.FunctionDef) and last[0].name == definition.name:
            return problem.code_prefix, params
        return f"def {definition.name}({ast.unparse(definition.args)}):\n", params

    def _cases(self, problem: Problem) -> list[Example]:
        """The shown examples a special-casing program can answer (the function's arity)."""
        head = self._head(problem)
        return [e for e in shown_examples(problem) if head and len(e.args) == len(head[1])]

    def _memorized(self, problem: Problem) -> str | None:
        """Answers the shown examples from a table of ifs, None for anything else."""
        head = self._head(problem)
        cases = self._cases(problem)
        if head is None or not cases:
            return None
        text, params = head
        for e in cases:
            test = " and ".join(f"{p} == {a!r}" for p, a in zip(params, e.args, strict=True))
            text += f"    if {test or 'True'}:\n        return {e.expected!r}\n"
        return text + "    return None\n"

    def _covers(self, task_id: str) -> bool:
        """Whether a memorized program passes the tests: they are the shown ones (MBPP
        without challenge tests), and it answers every one of them."""
        if task_id not in self._covered:
            problem = self.dataset.problems[task_id]
            cases = self._cases(problem)
            answered = {repr(e.args) for e in cases}
            covers = False
            if problem.grader == "check" and cases:  # HumanEval/34 tests its example only
                called = [literal_call(n, {"candidate"}) for n in ast.walk(_tree(problem.tests))
                          if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                          and n.func.id == "candidate"]
                covers = bool(called) and all(c is not None and repr(c[1]) in answered
                                              for c in called)
            elif problem.grader == "asserts":
                shown = list(problem.metadata.get("tests_shown") or [])
                covers = bool(shown) and list(problem.tests["asserts"]) == shown \
                    and len(cases) == len(shown)
            self._covered[task_id] = covers
        return self._covered[task_id]

    def _base_only(self, problem: Problem) -> str | None:
        """EvalPlus: the reference behind a check that the arguments are base inputs."""
        name = problem.entry_point
        if problem.grader != "evalplus" or not name:
            return None
        inputs = [list(codec.from_plain(a)) for a in problem.tests["base_input"]]
        table = repr(inputs)
        if len(table) > MAX_LITERALS or not all(map(round_trips, inputs)):
            return None
        return (f"{problem.reference}\n\n_reference_{name} = {name}\n_inside = []\n\n\n"
                f"def {name}(*args):\n"
                f"    if _inside or list(args) in {table}:\n"
                f"        _inside.append(1)\n"
                f"        try:\n"
                f"            return _reference_{name}(*args)\n"
                f"        finally:\n"
                f"            _inside.pop()\n"
                f"    return None\n")

    def _mutant(self, problem: Problem) -> str:
        head = self._head(problem)
        return head[0] + "    return None\n" if head else "pass\n"

    def program(self, task_id: str, index: int, kind: str) -> str:
        text = self._text(task_id, kind) or ""
        if self.planted.distinct:
            text = text.rstrip("\n") + f"\n\n# sample {index}\n"
        return text

    # the backend ------------------------------------------------------------------
    def generate(self, requests: Iterable[Request], settings: Settings) -> Iterator[list[Generation]]:
        for r in requests:
            out = []
            prompt_chars = len(r.prompt.text) + sum(len(c) for _, c in r.prompt.messages)
            prefix = self.dataset.problems[r.task_id].code_prefix
            for i in range(r.first, r.first + r.count):
                kind = self.kind(r.task_id, i, settings)
                text = self.program(r.task_id, i, kind)
                written = len(text) - (len(prefix) if prefix and text.startswith(prefix) else 0)
                n = max(1, round(written / 4))
                mean = self.mean_logprob(r.task_id, i, settings, kind)
                # per-token values around the mean (all negative), averaging to it exactly
                weights = [1.0 + 0.5 * math.sin(j + i) for j in range(n)]
                scale = sum(weights) / n
                out.append(Generation(
                    r.task_id, i, text, is_program=True, finish_reason="stop",
                    n_prompt_tokens=max(1, prompt_chars // 4), n_tokens=n,
                    logprobs=[mean * w / scale for w in weights],
                    info={"kind": kind, "p": self.p_correct(r.task_id, settings.temperature)}))
            yield out

    def close(self) -> None:
        pass
