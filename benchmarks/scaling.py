"""Grading throughput by worker count: the local executor against Ray, on the same samples.

    .venv/bin/python benchmarks/scaling.py --workers 1,2,4 --samples 600 --repeat 3

For each worker count it grades the same quickly terminating HumanEval mutants
(benchmarks/mutants.py; those that time out are dropped by a first pass, so that every
program is seconds of nothing but overhead) with

- local: `LocalExecutor` (worker threads, one zygote);
- ray: `RayExecutor`, one actor (one process, one zygote) per slot;
- ray-1actor: `RayExecutor(threads=workers)`, one actor holding every slot as threads (what
  "one actor per node" is on this one-node cluster);

each warmed first (calibrations, zygotes), then timed `--repeat` times in turn (this
machine's speed drifts: each one's best counts). It prints programs/s, CPU per program
(the whole process tree of this script, Ray's local cluster included, so it does not
depend on what else the machine runs) and what Ray adds per program over the local
executor at the same worker count: in slot time ((t_ray - t_local) x workers / programs)
and in CPU. Verdicts must agree with the local executor's (passed and status).

`--address auto` (or ray://host:10001) measures on a running cluster instead of a local
one; CPU then counts only this machine.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import make_samples

from execeval.benchmarks.humaneval import load
from execeval.dataset import Problem
from execeval.executor import Executor, LocalExecutor
from execeval.sandbox import Limits
from execeval.verdict import Verdict

TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu() -> float:
    """CPU seconds of this process and all its descendants, reaped children included
    (the zygotes reap every execution; Ray's local cluster runs below this process)."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry)] = (int(fields[1]), sum(int(x) for x in fields[11:15]) / TICK)
    mine, frontier = {os.getpid()}, {os.getpid()}
    while frontier:
        frontier = {p for p, (pp, _) in stats.items() if pp in frontier} - mine
        mine |= frontier
    return sum(stats[p][1] for p in mine if p in stats)


Job = tuple[Problem, str]


def grade_all(ex: Executor, jobs: list[Job]) -> tuple[float, float, list[Verdict]]:
    """Wall seconds, CPU seconds and the verdicts of grading `jobs` on `ex`."""
    cpu0, t0 = tree_cpu(), time.perf_counter()
    futures: list[Future[Verdict]] = [ex.submit(p, program) for p, program in jobs]
    verdicts = [f.result() for f in futures]
    return time.perf_counter() - t0, tree_cpu() - cpu0, verdicts


def own_cpu(pid: int) -> float:
    """CPU seconds of one process itself (not its children)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def serial_parts(jobs: list[Job], limits: Limits) -> tuple[float, float, float]:
    """What one process serializes per program, measured on a local executor with one
    worker: (trusted side, zygote, all) CPU ms. One actor holding a node's slots as
    threads runs all its trusted sides under one GIL and forks from one zygote: it cannot
    grade faster than 1 / max(trusted side, zygote), whatever the node's cores."""
    with LocalExecutor(limits, 1) as ex:
        grade_all(ex, jobs)  # warm
        proc = getattr(ex.sandbox, "_proc", None)
        zygote = proc.pid if proc is not None else None
        if zygote is not None and ex.describe().get("privilege") == "user-namespace":
            zygote = None  # the process started is a stub; the zygote is below it
        me0, z0 = own_cpu(os.getpid()), own_cpu(zygote) if zygote else 0.0
        _, cpu, _ = grade_all(ex, jobs)
        me, z = own_cpu(os.getpid()) - me0, (own_cpu(zygote) - z0) if zygote else float("nan")
    return me / len(jobs) * 1e3, z / len(jobs) * 1e3, cpu / len(jobs) * 1e3


def quick_jobs(n: int) -> list[Job]:
    """`n` fast mutants, less those that time out under a 0.5 s limit (a first pass)."""
    problems = load().problems
    jobs = [(problems[r["task_id"]], problems[r["task_id"]].program_from_completion(
        r["completion"])) for r in make_samples(n, 0)]
    with LocalExecutor(Limits(timeout=0.5), os.cpu_count()) as ex:
        verdicts = [f.result() for f in [ex.submit(p, program) for p, program in jobs]]
    return [j for j, v in zip(jobs, verdicts, strict=True) if v.status != "timeout"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default=None, help="comma-separated worker counts "
                    "(default 1, 2, 4, ... up to twice this machine's cores)")
    ap.add_argument("--samples", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--address", default=None, help="a running Ray cluster (auto, "
                    "ray://head:10001); default: a local one started here")
    args = ap.parse_args()
    import ray

    from execeval.ray_executor import RayExecutor

    cores = os.cpu_count() or 1
    counts = [int(w) for w in args.workers.split(",")] if args.workers else \
        [2 ** i for i in range(8) if 2 ** i <= 2 * cores]
    jobs = quick_jobs(args.samples)
    limits = Limits(timeout=args.timeout)
    if args.address:
        ray.init(address=args.address, logging_level=logging.WARNING, log_to_driver=False)
    else:  # room for both Ray executors of the largest count at once
        ray.init(address="local", num_cpus=2 * max(counts), include_dashboard=False,
                 logging_level=logging.WARNING, log_to_driver=False)
    cpu0, t0 = tree_cpu(), time.perf_counter()
    time.sleep(2.0)  # measuring the idle cluster's own CPU use: a duration, not a handshake
    idle = (tree_cpu() - cpu0) / (time.perf_counter() - t0)
    print(f"{len(jobs)} programs (HumanEval mutants that terminate quickly), timeout "
          f"{args.timeout:g}s, {cores} cores, load average {os.getloadavg()[0]:.1f} before "
          f"starting; Ray {ray.__version__}, {ray.cluster_resources().get('CPU', 0):g} CPUs "
          f"{'at ' + args.address if args.address else 'on a local cluster'}, idle "
          f"{idle * 1e3:.0f} ms CPU/s")

    header = (f"{'workers':>7} {'executor':<11} {'programs/s':>10} {'spread':>7} "
              f"{'CPU ms/prog':>11} {'+slot ms/prog':>13} {'+CPU ms/prog':>12} {'agree':>6}")
    print(header)
    print("-" * len(header))
    failed = False
    for w in counts:
        makers: dict[str, Callable[[], Executor]] = {
            "local": partial(LocalExecutor, limits, w),
            "ray": partial(RayExecutor, limits, w, args.address),
        }
        if not args.address and w > 1:
            makers["ray-1actor"] = partial(RayExecutor, limits, w, args.address, threads=w)
        executors = {name: make() for name, make in makers.items()}
        try:
            reference = [(v.passed, v.status) for v in grade_all(executors["local"], jobs)[2]]
            for name, ex in executors.items():
                if name != "local":
                    grade_all(ex, jobs)  # warm: its calibrations and zygotes
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in executors}
            agree: dict[str, bool] = {}
            for _ in range(args.repeat):
                for name, ex in executors.items():
                    wall, cpu, verdicts = grade_all(ex, jobs)
                    runs[name].append((wall, cpu))
                    agree[name] = agree.get(name, True) and \
                        [(v.passed, v.status) for v in verdicts] == reference
        finally:
            for ex in executors.values():
                ex.close()
        best_local = min(runs["local"])
        for name, results in runs.items():
            wall, cpu = min(results)  # the best run, and its CPU
            spread = statistics.pstdev([r[0] for r in results]) / wall if len(results) > 1 else 0
            extra = ("" if name == "local" else
                     f"{(wall - best_local[0]) * w / len(jobs) * 1e3:13.2f} "
                     f"{(cpu - best_local[1]) / len(jobs) * 1e3:12.2f}")
            print(f"{w:>7} {name:<11} {len(jobs) / wall:10.1f} {spread:7.1%} "
                  f"{cpu / len(jobs) * 1e3:11.2f} {extra:>26} {'yes' if agree[name] else 'NO':>6}")
            failed |= not agree[name]
    ray.shutdown()
    trusted, zygote, total = serial_parts(jobs, limits)
    print(f"serial parts per program (local, 1 worker): trusted side {trusted:.2f} ms CPU "
          f"(one GIL), zygote {zygote:.2f} ms (one process), all {total:.2f} ms: one process "
          f"per node tops out near {1e3 / max(trusted, zygote):.0f} programs/s, the work of "
          f"{total / max(trusted, zygote):.1f} cores; one actor per slot has no such ceiling")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
