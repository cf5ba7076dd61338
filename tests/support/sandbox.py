"""Helpers for the sandbox suite: a toy problem graded by the real trusted `check` grader,
a view of the processes a zygote has left behind, and CPU hogs that share one CPU with it."""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import time
from typing import Any

from execeval.dataset import Problem
from execeval.executor import LocalExecutor
from execeval.judge import Verdict, grade
from execeval.sandbox import Limits, Sandbox, zygote
from execeval.sandbox.warm import ZygoteSandbox

ADD = Problem(
    task_id="Toy/add", prompt="def add(a, b):\n", entry_point="add", grader="check",
    tests="def check(candidate):\n    assert candidate(1, 2) == 3\n"
          "    assert candidate(-1, 1) == 0\n    assert candidate(20, 22) == 42\n",
    reference="    return a + b\n")
FAST = Limits(timeout=1.0, memory_mb=1024)  # the suite's limits: `with_limits(sandbox, FAST)`
SPARES = zygote.SPARES  # children the zygote keeps forked and waiting


def run(sandbox: Sandbox, program: str, problem: Problem = ADD) -> Verdict:
    return grade(problem, program, sandbox)


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (pid namespaces do not hide them from the host)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def executions_of(sandbox: ZygoteSandbox) -> set[int]:
    """Live processes started for executions that have ended: every descendant of the
    zygote except the spares it keeps ready (its direct children, at most SPARES of them,
    which have run nothing). Under a user namespace the process we started is a stub
    whose only child is the zygote."""
    assert sandbox._proc is not None
    zygote = sandbox._proc.pid
    below = descendants(zygote)
    if sandbox.report.get("privilege") == "user-namespace":
        stub_children = {p for p in below if _parent(p) == zygote}
        below -= stub_children
        zygote = next(iter(stub_children), zygote)
    direct = {p for p in below if _parent(p) == zygote}
    return below if len(direct) > SPARES else below - direct


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1


def wait_no_descendants(sandbox: ZygoteSandbox, seconds: float = 5.0) -> set[int]:
    """The zygote's children that are still alive after `seconds` (empty when all died).
    Waits on their pidfds: it wakes when one of them exits, not on a polling tick."""
    deadline = time.monotonic() + seconds
    while (left := executions_of(sandbox)) and (timeout := deadline - time.monotonic()) > 0:
        pidfds = []
        for pid in left:
            with contextlib.suppress(OSError):  # gone already
                pidfds.append(os.pidfd_open(pid))
        try:
            if len(pidfds) == len(left):  # else one has gone: look again at once
                select.select(pidfds, [], [], timeout)  # readable: that process has exited
        finally:
            for fd in pidfds:
                os.close(fd)
    return left


def one_cpu() -> int:
    """A CPU this process may run on: the timing tests put their hogs and the zygote on it."""
    return min(os.sched_getaffinity(0))


def start_hogs(n: int, cpu: int) -> list[subprocess.Popen[bytes]]:
    """`n` endless loops pinned to `cpu`, each in a session (so a scheduler autogroup) of
    its own, as executions are; returns once every one of them says it is pinned and
    spinning (its line on stdout), so that none is still starting its interpreter."""
    hogs = [subprocess.Popen([sys.executable, "-c", "import os, sys\n"
                              f"os.sched_setaffinity(0, {{{cpu}}})\n"
                              "sys.stdout.write('spinning\\n')\nsys.stdout.flush()\n"
                              "while True:\n    pass\n"],
                             stdout=subprocess.PIPE, start_new_session=True) for _ in range(n)]
    try:
        for hog in hogs:
            assert hog.stdout is not None
            assert hog.stdout.readline() == b"spinning\n", "a CPU hog failed to start"
    except BaseException:
        stop_hogs(hogs)
        raise
    return hogs


def stop_hogs(hogs: list[subprocess.Popen[bytes]]) -> None:
    for hog in hogs:
        hog.kill()
        hog.wait()
        if hog.stdout is not None:
            hog.stdout.close()


def pin_zygote(sandbox: ZygoteSandbox, cpu: int) -> None:
    """Start the sandbox's zygote now and pin it to `cpu`: every execution it forks from
    then on inherits the affinity. (Under a user namespace the process we started is a stub
    whose child is the zygote: both are pinned.)"""
    if sandbox._proc is None or sandbox._proc.poll() is not None:
        sandbox._launch()  # before any child is forked, so that none escapes the pin
    assert sandbox._proc is not None
    for pid in {sandbox._proc.pid} | descendants(sandbox._proc.pid):
        os.sched_setaffinity(pid, {cpu})


class Borrowed:
    """A sandbox lent to an executor, which must not close it (the test does)."""

    def __init__(self, sandbox: Sandbox):
        self.base, self.limits = sandbox, sandbox.limits

    def start(self, limits: Limits | None = None) -> Any:
        return self.base.start(limits)

    def close(self) -> None:
        pass


def grade_many(sandbox: Sandbox, jobs: dict[str, tuple[Problem, str]],
               workers: int) -> dict[str, Verdict]:
    """Grade through the real local executor (its re-check policy included) on `sandbox`."""
    executor = LocalExecutor(sandbox.limits, workers, factory=lambda _: Borrowed(sandbox))
    try:
        futures = {k: executor.submit(p, program) for k, (p, program) in jobs.items()}
        return {k: f.result() for k, f in futures.items()}
    finally:
        executor.close()
