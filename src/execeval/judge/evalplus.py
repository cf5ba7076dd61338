"""EvalPlus grading: base inputs, then plus inputs, compared on the trusted side.

The candidate runs in the sandbox and answers batches of inputs with plain data; every
comparison (exact, `atol` for floats, the special oracles EvalPlus defines for a few
tasks) happens here. As EvalPlus does, grading stops at the first failing input, and a
sample passes "plus" only if it passes base and plus.

Time, as EvalPlus 0.3.1 (`eval.untrusted_check`): each input may take max(min_time_limit,
time_factor x the reference's time on it), and each stage (base, plus), program and all,
min(60, the sum of those) + 2 s. Batching is for speed only and never changes a verdict:
a batch may take no longer than the smallest limit of its inputs, so a batch answered in
time means every input was; a batch that runs out of time sends the stage back to its
start, in a fresh process, one input per request (docs/benchmarks.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import numpy as np

from execeval.dataset import Problem
from execeval.judge import Grader, Verdict, failure_verdict
from execeval.judge.oracle import (
    DIGEST_FN,
    DIGEST_SHIM,
    MEMORY_PROBLEMS,
    Digest,
    Oracle,
    expected_outputs,
)
from execeval.judge.session import Session
from execeval.sandbox import Execution, Limits, ProgramFailure, Sandbox, codec, with_limits

T = TypeVar("T")

TASK_CAP = 60.0    # EvalPlus's ceiling on a stage's summed limits (EVALPLUS_TIMEOUT_PER_TASK,
#                    which 0.3.1 cannot use: os.getenv gives a string, and min() then fails)
TASK_SLACK = 2.0   # its +1 s on that, and the 1 s more its parent waits (p.join(timeout + 1))
BATCH_INPUTS = 128       # inputs per request to the sandbox
BATCH_SHARE = 1 / 16     # ... or fewer, so the reference needs at most this share of the
#                          batch's limit for them (a program 16x slower still answers in time)
BATCH_REPLY_BYTES = 4 * 2**20  # ... or fewer, so their expected answers stay under this (a
#                                reply must stay well under the sandbox's output limit: HumanEval/15)
MAP_FN = "__execeval_map__"
# Defined next to the program, in the sandbox: answers a batch of inputs in one request.
# For EvalPlus's "not None" tasks (their answers are regex match objects, which are not
# plain data) a non-bool answer is sent as `answer is not None`, which is all EvalPlus
# compares; a program could as well return that bool itself, so nothing is given away.
MAP_SHIM = f"""
def {MAP_FN}(name, batch, not_none):
    fn = globals()[name]
    outs = [fn(*args) for args in batch]
    if not_none:
        outs = [o if isinstance(o, bool) else o is not None for o in outs]
    return outs
"""

# EvalPlus's special oracles (tasks whose published answer is not the only right one)
MBPP_NOT_NONE = frozenset({"check_str", "text_match_three", "text_starta_endb"})
MBPP_SET_EQUAL = frozenset({"similar_elements", "find_char_long", "common_in_nested_lists",
                            "extract_singly", "larg_nnum", "intersection_array",
                            "find_dissimilar", "Diff"})


def _poly(xs: Sequence[float], x: float) -> float:
    return sum(c * math.pow(x, i) for i, c in enumerate(xs))


def _pyramid_surface(base_edge: float, height: float) -> float:
    """Mbpp/581 read with `height` as the pyramid's height (EvalPlus accepts both readings)."""
    slant = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 2 * base_edge * slant)


def _digit_distance(a: int, b: int) -> int:
    """Mbpp/558 with the shorter number padded with zeros (EvalPlus accepts both readings)."""
    digits_a, digits_b = str(a), str(b)
    width = max(len(digits_a), len(digits_b))
    return sum(abs(int(x) - int(y))
               for x, y in zip(digits_a.zfill(width), digits_b.zfill(width), strict=True))


def _calling(fn: str, args: tuple[Any, ...]) -> Callable[[Execution], Any]:
    """A session request: `fn(*args)` in the candidate's process."""
    return lambda ex: ex.call(fn, args)


def is_floats(x: Any) -> bool:
    """A float, or a non-empty list/tuple of floats: compared with a tolerance."""
    if isinstance(x, float):
        return True
    return isinstance(x, list | tuple) and bool(x) and all(isinstance(i, float) for i in x)


def output_matches(out: Any, exp: Any, args: list[Any], atol: float, flavour: str,
                   entry_point: str) -> bool:
    """EvalPlus's verdict for one input, from plain data only."""
    try:
        exact = out == exp
        if flavour == "humaneval" and entry_point == "find_zero":
            (coefficients,) = args  # find_zero's one argument
            return bool(abs(_poly(coefficients, out)) <= atol)
        if flavour == "mbpp":
            if entry_point == "are_equivalent":
                exact = True
            elif entry_point == "sum_div":
                exact = exact or out == 0
            elif entry_point == "surface_Area":
                exact = exact or abs(out - _pyramid_surface(*args)) <= atol
            elif entry_point == "digit_distance_nums":
                exact = exact or out == _digit_distance(*args)
            elif entry_point in MBPP_SET_EQUAL:
                exact = set(out) == set(exp)
            elif entry_point in MBPP_NOT_NONE:
                exact = out == exp if isinstance(out, bool) else exp == (out is not None)
        if atol == 0 and is_floats(exp):
            atol = 1e-6
        if exact or atol == 0:
            return bool(exact)
        if type(out) is not type(exp):
            return False
        if isinstance(exp, list | tuple) and len(out) != len(exp):
            return False
        return bool(np.allclose(out, exp, rtol=1e-7, atol=atol))
    except Exception:  # an answer that cannot even be compared is a wrong answer
        return False


_decoded: OrderedDict[str, tuple[list[Any], list[Any]]] = OrderedDict()
_decoded_lock = threading.Lock()


def inputs_of(problem: Problem) -> tuple[list[Any], list[Any]]:
    """Decoded base and plus inputs, kept for the most recently graded problems."""
    with _decoded_lock:
        if problem.hash in _decoded:
            _decoded.move_to_end(problem.hash)
        else:
            _decoded[problem.hash] = ([codec.from_plain(a) for a in problem.tests["base_input"]],
                                      [codec.from_plain(a) for a in problem.tests["plus_input"]])
            while len(_decoded) > MEMORY_PROBLEMS:
                _decoded.popitem(last=False)
        return _decoded[problem.hash]


def oracle_of(problem: Problem) -> Oracle:
    base, plus = inputs_of(problem)
    not_none = problem.tests["flavour"] == "mbpp" and problem.entry_point in MBPP_NOT_NONE
    assert problem.entry_point
    return expected_outputs(problem.hash, problem.reference, problem.entry_point, base, plus,
                            not_none)


def input_limits(ref_times: Sequence[float], limits: Limits) -> list[float]:
    """EvalPlus's limit on each input: max(min_time_limit, time_factor x the reference's
    time on that input)."""
    return [max(limits.min_time_limit, limits.time_factor * t) for t in ref_times]


def stage_limit(per_input: Sequence[float]) -> float:
    """EvalPlus's limit on a whole stage (one process: the program, then every input)."""
    return min(TASK_CAP, sum(per_input)) + TASK_SLACK


def batches(per_input: Sequence[float], ref_times: Sequence[float], alone: Sequence[bool],
            sizes: Sequence[int] | None = None) -> list[range]:
    """Consecutive inputs, cut by count, by the reference's time on them (at most
    BATCH_SHARE of the smallest limit among them) or by the size of their expected answers;
    an input marked `alone` (a digest-compared one) gets a batch of its own."""
    out: list[range] = []
    start, spent, size, bound = 0, 0.0, 0, math.inf
    for i, t in enumerate(ref_times):
        grows = sizes[i] if sizes else 0
        if start < i and (alone[i] or alone[i - 1] or i - start >= BATCH_INPUTS
                          or spent + t > BATCH_SHARE * min(bound, per_input[i])
                          or size + grows > BATCH_REPLY_BYTES):
            out.append(range(start, i))
            start, spent, size, bound = i, 0.0, 0, math.inf
        spent, size, bound = spent + t, size + grows, min(bound, per_input[i])
    if start < len(ref_times):
        out.append(range(start, len(ref_times)))
    return out


class StageClock:
    """A stage's time as EvalPlus counts it: the program's top level and its answers. The
    time the program spent runnable but waiting for a CPU is left out, up to half of each
    request's time (as the sandbox's own clock credits at most one more budget): load is
    not the program's doing."""

    def __init__(self, limit: float):
        self.limit = limit
        self.used = 0.0

    def left(self) -> float:
        return self.limit - self.used

    def spend(self, ex: Execution, start: float, waited_before: float) -> None:
        """Count the time since `start` (monotonic), less the wait since `waited_before`."""
        elapsed = time.monotonic() - start
        usage = ex.process.usage()
        waited = usage[1] - waited_before if usage else 0.0
        self.used += max(elapsed - waited, elapsed / 2)

    def timed(self, request: Callable[[Execution], T]) -> Callable[[Execution], T]:
        """`request`, its time spent; Session.run has just started the execution's clock."""

        def run(ex: Execution) -> T:
            start, waited_before = time.monotonic(), ex.waited_before
            answer = request(ex)
            self.spend(ex, start, waited_before)
            return answer

        return run


class _BatchTimedOut(Exception):
    """A batch ran out of time: which of its inputs did is not known."""


def check_inputs(sandbox: Sandbox, program: str, problem: Problem, inputs: list[Any],
                 expected: list[Any], ref_times: list[float]) -> tuple[bool, str]:
    """One stage, (all passed, detail of the first failure): stops at the first failing
    input. Batched while batches answer in time; after a batch that does not, graded again
    from the start, one input per request, with EvalPlus's limits exactly."""
    per_input = input_limits(ref_times, sandbox.limits)
    total = stage_limit(per_input)
    # no request's budget is over the longest stage: the CPU rlimit of the process (timeout
    # + 2 s) must not cut one short; and one timeout for every stage, so that the children
    # the sandbox forks ahead of time (for the same limits) serve them all
    stage = with_limits(sandbox, replace(sandbox.limits, timeout=TASK_CAP + TASK_SLACK))
    digests = [isinstance(e, Digest) for e in expected]
    sizes = [0 if d else len(codec.dumps({"v": codec.to_plain(e)}))
             for e, d in zip(expected, digests, strict=True)]
    try:
        return _run_stage(stage, program, problem, inputs, expected, per_input, total,
                          batches(per_input, ref_times, digests, sizes))
    except _BatchTimedOut:
        return _run_stage(stage, program, problem, inputs, expected, per_input, total,
                          [range(i, i + 1) for i in range(len(inputs))])


def _run_stage(sandbox: Sandbox, program: str, problem: Problem, inputs: list[Any],
               expected: list[Any], per_input: list[float], total: float,
               spans: list[range]) -> tuple[bool, str]:
    """The stage's inputs in one fresh process (as EvalPlus: a program that keeps state
    between calls sees the same history), one request per span."""
    assert problem.entry_point
    flavour, atol = problem.tests["flavour"], float(problem.tests["atol"])
    entry_point = problem.entry_point
    not_none = flavour == "mbpp" and entry_point in MBPP_NOT_NONE
    clock = StageClock(total)

    def setup(ex: Execution) -> None:
        """The program's top level, on the stage's clock as in EvalPlus."""
        before, start = ex.process.usage(), time.monotonic()
        ex.exec_program(program, budget=total)
        clock.spend(ex, start, before[1] if before else 0.0)
        ex.exec_program(MAP_SHIM + DIGEST_SHIM, name="__program__")

    with Session(sandbox, setup) as session:
        session.run(lambda ex: None, total)  # the process and the program's top level
        for span in spans:
            bound = min(per_input[i] for i in span)
            budget = min(bound, clock.left())
            if isinstance(expected[span[0]], Digest):  # a huge output: compared by digest
                request = _calling(DIGEST_FN, (entry_point, inputs[span[0]]))
            else:
                request = _calling(MAP_FN, (entry_point, [inputs[i] for i in span], not_none))
            try:
                if budget <= 0:
                    raise ProgramFailure("timeout", "no time left")
                answer = session.run(clock.timed(request), budget)
            except ProgramFailure as f:
                if f.status != "timeout":
                    raise
                if budget < bound:
                    raise ProgramFailure("timeout", f"over {total:g}s for the stage's inputs "
                                         f"in all ({f.detail})", f.cpu_seconds) from None
                if len(span) > 1:
                    raise _BatchTimedOut from None
                raise ProgramFailure("timeout", f"input {span[0]}: {f.detail}",
                                     f.cpu_seconds) from None
            if isinstance(expected[span[0]], Digest):
                if answer != expected[span[0]].sha256:
                    return False, f"input {span[0]}: a wrong (large) output"
                continue
            if not isinstance(answer, list) or len(answer) != len(span):
                raise ProgramFailure("error", "the program answered a batch with the wrong shape")
            for i, out in zip(span, answer, strict=True):
                if not output_matches(out, expected[i], inputs[i], atol, flavour, entry_point):
                    return False, f"input {i}: got {_short(out)}, expected {_short(expected[i])}"
    return True, ""


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 80 else text[:77] + "..."


def grade_evalplus(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    oracle = oracle_of(problem)  # an OracleError is ours, not the program's: harness_error
    base_in, plus_in = inputs_of(problem)
    extra: dict[str, Any] = {"base_passed": False, "plus_passed": False}
    try:
        passed, detail = check_inputs(sandbox, program, problem, base_in, oracle.base,
                                      oracle.base_time)
        if not passed:
            return Verdict(False, "failed", f"base {detail}", extra=extra)
        extra["base_passed"] = True
        passed, detail = check_inputs(sandbox, program, problem, plus_in, oracle.plus,
                                      oracle.plus_time)
        if not passed:
            return Verdict(False, "failed", f"plus {detail}", extra=extra)
    except ProgramFailure as f:
        v = failure_verdict(f)
        stage = "plus" if extra["base_passed"] else "base"
        return Verdict(False, v.status, f"{stage}: {v.detail}", extra=extra)
    extra["plus_passed"] = True
    return Verdict(True, "passed", extra=extra)


GRADER = Grader("evalplus", grade_evalplus, self_timed=True)
