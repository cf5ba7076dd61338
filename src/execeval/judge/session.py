"""One program answering many requests: a sandboxed process kept while it is healthy.

Graders that ask a program many questions (EvalPlus's inputs, APPS's tests) give each
request its own clock, and start a fresh process after a failure (the old one is dead
or poisoned) or before the process's CPU rlimit, which counts its whole life, could
cut a later request short.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from execeval.judge import Verdict, failure_verdict
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
        execution = self.ex
        start = time.monotonic()
        execution.start_clock(budget)  # this request's own clock
        try:
            return request(execution)
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


Case = Callable[[Execution], bool]  # one test: ask the program, judge the answer here


def grade_cases(sandbox: Sandbox, setup: Callable[[Execution], None], cases: Sequence[Case],
                wrong: str, stop_at_timeout: bool = False) -> Verdict:
    """Every test on one session, each with the full `--timeout`; per-test results go in
    `extra` (`per_test`, `tests_passed`, `tests_total`). A syntax error fails every test;
    with `stop_at_timeout` the tests after a timeout are `not_run` (still counted)."""
    results: list[str] = []
    detail = ""
    with Session(sandbox, setup) as session:
        for i, case in enumerate(cases):
            try:
                right = session.run(case, sandbox.limits.timeout)
            except ProgramFailure as f:
                v = failure_verdict(f)
                if v.status == "syntax_error":
                    results, detail = ["syntax_error"] * len(cases), v.detail
                    break
                results.append(v.status)
                detail = detail or f"test {i}: {v.detail}"
                if stop_at_timeout and v.status == "timeout":
                    results += ["not_run"] * (len(cases) - len(results))
                    break
                continue
            results.append("pass" if right else "fail")
            if not right and not detail:
                detail = f"test {i}: wrong {wrong}"
    passed = sum(r == "pass" for r in results)
    extra = {"tests_passed": passed, "tests_total": len(results), "per_test": results}
    if passed == len(results):
        return Verdict(True, "passed", extra=extra)
    first = next(r for r in results if r != "pass")
    return Verdict(False, "failed" if first in ("fail", "not_run") else first, detail, extra=extra)
