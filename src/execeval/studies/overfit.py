"""`execeval study overfit RUN`: programs that pass the tests they were shown and little else.

(a) HumanEval+ and MBPP+ grade each sample on the original (base) inputs and then on many
more (plus): a sample that passes base and fails plus was right only where the original
benchmark looked. The study counts them, and their share of base passes.

(b) On any run, programs that special-case test values. First a static check (ast, no
execution): the program, outside the prompt it continues, compares something with a
literal equal to one of the tests' inputs or expected outputs (`return n == 383`,
`if x == [1, 2]: return 5`, `if args in [[...], ...]`), or returns an expected output
under a comparison with a test input (`if n == 10: return 55`). Trivial literals (None,
booleans, numbers within 10, strings shorter than 3, empty containers) are not matched
on their own: base cases use them honestly. Then each
flagged program is confirmed or cleared by running it: on HumanEval+/MBPP+ a program
that passed base is confirmed when it fails plus (the benchmark's own extended tests);
elsewhere, where the problem has a reference solution, both the program and the
reference run on fresh inputs made by perturbing the test inputs (numbers moved by 1 or
2, strings with a character or a word dropped, doubled or reversed, lists and sets with
an element changed, dropped, doubled or reversed; seeded by the task), in the sandbox
through the Executor (the "fresh" grader below, recorded as a "study-overfit" run). The
program is confirmed when it answers a fresh input differently from the reference, and
cleared when it agrees on all those the reference answers. Where neither check applies
(APPS's stdin programs, problems without a reference) `confirmed` is null.
"""

from __future__ import annotations

import ast
import dataclasses
import random
import threading
import warnings
from collections.abc import Hashable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from operator import methodcaller
from typing import Any

from rich.console import Console

from execeval.dataset import Dataset, Problem
from execeval.executor import Executor
from execeval.judge import Grader, Verdict
from execeval.judge.evalplus import output_matches
from execeval.judge.session import Session
from execeval.options import RunOptions
from execeval.prompts.mbpp import tested_function
from execeval.sandbox import Execution, ProgramFailure, Sandbox, codec
from execeval.studies import common
from execeval.studies.examples import assert_examples, literal, literal_call, shown_examples

MAX_FRESH = 8      # fresh inputs per problem
MAX_SOURCES = 10   # test inputs they are made from


# --- test values and the static check --------------------------------------------------

def key(v: Any) -> Hashable:
    """A hashable stand-in that is equal where Python's == is (lists and tuples alike)."""
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, list | tuple):
        return ("seq", tuple(key(e) for e in v))
    if isinstance(v, set | frozenset):
        return ("set", frozenset(key(e) for e in v))
    if isinstance(v, dict):
        return ("dict", frozenset((key(a), key(b)) for a, b in v.items()))
    try:
        hash(v)
    except TypeError:
        return ("repr", repr(v))
    return v


def distinctive(v: Any) -> bool:
    """A literal too specific to be an honest base case."""
    if isinstance(v, bool) or v is None:
        return False
    if isinstance(v, int | float):
        return abs(v) > 10 or not float(v * 2).is_integer()
    if isinstance(v, str):
        return len(v.strip()) >= 3
    if isinstance(v, list | tuple | set | frozenset | dict):
        return len(v) >= 2 or any(distinctive(e) for e in v)
    return False


@dataclass
class KnownValues:
    """What a problem's tests feed its function and what they expect back."""

    function: str | None
    inputs: list[tuple[Any, ...]]
    outputs: list[Any]

    def input_keys(self, trivial: bool = False) -> set[Hashable]:
        """Each argument and each whole argument list (the distinctive ones only, unless
        `trivial`)."""
        out = set()
        for args in self.inputs:
            out |= {key(a) for a in args if trivial or distinctive(a)}
            if len(args) > 1 or (args and (trivial or distinctive(args[0]))):
                out.add(key(list(args)))
        return out

    def output_keys(self) -> set[Hashable]:
        return {key(o) for o in self.outputs if distinctive(o)}


def _tree(code: str) -> ast.Module:
    """The parse of trusted or untrusted code; an empty module where it does not parse."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return ast.Module([], [])


def _calls(code: str, names: set[str]) -> list[tuple[Any, ...]]:
    return [c[1] for n in ast.walk(_tree(code)) if (c := literal_call(n, names))]


def _function_of(problem: Problem) -> str | None:
    if problem.entry_point:
        return problem.entry_point
    return tested_function(problem) if problem.metadata.get("tests_shown") else None


def test_values(problem: Problem) -> KnownValues:
    """Inputs and outputs from the hidden tests and the shown examples, per benchmark."""
    function = _function_of(problem)
    shown = shown_examples(problem)
    inputs = [e.args for e in shown]
    outputs = [e.expected for e in shown]
    tests = problem.tests
    if problem.grader == "check" and isinstance(tests, str) and function:
        names = {"candidate", function}
        inputs += _calls(tests, names)
        asserts = [ast.unparse(n) for n in ast.walk(_tree(tests)) if isinstance(n, ast.Assert)]
        outputs += [e.expected for e in assert_examples(asserts, names) if e is not None]
    elif problem.grader == "asserts" and function:
        names = set(tests.get("proxies") or ()) | {function}
        inputs += [c for a in tests["asserts"] for c in _calls(a, names)]
        outputs += [e.expected for e in assert_examples(tests["asserts"], names) if e]
    elif problem.grader == "evalplus":
        inputs += [tuple(codec.from_plain(a)) for a in tests["base_input"]]
    elif problem.grader == "apps":
        strings = [x for x in tests["inputs"] + tests["outputs"] if isinstance(x, str)]
        inputs += [(s.strip(),) for s in strings[:len(tests["inputs"])]]
        outputs += [s.strip() for s in strings[len(tests["inputs"]):]]
    return KnownValues(function, inputs, outputs)


def _short(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def special_cases(program: str, values: KnownValues, skip_lines: int = 0) -> list[str]:
    """The static check: reasons, one per suspicious comparison or return. A comparison
    with a distinctive test input or expected output is suspicious; so is returning a
    distinctive expected output under a comparison with any test input (`if n == 10:
    return 55`: 10 alone is an honest literal, 10 -> 55 is the test)."""
    ins, outs, every_in = values.input_keys(), values.output_keys(), values.input_keys(True)
    if not outs and not ins:
        return []

    def compares(node: ast.Compare, inputs: set[Hashable], outputs: set[Hashable]) -> str:
        for operand in [node.left, *node.comparators]:
            is_literal, v = literal(operand)
            if not is_literal:
                continue
            if key(v) in inputs:
                return "a test input"
            if key(v) in outputs:
                return "an expected output"
            members = v if isinstance(v, list | tuple | set | frozenset) else ()
            if any(isinstance(op, ast.In | ast.NotIn) for op in node.ops) and \
                    any(key(e) in inputs for e in members):
                return "a list of test inputs"
        return ""

    reasons: list[tuple[int, str]] = []
    for node in ast.walk(_tree(program)):
        if getattr(node, "lineno", 0) <= skip_lines:
            continue
        if isinstance(node, ast.Compare) and (what := compares(node, ins, outs)):
            reasons.append((node.lineno, f"line {node.lineno}: `{_short(node)}` compares "
                                         f"with {what}"))
        elif isinstance(node, ast.If) and any(isinstance(c, ast.Compare) and compares(
                c, every_in, set()) for c in ast.walk(node.test)):
            for stmt in node.body:
                if not isinstance(stmt, ast.Return) or stmt.value is None:
                    continue
                is_literal, v = literal(stmt.value)
                if is_literal and key(v) in outs:
                    reasons.append((stmt.lineno, f"line {stmt.lineno}: returns the expected "
                                                 f"{_short(stmt.value)} under a test input"))
    return [r for _, r in sorted(reasons)]


# --- fresh inputs and the grader that runs them -----------------------------------------

def _perturb(v: Any, rng: random.Random) -> Any:
    """A nearby value of the same type (None where there is none)."""
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        moved = v + rng.choice((-2, -1, 1, 2))
        return abs(moved) if v >= 0 else moved
    if isinstance(v, float):
        shifted = v + rng.choice((-1.5, -0.5, 0.5, 1.5))
        return abs(shifted) if v >= 0 else shifted
    if isinstance(v, str):
        if not v:
            return "a"
        words = v.split(" ")
        if len(words) > 1 and rng.random() < 0.5:  # words keep their spelling: still valid
            w = rng.randrange(len(words))
            changed = rng.choice((words[:w] + words[w + 1:], words[:w + 1] + words[w:],
                                  words[::-1]))
            return " ".join(changed)
        i = rng.randrange(len(v))
        return rng.choice((v[:i] + v[i + 1:], v[:i] + v[i] + v[i:], v[::-1]))
    if isinstance(v, list | tuple) and v:
        i = rng.randrange(len(v))
        items = list(v)
        if isinstance(v, tuple):  # a tuple's length is usually its meaning
            changed = _perturb(items[i], rng)
            return None if changed is None else (*items[:i], changed, *items[i + 1:])
        how = rng.randrange(4)
        if how == 0 and (changed := _perturb(items[i], rng)) is not None:
            items[i] = changed
        elif how == 1:
            del items[i]
        elif how == 2:
            items.insert(i, items[i])
        else:
            items.reverse()
        return items
    if isinstance(v, set | frozenset) and v:
        changed = _perturb(sorted(v, key=repr), rng)
        return None if changed is None else type(v)(changed)
    if isinstance(v, dict) and v:
        k = rng.choice(list(v))
        changed = _perturb(v[k], rng)
        return None if changed is None else {**v, k: changed}
    return None


def fresh_inputs(task_id: str, inputs: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Up to MAX_FRESH argument tuples, each a test input with one argument perturbed, none
    equal to a test input; the same for the same task every time."""
    rng = random.Random(task_id)
    seen = {key(list(a)) for a in inputs}
    sources = [a for a in inputs if a][:MAX_SOURCES]
    out: list[tuple[Any, ...]] = []
    for _ in range(4 * MAX_FRESH):
        if len(out) >= MAX_FRESH or not sources:
            break
        args = list(rng.choice(sources))
        j = rng.randrange(len(args))
        changed = _perturb(args[j], rng)
        if changed is None:
            continue
        args[j] = changed
        if key(args) not in seen:
            seen.add(key(args))
            out.append(tuple(args))
    return out


def fresh_problem(problem: Problem, values: KnownValues) -> Problem | None:
    """The problem with perturbed test inputs, judged by agreement with its reference."""
    if not problem.reference or not values.function or problem.grader == "apps":
        return None
    try:
        inputs = [codec.to_plain(list(a)) for a in fresh_inputs(problem.task_id, values.inputs)]
    except codec.Unserializable:
        return None
    if not inputs:
        return None
    return Problem(task_id=problem.task_id, prompt=problem.prompt, entry_point=values.function,
                   grader="fresh",
                   tests={"function": values.function, "inputs": inputs},
                   reference=problem.reference, code_prefix=problem.code_prefix)


_reference_answers: dict[tuple[str, str], list[tuple[bool, Any]]] = {}
_lock = threading.Lock()


def _answers(code: str, name: str, inputs: Iterable[list[Any]], sandbox: Sandbox,
             stop_at_failure: bool) -> list[tuple[bool, Any]]:
    """(answered, value) per input, each call on its own clock in a kept process."""

    def setup(ex: Execution) -> None:
        ex.exec_program(code)

    out: list[tuple[bool, Any]] = []
    with Session(sandbox, setup) as session:
        for args in inputs:
            try:
                out.append((True, session.run(methodcaller("call", name, tuple(args)),
                                              sandbox.limits.timeout)))
            except ProgramFailure as f:
                out.append((False, f"{f.status}: {f.detail}"))
                if stop_at_failure:
                    break
    return out


def grade_fresh(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    """Passed: the program answers every fresh input the reference answers as it does."""
    name, inputs = problem.tests["function"], [codec.from_plain(a)
                                               for a in problem.tests["inputs"]]
    cache_key = (problem.hash, sandbox.limits.key())
    with _lock:
        expected = _reference_answers.get(cache_key)
    if expected is None:
        expected = _answers(problem.reference, name, inputs, sandbox, stop_at_failure=False)
        with _lock:
            _reference_answers[cache_key] = expected
    usable = [(a, e) for a, (ok, e) in zip(inputs, expected, strict=True) if ok]
    extra: dict[str, Any] = {"fresh_inputs": len(inputs), "fresh_compared": len(usable)}
    got = _answers(program, name, [a for a, _ in usable], sandbox, stop_at_failure=True)
    for (args, want), (ok, value) in zip(usable, got, strict=False):
        if not ok or not output_matches(value, want, args, 0.0, "", name):
            what = value if not ok else f"gives {value!r}"
            detail = f"{name}{tuple(args)!r}: {what}; the reference gives {want!r}"
            return Verdict(False, "failed", detail[:300], extra=extra)
    return Verdict(True, "passed", extra=extra)


FRESH = Grader("fresh", grade_fresh, self_timed=True)


# --- the study ---------------------------------------------------------------------------

@dataclass(frozen=True)
class OverfitOptions(common.OnRun):
    """The stored run to check (and the file its dataset came from)."""


@dataclass(frozen=True)
class BasePlusFail:
    """HumanEval+/MBPP+: samples that pass the base tests and fail the extended ones."""

    count: int
    base_passes: int
    share: float  # of the base passes


@dataclass
class Flagged:
    """A sample the static check flagged; `confirmed` by running it (None: no check)."""

    task_id: str
    sample: int | None  # the sample's index (None: a file row without one)
    reason: str
    passed: bool | None
    confirmed: bool | None = None
    evidence: str = ""


@dataclass(frozen=True)
class OverfitResult:
    run: str
    dataset: str
    n_samples: int
    base_pass_plus_fail: BasePlusFail | None  # None: the run has no base/plus stages
    flagged: list[Flagged]
    n_flagged: int
    n_confirmed: int
    n_cleared: int
    fresh_run: str | None  # the "study-overfit" run of fresh-input verdicts

    def to_json(self) -> dict[str, Any]:
        return {"study": "overfit", **dataclasses.asdict(self)}

    def render(self, console: Console) -> None:
        rows = [["samples checked", str(self.n_samples)]]
        b = self.base_pass_plus_fail
        if b is not None:
            rows.append(["pass base, fail plus",
                         f"{b.count} of {b.base_passes} base passes ({b.share:.1%})"])
        rows += [["special-case test values (static)", str(self.n_flagged)],
                 ["  confirmed by running", str(self.n_confirmed)],
                 ["  cleared by running", str(self.n_cleared)]]
        common.table(console, f"overfitting in run {self.run} ({self.dataset})", ["", "samples"],
                     rows, [f"fresh-input verdicts stored as run {self.fresh_run}"]
                     if self.fresh_run else [])
        groups: dict[tuple[Any, ...], list[str]] = {}
        for f in self.flagged:
            if f.confirmed is not False:
                key = (f.task_id, f.passed, f.confirmed, f.reason.split("; ")[0])
                groups.setdefault(key, []).append(str(f.sample))
        if groups:
            common.table(console, f"flagged programs, not cleared ({len(groups)} groups; "
                         "first 20)", ["task", "samples", "passed", "confirmed", "first reason"],
                         [[t, ", ".join(samples), str(passed), str(confirmed), reason]
                          for (t, passed, confirmed, reason), samples
                          in list(groups.items())[:20]])


def overfit(options: OverfitOptions, run: RunOptions | None = None, *,
            dataset: Dataset | None = None, executor: Executor | None = None) -> OverfitResult:
    """Both checks on the stored run `options.run`; `run.grading` names the store and
    where fresh inputs are graded, `dataset` spares loading the run's problems again."""
    grading = (run or RunOptions()).grading
    with ExitStack() as stack:
        store = common.open_store(stack, grading.store)
        stored = store.run(options.run)
        samples = list(store.samples(stored["run_id"]))
        run_dataset = common.dataset_of_run(store, stored, options.data, dataset)
        staged = [s for s in samples if "base_passed" in s.extra]
        base_only = None
        if staged:
            base = sum(bool(s.extra["base_passed"]) for s in staged)
            count = sum(bool(s.extra["base_passed"]) and not s.passed for s in staged)
            base_only = BasePlusFail(count, base, count / base if base else 0.0)
        values: dict[str, KnownValues] = {}
        flagged: list[Flagged] = []
        jobs: list[common.Job] = []
        pending: list[Flagged] = []
        for s in samples:
            problem = run_dataset.problems[s.task_id]
            if s.task_id not in values:
                values[s.task_id] = test_values(problem)
            program = s.program or ""
            prefix = problem.code_prefix
            skip = prefix.count("\n") if prefix and program.startswith(prefix) else 0
            reasons = special_cases(program, values[s.task_id], skip)
            if not reasons:
                continue
            item = Flagged(s.task_id, s.sample, "; ".join(reasons[:3]), s.passed)
            flagged.append(item)
            if s.extra.get("base_passed"):
                item.confirmed = not s.passed
                item.evidence = "fails the extended (plus) tests" if not s.passed \
                    else "passes the extended (plus) tests"
            elif (fresh := fresh_problem(problem, values[s.task_id])) is not None:
                jobs.append(common.Job(fresh, program, {"source_run": stored["run_id"],
                                                        "sample": s.sample}))
                pending.append(item)
        fresh_run = None
        if jobs:
            grader = common.open_executor(stack, executor or grading.executor,
                                          common.run_limits(stored), grading.workers,
                                          common.run_environment(stored))
            fresh_run, verdicts = common.grade_jobs("study-overfit", stored["run_id"], jobs, store,
                                                    grader, {"fresh_inputs": MAX_FRESH})
            for item, v in zip(pending, verdicts, strict=True):
                if v.status == "harness_error" or not v.extra.get("fresh_compared"):
                    item.evidence = "no fresh input the reference answers"
                    continue
                item.confirmed = not v.passed
                item.evidence = (f"differs from the reference on fresh inputs ({v.detail})"
                                 if not v.passed else "agrees with the reference on "
                                 f"{v.extra['fresh_compared']} fresh inputs")
    return OverfitResult(stored["run_id"], stored["dataset"], len(samples), base_only, flagged,
                         len(flagged), sum(f.confirmed is True for f in flagged),
                         sum(f.confirmed is False for f in flagged), fresh_run)


STUDY = common.Study(
    help="programs that pass base tests but not extended ones, or special-case test values",
    options=OverfitOptions, main=overfit, example="execeval study overfit RUN")
