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

from execeval.dataset import Problem
from execeval.judge import Grader, Verdict
from execeval.judge.session import Case, grade_cases
from execeval.sandbox import Execution, Sandbox


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


def grade_io(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    tests = problem.tests
    stdio = tests["kind"] == "stdio"

    def setup(ex: Execution) -> None:
        if not stdio:
            ex.exec_program(program)

    def case(c: dict[str, Any]) -> Case:
        if stdio:
            return lambda ex: text_matches(ex.run_main(program, c["input"]), c["output"])
        return lambda ex: values_match(
            as_json_value(ex.call(problem.entry_point or "", tuple(c["input"]))),
            c["output"], tests["atol"])

    cases = [case(c) for c in tests["cases"]]
    return grade_cases(sandbox, setup, cases, "output" if stdio else "return value")


GRADER = Grader("io", grade_io)
