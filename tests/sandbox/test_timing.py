"""Faithful timeouts: limits calibrated from the reference's time here, and a timeout that
load may have caused is graded again, alone, before it counts."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace

from sandbox_helpers import ADD

from execeval.evaluate import grade_all
from execeval.judge import Verdict
from execeval.judge.timing import calibrated_limits, needs_recheck
from execeval.sandbox import Limits
from execeval.sandbox.warm import ZygoteSandbox

SLOW_REFERENCE = replace(ADD, task_id="Toy/slow_add",
                         reference="import time\ndef add(a, b):\n    time.sleep(0.4)\n"
                                   "    return a + b\n")
SLOWER = "import time\ndef add(a, b):\n    time.sleep(0.6)\n    return a + b\n"


def grade_one(sandbox: ZygoteSandbox, problem: object, program: str) -> Verdict:
    out: dict[str, Verdict] = {}
    grade_all({"k": (problem, program)}, sandbox, 1, out.__setitem__)  # type: ignore[dict-item]
    return out["k"]


def test_limit_follows_the_reference_time_on_this_machine() -> None:
    with ZygoteSandbox(Limits(timeout=0.5, time_factor=4.0)) as sb:
        limits = calibrated_limits(SLOW_REFERENCE, sb)
        assert 1.6 <= limits.timeout <= 10  # 4 x (0.4 s and the round trips)
        assert calibrated_limits(ADD, sb).timeout == 0.5  # a fast reference: the floor
        assert grade_one(sb, SLOW_REFERENCE, SLOWER).passed  # 0.6 s > 0.5 s floor, < 4 x ref
    with ZygoteSandbox(Limits(timeout=0.5, time_factor=0.0)) as sb:  # calibration off
        assert grade_one(sb, SLOW_REFERENCE, SLOWER).status == "timeout"


def test_a_starved_timeout_is_rechecked_alone() -> None:
    """Four endless loops on two workers, with six CPU hogs beside them: they wait for a
    CPU longer than the clock may credit (one more limit), so each is graded again, alone."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                             start_new_session=True) for _ in range(6)]
    # each in a session of its own: the scheduler shares CPU between sessions (autogroups),
    # as between executions
    time.sleep(0.3)  # spinning
    try:
        with ZygoteSandbox(Limits(timeout=0.5)) as sb:
            loop = "def add(a, b):\n    while True:\n        pass\n"
            out: dict[str, Verdict] = {}
            grade_all({str(i): (ADD, loop + "#" * i) for i in range(4)}, sb, 2,
                      out.__setitem__)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert all(v.status == "timeout" for v in out.values())
    assert any("re-checked alone" in v.detail for v in out.values()), out


def test_time_spent_waiting_for_a_cpu_is_not_counted() -> None:
    """About 0.3 s of CPU work within a 0.5 s limit, on two cores that four CPU hogs keep
    busy: it takes well over 0.5 s of wall time, mostly waiting for a CPU, and still answers
    on its first run, the wait being added to its clock."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                             start_new_session=True) for _ in range(4)]
    time.sleep(0.3)  # spinning, each in a session (autogroup) of its own
    work = ("import time\ndef add(a, b):\n    t = time.process_time()\n"
            "    while time.process_time() - t < 0.3:\n        pass\n    return a + b\n")
    try:
        with ZygoteSandbox(Limits(timeout=0.5)) as sb, sb.start() as ex:
            start = time.monotonic()
            ex.exec_program(work)
            assert ex.call("add", (1, 2)) == 3
            wall = time.monotonic() - start
            assert ex.credited > 0 and wall > 0.5, (ex.credited, wall)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


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
