"""MathQA-Python grading: the number the program leaves in `answer`, against the gold one.

The program runs in the sandbox; a one-line getter defined next to it hands `answer`
back as plain data, and the comparison (`answers_match`) happens here.
"""

from __future__ import annotations

import math

from execeval.dataset import Problem
from execeval.judge import Grader, Verdict, failure_verdict
from execeval.sandbox import ProgramFailure, Sandbox

REL_TOL = 1e-4  # the gold answers are floats computed by the reference program
ABS_TOL = 1e-6
GETTER = "__execeval_answer__"


def answers_match(got: object, gold: float) -> bool:
    """A real number within REL_TOL (relative) or ABS_TOL (absolute) of the gold answer."""
    if isinstance(got, bool) or not isinstance(got, int | float):
        return False
    return math.isclose(float(got), gold, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def grade_mathqa(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    gold = float(problem.tests["answer"])
    with sandbox.start() as execution:
        try:
            execution.exec_program(program)
            execution.exec_program(f"def {GETTER}():\n    return answer\n", name="__program__")
            got = execution.call(GETTER, ())
        except ProgramFailure as f:
            return failure_verdict(f)
    if answers_match(got, gold):
        return Verdict(True, "passed")
    shown = repr(got) if len(repr(got)) < 60 else repr(got)[:57] + "..."
    return Verdict(False, "failed", f"answer {shown}, expected {gold!r}")


GRADER = Grader("mathqa", grade_mathqa)
