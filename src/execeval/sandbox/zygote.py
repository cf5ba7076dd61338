"""The zygote: a small, warm process that forks one confined child per execution.

Started once per run by `ZygoteSandbox` (as `python -I -m execeval.sandbox.zygote`), it
imports the modules programs commonly use, enters the sandbox's namespaces and private
root (jail.enter), and then serves the trusted side over a unix socket: each request
forks a child that is confined (jail.confine) and then runs `child.serve`. The reply
carries the child's pipes, a status pipe (its exit status is written there when it is
reaped) and a pidfd for killing it, as SCM_RIGHTS. The zygote never runs a program
itself; when the trusted side goes away it kills every child and exits.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import selectors
import shutil
import signal
import socket
import struct
import sys
import tempfile
from typing import Any

from execeval.sandbox import child, codec, jail

PRELOAD = ("array", "bisect", "collections", "copy", "dataclasses", "datetime", "decimal",
           "enum", "fractions", "functools", "hashlib", "heapq", "itertools", "json", "math",
           "operator", "random", "re", "statistics", "string", "sys", "threading", "time",
           "typing", "unicodedata", "queue", "textwrap", "cmath", "numbers", "abc", "io",
           "struct", "copyreg", "weakref", "contextlib", "traceback", "zlib", "base64",
           "binascii", "calendar", "locale", "_strptime")  # not numpy: it slows every fork
MAX_SLOTS = 4096
SPARES = 4  # children kept forked and confined, waiting for a program
STATUS = struct.Struct("i")


def preload() -> None:
    """Import what programs commonly use, so children start warm (and can, after the uid
    drop, use modules whose files they could not read)."""
    for name in PRELOAD:
        with contextlib.suppress(Exception):
            __import__(name)
    codec.to_plain(0)


class Zygote:
    """Forks confined children; keeps `spares` of them ready (forked and confined, waiting
    for their first request), so a start costs the trusted side one socket round trip. A
    spare has run nothing; it is handed out once and never reused."""

    def __init__(self, sock: socket.socket, world: jail.World, spares: int = SPARES):
        self.sock = sock
        self.world = world
        self.children: dict[int, tuple[int, int, str | None]] = {}  # pid -> status_w, slot, scratch
        self.free_slots = list(range(MAX_SLOTS - 1, -1, -1))
        self.target = spares
        self.spares: list[tuple[int, list[int]]] = []  # (pid, [to_child_w, from_child_r, status_r])
        self.spare_limits: jail.ChildLimits | None = None

    def fork_child(self, limits: jail.ChildLimits) -> tuple[int, list[int]]:
        slot = self.free_slots.pop()
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        status_r, status_w = os.pipe()
        # without a mount namespace of its own: a host directory, removed when it is reaped
        scratch = None if self.world.mount_namespace else tempfile.mkdtemp(prefix="execeval-")
        if self.world.pid_namespace:
            jail.new_pid_namespace(self.world)
        pid = os.fork()
        if pid == 0:
            self._run_child(limits, slot, scratch, (to_child_r, from_child_w))
        for fd in (to_child_r, from_child_w):
            os.close(fd)
        self.children[pid] = (status_w, slot, scratch)
        return pid, [to_child_w, from_child_r, status_r]

    def drop_spares(self) -> None:
        for pid, fds in self.spares:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            for fd in fds:
                os.close(fd)
        self.spares.clear()

    def spawn(self, request: dict[str, Any]) -> None:
        limits = jail.ChildLimits(**request["limits"])
        if limits != self.spare_limits:
            self.drop_spares()
            self.spare_limits = limits
        if self.spares:
            pid, fds = self.spares.pop(0)
        elif self.free_slots:
            pid, fds = self.fork_child(limits)
        else:
            self.sock.send(json.dumps({"error": "too many executions"}).encode())
            return
        fds.append(os.pidfd_open(pid))
        try:
            socket.send_fds(self.sock, [json.dumps({"pid": pid}).encode()], fds)
        finally:
            for fd in fds:
                os.close(fd)

    def refill(self) -> None:
        if self.spare_limits is not None and len(self.spares) < self.target and self.free_slots:
            self.spares.append(self.fork_child(self.spare_limits))

    def _run_child(self, limits: jail.ChildLimits, slot: int, scratch: str | None,
                   fds: tuple[int, int]) -> None:
        code = 0
        try:
            self.sock.close()
            rfd, wfd = jail.confine(self.world, limits, slot, scratch, fds)
        except BaseException:
            os._exit(120)  # confinement failed: never run the program unconfined
        try:
            child.serve(rfd, wfd)
        except BaseException:
            code = 1
        os._exit(code)

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            entry = self.children.pop(pid, None)
            if entry is None:
                continue
            for i, (spare, fds) in enumerate(self.spares):
                if spare == pid:  # died before it was handed out: it never will be
                    for fd in fds:
                        os.close(fd)
                    del self.spares[i]
                    break
            status_w, slot, scratch = entry
            if not self.world.pid_namespace:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)  # its session; a setsid'd grandchild escapes
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            code = os.waitstatus_to_exitcode(status)
            with contextlib.suppress(OSError):
                os.write(status_w, STATUS.pack(code))
            os.close(status_w)
            self.free_slots.append(slot)

    def serve(self) -> None:
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        sel.register(wake_r, selectors.EVENT_READ)
        try:
            while True:
                ready = sel.select(0 if len(self.spares) < self.target else None)
                if not ready:
                    self.refill()
                for key, _ in ready:
                    if key.fileobj == wake_r:
                        os.read(wake_r, 4096)
                        self.reap()
                        continue
                    data = self.sock.recv(65536)
                    if not data:
                        return
                    self.spawn(json.loads(data))
        finally:
            self.drop_spares()
            for pid in list(self.children):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)


def run(root: str, sock: socket.socket, hidden: tuple[str, ...] = (),
        packages: jail.Packages = jail.STDLIB_ONLY) -> None:
    """Become the zygote. No PDEATHSIG: it follows the spawning thread; EOF on the socket
    (the trusted side has gone) ends us instead. Programs import from the standard library
    and `packages` only (the grading environment)."""
    jail.use_packages(packages)
    preload()
    world = jail.enter(root, hidden)
    gc.freeze()  # children's collections never walk (and so never copy) the zygote's objects
    sock.send(json.dumps(world.report()).encode())
    Zygote(sock, world).serve()


def main() -> None:
    config = json.loads(sys.argv[1])
    packages = jail.Packages(config["packages"]["prefix"], tuple(config["packages"]["site"]))
    run(config["root"], socket.socket(fileno=int(sys.argv[2])), tuple(config.get("hidden", ())),
        packages)


if __name__ == "__main__":
    main()
