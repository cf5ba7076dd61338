"""Input/output tests of user problem files: call a function, or run a script on stdin.

Every test runs; each result is kept (`per_test`, `tests_passed`, `tests_total` in
`Verdict.extra`). Comparisons are strict and happen here, on plain data:
- call tests: the returned value equals the expected JSON value, with tuples read as
  lists (JSON has no tuples) and floats within `atol` where the problem sets one;
- stdio tests: the printed text equals the expected text, line by line, ignoring
  trailing whitespace on each line and trailing blank lines.
"""

from __future__ import annotations

import math
from typing import Any

from execeval.judge import Verdict, failure_verdict, grader
from execeval.judge.session import Session
from execeval.problems.model import Problem
from execeval.sandbox import Execution, ProgramFailure, Sandbox


def as_json_value(x: Any) -> Any:
    """Tuples as lists, recursively: how a JSON file can state the expected value."""
    if isinstance(x, tuple | list):
        return [as_json_value(v) for v in x]
    if isinstance(x, dict):
        return {k: as_json_value(v) for k, v in x.items()}
    return x


def values_match(got: Any, want: Any, atol: float) -> bool:
    if isinstance(want, float) and isinstance(got, int | float) and not isinstance(got, bool):
        return math.isclose(got, want, rel_tol=0.0, abs_tol=atol) if atol else got == want
    if isinstance(want, list) and isinstance(got, list):
        return len(got) == len(want) and all(
            values_match(g, w, atol) for g, w in zip(got, want, strict=True))
    if isinstance(want, dict) and isinstance(got, dict):
        return got.keys() == want.keys() and all(values_match(got[k], want[k], atol) for k in want)
    return type(got) is type(want) and bool(got == want)


def text_matches(got: str, want: str) -> bool:
    def lines(s: str) -> list[str]:
        out = [line.rstrip() for line in s.splitlines()]
        while out and not out[-1]:
            out.pop()
        return out

    return lines(got) == lines(want)


@grader("io")
def grade_io(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    tests = problem.tests
    stdio = tests["kind"] == "stdio"
    timeout = sandbox.limits.timeout

    def setup(ex: Execution) -> None:
        if not stdio:
            ex.exec_program(program)

    results: list[str] = []
    detail = ""
    with Session(sandbox, setup) as session:
        for i, case in enumerate(tests["cases"]):
            try:
                if stdio:
                    text = session.run(lambda ex, s=case["input"]: ex.run_main(program, s), timeout)
                    ok = text_matches(text, case["output"])
                else:
                    got = session.run(lambda ex, a=tuple(case["input"]):
                                      ex.call(problem.entry_point or "", a), timeout)
                    ok = values_match(as_json_value(got), case["output"], tests["atol"])
            except ProgramFailure as f:
                v = failure_verdict(f)
                if v.status == "syntax_error":
                    return Verdict(False, v.status, v.detail, extra={
                        "tests_passed": 0, "tests_total": len(tests["cases"]),
                        "per_test": ["syntax_error"] * len(tests["cases"])})
                results.append(v.status)
                detail = detail or f"test {i}: {v.detail}"
                continue
            results.append("pass" if ok else "fail")
            if not ok and not detail:
                detail = f"test {i}: wrong {'output' if stdio else 'return value'}"
    passed = sum(r == "pass" for r in results)
    extra = {"tests_passed": passed, "tests_total": len(results), "per_test": results}
    if passed == len(results):
        return Verdict(True, "passed", extra=extra)
    first = next(r for r in results if r != "pass")
    return Verdict(False, "failed" if first == "fail" else first, detail, extra=extra)
