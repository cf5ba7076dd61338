"""The trusted side of the zygote sandbox: one zygote per run, one confined child per execution.

`ZygoteSandbox.start()` asks the zygote for a child and gets back, over the unix socket,
the child's two protocol pipes, a status pipe and a pidfd; from then on the trusted side
talks to the child directly, and kills it through the pidfd (no pid reuse race). The
zygote is restarted if it dies, so a run always ends with a verdict for every sample.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from typing import Any

from execeval.sandbox import Execution, Limits, Sandbox, jail
from execeval.sandbox.zygote import STATUS

READY_TIMEOUT = 60.0


class SandboxUnavailable(RuntimeError):
    """The zygote could not be started (a bug or a broken machine, never a program's doing)."""


class _Child:
    """Process protocol over a pidfd and the zygote's status pipe."""

    def __init__(self, pidfd: int, status_fd: int):
        self.pidfd, self.status_fd = pidfd, status_fd
        self.status: int | None = None

    def exit_status(self, timeout: float) -> int | None:
        if self.status is None and self.status_fd >= 0 and \
                select.select([self.status_fd], [], [], timeout)[0]:
            data = os.read(self.status_fd, STATUS.size)
            self.status = STATUS.unpack(data)[0] if len(data) == STATUS.size else -9
        return self.status

    def usage(self) -> tuple[float, float] | None:
        """(CPU seconds, seconds spent runnable but waiting for a CPU) of the execution's
        main process, all threads, from /proc: did load starve it?"""
        try:
            with open(f"/proc/self/fdinfo/{self.pidfd}") as f:
                pid = next(int(line.split()[1]) for line in f if line.startswith("Pid:"))
            cpu = waited = 0
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                    run, wait, _ = f.read().split()
                cpu, waited = cpu + int(run), waited + int(wait)
            return cpu / 1e9, waited / 1e9
        except (OSError, StopIteration, ValueError):
            return None

    def kill(self) -> None:
        if self.pidfd < 0:
            return
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        # not waiting for the reap: the kernel tears its PID and mount namespaces down (and
        # with them every descendant and its scratch tmpfs) while we grade the next sample
        os.close(self.pidfd)
        os.close(self.status_fd)
        self.pidfd = self.status_fd = -1


class _ForkedZygote:
    """A zygote forked from the calling process (tests that drop to another user use it:
    such a user may not be allowed to start this machine's interpreter at all)."""

    def __init__(self, root: str, sock: socket.socket, other: socket.socket,
                 hidden: tuple[str, ...], packages: jail.Packages):
        self.pid = os.fork()
        if self.pid == 0:
            try:
                other.close()
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                from execeval.sandbox import zygote

                zygote.run(root, sock, hidden, packages)
            finally:
                os._exit(0)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("zygote", timeout)
            time.sleep(0.01)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


class ZygoteSandbox:
    """Fast and contained: see docs/sandbox.md."""

    def __init__(self, limits: Limits, fork_zygote: bool = False, hidden: tuple[str, ...] = (),
                 packages: jail.Packages = jail.STDLIB_ONLY):
        self.limits = limits
        self.hidden = hidden  # installed packages programs must not see (benchmark answers)
        self.packages = packages  # what programs may import besides the standard library
        self.fork_zygote = fork_zygote  # fork this process instead of starting an interpreter
        self.report: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | _ForkedZygote | None = None
        self._sock: socket.socket | None = None
        self._root: str | None = None

    def _launch(self) -> None:
        self._stop()
        self._root = tempfile.mkdtemp(prefix="execeval-root-")
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(jail.CLEAN_ENV, HOME="/", TMPDIR=tempfile.gettempdir())
        with tempfile.TemporaryFile() as err:
            packages = {"prefix": self.packages.prefix, "site": list(self.packages.site)}
            self._proc = _ForkedZygote(self._root, child, parent, self.hidden, self.packages) \
                if self.fork_zygote else subprocess.Popen(
                [sys.executable, "-I", "-m", "execeval.sandbox.zygote",
                 json.dumps({"root": self._root, "hidden": list(self.hidden),
                             "packages": packages}),
                 str(child.fileno())],
                pass_fds=[child.fileno()], env=env, cwd="/", start_new_session=True,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            child.close()
            self._sock = parent
            if not select.select([parent], [], [], READY_TIMEOUT)[0] or not (
                    data := parent.recv(65536)):
                self._stop()
                err.seek(0)
                raise SandboxUnavailable("the sandbox's zygote failed to start: "
                                         + err.read().decode(errors="replace")[-500:])
        self.report = json.loads(data)

    def _spawn(self, limits: Limits) -> tuple[list[int], dict[str, Any]]:
        request = {"limits": asdict(child_limits(limits))}
        for attempt in (0, 1):
            if self._sock is None or (self._proc is not None and self._proc.poll() is not None):
                self._launch()
            assert self._sock is not None
            try:
                self._sock.send(json.dumps(request).encode())
                msg, fds, _, _ = socket.recv_fds(self._sock, 65536, 4)
            except OSError:
                msg, fds = b"", []
            if msg and len(fds) == 4:
                return fds, json.loads(msg)
            for fd in fds:
                os.close(fd)
            if msg:
                raise SandboxUnavailable(json.loads(msg).get("error", "bad zygote reply"))
            if attempt:
                raise SandboxUnavailable("the sandbox's zygote keeps dying")
            self._sock = None
        raise AssertionError("unreachable")

    def start(self, limits: Limits | None = None) -> Execution:
        limits = limits or self.limits
        with self._lock:
            fds, _ = self._spawn(limits)
        to_child, from_child, status_fd, pidfd = fds
        return Execution(_Child(pidfd, status_fd), from_child, to_child, limits)

    def _stop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._proc is not None:
            try:
                self._proc.wait(5)  # it kills its children when the socket closes
            except subprocess.TimeoutExpired:  # stopped, or stuck: it will not go by itself
                self._proc.kill()
                # SIGKILL ends it at once unless it is stuck in the kernel; then it is left
                # unreaped rather than hanging the run
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(5)
            self._proc = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def close(self) -> None:
        with self._lock:
            self._stop()

    def __enter__(self) -> ZygoteSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def child_limits(limits: Limits) -> jail.ChildLimits:
    return jail.ChildLimits(cpu_seconds=limits.cpu_seconds, memory_mb=limits.memory_mb,
                            max_open_files=limits.max_open_files, max_file_mb=limits.max_file_mb,
                            max_processes=limits.max_processes,
                            max_scratch_mb=limits.max_scratch_mb)


def default_sandbox(limits: Limits, hidden: tuple[str, ...] = (),
                    packages: jail.Packages = jail.STDLIB_ONLY) -> Sandbox:
    """The zygote sandbox: warm, contained by whatever the kernel allows (docs/sandbox.md).
    `hidden`: installed packages to leave out of its root (execeval.benchmark names them);
    `packages`: the grading environment's (none: the standard library only)."""
    return ZygoteSandbox(limits, hidden=hidden, packages=packages)
