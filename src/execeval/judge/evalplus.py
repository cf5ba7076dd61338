"""EvalPlus grading: base inputs, then plus inputs, compared on the trusted side.

The candidate runs in the sandbox and answers batches of inputs with plain data; every
comparison (exact, `atol` for floats, the special oracles EvalPlus defines for a few
tasks) happens here. As EvalPlus does, grading stops at the first failing input, and a
sample passes "plus" only if it passes base and plus. Time: each batch of inputs may take
max(--timeout, 4 x the reference's time on that batch) (EvalPlus: each input max(1s,
4 x reference); see docs/benchmarks.md for why batches).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

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
from execeval.sandbox import Execution, Limits, ProgramFailure, Sandbox, codec

BATCH_INPUTS = 128       # inputs per request to the sandbox
BATCH_REF_SECONDS = 0.25  # ... or fewer, once the reference needed this long for them
BATCH_REPLY_BYTES = 4 * 2**20  # ... or once their expected answers are this large (a reply
#                                must stay well under the sandbox's output limit: HumanEval/15)
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


def batches(times: Sequence[float], alone: Sequence[bool],
            sizes: Sequence[int] | None = None) -> list[range]:
    """Consecutive inputs, cut by count, by the reference's time on them or by the size of
    their expected answers; an input marked `alone` (a digest-compared one) gets a batch of
    its own."""
    out: list[range] = []
    start, spent, size = 0, 0.0, 0
    for i, t in enumerate(times):
        if alone[i] and start < i:
            out.append(range(start, i))
            start, spent, size = i, 0.0, 0
        spent += t
        size += sizes[i] if sizes else 0
        if (i + 1 - start >= BATCH_INPUTS or spent >= BATCH_REF_SECONDS
                or size >= BATCH_REPLY_BYTES or alone[i]
                or (i + 1 < len(times) and alone[i + 1])):
            out.append(range(start, i + 1))
            start, spent, size = i + 1, 0.0, 0
    if start < len(times):
        out.append(range(start, len(times)))
    return out


def check_inputs(session: Session, problem: Problem, inputs: list[Any], expected: list[Any],
                 ref_times: list[float], limits: Limits) -> tuple[bool, str]:
    """(all passed, detail of the first failure): stops at the first failing input."""
    assert problem.entry_point
    flavour, atol = problem.tests["flavour"], float(problem.tests["atol"])
    entry_point = problem.entry_point
    not_none = flavour == "mbpp" and entry_point in MBPP_NOT_NONE
    digests = [isinstance(e, Digest) for e in expected]
    sizes = [0 if d else len(codec.dumps({"v": codec.to_plain(e)}))
             for e, d in zip(expected, digests, strict=True)]
    for span in batches(ref_times, digests, sizes):
        budget = max(limits.timeout, limits.time_factor * sum(ref_times[i] for i in span))
        if isinstance(expected[span[0]], Digest):  # a huge output: compared by digest
            args = inputs[span[0]]
            got = session.run(_calling(DIGEST_FN, (entry_point, args)), budget)
            if got != expected[span[0]].sha256:
                return False, f"input {span[0]}: a wrong (large) output"
            continue
        batch = [inputs[i] for i in span]
        outs = session.run(_calling(MAP_FN, (entry_point, batch, not_none)), budget)
        if not isinstance(outs, list) or len(outs) != len(span):
            raise ProgramFailure("error", "the program answered a batch with the wrong shape")
        for i, out in zip(span, outs, strict=True):
            if not output_matches(out, expected[i], inputs[i], atol, flavour,
                                  problem.entry_point):
                return False, f"input {i}: got {_short(out)}, expected {_short(expected[i])}"
    return True, ""


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 80 else text[:77] + "..."


def grade_evalplus(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    oracle = oracle_of(problem)  # an OracleError is ours, not the program's: harness_error
    base_in, plus_in = inputs_of(problem)

    def setup(ex: Execution) -> None:
        ex.exec_program(program)
        ex.exec_program(MAP_SHIM + DIGEST_SHIM, name="__program__")

    session = Session(sandbox, setup)
    extra: dict[str, Any] = {"base_passed": False, "plus_passed": False}
    try:
        passed, detail = check_inputs(session, problem, base_in, oracle.base, oracle.base_time,
                                      sandbox.limits)
        if not passed:
            return Verdict(False, "failed", f"base {detail}", extra=extra)
        extra["base_passed"] = True
        passed, detail = check_inputs(session, problem, plus_in, oracle.plus, oracle.plus_time,
                                      sandbox.limits)
        if not passed:
            return Verdict(False, "failed", f"plus {detail}", extra=extra)
    except ProgramFailure as f:
        v = failure_verdict(f)
        stage = "plus" if extra["base_passed"] else "base"
        return Verdict(False, v.status, f"{stage}: {v.detail}", extra=extra)
    finally:
        session.close()
    extra["plus_passed"] = True
    return Verdict(True, "passed", extra=extra)


GRADER = Grader("evalplus", grade_evalplus, self_timed=True)
