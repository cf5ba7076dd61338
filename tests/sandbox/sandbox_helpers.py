"""Helpers for the sandbox suite: a toy problem graded by the real trusted `check` grader,
and a view of the processes a zygote has left behind."""

from __future__ import annotations

import os
import time

from execeval.judge import Verdict, grade
from execeval.problems.model import Problem
from execeval.sandbox import Limits, zygote
from execeval.sandbox.warm import ZygoteSandbox

ADD = Problem(
    task_id="Toy/add", prompt="def add(a, b):\n", entry_point="add", grader="check",
    tests="def check(candidate):\n    assert candidate(1, 2) == 3\n"
          "    assert candidate(-1, 1) == 0\n    assert candidate(20, 22) == 42\n",
    reference="    return a + b\n")
FAST = Limits(timeout=1.0, memory_mb=1024)
SPARES = zygote.SPARES  # children the zygote keeps forked and waiting


def run(sandbox: ZygoteSandbox, program: str, problem: Problem = ADD) -> Verdict:
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
    """The zygote's children that are still alive after `seconds` (empty when all died)."""
    deadline = time.monotonic() + seconds
    while (left := executions_of(sandbox)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left
