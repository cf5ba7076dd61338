"""The trusted side: graders that decide verdicts from plain data the sandbox hands back.

A grader takes a problem, a program and a sandbox, and returns a `Verdict`. Graders
register by the name a problem carries in `Problem.grader`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from types import CodeType
from typing import Any

from execeval.problems.model import Problem
from execeval.sandbox import ProgramFailure, Sandbox

JUDGE_VERSION = "3"  # part of every verdict's cache key: bump when grading or containment changes


@dataclass(frozen=True)
class Verdict:
    """The outcome of one program on one problem.

    status: passed | failed (a wrong answer) | error (the program raised) | timeout |
    memory | crash (it died or exited) | syntax_error.
    """

    passed: bool
    status: str
    detail: str = ""
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


Grader = Callable[[Problem, str, Sandbox], Verdict]
GRADERS: dict[str, Grader] = {}


def grader(name: str) -> Callable[[Grader], Grader]:
    def register(fn: Grader) -> Grader:
        GRADERS[name] = fn
        return fn

    return register


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
    verdict = GRADERS[problem.grader](problem, program, sandbox)
    return Verdict(verdict.passed, verdict.status, verdict.detail[:300],
                   round(time.monotonic() - start, 4), verdict.extra)


# importing the grader modules registers their graders
from execeval.judge import apps as _apps  # noqa: E402,F401
from execeval.judge import asserts as _asserts  # noqa: E402,F401
from execeval.judge import check as _check  # noqa: E402,F401
from execeval.judge import evalplus as _evalplus  # noqa: E402,F401
from execeval.judge import io as _io  # noqa: E402,F401
from execeval.judge import mathqa as _mathqa  # noqa: E402,F401
