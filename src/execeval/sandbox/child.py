"""The untrusted side: runs one program and answers the trusted side's requests.

Everything here runs in the sandboxed process, next to the model's program, so
nothing here is trusted: a program can rewrite this module's state. It only ever
sends plain data back; the verdict is decided elsewhere.

Requests (framed JSON, see codec): {"op": "exec", "code", "name"} runs the program;
{"op": "call", "fn", "args"} calls one of its functions with decoded arguments;
{"op": "main", "code", "stdin"} runs a script as __main__ on that input.
Replies: {"ok": true, "value"} or {"ok": false, "exc", "msg"} (and "stdout" for main).
"""

from __future__ import annotations

import io
import os
import sys
import traceback
from typing import Any

from execeval.sandbox import codec


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _CappedBytes(io.BytesIO):
    """Standard output of a script, bounded so that a flood fails instead of exhausting memory."""

    def __init__(self, cap: int):
        super().__init__()
        self.cap = cap

    def write(self, b: bytes) -> int:  # type: ignore[override]
        if self.tell() + len(b) > self.cap:
            raise OSError(f"output limit of {self.cap} bytes exceeded")
        return super().write(b)


def run_main(code: str, stdin: str, cap: int) -> dict[str, Any]:
    """Run a stdin/stdout script; a clean sys.exit() is a normal end."""
    out = _CappedBytes(cap)
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    reply: dict[str, Any] = {"ok": True, "value": None}
    try:
        exec(compile(code, "<program>", "exec"), {"__name__": "__main__"})
    except SystemExit as e:
        if e.code not in (None, 0):
            reply = _error(e)
    except BaseException as e:
        reply = _error(e)
    try:
        sys.stdout.flush()
    except BaseException as e:
        reply = _error(e)
    reply["stdout"] = out.getvalue().decode("utf-8", "replace")
    return reply


def _error(e: BaseException) -> dict[str, Any]:
    frames = traceback.extract_tb(e.__traceback__)
    line = next((f.lineno for f in reversed(frames) if f.filename == "<program>"), None)
    return {"ok": False, "exc": type(e).__name__, "msg": str(e)[:500], "line": line}


def handle(request: dict[str, Any], namespace: dict[str, Any]) -> dict[str, Any]:
    operation = request.get("op")
    try:
        if operation == "exec":
            namespace["__name__"] = request.get("name", "__program__")
            exec(compile(request["code"], "<program>", "exec"), namespace)
            return {"ok": True, "value": None}
        if operation == "main":
            return run_main(request["code"], request["stdin"], int(request["cap"]))
        if operation == "call":
            function = namespace.get(request["fn"])
            if not callable(function):
                return {"ok": False, "exc": "NameError",
                        "msg": f"the program defines no function {request['fn']!r}", "line": None}
            args = [codec.from_plain(a) for a in request["args"]]
            return {"ok": True, "value": codec.to_plain(function(*args))}
        return {"ok": False, "exc": "ProtocolError", "msg": f"unknown op {operation!r}",
                "line": None}
    except codec.Unserializable as e:
        return {"ok": False, "exc": "Unserializable", "msg": str(e), "line": None}
    except BaseException as e:  # SystemExit and KeyboardInterrupt too: the program raised them
        return _error(e)


class _Reader:
    """Framed requests from a pipe, read ahead: one request usually takes one read."""

    def __init__(self, fd: int):
        self.fd, self.buffer = fd, b""

    def read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = os.read(self.fd, max(n - len(self.buffer), 1 << 16))
            if not chunk:
                raise EOFError
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data


def serve(rfd: int, wfd: int) -> None:
    """Answer requests until the trusted side closes the pipe."""
    sys.set_int_max_str_digits(0)
    namespace: dict[str, Any] = {}
    reader = _Reader(rfd)
    while True:
        try:
            (size,) = codec.HEADER.unpack(reader.read(codec.HEADER.size))
            request = codec.loads(reader.read(size))
        except EOFError:
            return
        reply = handle(request, namespace)
        try:
            data = codec.dumps(reply)
        except (ValueError, RecursionError, MemoryError) as e:
            data = codec.dumps({"ok": False, "exc": "Unserializable", "msg": str(e)[:200],
                                "line": None})
        _write_all(wfd, data)


def main() -> None:
    """Entry point of a fresh child: the protocol moves off stdin/stdout, which the
    program gets as /dev/null, so its prints cannot reach the trusted side."""
    rfd, wfd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    serve(rfd, wfd)
    os._exit(0)


if __name__ == "__main__":
    main()
