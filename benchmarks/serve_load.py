"""Load test of `execeval serve`, on loopback only, bounded in requests and time.

    .venv/bin/python benchmarks/serve_load.py              # 5,000 requests, 64 clients

1. The programs: HumanEval's canonical solutions and their mutants (benchmarks/mutants.py),
   hostile programs (host files, network, memory, signals, exits, a liar object, a
   segfault), a few endless loops and sleeps, and copies of mutants with a comment added
   (distinct programs, so nothing is answered from the cache): `--requests` in all, every
   one distinct.
2. `execeval evaluate` (execeval.evaluate, a fresh store) grades them all: the reference
   verdicts and the reference time.
3. `execeval serve` (a subprocess, its own fresh store, the same --workers and --timeout)
   gets the same programs from `--clients` concurrent keep-alive clients, one request per
   program; every answer is compared with the CLI's verdict (passed and status), and the
   throughput with the CLI's. 429s would be retried as Retry-After says (and counted).
4. Then, on the same server: a client that sends garbage (every answer must be a 4xx or
   a closed connection), a client that disconnects mid-body and mid-grading, and a burst
   of distinct requests above --workers + --queue (429s with Retry-After, then normal
   service). The server must still be serving, with nothing left running.

Timeouts are kept few and short: the endless programs run under a 0.5 s limit (the
server's requests say `"timeout": 0.5`; the CLI grades them in a run of their own with
`timeout=0.5`, so verdicts are keyed alike), the rest under `--timeout` (3 s, the CLI's
default). A timeout holds a slot for its whole limit, and one that waited for a CPU is
graded again alone, when nothing else runs, by the CLI and the server alike.
Exits 1 if a verdict is lost or wrong, or throughput is under 80% of the CLI's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutants import mutant_samples

import execeval
from execeval.benchmarks.humaneval import load

HOST = "127.0.0.1"
# (kind, function body): each gives the same verdict every time it runs
HOSTILE = [
    ("read_host_file", "return open('/root/.bash_history').read()"),
    ("write_host_file", "open('/etc/passwd', 'a').write('x')\nreturn None"),
    ("shell_out", "import os\nos.system('cat /etc/shadow; rm -rf /tmp/*')\nreturn None"),
    ("network", "import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=1)"),
    ("memory_hog", "x = bytearray(2 ** 40)\nreturn x"),
    ("liar_object", "class Liar:\n    def __eq__(self, other):\n        return True\n"
     "return Liar()"),
    ("exit_zero", "import os\nos._exit(0)"),
    ("sys_exit", "import sys\nsys.exit(0)"),
    ("segfault", "import ctypes\nreturn ctypes.string_at(0)"),
    ("kill_self", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\nreturn None"),
    ("env_snoop", "import os\nreturn dict(os.environ)"),
    ("recursion", "def f(n):\n    return f(n + 1)\nreturn f(0)"),
]
LOOPS = [("infinite_loop", "while True:\n    pass"), ("sleep", "import time\ntime.sleep(30)")]
SHORT_TIMEOUT = 0.5  # the endless programs' limit: they are there to time out
RECHECKED = "re-checked alone"  # in the detail of a timeout graded again (judge.timing)


def programs(n: int, loops: int, seed: int = 0) -> list[dict[str, Any]]:
    """`n` distinct (task_id, completion) rows: mutants (mutants.py's slow canonical
    solutions left out: they sleep in every call, so most of them time out), hostile
    programs (a tenth at most), `loops` endless ones, and commented copies of mutants."""
    rng = random.Random(seed)
    base = [r for r in mutant_samples(per_problem=30, seed=seed, specials=0)
            if r["kind"] != "slow_canonical"]
    tasks = sorted({r["task_id"] for r in base})
    hostile = []
    for i, task in enumerate(tasks):
        for j in range(3):
            kind, body = HOSTILE[(3 * i + j) % len(HOSTILE)]
            hostile.append({"task_id": task, "kind": kind,
                            "completion": textwrap.indent(body, "    ") + "\n"})
    endless = []
    for i in range(loops):
        kind, body = LOOPS[i % len(LOOPS)]
        endless.append({"task_id": tasks[(7 * i) % len(tasks)], "kind": kind, "short": True,
                        "completion": textwrap.indent(body, "    ") + f"\n    # {i}\n"})
    budget = n - len(endless)
    hostile = rng.sample(hostile, min(len(hostile), budget // 10))
    rows = endless + hostile + rng.sample(base, min(len(base), budget - len(hostile)))
    copy = 0
    while len(rows) < n:
        r = rng.choice(base)
        copy += 1
        rows.append({**r, "kind": r["kind"] + "_copy",
                     "completion": r["completion"] + f"    # copy {copy}\n"})
    rng.shuffle(rows)
    assert len({(r["task_id"], r["completion"]) for r in rows}) == len(rows) == n
    return rows


# ---- a small keep-alive HTTP/1.1 client: cheap, so the server gets the CPU -------------

class Conn:
    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: Any = None,
                      ) -> tuple[int, dict[str, str], Any]:
        for attempt in (0, 1):  # a keep-alive connection the server closed: once more
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
            assert self.reader is not None
            data = json.dumps(body).encode() if body is not None else b""
            head = (f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: "
                    f"application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode()
            try:
                self.writer.write(head + data)
                await self.writer.drain()
                status_line = await self.reader.readuntil(b"\r\n")
                headers: dict[str, str] = {}
                while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
                    k, _, v = line.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                payload = await self.reader.readexactly(int(headers.get("content-length", 0)))
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt:
                    raise
                continue
            if headers.get("connection") == "close":
                self.close()
            return int(status_line.split()[1]), headers, json.loads(payload or b"null")
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def load_phase(port: int, rows: list[dict[str, Any]], clients: int, deadline: float,
                     ) -> tuple[list[dict[str, Any] | None], list[float], int, float]:
    """Each client takes the next program; answers land at the program's index."""
    answers: list[dict[str, Any] | None] = [None] * len(rows)
    latencies: list[float] = []
    retried = 0
    cursor = iter(range(len(rows)))

    async def client() -> None:
        nonlocal retried
        conn = Conn(port)
        try:
            for i in cursor:
                body = {"dataset": "humaneval", "task_id": rows[i]["task_id"],
                        "completion": rows[i]["completion"]}
                if rows[i].get("short"):
                    body["timeout"] = SHORT_TIMEOUT
                while time.monotonic() < deadline:
                    start = time.monotonic()
                    status, headers, out = await conn.request("POST", "/v1/grade", body)
                    if status == 429:
                        retried += 1
                        await asyncio.sleep(float(headers.get("retry-after", 1)))
                        continue
                    latencies.append(time.monotonic() - start)
                    answers[i] = out if status == 200 else {"http_status": status, **out}
                    break
        finally:
            conn.close()

    start = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(clients))),
                           timeout=max(1.0, deadline - time.monotonic()))
    return answers, latencies, retried, time.monotonic() - start


GARBAGE = [
    b"GARBAGE GARBAGE\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)),  # a TLS hello
    b"POST /v1/grade HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 9\r\n\r\n{not json",
    b"POST /v1/grade HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 4\r\n\r\n\xff\xfe\xfd\xfc",
    b"POST /v1/grade HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 31\r\n\r\n{\"task_id\": [], \"completion\": 1}",
    b"POST /v1/grade/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 999999999999\r\n\r\n",
    b"POST /run_code HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 41\r\n\r\n{\"code\": \"int main(){}\", \"language\": \"c\"}",
    b"POST /v1/grade HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 2\r\n\r\n{}",
    b"GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"POST /v1/grade HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"POST /v1/grade HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json\r\n"
    b"Content-Length: 2\r\n\r\n{}",
    b"POST /v1/grade HTTP/1.1\r\nHost: 127.0.0.1\r\nX-" + b"a" * 70000 + b": b\r\n\r\n",
]


async def garbage_phase(port: int, rounds: int) -> dict[str, int]:
    """Every reply a 4xx, or the connection closed without one (not HTTP at all)."""
    seen: dict[str, int] = {}
    for _ in range(rounds):
        for payload in GARBAGE:
            reader, writer = await asyncio.open_connection(HOST, port)
            try:
                writer.write(payload)
                await writer.drain()
                line = await asyncio.wait_for(reader.readline(), 10)
            except (ConnectionError, TimeoutError):
                line = b""
            finally:
                writer.close()
            m = re.match(rb"HTTP/1\.1 (\d{3})", line)
            key = m[1].decode() if m else "closed"
            seen[key] = seen.get(key, 0) + 1
    return seen


async def disconnect_phase(port: int, rounds: int) -> int:
    """Half a body, then gone; a whole request for a slow program, then gone."""
    body = json.dumps({"dataset": "humaneval", "task_id": "HumanEval/0",
                       "completion": "    import time\n    time.sleep(0.5)\n    return False\n"
                       "    # disconnect {n}\n"})
    for n in range(rounds):
        data = body.replace("{n}", str(n)).encode()
        head = (f"POST /v1/grade HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json"
                f"\r\nContent-Length: {len(data)}\r\n\r\n").encode()
        for cut in (len(data) // 2, len(data)):
            _, writer = await asyncio.open_connection(HOST, port)
            writer.write(head + data[:cut])
            await writer.drain()
            writer.close()
    return 2 * rounds


async def burst_phase(port: int, size: int, canonical: dict[str, str]
                      ) -> tuple[dict[int, int], set[str], float]:
    """`size` distinct requests at once, each on its own connection: whole programs (a
    canonical solution that sleeps 50 ms once, when it loads) that must pass."""
    tasks = sorted(canonical)
    statuses: dict[int, int] = {}
    retry_after: set[str] = set()
    wrong = 0

    async def one(n: int) -> None:
        nonlocal wrong
        task = tasks[n % len(tasks)]
        conn = Conn(port)
        try:
            status, headers, out = await conn.request("POST", "/v1/grade", {
                "dataset": "humaneval", "task_id": task,
                "solution": canonical[task] + f"\nimport time\ntime.sleep(0.05)  # burst {n}\n"})
        finally:
            conn.close()
        statuses[status] = statuses.get(status, 0) + 1
        if status == 429:
            retry_after.add(headers.get("retry-after", "missing"))
        elif status != 200 or not out["passed"]:
            wrong += 1

    start = time.monotonic()
    await asyncio.gather(*(one(n) for n in range(size)))
    assert wrong == 0, f"{wrong} admitted burst requests got a wrong answer"
    return statuses, retry_after, time.monotonic() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_server(args: argparse.Namespace, store: Path, port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "execeval.cli", "serve", "--dataset", "humaneval",
         "--host", HOST, "--port", str(port), "--workers", str(args.workers),
         "--queue", str(args.queue), "--timeout", str(args.timeout), "--store", str(store)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()  # printed once it listens with its datasets loaded
    if "execeval serve: http://" not in line:
        proc.kill()
        raise SystemExit(f"the server did not start: {line}{proc.stderr.read()}")
    return proc


def cli_verdicts(rows: list[dict[str, Any]], args: argparse.Namespace, store: Path,
                 ) -> tuple[list[tuple[bool, str]], float, int]:
    """`execeval evaluate` twice, as a user would: the endless programs at the short
    limit, the rest at --timeout; verdicts in row order, and the two runs' time."""
    got: dict[int, tuple[bool, str]] = {}
    seconds, rechecked = 0.0, 0
    for short, timeout in ((False, args.timeout), (True, SHORT_TIMEOUT)):
        index = [i for i, r in enumerate(rows) if bool(r.get("short")) == short]
        if not index:
            continue
        start = time.monotonic()
        result = execeval.evaluate([{"task_id": rows[i]["task_id"],
                                     "completion": rows[i]["completion"]} for i in index],
                                   "humaneval", timeout=timeout, workers=args.workers,
                                   store=store, k=[1])
        seconds += time.monotonic() - start
        for i, s in zip(index, result.samples(), strict=True):
            got[i] = (bool(s.passed), str(s.status))
            rechecked += RECHECKED in (s.detail or "")
    return [got[i] for i in range(len(rows))], seconds, rechecked


async def stats(port: int) -> dict[str, Any]:
    conn = Conn(port)
    try:
        return (await conn.request("GET", "/v1/stats"))[2]
    finally:
        conn.close()


async def serve_phases(args: argparse.Namespace, port: int, rows: list[dict[str, Any]],
                       deadline: float, extras: bool) -> dict[str, Any]:
    answers, latencies, retried, seconds = await load_phase(port, rows, args.clients, deadline)
    after_load = await stats(port)
    if not extras:
        return {"answers": answers, "latencies": latencies, "retried": retried,
                "seconds": seconds, "after_load": after_load}
    garbage = await garbage_phase(port, args.garbage_rounds)
    disconnects = await disconnect_phase(port, args.disconnects)
    problems = load().problems
    canonical = {t: p.reference for t, p in problems.items()}
    burst = await burst_phase(port, args.queue + args.workers + args.burst_extra, canonical)
    while (s := await stats(port))["running"] and time.monotonic() < deadline:
        await asyncio.sleep(0.1)  # the disconnected clients' programs finish
    follow = await load_phase(port, [{**r, "completion": r["completion"] + "    # after\n"}
                                     for r in rows[:args.clients]], args.clients, deadline)
    return {"answers": answers, "latencies": latencies, "retried": retried,
            "seconds": seconds, "after_load": after_load, "garbage": garbage,
            "disconnects": disconnects, "burst": burst, "final_stats": s, "follow": follow}


def report_load(rows: list[dict[str, Any]], expected: list[tuple[bool, str]],
                out: dict[str, Any], cli_seconds: float, clients: int, rep: int) -> None:
    """One load phase's figures; its lost and wrong verdicts are added to `out`."""
    answers, latencies = out["answers"], out["latencies"]
    lost = sum(a is None or "passed" not in a for a in answers)
    wrong = [(r["kind"], r["task_id"], want, (a["passed"], a["status"]))
             for r, a, want in zip(rows, answers, expected, strict=True)
             if a is not None and "passed" in a and (a["passed"], a["status"]) != want]
    out["lost"], out["wrong"] = lost, len(wrong)
    throughput, cli_rate = len(rows) / out["seconds"], len(rows) / cli_seconds
    print(f"[{rep + 1}] execeval serve: {len(rows)} requests from {clients} clients in "
          f"{out['seconds']:.1f}s ({throughput:.1f}/s) = {throughput / cli_rate:.0%} of "
          "evaluate's throughput just before")
    print(f"  latency p50 {pct(latencies, 0.5) * 1000:.0f} ms, p90 "
          f"{pct(latencies, 0.9) * 1000:.0f} ms, p99 {pct(latencies, 0.99) * 1000:.0f} ms, "
          f"max {max(latencies) * 1000:.0f} ms; 429s retried {out['retried']}")
    rechecked = sum(a is not None and RECHECKED in a.get("detail", "") for a in answers)
    print(f"  lost {lost}, wrong {len(wrong)} (against evaluate's verdicts); "
          f"executions {out['after_load']['executions']}, cache hits "
          f"{out['after_load']['cache_hits']}; {rechecked} timeouts re-checked alone",
          flush=True)
    for w in wrong[:10]:
        print(f"    wrong: {w}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--queue", type=int, default=128)
    ap.add_argument("--timeout", type=float, default=3.0, help="the limit, as the CLI's")
    ap.add_argument("--loops", type=int, default=12, help="endless programs among them")
    ap.add_argument("--garbage-rounds", type=int, default=5)
    ap.add_argument("--disconnects", type=int, default=20)
    ap.add_argument("--burst-extra", type=int, default=150,
                    help="burst size beyond --workers + --queue")
    ap.add_argument("--repeat", type=int, default=2,
                    help="turns of evaluate then serve; the best time of each counts")
    ap.add_argument("--max-seconds", type=float, default=1800, help="whole run's bound")
    args = ap.parse_args()
    deadline = time.monotonic() + args.max_seconds
    rows = programs(args.requests, args.loops)
    kinds: dict[str, int] = {}
    for r in rows:
        k = r["kind"].removesuffix("_copy")
        kinds[k] = kinds.get(k, 0) + 1
    print(f"{len(rows)} distinct programs on {len({r['task_id'] for r in rows})} problems: "
          + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])))
    cli_runs: list[float] = []
    serve_runs: list[float] = []
    lost = wrong = 0
    out: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for rep in range(args.repeat):  # taking turns: this machine's speed drifts
        with tempfile.TemporaryDirectory() as tmp:
            expected, cli_seconds, cli_rechecked = cli_verdicts(rows, args,
                                                                Path(tmp) / "cli.sqlite")
            cli_runs.append(cli_seconds)
            statuses: dict[str, int] = {}
            for _, status in expected:
                statuses[status] = statuses.get(status, 0) + 1
            print(f"[{rep + 1}] execeval evaluate: {len(rows)} programs in {cli_seconds:.1f}s "
                  f"({len(rows) / cli_seconds:.1f}/s), {args.workers} workers, timeout "
                  f"{args.timeout:g}s ({SHORT_TIMEOUT:g}s for the endless ones); verdicts: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items(),
                                                           key=lambda kv: -kv[1]))
                  + f"; {cli_rechecked} timeouts re-checked alone", flush=True)
            port = free_port()
            server = start_server(args, Path(tmp) / "serve.sqlite", port)
            try:
                out = asyncio.run(serve_phases(args, port, rows, deadline, extras=rep == 0))
            finally:
                server.terminate()
                try:
                    server.wait(30)
                except subprocess.TimeoutExpired:
                    server.kill()
        serve_runs.append(out["seconds"])
        report_load(rows, expected, out, cli_seconds, args.clients, rep)
        lost, wrong = lost + out["lost"], wrong + out["wrong"]
        extra = extra or out
        if time.monotonic() > deadline:
            break
    cli_rate, throughput = len(rows) / min(cli_runs), len(rows) / min(serve_runs)
    ratio = throughput / cli_rate
    print(f"best of {len(serve_runs)}: evaluate {cli_rate:.1f}/s, serve {throughput:.1f}/s "
          f"= {ratio:.0%}")
    out = extra  # the first turn's server also met the garbage, the disconnects, the burst
    print(f"garbage client: {sum(out['garbage'].values())} requests -> "
          + ", ".join(f"{k}: {v}" for k, v in sorted(out["garbage"].items())))
    statuses, retry_after, burst_seconds = out["burst"]
    print(f"disconnecting client: {out['disconnects']} requests dropped mid-body or "
          f"mid-grading; afterwards running={out['final_stats']['running']}")
    print(f"burst: {sum(statuses.values())} concurrent requests (capacity "
          f"{args.workers + args.queue}) -> " + ", ".join(f"{k}: {v}" for k, v in
                                                         sorted(statuses.items()))
          + f" in {burst_seconds:.1f}s; Retry-After {sorted(retry_after)}")
    f_answers, f_lat, f_retried, _ = out["follow"]
    f_ok = sum(a is not None and "passed" in a for a in f_answers)
    print(f"after it all: {f_ok}/{len(f_answers)} requests answered, p50 "
          f"{pct(f_lat, 0.5) * 1000:.0f} ms, 429s {f_retried}")
    bad_garbage = [k for k in out["garbage"] if k != "closed" and not k.startswith("4")]
    failed = (lost or wrong or ratio < 0.8 or bad_garbage or 429 not in statuses
              or f_ok != len(f_answers) or out["final_stats"]["running"])
    print(f"lost {lost}, wrong {wrong} in all turns; "
          + ("FAILED" if failed else "OK: no verdict lost or wrong; throughput within 80%"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
