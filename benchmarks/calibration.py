"""Are execeval's confidence intervals and paired test calibrated? Measured by simulation.

Each replicate is a benchmark of --problems problems drawn afresh from a population whose
success rates p follow Beta(--alpha, --beta); a model writes --n samples per problem
(--n-large for pass@100), each correct with its problem's p. The truth an interval must
cover is the population's pass@k, E[1 - (1-p)^k] (docs/statistics.md says why); the
"fixed" column checks the same intervals against the drawn benchmark's own mean
1 - (1-p_i)^k instead. The paired test compares two runs on the same problems: two
independent sample sets of one model (every p < 0.05 is a false positive) and a model
whose pass@1 is higher by each --gaps value (p_B = r + (1-r) p), next to the power of a
z-test that knows the true variance.

    .venv/bin/python benchmarks/calibration.py
    .venv/bin/python benchmarks/calibration.py --problems 30 --replicates 4000
"""

from __future__ import annotations

import argparse
import math
import time
from statistics import NormalDist

import numpy as np

from execeval.stats import (
    beta_pass_at_k,
    ci_mean,
    ci_ratio,
    paired_difference,
    pass_at_k_matrix,
)

INTERVAL_METHODS = ("logit", "t", "bootstrap", "bca")


def per_problem(c: np.ndarray, n: int, k: int) -> np.ndarray:
    return pass_at_k_matrix(np.full(c.size, n), c.ravel(), k).reshape(c.shape)


def coverage_row(label: str, rows: list[np.ndarray] | list[tuple[np.ndarray, np.ndarray]],
                 truth: float, fixed: np.ndarray, args: argparse.Namespace) -> list[str]:
    """Coverage for each method; for the first method also how often the truth falls below
    / above the interval, how often it covers the drawn benchmark's own value, and its
    mean width. `rows` holds per-problem values, or (correct, samples) pairs for a ratio."""
    cells = [label, f"{truth:.4f}"]
    for method in args.methods:
        intervals = []
        for i, row in enumerate(rows):
            options = {"method": method, "n_resamples": args.resamples, "seed": i}
            intervals.append(ci_ratio(*row, **options) if isinstance(row, tuple)
                             else ci_mean(row, **options))
        low = np.array([iv.low for iv in intervals])
        high = np.array([iv.high for iv in intervals])
        cells.append(f"{np.mean((low <= truth) & (truth <= high)):.3f}")
        if method == args.methods[0]:
            default = (low, high)
    low, high = default
    cells += [f"{np.mean(low > truth):.3f} / {np.mean(high < truth):.3f}",
              f"{np.mean((low <= fixed) & (fixed <= high)):.3f}",
              f"{np.mean(high - low):.4f}"]
    return cells


def z_test_power(gap: float, alpha: float, beta: float, problems: int, n: int) -> float:
    """Two-sided 5% z-test on the mean pass@1 difference, with the true variance of the
    per-problem differences: r^2 Var(p) + (E[p_A(1-p_A)] + E[p_B(1-p_B)]) / n."""
    mean = alpha / (alpha + beta)
    r = gap / (1 - mean)
    second = mean * (alpha + 1) / (alpha + beta + 1)
    noise_a = mean - second
    noise_b = (1 - r) * (r * (1 - mean) + (1 - r) * noise_a)
    variance = r * r * (second - mean**2) + (noise_a + noise_b) / n
    z = gap * math.sqrt(problems / variance)
    normal = NormalDist()
    return normal.cdf(z - 1.959964) + normal.cdf(-z - 1.959964)


def table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicates", type=int, default=2000)
    parser.add_argument("--problems", type=int, default=164)
    parser.add_argument("--n", type=int, default=20, help="samples per problem (pass@1, @10)")
    parser.add_argument("--n-large", type=int, default=200, help="samples per problem (pass@100)")
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--beta", type=float, default=0.7)
    parser.add_argument("--level", type=float, default=0.95)
    parser.add_argument("--resamples", type=int, default=2000,
                        help="bootstrap resamples per interval, sign flips per paired test")
    parser.add_argument("--methods", default=",".join(INTERVAL_METHODS),
                        help="interval methods, the first one detailed (default: logit)")
    parser.add_argument("--gaps", default="0.02,0.03,0.05")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.methods = args.methods.split(",")
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    a, b, m, n, reps = args.alpha, args.beta, args.problems, args.n, args.replicates

    print(f"{reps} replicates, {m} problems, p ~ Beta({a}, {b}), seed {args.seed}, "
          f"{args.level:.0%} intervals\n")
    rows = []
    p = rng.beta(a, b, size=(reps, m))
    c = rng.binomial(n, p)
    for k in (1, 10):
        if k <= n:
            values = per_problem(c, n, k)
            rows.append(coverage_row(f"pass@{k} (n={n})", list(values), beta_pass_at_k(a, b, k),
                                     (1 - (1 - p) ** k).mean(axis=1), args))
    if args.n_large >= 100:
        p_large = rng.beta(a, b, size=(reps, m))
        values = per_problem(rng.binomial(args.n_large, p_large), args.n_large, 100)
        rows.append(coverage_row(f"pass@100 (n={args.n_large})", list(values),
                                 beta_pass_at_k(a, b, 100), (1 - (1 - p_large) ** 100).mean(axis=1),
                                 args))
    # fraction correct: uneven sample counts (n/4 .. 2n), independent of p; truth E[p]
    counts = rng.integers(max(1, n // 4), 2 * n + 1, size=(reps, m))
    p_frac = rng.beta(a, b, size=(reps, m))
    correct = rng.binomial(counts, p_frac)
    fixed = (counts * p_frac).sum(axis=1) / counts.sum(axis=1)
    rows.append(coverage_row("fraction correct (n uneven)", list(zip(correct, counts, strict=True)),
                             a / (a + b), fixed, args))
    table(["metric", "truth", *(f"cover ({x})" for x in args.methods),
           f"truth below / above ({args.methods[0]})", f"cover fixed ({args.methods[0]})",
           f"width ({args.methods[0]})"], rows)

    paired_rows = []
    for k in (1, 10):
        if k > n:
            continue
        p = rng.beta(a, b, size=(reps, m))
        first = per_problem(rng.binomial(n, p), n, k)
        second = per_problem(rng.binomial(n, p), n, k)
        for method in ("sign-flip", "bootstrap"):
            results = [paired_difference(x, y, args.level, method, args.resamples, seed=i)
                       for i, (x, y) in enumerate(zip(first, second, strict=True))]
            paired_rows.append([f"same model, pass@{k}", method, "0",
                                f"{np.mean([r.p_value < 0.05 for r in results]):.3f}", "",
                                f"{np.mean([r.low <= 0 <= r.high for r in results]):.3f}"])
    for gap in (float(g) for g in args.gaps.split(",")):
        r = gap / (1 - a / (a + b))
        p = rng.beta(a, b, size=(reps, m))
        base = per_problem(rng.binomial(n, p), n, 1)
        better = per_problem(rng.binomial(n, r + (1 - r) * p), n, 1)
        for method in ("sign-flip", "bootstrap"):
            results = [paired_difference(y, x, args.level, method, args.resamples, seed=i)
                       for i, (x, y) in enumerate(zip(base, better, strict=True))]
            paired_rows.append([f"pass@1 gap {gap:.2f}", method, f"{gap:.2f}",
                                f"{np.mean([res.p_value < 0.05 for res in results]):.3f}",
                                f"{z_test_power(gap, a, b, m, n):.3f}",
                                f"{np.mean([res.low <= gap <= res.high for res in results]):.3f}"])
    table(["runs compared", "test", "true gap", "share p < 0.05", "z-test oracle",
           "interval covers gap"], paired_rows)
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
