"""HumanEval-style grading: `check(candidate)` runs here, the candidate in the sandbox.

The problem's prompt (for helpers such as HumanEval/32's `poly`) and its test code run
in a trusted namespace; `candidate` is a stand-in whose every call crosses into the
sandboxed program and comes back as plain data. So a program can neither see the
expected answers nor redefine anything the test uses.
"""

from __future__ import annotations

import traceback
from functools import lru_cache
from types import CodeType
from typing import Any

from execeval.dataset import Problem
from execeval.judge import Grader, Verdict, compiled, failure_verdict, wrong_answer
from execeval.sandbox import ProgramFailure, Sandbox


@lru_cache(maxsize=4096)
def _prompt_code(prefix: str) -> CodeType:
    """The prompt as code: HumanEval's end in a docstring and compile as they are; a user's
    bare signature ("def f(x):") gets a `pass` body so its imports and helpers still load."""
    try:
        return compile(prefix, "<prompt>", "exec")
    except SyntaxError:
        try:
            return compile(prefix.rstrip() + "\n    pass\n", "<prompt>", "exec")
        except SyntaxError:
            return compile("", "<prompt>", "exec")


def trusted_namespace(problem: Problem) -> dict[str, Any]:
    """The prompt's definitions plus the test's `check`, fresh for every grading."""
    namespace: dict[str, Any] = {"__name__": "__trusted_test__"}
    exec(_prompt_code(problem.code_prefix), namespace)
    exec(compiled(problem.tests, "<test>"), namespace)
    return namespace


def failing_line(error: BaseException, problem: Problem) -> str:
    """The test line that failed, as `detail` for a wrong answer."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename == "<test>" and frame.lineno:
            lines: list[str] = problem.tests.splitlines()  # the check grader's tests: code
            if 0 < frame.lineno <= len(lines):
                return lines[frame.lineno - 1].strip()
    return ""


def grade_check(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    assert problem.entry_point, f"{problem.task_id}: a check problem needs an entry point"
    namespace = trusted_namespace(problem)
    with sandbox.start() as execution:
        try:
            execution.exec_program(program)
            candidate = execution.function(problem.entry_point)
            namespace[problem.entry_point] = candidate  # HumanEval/33's test calls it by name
            namespace["check"](candidate)
        except ProgramFailure as f:
            return failure_verdict(f)
        except Exception as e:  # the trusted test rejected what the program returned
            return wrong_answer(e, failing_line(e, problem))
        if execution.failure is not None:  # a test that swallowed the failure still fails
            return failure_verdict(execution.failure)
    return Verdict(True, "passed")


GRADER = Grader("check", grade_check)
