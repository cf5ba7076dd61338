"""A fresh interpreter per program, with rlimits, a scratch directory and a clean environment.

Simple and dependable; the zygote sandbox replaces it where speed matters.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

from execeval.sandbox import Execution, Limits

# Only what an interpreter needs; never the parent's variables (API keys live there).
CLEAN_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
             "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1",
             "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def apply_rlimits(limits: Limits) -> None:
    """Runs in the child between fork and exec."""
    mb = 2**20
    for what, value in ((resource.RLIMIT_AS, limits.memory_mb * mb),
                        (resource.RLIMIT_CPU, limits.cpu_seconds),
                        (resource.RLIMIT_NOFILE, limits.max_open_files),
                        (resource.RLIMIT_FSIZE, limits.max_file_mb * mb),
                        (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(what, (value, value))


class _Popen:
    """Process protocol over a Popen whose child leads its own process group."""

    def __init__(self, popen: subprocess.Popen[bytes], scratch: str):
        self.popen = popen
        self.scratch = scratch

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def exit_status(self, timeout: float) -> int | None:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


class SubprocessSandbox:
    """Starts `python -I -m execeval.sandbox.child` in a new session per program."""

    def __init__(self, limits: Limits):
        self.limits = limits

    def start(self, limits: Limits | None = None) -> Execution:
        limits = limits or self.limits
        scratch = tempfile.mkdtemp(prefix="execeval-")
        popen = subprocess.Popen(
            [sys.executable, "-I", "-m", "execeval.sandbox.child"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=scratch, env=dict(CLEAN_ENV, HOME=scratch, TMPDIR=scratch),
            start_new_session=True, close_fds=True,
            preexec_fn=lambda: apply_rlimits(limits),
        )
        assert popen.stdin is not None and popen.stdout is not None
        wfd, rfd = os.dup(popen.stdin.fileno()), os.dup(popen.stdout.fileno())
        popen.stdin.close()
        popen.stdout.close()
        return Execution(_Popen(popen, scratch), rfd, wfd, limits)

    def close(self) -> None:
        """Nothing long-lived to stop."""
