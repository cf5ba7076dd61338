"""The trusted side: graders that decide verdicts from plain data the sandbox hands back.

A grader takes a problem, a program and a sandbox, and returns a `Verdict`. A problem
names its grader (`Problem.grader`): a name registered under the entry-point group
`execeval.graders`, loaded when first needed, or "package.module:ATTR" for one that lives
in a package of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from types import CodeType
from typing import Any

from execeval.dataset import Problem
from execeval.errors import UserError
from execeval.registry import Registry, load_reference
from execeval.sandbox import ProgramFailure, Sandbox
from execeval.verdict import Verdict

__all__ = ["JUDGE_VERSION", "Grader", "Verdict", "compiled", "failure_verdict", "grade",
           "grader_of", "wrong_answer"]

JUDGE_VERSION = "3"  # part of every verdict's cache key: bump when grading or containment changes


@dataclass(frozen=True)
class Grader:
    """How one kind of test is decided. `self_timed`: it gives each test its own clock
    (APPS per test, EvalPlus per input), so a whole-problem calibration would only loosen
    its limits."""

    name: str
    grade: Callable[[Problem, str, Sandbox], Verdict]
    self_timed: bool = False


GRADERS: Registry[Grader] = Registry("execeval.graders", "grader", Grader)


@cache
def grader_of(name: str) -> Grader:
    """The grader a problem names: a registered name, or "package.module:ATTR" for one
    that lives in a package of its own; a name that resolves to nothing is one line."""
    if not name or not all(c.isalnum() or c in "_.:-" for c in name):
        raise UserError(f"unknown grader {name!r}")
    if ":" not in name:
        return GRADERS.get(name)
    try:
        found = load_reference(name)
    except (ImportError, AttributeError, ValueError) as e:
        raise UserError(f"unknown grader {name!r} ({e})") from None
    if not isinstance(found, Grader):
        raise UserError(f"grader {name!r} is not an execeval.judge.Grader")
    return found


@lru_cache(maxsize=8192)
def compiled(source: str, filename: str) -> CodeType:
    """Trusted test code, compiled once per process (graders exec it for every sample)."""
    return compile(source, filename, "exec")


def wrong_answer(e: Exception, line: str, extra: dict[str, Any] | None = None) -> Verdict:
    """A trusted test rejected what the program handed back: `detail` says how and where."""
    what = "assertion failed" if isinstance(e, AssertionError) else f"{type(e).__name__}: {e}"
    return Verdict(False, "failed", f"{what}: {line}" if line else what, extra=extra or {})


def failure_verdict(f: ProgramFailure) -> Verdict:
    status = "syntax_error" if f.detail.startswith(("SyntaxError", "IndentationError",
                                                     "TabError")) else f.status
    return Verdict(False, status, f.detail)


def grade(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    """Grade one program; never raises for anything the program does."""
    start = time.monotonic()
    verdict = grader_of(problem.grader).grade(problem, program, sandbox)
    return Verdict(verdict.passed, verdict.status, verdict.detail[:300],
                   round(time.monotonic() - start, 4), verdict.extra)
