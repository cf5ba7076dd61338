"""Peak memory of `execeval evaluate` against the number of samples: it must stay flat.

For each size, a deterministic samples file of distinct HumanEval programs (canonical
solutions, wrong answers, exceptions and syntax errors, each tagged with its index so
no two share a verdict) is graded by the real CLI in a fresh process with a fresh store;
that process reports its own peak RSS (the sandbox's processes are separate and small).

    python benchmarks/memory.py                     # 3,280, 16,400 and 32,800 samples
    python benchmarks/memory.py --sizes 3280,16400 --workers 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from execeval.benchmarks.humaneval import load

# one run of the CLI that reports its own peak resident memory on its last stderr line
MEASURED = ("import resource, sys\nfrom execeval.cli import main\ncode = main(sys.argv[1:])\n"
            "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "print('PEAK_KB', peak, file=sys.stderr)\nsys.exit(code)\n")
VARIANTS = ("canonical", "canonical", "wrong", "raise", "syntax")


def write_samples(path: Path, n: int) -> None:
    problems = list(load().problems.values())
    with open(path, "w") as f:
        for i in range(n):
            p = problems[i % len(problems)]
            kind = VARIANTS[(i // len(problems)) % len(VARIANTS)]
            body = {"canonical": p.reference[len(p.prompt):], "wrong": "    return None\n",
                    "raise": "    raise ValueError('no')\n", "syntax": "    return (1 +\n"}[kind]
            f.write(json.dumps({"task_id": p.task_id, "completion": f"{body}# sample {i}\n"})
                    + "\n")


def measure(n: int, workers: int, tmp: Path) -> tuple[float, float, dict[str, int]]:
    samples, store = tmp / f"s{n}.jsonl", tmp / f"store{n}.sqlite"
    write_samples(samples, n)
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", MEASURED, "evaluate", "--samples", str(samples), "--store",
         str(store), "--results", str(tmp / f"r{n}.jsonl"), "--workers", str(workers),
         "--k", "1", "--json"], capture_output=True, text=True)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"evaluate failed on {n} samples: {proc.stderr[-2000:]}")
    peak_kb = int(proc.stderr.strip().splitlines()[-1].split()[1])
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["n_samples"] == n
    return peak_kb / 1024, seconds, summary["status_counts"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="3280,16400,32800")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    peaks = {}
    with tempfile.TemporaryDirectory() as d:
        print(f"{'samples':>8}  {'peak RSS':>10}  {'seconds':>8}  statuses")
        for n in sizes:
            mb, seconds, statuses = measure(n, args.workers, Path(d))
            peaks[n] = mb
            print(f"{n:>8,}  {mb:>7.1f} MB  {seconds:>8.1f}  {statuses}", flush=True)
    smallest, largest = min(sizes), max(sizes)
    print(f"peak at {largest:,} / peak at {smallest:,}: {peaks[largest] / peaks[smallest]:.2f}x")


if __name__ == "__main__":
    main()
