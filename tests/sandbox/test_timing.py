"""Faithful timeouts: limits calibrated from the reference's time here, and a timeout that
load may have caused is graded again, alone, before it counts.

The load tests put their CPU hogs and the zygote (so every execution it forks) on one CPU
with `os.sched_setaffinity`: the contention they need is then the same on any machine.
Unpinned, on 8 idle cores, 2 executions and 6 hogs each have a core to themselves; nothing
waits for a CPU, and the tests would fail for want of load rather than pass. Pinned, each
of the n runnable processes on that CPU gets 1/n of it whatever the core count. The test
process itself is not pinned: the trusted side keeps its clock from wherever it runs."""

from __future__ import annotations

import time
from dataclasses import replace

from support.sandbox import ADD, grade_many, one_cpu, pin_zygote, start_hogs, stop_hogs

from execeval.dataset import Problem
from execeval.judge import Verdict
from execeval.judge.timing import calibrated_limits, needs_recheck
from execeval.sandbox import Limits
from execeval.sandbox.warm import ZygoteSandbox

SLOW_REFERENCE = replace(ADD, task_id="Toy/slow_add",
                         reference="import time\ndef add(a, b):\n    time.sleep(0.4)\n"
                                   "    return a + b\n")
SLOWER = "import time\ndef add(a, b):\n    time.sleep(0.6)\n    return a + b\n"


def grade_one(sandbox: ZygoteSandbox, problem: Problem, program: str) -> Verdict:
    return grade_many(sandbox, {"k": (problem, program)}, 1)["k"]


def test_limit_follows_the_reference_time_on_this_machine() -> None:
    with ZygoteSandbox(Limits(timeout=0.5, time_factor=4.0)) as sb:
        limits = calibrated_limits(SLOW_REFERENCE, sb)
        assert 1.6 <= limits.timeout <= 10  # 4 x (0.4 s and the round trips)
        assert calibrated_limits(ADD, sb).timeout == 0.5  # a fast reference: the floor
        assert grade_one(sb, SLOW_REFERENCE, SLOWER).passed  # 0.6 s > 0.5 s floor, < 4 x ref
    with ZygoteSandbox(Limits(timeout=0.5, time_factor=0.0)) as sb:  # calibration off
        assert grade_one(sb, SLOW_REFERENCE, SLOWER).status == "timeout"


def test_a_starved_timeout_is_rechecked_alone() -> None:
    """Four endless loops on two workers, on one CPU with six CPU hogs: each loop gets about
    an eighth of it, so in its 0.5 s limit plus the 0.5 s credit (one more limit) it waits
    about 0.9 s for the CPU, far more than the clock may credit: each is graded again, alone."""
    cpu = one_cpu()
    hogs = start_hogs(6, cpu)
    try:
        with ZygoteSandbox(Limits(timeout=0.5)) as sb:
            pin_zygote(sb, cpu)
            loop = "def add(a, b):\n    while True:\n        pass\n"
            out = grade_many(sb, {str(i): (ADD, loop + "#" * i) for i in range(4)}, 2)
    finally:
        stop_hogs(hogs)
    assert all(v.status == "timeout" for v in out.values())
    assert any("re-checked alone" in v.detail for v in out.values()), out


def test_time_spent_waiting_for_a_cpu_is_not_counted() -> None:
    """About 0.6 s of CPU work within a 1 s limit, on one CPU that a CPU hog shares: it gets
    half of it, so it takes about 1.2 s of wall time, half of it waiting for the CPU, and
    still answers on its first run, the wait (up to one more limit) being added to its clock.
    Without the credit it would time out; without the hog it would take 0.6 s (both fail)."""
    cpu = one_cpu()
    hogs = start_hogs(1, cpu)
    work = ("import time\ndef add(a, b):\n    t = time.process_time()\n"
            "    while time.process_time() - t < 0.6:\n        pass\n    return a + b\n")
    try:
        with ZygoteSandbox(Limits(timeout=1.0)) as sb:
            pin_zygote(sb, cpu)
            with sb.start() as ex:
                start = time.monotonic()
                ex.exec_program(work)
                assert ex.call("add", (1, 2)) == 3
                wall = time.monotonic() - start
                assert ex.credited > 0 and wall > 1.0, (ex.credited, wall)
    finally:
        stop_hogs(hogs)


def test_a_sleeping_timeout_is_not_rechecked() -> None:
    """Asleep, it never waited for a CPU (well under a tenth of its 2 s): load is no excuse."""
    with ZygoteSandbox(Limits(timeout=2.0)) as sb:
        verdict = grade_one(sb, ADD, "import time\ndef add(a, b):\n    time.sleep(30)\n")
    assert verdict.status == "timeout" and "re-checked" not in verdict.detail, verdict


def test_only_starved_timeouts_are_rechecked() -> None:
    detail = "no answer within 3s (cpu {:.2f}s, waited {:.2f}s, credited {:.2f}s)"
    assert needs_recheck(Verdict(False, "timeout", detail.format(1.2, 4.7, 3.0)))
    assert not needs_recheck(Verdict(False, "timeout", detail.format(2.5, 0.5, 0.5)))
    assert not needs_recheck(Verdict(False, "timeout", detail.format(2.95, 0.01, 0.0)))
    assert not needs_recheck(Verdict(False, "timeout", detail.format(0.0, 0.0, 0.0)))
    assert needs_recheck(Verdict(False, "timeout", "killed by SIGKILL"))
    assert not needs_recheck(Verdict(False, "failed", "assertion failed"))


def test_statuses_tell_failures_apart() -> None:
    programs = {
        "timeout": "def add(a, b):\n    while True:\n        pass\n",
        "memory": "def add(a, b):\n    return bytearray(2**40)\n",
        "crash": "import os\ndef add(a, b):\n    os._exit(3)\n",
        "failed": "def add(a, b):\n    return a - b\n",
        "error": "def add(a, b):\n    return a / 0\n",
        "syntax_error": "def add(a, b):\n    return (a +\n",
        "passed": "def add(a, b):\n    return a + b\n",
    }
    with ZygoteSandbox(Limits(timeout=0.5)) as sb:
        for status, program in programs.items():
            assert grade_one(sb, ADD, program).status == status, status
