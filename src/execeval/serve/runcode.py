"""SandboxFusion's `POST /run_code` for Python, on execeval's sandbox.

A script runs as `python FILE` would run it under SandboxFusion: its own file in a fresh
working directory (with the request's `files`), the request's stdin on fd 0, and its
stdout and stderr captured at the file-descriptor level (so child processes' output is
caught too); the exit code is the interpreter's (an uncaught exception prints its
traceback and gives 1; `sys.exit(n)` gives n).

The sandbox's `run_main` hands back only what `sys.stdout` got and fails on a non-zero
exit, so the script is wrapped: `WRAPPER` runs inside the sandbox, around the user's
code, and reports stdout, stderr, the exit code and the fetched files as one envelope
on the channel `run_main` returns. The wrapper is untrusted like the code it wraps: a
program that tampers with it can only misreport its own run. Files go only into the
execution's private scratch directory (a tmpfs that dies with it); the trusted side
checks every path before anything runs and never opens a host file.
"""

from __future__ import annotations

import base64
import binascii
import json
import posixpath
import time
from dataclasses import dataclass, field
from typing import Any

from execeval.dataset import Problem
from execeval.judge import Grader
from execeval.sandbox import ProgramFailure, Sandbox
from execeval.verdict import Verdict

GRADER_NAME = "run_code"
MARK = "\x00execeval-run-code\x00"
STREAM_CAP = 2**20            # bytes of stdout (and of stderr) handed back
FETCH_CAP = 2 * 2**20         # bytes of fetched files handed back, all together
MAX_FILES = 256
MAX_PATH = 1024
MAX_TIMEOUT = 120.0
SF_LANGUAGES = frozenset((
    "python", "cpp", "nodejs", "go", "go_test", "java", "php", "csharp", "bash", "typescript",
    "sql", "rust", "cuda", "lua", "R", "perl", "D_ut", "ruby", "scala", "julia", "pytest",
    "junit", "kotlin_script", "jest", "verilog", "python_gpu", "lean", "swift", "racket"))

# Runs inside the sandbox as __main__ (via Execution.run_main); its stdin is the JSON
# config. Names start with _ee_ so that they cannot clash with the user's script, which
# runs in a namespace of its own anyway.
WRAPPER = r'''
def _ee_main():
    import atexit, base64, json, os, sys, tempfile, threading, traceback
    cfg = json.loads(sys.stdin.read())
    channel = sys.stdout
    for name, data in cfg["files"].items():
        folder = os.path.dirname(name)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(name, "wb") as f:
            f.write(base64.b64decode(data))
    fd, path = tempfile.mkstemp(suffix=".py", dir=os.getcwd())
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(cfg["code"])
    fin = os.memfd_create("stdin")
    os.write(fin, cfg["stdin"].encode("utf-8", "surrogatepass"))
    os.lseek(fin, 0, 0)
    fout, ferr = os.memfd_create("stdout"), os.memfd_create("stderr")
    os.dup2(fin, 0)
    os.dup2(fout, 1)
    os.dup2(ferr, 2)
    os.close(fin)
    sys.stdin = open(0, "r", encoding="utf-8", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False,
                      buffering=1)
    sys.argv = [path]
    sys.path.insert(0, os.path.dirname(path))

    class _ee_exit(BaseException):
        pass

    real_exit, pid, main_thread = os._exit, os.getpid(), threading.main_thread()

    def fake_exit(code):
        if os.getpid() != pid or threading.current_thread() is not main_thread:
            real_exit(code)
        raise _ee_exit(code)

    os._exit = fake_exit
    namespace = {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__,
                 "__doc__": None, "__package__": None, "__spec__": None}
    code = 0
    try:
        exec(compile(cfg["code"], path, "exec"), namespace)
    except _ee_exit as e:
        code = e.args[0] if e.args and isinstance(e.args[0], int) else 1
    except SystemExit as e:
        code = _ee_exit_code(e)
    except BaseException as e:
        tb = e.__traceback__.tb_next if e.__traceback__ is not None else None
        traceback.print_exception(type(e), e, tb)
        code = 1
    os._exit = real_exit
    for t in threading.enumerate():
        if t is not main_thread and not t.daemon:
            t.join()
    try:
        atexit._run_exitfuncs()
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    files, budget = {}, cfg["fetch_cap"]
    root = os.path.realpath(os.getcwd())
    for name in cfg["fetch"]:
        real = os.path.realpath(name)
        if not real.startswith(root + os.sep) or not os.path.isfile(real):
            continue
        with open(real, "rb") as f:
            data = f.read(budget + 1)
        if len(data) <= budget:
            files[name] = base64.b64encode(data).decode()
            budget -= len(data)

    def head(fd):
        return base64.b64encode(os.pread(fd, cfg["cap"], 0)).decode()

    envelope = {"code": code & 0xFF, "stdout": head(fout),
                "stderr": head(ferr), "files": files}
    sys.stdout = channel
    channel.write("\x00execeval-run-code\x00" + json.dumps(envelope))


def _ee_exit_code(e):
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    import sys
    try:
        print(code, file=sys.stderr)
    except BaseException:
        pass
    return 1


_ee_main()
'''


class BadRunCode(ValueError):
    """A /run_code request that cannot run: the message is the one-line reason (HTTP 400)."""


@dataclass(frozen=True)
class RunCodeRequest:
    """SandboxFusion's RunCodeRequest, checked: only what execeval runs is kept."""

    code: str
    stdin: str = ""
    run_timeout: float = 10.0
    memory_mb: int | None = None  # None: the server's --memory
    files: dict[str, str] = field(default_factory=dict)  # path -> base64 (checked)
    fetch_files: tuple[str, ...] = ()


def _number(body: dict[str, Any], name: str, default: float) -> float:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRunCode(f"field '{name}' must be a number")
    return float(value)


def check_path(name: object, what: str) -> str:
    """A path inside the working directory: relative, no '..', no NUL; else refused,
    so that no request can name anything outside the execution's scratch."""
    if not isinstance(name, str) or not name or len(name) > MAX_PATH or "\x00" in name:
        raise BadRunCode(f"{what}: {name!r} is not a usable file name")
    norm = posixpath.normpath(name)
    if name.startswith("/") or norm.startswith("..") or norm in (".", "") or \
            ".." in norm.split("/"):
        raise BadRunCode(f"{what}: {name!r} must be a relative path inside the working "
                         "directory (no '/' at the start, no '..')")
    return norm


def parse_request(body: Any) -> RunCodeRequest:
    """SandboxFusion's fields, with its defaults; a wrong type or an unsupported language
    is a BadRunCode naming the field."""
    if not isinstance(body, dict):
        raise BadRunCode("expected a JSON object (SandboxFusion's RunCodeRequest)")
    code = body.get("code")
    if not isinstance(code, str):
        raise BadRunCode("field 'code' is " + ("missing" if "code" not in body
                                                else "not a string"))
    language = body.get("language")
    if not isinstance(language, str):
        raise BadRunCode("field 'language' is " + ("missing" if "language" not in body
                                                    else "not a string"))
    if language != "python":
        known = "a SandboxFusion language" if language in SF_LANGUAGES else "not a language"
        raise BadRunCode(f"language {language!r} ({known}) is not supported: execeval serve "
                         "runs only 'python'")
    stdin = body.get("stdin")
    if stdin is not None and not isinstance(stdin, str):
        raise BadRunCode("field 'stdin' must be a string or null")
    run_timeout = _number(body, "run_timeout", 10.0)
    _number(body, "compile_timeout", 10.0)  # python compiles nothing; checked, not used
    if not 0 < run_timeout <= MAX_TIMEOUT:
        raise BadRunCode(f"field 'run_timeout' must be in (0, {MAX_TIMEOUT:g}] seconds")
    memory = _number(body, "memory_limit_MB", -1)
    if memory != int(memory):
        raise BadRunCode("field 'memory_limit_MB' must be a whole number")
    files_in = body.get("files") or {}
    if not isinstance(files_in, dict):
        raise BadRunCode("field 'files' must be an object of path -> base64 content")
    if len(files_in) > MAX_FILES:
        raise BadRunCode(f"field 'files' has {len(files_in)} files (at most {MAX_FILES})")
    files: dict[str, str] = {}
    for name, content in files_in.items():
        path = check_path(name, "files")
        if content is None:  # SandboxFusion skips files without content
            continue
        if not isinstance(content, str):
            raise BadRunCode(f"files[{name!r}] must be base64 text")
        try:
            base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise BadRunCode(f"files[{name!r}] is not valid base64") from None
        files[path] = content
    fetch = body.get("fetch_files") or []
    if not isinstance(fetch, list):
        raise BadRunCode("field 'fetch_files' must be a list of paths")
    if len(fetch) > MAX_FILES:
        raise BadRunCode(f"field 'fetch_files' has {len(fetch)} paths (at most {MAX_FILES})")
    for name in fetch:
        check_path(name, "fetch_files")
    return RunCodeRequest(code, stdin or "", run_timeout,
                          int(memory) if memory > 0 else None, files, tuple(fetch))


def as_problem(req: RunCodeRequest) -> Problem:
    """The request as a problem for the Executor seam (so it shares the sandbox slots,
    the re-check policy and any executor), graded by GRADER below; never cached."""
    return Problem(task_id="run_code", prompt="", entry_point=None, grader=GRADER_NAME,
                   tests={"stdin": req.stdin, "files": req.files,
                          "fetch": list(req.fetch_files)},
                   reference="")


def _run_result(status: str, seconds: float, code: int | None, stdout: str = "",
                stderr: str = "") -> dict[str, Any]:
    return {"status": status, "execution_time": round(seconds, 4), "return_code": code,
            "stdout": stdout, "stderr": stderr}


def _decode(b64: str) -> str:
    return base64.b64decode(b64)[:STREAM_CAP].decode("utf-8", "replace")


def grade_run_code(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    """Run the script once; `extra` holds SandboxFusion's run_result and files."""
    tests = problem.tests
    config = json.dumps({"code": program, "stdin": tests["stdin"], "files": tests["files"],
                         "fetch": tests["fetch"], "cap": STREAM_CAP, "fetch_cap": FETCH_CAP})
    start = time.monotonic()
    files: dict[str, str] = {}
    with sandbox.start() as execution:
        try:
            out = execution.run_main(WRAPPER, config)
            seconds = time.monotonic() - start
            position = out.rfind(MARK)
            envelope = json.loads(out[position + len(MARK):]) if position >= 0 else None
            if not isinstance(envelope, dict):
                result = _run_result("Finished", seconds, 1, "",
                                     "execeval: the script's report went missing")
            else:
                result = _run_result("Finished", seconds, int(envelope["code"]),
                                     _decode(envelope["stdout"]), _decode(envelope["stderr"]))
                files = {str(k): str(v) for k, v in dict(envelope["files"]).items()}
        except ProgramFailure as f:
            result = failure_result(f, time.monotonic() - start)
            if f.status == "timeout":  # the sandbox's words: the re-check policy reads them
                return Verdict(False, "timeout", f.detail, extra={"run_result": result})
        except (ValueError, KeyError, TypeError) as e:  # a tampered envelope
            result = _run_result("Finished", time.monotonic() - start, 1, "",
                                 f"execeval: unreadable report ({type(e).__name__})")
    code = result["return_code"]
    status = "passed" if code == 0 else "error"
    return Verdict(code == 0, status,
                   "" if code == 0 else f"exit status {code}",
                   extra={"run_result": result, "files": files})


def failure_result(f: ProgramFailure, seconds: float) -> dict[str, Any]:
    """What the sandbox saw when the wrapper could not report: a timeout, a kill, a death."""
    if f.status == "timeout":
        return _run_result("TimeLimitExceeded", seconds, None)
    if f.status == "crash" and f.detail.startswith("killed by SIG"):
        import signal

        name = f.detail.removeprefix("killed by ").split()[0]
        code = -int(getattr(signal.Signals, name, signal.SIGKILL))
        return _run_result("Finished", seconds, code)
    if f.status == "crash" and "exited (status " in f.detail:
        try:
            code = int(f.detail.rsplit("status ", 1)[1].rstrip(")"))
        except ValueError:
            code = 1
        return _run_result("Finished", seconds, code)
    if f.status == "memory":
        return _run_result("Finished", seconds, 1, "", "MemoryError\n")
    return _run_result("Finished", seconds, 1, "", f"execeval: {f.detail}\n")


GRADER = Grader("run_code", grade_run_code, self_timed=True)


def response(verdict: Verdict) -> dict[str, Any]:
    """SandboxFusion's RunCodeResponse for a verdict of GRADER (or a harness error)."""
    run = verdict.extra.get("run_result")
    if not isinstance(run, dict):  # our side failed (harness_error): SandboxFusion's Error
        message = verdict.detail or verdict.status
        return {"status": "SandboxError", "message": message, "compile_result": None,
                "run_result": _run_result("Error", 0.0, None, "", message),
                "executor_pod_name": None, "files": {}}
    succeeded = run["status"] == "Finished" and run["return_code"] == 0
    return {"status": "Success" if succeeded else "Failed", "message": "", "compile_result": None,
            "run_result": run, "executor_pod_name": None,
            "files": verdict.extra.get("files", {})}
