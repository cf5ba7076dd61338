"""The Executor seam: programs in, verdicts out, wherever the grading happens.

Everything above it (evaluate, run, validate, the studies) submits (problem, program)
pairs and gets futures of verdicts; nothing above it knows whether grading is local, on
a cluster, or behind a service. An executor owns the policy that keeps timeouts honest:
a timeout that load may have caused is graded again, alone, before its future resolves.

A worker builds its sandbox from a `SandboxFactory`, a plain picklable callable, so that
a worker on another machine can build its own; the per-process caches a grader keeps
(calibrated time limits, EvalPlus oracles) are keyed by the problem's content hash and
the limits, so any worker rebuilds them from the problem alone.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from execeval.dataset import Problem
from execeval.environment import Environment, EnvironmentSpec, ensure, resolve
from execeval.errors import UserError
from execeval.registry import Registry
from execeval.sandbox import Limits, Sandbox, with_limits
from execeval.verdict import Verdict

SandboxFactory = Callable[[Limits], Sandbox]


class Executor(Protocol):
    limits: Limits
    workers: int
    environment: Environment  # what programs may import: part of every verdict's key

    def submit(self, problem: Problem, program: str,
               limits: Limits | None = None) -> Future[Verdict]:
        """Grade `program` on `problem` (under `limits`, default the executor's)."""
        ...

    def describe(self) -> dict[str, Any]:
        """What holds the programs: the sandbox's protections, for the run's record."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ZygoteFactory:
    """The default sandbox: one warm zygote whose programs import from the standard library
    and the grading environment only (built where the sandbox runs, on first use), hiding
    every benchmark's answer packages."""

    environment: EnvironmentSpec
    hidden: tuple[str, ...] = ()

    def __call__(self, limits: Limits) -> Sandbox:
        from execeval.sandbox.jail import Packages
        from execeval.sandbox.warm import default_sandbox

        env = ensure(self.environment, quiet=True)
        return default_sandbox(limits, self.hidden, Packages(env.prefix, env.site))


def default_factory(environment: EnvironmentSpec) -> ZygoteFactory:
    from execeval import benchmark

    return ZygoteFactory(environment, benchmark.hidden_packages())


def trusted_grade(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    """Grade under the problem's calibrated limit; a bug of ours becomes a flagged verdict
    (kept but never reused), never a dead run."""
    from execeval.judge.timing import grade_calibrated

    try:
        return grade_calibrated(problem, program, sandbox)
    except Exception as e:
        return Verdict(False, "harness_error", f"{type(e).__name__}: {e}")


@dataclass
class _Job:
    future: Future[Verdict]
    problem: Problem
    program: str
    limits: Limits
    recheck: bool = False


class LocalExecutor:
    """Worker threads sharing one sandbox (one zygote forks a child per program).

    A timeout that waited for a CPU longer than the clock credited is not believed: it
    goes to the re-check queue, which runs only when no other job is queued or running,
    one job at a time; its future resolves with the second verdict.
    """

    def __init__(self, limits: Limits, workers: int | None = None,
                 factory: SandboxFactory | None = None,
                 environment: EnvironmentSpec | str | None = None):
        self.limits = limits
        self.workers = max(1, workers or os.cpu_count() or 1)
        spec = resolve(environment)
        self.environment = ensure(spec)
        self.sandbox = (factory or default_factory(spec))(limits)
        self._queue: deque[_Job] = deque()
        self._rechecks: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._busy = 0
        self._closed = False
        self._threads = [threading.Thread(target=self._work, name=f"execeval-grade-{i}",
                                          daemon=True) for i in range(self.workers)]
        for t in self._threads:
            t.start()

    def submit(self, problem: Problem, program: str,
               limits: Limits | None = None) -> Future[Verdict]:
        future: Future[Verdict] = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("executor is closed")
            self._queue.append(_Job(future, problem, program, limits or self.limits))
            self._cond.notify()
        return future

    def _next(self) -> _Job | None:
        """The next job: queued work first; a re-check only when nothing else runs."""
        with self._cond:
            while True:
                if self._closed:
                    return None
                if self._queue:
                    job = self._queue.popleft()
                elif self._rechecks and self._busy == 0:
                    job = self._rechecks.popleft()
                else:
                    self._cond.wait()
                    continue
                if job.recheck or job.future.set_running_or_notify_cancel():
                    self._busy += 1
                    return job

    def _work(self) -> None:
        from execeval.judge.timing import mark_rechecked, needs_recheck

        while (job := self._next()) is not None:
            try:
                verdict = trusted_grade(job.problem, job.program,
                                        with_limits(self.sandbox, job.limits))
            except BaseException as e:
                verdict = Verdict(False, "harness_error", f"{type(e).__name__}: {e}")
            with self._cond:
                self._busy -= 1
                if not job.recheck and needs_recheck(verdict):
                    # the same future (already running): the re-check resolves it
                    self._rechecks.append(_Job(job.future, job.problem, job.program, job.limits,
                                               recheck=True))
                    self._cond.notify_all()
                    continue
                self._cond.notify_all()
            job.future.set_result(mark_rechecked(verdict) if job.recheck else verdict)

    def describe(self) -> dict[str, Any]:
        return dict(getattr(self.sandbox, "report", {}) or {})

    def close(self) -> None:
        with self._cond:
            self._closed = True
            pending = list(self._queue) + list(self._rechecks)
            self._queue.clear()
            self._rechecks.clear()
            self._cond.notify_all()
        for job in pending:
            if not job.future.cancel():
                job.future.set_exception(RuntimeError("executor closed"))
        for t in self._threads:
            t.join(timeout=30)
        self.sandbox.close()

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class ExecutorKind:
    """An executor as the registry knows it (entry-point group `execeval.executors`, the
    name being the spec's `KIND` in `KIND[:ADDRESS]`)."""

    usage: str                                                       # e.g. "ray[:ADDRESS]"
    # (address, limits, workers, the grading environment)
    open: Callable[[str | None, Limits, int | None, EnvironmentSpec], Executor]


EXECUTORS: Registry[ExecutorKind] = Registry("execeval.executors", "executor", ExecutorKind)


def open_local(address: str | None, limits: Limits, workers: int | None,
               environment: EnvironmentSpec) -> LocalExecutor:
    if address:
        raise UserError(f"the local executor takes no address ({address!r})")
    return LocalExecutor(limits, workers, environment=environment)


KIND = ExecutorKind("local", open_local)


def executor_from_spec(spec: str, limits: Limits, workers: int | None = None,
                       environment: EnvironmentSpec | str | None = None) -> Executor:
    """`KIND[:ADDRESS]`: `local` (the default), `ray`, `ray:auto`, ... (any registered kind);
    extras are imported only when asked for. `environment`: a spec, a name or a spec file
    (None: the default, `classic`)."""
    kind, _, address = spec.partition(":")
    if kind not in EXECUTORS:
        usage = ", ".join(k.usage for _, k in EXECUTORS)
        raise UserError(f"unknown executor {spec!r} (known: {usage})")
    return EXECUTORS.get(kind).open(address or None, limits, workers, resolve(environment))
