"""One program answering many requests: a sandboxed process kept while it is healthy.

Graders that ask a program many questions (EvalPlus's inputs, APPS's tests) give each
request its own clock, and start a fresh process after a failure (the old one is dead
or poisoned) or before the process's CPU rlimit, which counts its whole life, could
cut a later request short.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from execeval.sandbox import Execution, ProgramFailure, Sandbox

T = TypeVar("T")


class Session:
    def __init__(self, sandbox: Sandbox, setup: Callable[[Execution], None]):
        self.sandbox = sandbox
        self.setup = setup  # runs on every fresh process (e.g. exec the program)
        self.ex: Execution | None = None
        self.used = 0.0

    def run(self, request: Callable[[Execution], T], budget: float) -> T:
        """`request` on a live process with `budget` wall seconds; failures propagate."""
        if self.ex is None or self.used + budget > self.sandbox.limits.cpu_seconds - 1:
            self.close()
            self.ex = self.sandbox.start()
            self.used = 0.0
            try:
                self.setup(self.ex)
            except ProgramFailure:
                self.close()
                raise
        ex = self.ex
        start = time.monotonic()
        ex.deadline = start + budget  # this request's own clock
        try:
            return request(ex)
        except ProgramFailure:
            self.close()
            raise
        finally:
            self.used += time.monotonic() - start

    def close(self) -> None:
        if self.ex is not None:
            self.ex.close()
            self.ex = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
