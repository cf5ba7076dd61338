"""Expected outputs of EvalPlus problems: the canonical solution run on every input.

The canonical solution is the benchmark's trusted code, but it is still code: it runs in
its own trusted subprocess (never in the CLI process, never next to a candidate), once
per problem. The outputs and the time each input took are kept as plain data (tagged
JSON), in memory for the run and in a file cache keyed by the problem's content hash:
`$EXECEVAL_CACHE`, else `$XDG_CACHE_HOME/execeval`, else `~/.cache/execeval`.

Run as `python -m execeval.judge.oracle`: reads one request on stdin, writes the reply
on the descriptor that was stdout (the solution's own prints go to /dev/null).
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from execeval.sandbox import codec

ORACLE_VERSION = "3"  # in the cache's file names: bump when what it records changes
ORACLE_TIMEOUT = 1800.0  # seconds for one problem's inputs: HumanEval/139 takes about 7


BIG_ELEMENTS = 200_000  # outputs larger than this are kept as a digest, not a value
DIGEST_FN = "__execeval_digest__"
# One definition, run both by the trusted oracle and next to the candidate in the sandbox:
# the SHA-256 of an output's repr (PYTHONHASHSEED=0 on both sides, so sets agree). A
# program cannot forge a digest match without producing the expected output itself.
DIGEST_SHIM = f"""
def {DIGEST_FN}(name, args):
    import hashlib
    out = globals()[name](*args) if name else args
    return hashlib.sha256(repr(out).encode("utf-8", "surrogatepass")).hexdigest()
"""


@dataclass(frozen=True)
class Digest:
    """An expected output too big to keep or ship: its digest (see DIGEST_SHIM)."""

    sha256: str


def is_big(x: Any, budget: int = BIG_ELEMENTS) -> bool:
    """Whether a value holds more than `budget` elements (strings count by length); cheap:
    stops counting as soon as the budget is spent."""
    stack = [x]
    while stack:
        v = stack.pop()
        if isinstance(v, str | bytes):
            budget -= 1 + len(v) // 64
        elif isinstance(v, list | tuple | set | frozenset):
            budget -= len(v)
            stack.extend(v)
        elif isinstance(v, dict):
            budget -= len(v)
            stack.extend(v.keys())
            stack.extend(v.values())
        else:
            budget -= 1
        if budget < 0:
            return True
    return False


def _encode(x: Any) -> Any:
    return {"__digest__": x.sha256} if isinstance(x, Digest) else codec.to_plain(x)


def _decode(x: Any) -> Any:
    if isinstance(x, dict) and set(x) == {"__digest__"}:
        return Digest(str(x["__digest__"]))
    return codec.from_plain(x)


@dataclass(frozen=True)
class Oracle:
    """Expected outputs and reference seconds per input, for the base and plus inputs."""

    base: list[Any]
    plus: list[Any]
    base_time: list[float]
    plus_time: list[float]


class OracleError(RuntimeError):
    """The canonical solution could not produce expected outputs (a broken problem)."""


def cache_dir() -> Path:
    if os.environ.get("EXECEVAL_CACHE"):
        return Path(os.environ["EXECEVAL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "execeval"


MEMORY_PROBLEMS = 32  # oracles kept in memory (most recently used); the rest stay on disk
_memory: OrderedDict[str, Oracle] = OrderedDict()
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def expected_outputs(key: str, code: str, entry_point: str, base: list[Any], plus: list[Any],
                     output_not_none: bool) -> Oracle:
    """The oracle for one problem (`key`: its content hash), computed at most once."""
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        if key in _memory:
            _memory.move_to_end(key)
            return _memory[key]
        path = cache_dir() / "oracle" / f"{key}-v{ORACLE_VERSION}.json.gz"
        oracle = _read_cache(path)
        if oracle is None:
            oracle = _compute(code, entry_point, base, plus, output_not_none)
            _write_cache(path, oracle)
        _memory[key] = oracle
        while len(_memory) > MEMORY_PROBLEMS:
            _memory.popitem(last=False)
        return oracle


def _read_cache(path: Path) -> Oracle | None:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            data = json.load(f)
        return Oracle([_decode(x) for x in data["base"]], [_decode(x) for x in data["plus"]],
                      data["base_time"], data["plus_time"])
    except (OSError, ValueError, KeyError, EOFError):
        return None  # absent or damaged: compute again


def _write_cache(path: Path, oracle: Oracle) -> None:
    """Atomic, best effort: a read-only cache only costs recomputation."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, tmp = tempfile.mkstemp(dir=path.parent, prefix=".oracle-")
        with os.fdopen(descriptor, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8") as f:
            json.dump({"base": [_encode(x) for x in oracle.base],
                       "plus": [_encode(x) for x in oracle.plus],
                       "base_time": oracle.base_time, "plus_time": oracle.plus_time}, f)
        os.replace(tmp, path)
    except OSError:
        pass


def _compute(code: str, entry_point: str, base: list[Any], plus: list[Any],
             output_not_none: bool) -> Oracle:
    request = json.dumps({"code": code, "entry_point": entry_point,
                          "base": [codec.to_plain(x) for x in base],
                          "plus": [codec.to_plain(x) for x in plus],
                          "output_not_none": output_not_none})
    try:
        env = dict(os.environ, PYTHONHASHSEED="0")  # as in the sandbox: digests of sets agree
        done = subprocess.run([sys.executable, "-m", "execeval.judge.oracle"], env=env,
                              input=request.encode(), capture_output=True,
                              timeout=ORACLE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise OracleError(f"the canonical solution took over {ORACLE_TIMEOUT:g}s") from None
    try:
        reply = json.loads(done.stdout)
    except ValueError:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise OracleError(f"the canonical solution failed: {tail[0][:200]}") from None
    if "error" in reply:
        raise OracleError(reply["error"])
    return Oracle([_decode(x) for x in reply["base"]], [_decode(x) for x in reply["plus"]],
                  reply["base_time"], reply["plus_time"])


def _run_inputs(code: str, entry_point: str, digest: Any, inputs: list[Any],
                output_not_none: bool) -> tuple[list[Any], list[float]]:
    """EvalPlus's ground truth (`gen.util.trusted_exec`): the code run afresh, then each
    input's output on a fresh copy of it, and the seconds the one call took. Seconds of CPU:
    EvalPlus times the call on its clock before any candidate runs, on an idle machine;
    the CPU time is that figure, whatever else runs here meanwhile. For a big output the
    time of its digest is added: the candidate's request computes it too."""
    namespace: dict[str, Any] = {"__name__": "__canonical__"}
    exec(compile(code, "<canonical>", "exec"), namespace)
    canonical = namespace[entry_point]
    outputs, times = [], []
    for inp in inputs:
        args = copy.deepcopy(inp)
        start = time.process_time()
        out = canonical(*args)
        seconds = time.process_time() - start
        if output_not_none:
            out = out is not None
        if is_big(out):
            start = time.process_time()
            out = Digest(digest("", out))
            seconds += time.process_time() - start
        times.append(seconds)
        outputs.append(out)
    return outputs, times


def main() -> None:
    """The trusted subprocess: one request in, expected outputs out."""
    sys.set_int_max_str_digits(0)
    out_fd = os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 1)
    request = json.loads(sys.stdin.read())
    try:
        helpers: dict[str, Any] = {}
        exec(DIGEST_SHIM, helpers)
        digest = helpers[DIGEST_FN]
        code, entry_point = request["code"], request["entry_point"]
        not_none = bool(request["output_not_none"])
        base, base_time = _run_inputs(code, entry_point, digest,
                                      [codec.from_plain(x) for x in request["base"]], not_none)
        plus, plus_time = _run_inputs(code, entry_point, digest,
                                      [codec.from_plain(x) for x in request["plus"]], not_none)
        reply: dict[str, Any] = {"base": [_encode(x) for x in base],
                                 "plus": [_encode(x) for x in plus],
                                 "base_time": base_time, "plus_time": plus_time}
    except Exception as e:
        reply = {"error": f"the canonical solution failed: {type(e).__name__}: {e}"[:300]}
    with os.fdopen(out_fd, "w", encoding="utf-8") as f:
        json.dump(reply, f)


if __name__ == "__main__":
    main()
