"""`fake:prompted[?KEY=VALUE&...]`: a planted model whose success depends on its MBPP prompt.

The prompt studies (`study prompts`, `study tests-in-prompt`, `study misalignment`) ask
how much what the prompt contains changes what a model solves. No real model's answer
is known, so this backend plants one: it parses the paper-format MBPP prompt it is given
(solved examples, then the open task with its shown asserts) and writes the task's
reference solution with probability

    logit p = (a_t + s + sum_j x_j / J + show(m) - bug * b / J) / (T + tau) - gamma * T

    a_t   = mu + sd * z_t            the task's difficulty (as fake:planted)
    s     = beta * log10(params/1e9) size
    x_j   = ex_sd * z_j              a known effect of exemplar j (a hash of its text)
    show  = 0, show1, (show1+show3)/2, show3 for 0, 1, 2, 3+ target asserts shown
    b     = how many of the J exemplars' code is not their task's reference (buggy)
    bug   = bug0 + bug_slope * log10(params/1e9)   (misalignment growing with size)

else a function that returns None (it fails). Every draw hashes (seed, run --seed, size,
prompt, task, sample index): different prompts draw independently, as a real sampler
does. An exemplar's reference is looked up by its text in the MBPP file the dataset was
read from (its `source`), so buggy examples are recognised without being told.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

from execeval.dataset import Dataset
from execeval.errors import UserError
from execeval.models.base import Generation, Request, Settings
from execeval.prompts.mbpp import BEGIN, DONE
from execeval.simulate.planted import FakeModel, _query, _sigmoid, typed, uniform

HEADER = "You are an expert Python programmer, and here is your task: "
TESTS = " Your code should pass these tests:\n\n"
VERSION = "1"


@dataclass(frozen=True)
class Prompted:
    """The planted prompt effects (logit scale)."""

    seed: int = 0
    mu: float = -0.5
    sd: float = 1.2
    tau: float = 0.1
    gamma: float = 1.5
    params: float = 1e9
    beta: float = 0.8
    ex_sd: float = 0.6      # spread of the exemplars' effects
    show1: float = 1.0      # one target assert shown (vs none)
    show3: float = 1.5      # three shown
    bug0: float = 1.2       # all exemplars buggy, at 1e9 parameters
    bug_slope: float = 0.0  # ... change per decade of parameters
    distinct: int = 0       # 1: a comment naming the sample makes every sample unique

    @property
    def decades(self) -> float:
        return math.log10(self.params / 1e9)

    @property
    def bug(self) -> float:
        return self.bug0 + self.bug_slope * self.decades

    def show(self, m: int) -> float:
        return (0.0, self.show1, (self.show1 + self.show3) / 2)[m] if m < 3 else self.show3


def parse_prompted(name: str) -> Prompted:
    """`prompted?k=v&...` (the keys of `Prompted`)."""
    base, _, query = name.partition("?")
    if base != "prompted":
        raise UserError(f"fake:{name}: expected `prompted[?key=value&...]`")
    planted = typed(Prompted, _query(query), name)
    if planted.params <= 0 or planted.tau < 0 or planted.ex_sd < 0:
        raise UserError(f"fake:{name}: needs params > 0, tau >= 0, ex_sd >= 0")
    return planted


@dataclass(frozen=True)
class Shown:
    """What the model reads off a prompt: the exemplars (text, code) and the target's asserts."""

    exemplars: tuple[tuple[str, str], ...]
    target_text: str
    target_asserts: int


def parse_prompt(text: str) -> Shown:
    """The paper's format: blocks `HEADER text TESTS asserts [BEGIN] code [DONE]`, the last
    one open. A block without the tests sentence shows no asserts."""
    blocks = [b for b in text.split(HEADER) if b.strip()]
    exemplars: list[tuple[str, str]] = []
    target_text, asserts = "", 0
    for i, block in enumerate(blocks):
        head, _, rest = block.partition(BEGIN)
        task, sep, tests = head.partition(TESTS)
        task = task.strip() if sep else head.strip()
        if i < len(blocks) - 1:
            code = rest.split(DONE, 1)[0].strip("\n")
            exemplars.append((task, code))
        else:
            target_text = task
            asserts = sum(1 for line in tests.splitlines() if line.strip()) if sep else 0
    return Shown(tuple(exemplars), target_text, asserts)


def _norm(code: str) -> str:
    """The code's syntax tree (its layout and comments do not count), else its text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.dump(ast.parse(code.replace("\r\n", "\n")))
    except (SyntaxError, ValueError):
        return code.strip()


class PromptedModel(FakeModel):
    """The planted prompt-dependent model as a backend (whole programs, with logprobs)."""

    def __init__(self, name: str, dataset: Dataset):
        super().__init__("planted?memo=0&base_only=0", dataset)
        self.spec = f"fake:{name}"
        self.prompted = parse_prompted(name)
        self._references: dict[str, str] | None = None

    def fingerprint(self) -> str:
        return (f"fake-prompted:v{VERSION}:{self.dataset.hash[:16]}:"
                + json.dumps(asdict(self.prompted), sort_keys=True))

    # the planted truth ------------------------------------------------------------
    def references(self) -> dict[str, str]:
        """Task text -> reference code, from the MBPP file the dataset came from (all
        splits), else from the dataset's own problems and paper shots."""
        if self._references is None:
            refs: dict[str, str] = {}
            for p in self.dataset.problems.values():
                for shot in p.metadata.get("mbpp_shots", []):
                    refs.setdefault(shot["text"].strip(), shot["code"])
                if "text" in p.metadata:
                    refs.setdefault(p.metadata["text"].strip(), p.reference)
            source = Path(self.dataset.source) if self.dataset.source else None
            if source is not None and source.is_file():
                from execeval.benchmarks.sources import read_file_rows

                for _, row in read_file_rows(source):
                    text, code = row.get("text") or row.get("prompt"), row.get("code")
                    if isinstance(text, str) and isinstance(code, str):
                        refs[text.strip()] = code
            self._references = refs
        return self._references

    def difficulty(self, task_id: str) -> float:
        return self.prompted.mu + self.prompted.sd * NormalDist().inv_cdf(
            uniform(self.prompted.seed, "difficulty", task_id))

    def exemplar_effect(self, text: str) -> float:
        """x_j: the planted effect of showing the task with this text as an example."""
        return self.prompted.ex_sd * NormalDist().inv_cdf(
            uniform(self.prompted.seed, "exemplar", text.strip()))

    def is_buggy(self, text: str, code: str) -> bool:
        ref = self.references().get(text.strip())
        return ref is not None and _norm(ref) != _norm(code)

    def logit_for(self, task_id: str, prompt: str, temperature: float) -> float:
        params, shown = self.prompted, parse_prompt(prompt)
        shift = params.beta * params.decades + params.show(shown.target_asserts)
        if shown.exemplars:
            j = len(shown.exemplars)
            shift += sum(self.exemplar_effect(t) for t, _ in shown.exemplars) / j
            shift -= params.bug * sum(self.is_buggy(t, c) for t, c in shown.exemplars) / j
        return (self.difficulty(task_id) + shift) / (temperature + params.tau) \
            - params.gamma * temperature

    def p_prompt(self, task_id: str, prompt: str, temperature: float) -> float:
        """The planted probability that a sample for this prompt is the reference."""
        return _sigmoid(self.logit_for(task_id, prompt, temperature))

    # the backend ------------------------------------------------------------------
    def generate(self, requests: Any, settings: Settings) -> Any:
        for r in requests:
            yield self._answer(r, settings)

    def _answer(self, r: Request, settings: Settings) -> list[Generation]:
        prompt = r.prompt.text or "\n".join(c for _, c in r.prompt.messages)
        p = self.p_prompt(r.task_id, prompt, settings.temperature)
        key = hashlib.sha256(prompt.encode()).hexdigest()[:16]
        out = []
        for i in range(r.first, r.first + r.count):
            draw = (self.prompted.seed, settings.seed, self.prompted.params, key, r.task_id, i)
            kind = "correct" if uniform(*draw, "correct") < p else "mutant"
            text = self._text(r.task_id, kind) or ""
            if self.prompted.distinct:
                text = text.rstrip("\n") + f"\n\n# sample {i}\n"
            n = max(1, round(len(text) / 4))
            mean = -0.4 if kind == "correct" else -0.55
            out.append(Generation(r.task_id, i, text, is_program=True, finish_reason="stop",
                                  n_prompt_tokens=max(1, len(prompt) // 4), n_tokens=n,
                                  logprobs=[mean] * n, info={"kind": kind, "p": p}))
        return out

