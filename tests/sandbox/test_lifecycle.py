"""The sandbox's own lifecycle: closing it ends its zygote, even one that will not go."""

from __future__ import annotations

import os
import signal
import time

import pytest
from support.sandbox import FAST, run

from execeval.sandbox.warm import ZygoteSandbox

SAFE = "def add(a, b):\n    return a + b\n"


@pytest.mark.parametrize("fork_zygote", [True, False], ids=["forked", "interpreter"])
def test_close_kills_a_zygote_that_does_not_exit(fork_zygote: bool) -> None:
    """A stopped zygote cannot see its socket close: close() waits for it a while, then
    kills it, and does not hang or raise."""
    sb = ZygoteSandbox(FAST, fork_zygote=fork_zygote)
    assert run(sb, SAFE).passed
    proc = sb._proc
    assert proc is not None
    os.kill(proc.pid, signal.SIGSTOP)
    start = time.monotonic()
    sb.close()
    took = time.monotonic() - start
    assert 4 < took < 30, took  # it waited its grace period, then killed
    assert proc.poll() == -signal.SIGKILL
    assert sb._proc is None
