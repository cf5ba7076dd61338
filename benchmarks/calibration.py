"""Are execeval's confidence intervals, paired test and power calculation calibrated?

Measured by simulation; the tables go into docs/statistics.md.

Coverage: each replicate is a benchmark of m problems (each of --problems) drawn afresh
from a population whose success rates p follow Beta(mean k, (1 - mean) k), k being
--concentration, for each mean of --means; a model writes n samples per problem, each
correct with its problem's p. The truth an interval must cover is the population's
pass@k, E[1 - (1-p)^k] (docs/statistics.md says why); "cover fixed" checks the first
method's intervals against the drawn benchmark's own mean 1 - (1-p_i)^k instead. With one
sample per problem the number solved is exactly Binomial(m, mean), so "exact" is the
first method's coverage summed over every outcome rather than simulated.

Paired: two runs on the same --paired-problems problems of the Beta(--alpha, --beta)
population: two independent sample sets of one model (every p < 0.05 is a false
positive) and a model whose pass@1 is higher by each --gaps value (p_B = r + (1-r) p),
next to the power of a z-test that knows the true variance.

Power: `execeval power`'s figure (stats.paired_power) against the share of simulated
comparisons of that planted model in which the sign-flip test gives p < 0.05, and the
simulated power at the numbers of problems and samples it says reach 80%.

    .venv/bin/python benchmarks/calibration.py
    .venv/bin/python benchmarks/calibration.py --parts coverage --concentration 5
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from statistics import NormalDist

import numpy as np

from execeval.stats import (
    INTERVAL_METHODS,
    Interval,
    beta_pass_at_k,
    ci_pass_at_k,
    ci_ratio,
    paired_difference,
    paired_power,
    pass_at_k_matrix,
)

# (label, samples per problem, k); n = 0 is the fraction correct with uneven sample counts
METRICS = (("pass@1 (n=1)", 1, 1), ("pass@1 (n=2)", 2, 1), ("pass@1 (n=20)", 20, 1),
           ("pass@10 (n=20)", 20, 10), ("pass@100 (n=200)", 200, 100),
           ("fraction correct (n 5-40)", 0, 1))
# (problems, samples, difference, pass rate, concentration) checked by the power part
POWER_CASES = ((12, 10, 0.2, 0.5, 1.0), (20, 1, 0.2, 0.5, 1.0), (20, 20, 0.1, 0.5, 1.0),
               (50, 5, 0.05, 0.5, 1.0), (50, 20, 0.05, 0.3, 2.0), (164, 1, 0.05, 0.5, 1.0),
               (164, 5, 0.03, 0.5, 1.0), (164, 20, 0.02, 0.417, 1.2),
               (164, 20, 0.03, 0.8, 5.0), (80, 1, 0.15, 0.3, 1.0))


def per_problem(c: np.ndarray, n: int, k: int) -> np.ndarray:
    return pass_at_k_matrix(np.full(c.size, n), c.ravel(), k).reshape(c.shape)


def coverage_row(cells: list[str], truth: float, fixed: np.ndarray,
                 interval: Callable[[int, str], Interval], replicates: int,
                 exact: str, args: argparse.Namespace) -> list[str]:
    """Coverage of each method; for the first, how often the truth lies below / above the
    interval, the share of intervals "auto" drew from "kg", coverage of the drawn
    benchmark's own value, and the mean width (of the first two methods)."""
    cells = [*cells, f"{truth:.4f}"]
    found = {}
    for method in args.methods:
        intervals = [interval(i, method) for i in range(replicates)]
        low = np.array([iv.low for iv in intervals])
        high = np.array([iv.high for iv in intervals])
        kg = np.mean([iv.method == "kg" for iv in intervals])
        found[method] = (low, high, kg)
        cells.append(f"{np.mean((low <= truth) & (truth <= high)):.3f}")
    low, high, kg = found[args.methods[0]]
    cells += [exact, f"{np.mean(low > truth):.3f} / {np.mean(high < truth):.3f}",
              f"{kg:.2f}", f"{np.mean((low <= fixed) & (fixed <= high)):.3f}"]
    cells += [f"{np.mean(found[m][1] - found[m][0]):.3f}" for m in args.methods[:2]]
    return cells


def exact_binary_coverage(m: int, mean: float, method: str) -> float:
    """Coverage with one sample per problem, summed over Binomial(m, mean) outcomes: the
    interval depends only on how many problems were solved."""
    total = 0.0
    for solved in range(m + 1):
        iv = ci_pass_at_k(np.ones(m, dtype=int), (np.arange(m) < solved).astype(int), 1,
                          method=method)
        if iv.low <= mean <= iv.high:
            total += math.comb(m, solved) * mean**solved * (1 - mean) ** (m - solved)
    return total


def coverage(args: argparse.Namespace, rng: np.random.Generator) -> None:
    reps, kappa = args.replicates, args.concentration
    rows = []
    for m in args.problems:
        for mean in args.means:
            a, b = mean * kappa, (1 - mean) * kappa
            for label, n, k in METRICS:
                p = rng.beta(a, b, size=(reps, m))
                truth = beta_pass_at_k(a, b, k)
                fixed = (1 - (1 - p) ** k).mean(axis=1)
                exact = ""
                if n:
                    c = rng.binomial(n, p)
                    counts = np.full(m, n)

                    def interval(i: int, method: str, c: np.ndarray = c, counts: np.ndarray = counts,
                                 k: int = k) -> Interval:
                        return ci_pass_at_k(counts, c[i], k, args.level, method,
                                            n_resamples=args.resamples, seed=i)
                    if n == 1:
                        exact = f"{exact_binary_coverage(m, mean, args.methods[0]):.3f}"
                else:  # uneven sample counts (5 to 40), independent of p: the truth is E[p]
                    counts = rng.integers(5, 41, size=(reps, m))
                    c = rng.binomial(counts, p)
                    fixed = (counts * p).sum(axis=1) / counts.sum(axis=1)

                    def interval(i: int, method: str, c: np.ndarray = c,
                                 counts: np.ndarray = counts) -> Interval:
                        return ci_ratio(c[i], counts[i], args.level, method,
                                        n_resamples=args.resamples, seed=i)
                rows.append(coverage_row([str(m), f"{mean:g}", label], truth, fixed, interval,
                                         reps, exact, args))
    first = args.methods[0]
    table(["problems", "mean p", "metric", "truth", *(f"cover ({x})" for x in args.methods),
           f"exact ({first})", f"truth below / above ({first})", "kg share",
           f"cover fixed ({first})", *(f"width ({x})" for x in args.methods[:2])], rows)


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


def paired(args: argparse.Namespace, rng: np.random.Generator) -> None:
    a, b, m, n, reps = args.alpha, args.beta, args.paired_problems, args.n, args.replicates
    rows = []
    for k in (1, 10):
        p = rng.beta(a, b, size=(reps, m))
        first = per_problem(rng.binomial(n, p), n, k)
        second = per_problem(rng.binomial(n, p), n, k)
        for method in ("sign-flip", "bootstrap"):
            results = [paired_difference(x, y, args.level, method, args.resamples, seed=i)
                       for i, (x, y) in enumerate(zip(first, second, strict=True))]
            rows.append([f"same model, pass@{k}", method, "0",
                         f"{np.mean([r.p_value < 0.05 for r in results]):.3f}", "",
                         f"{np.mean([r.low <= 0 <= r.high for r in results]):.3f}"])
    for gap in args.gaps:
        r = gap / (1 - a / (a + b))
        p = rng.beta(a, b, size=(reps, m))
        base = per_problem(rng.binomial(n, p), n, 1)
        better = per_problem(rng.binomial(n, r + (1 - r) * p), n, 1)
        for method in ("sign-flip", "bootstrap"):
            results = [paired_difference(y, x, args.level, method, args.resamples, seed=i)
                       for i, (x, y) in enumerate(zip(base, better, strict=True))]
            rows.append([f"pass@1 gap {gap:.2f}", method, f"{gap:.2f}",
                         f"{np.mean([res.p_value < 0.05 for res in results]):.3f}",
                         f"{z_test_power(gap, a, b, m, n):.3f}",
                         f"{np.mean([res.low <= gap <= res.high for res in results]):.3f}"])
    print(f"paired: {m} problems, n = {n}, p ~ Beta({a}, {b})\n")
    table(["runs compared", "test", "true gap", "share p < 0.05", "z-test oracle",
           "interval covers gap"], rows)


def simulated_power(problems: int, n: int, difference: float, pass_rate: float,
                    concentration: float, reps: int, rng: np.random.Generator,
                    resamples: int) -> float:
    """Share of simulated comparisons of the planted model with p < 0.05 (sign-flip)."""
    lift = difference / (1 - pass_rate)
    p = rng.beta(pass_rate * concentration, (1 - pass_rate) * concentration,
                 size=(reps, problems))
    better = rng.binomial(n, lift + (1 - lift) * p) / n
    base = rng.binomial(n, p) / n
    return float(np.mean([paired_difference(x, y, n_resamples=resamples, seed=i).p_value < 0.05
                          for i, (x, y) in enumerate(zip(better, base, strict=True))]))


def power(args: argparse.Namespace, rng: np.random.Generator) -> None:
    reps = args.replicates
    rows = []
    for m, n, d, rate, kappa in POWER_CASES:
        analytic = paired_power(m, n, d, pass_rate=rate, concentration=kappa)
        sim = simulated_power(m, n, d, rate, kappa, reps, rng, args.resamples)
        se = math.sqrt(max(sim * (1 - sim), 0.01) / reps)
        rows.append([str(m), str(n), f"{d:g}", f"{rate:g}", f"{kappa:g}",
                     f"{analytic.power:.3f}", f"{sim:.3f} +- {se:.3f}",
                     f"{(analytic.power - sim) / se:+.1f}"])
    table(["problems", "n", "difference", "pass rate", "concentration", "analytic",
           "simulated", "(analytic - simulated) / se"], rows)
    rows = []
    for m, n, d in ((164, 20, 0.03), (50, 10, 0.1), (100, 1, 0.1)):
        found = paired_power(m, n, d)
        rows.append([f"{m} problems, n = {n}, gap {d:g}", f"{found.power:.3f}",
                     f"{found.problems_needed}",
                     f"{simulated_power(found.problems_needed, n, d, 0.5, 1.0, reps, rng, args.resamples):.3f}",
                     str(found.samples_needed),
                     "" if found.samples_needed is None else
                     f"{simulated_power(m, found.samples_needed, d, 0.5, 1.0, reps, rng, args.resamples):.3f}"])
    table(["case (pass rate 0.5, concentration 1)", "power", "problems for 80%",
           "simulated there", "samples for 80%", "simulated there"], rows)


def table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    print(flush=True)


def numbers(convert: Callable[[str], float]) -> Callable[[str], list[float]]:
    return lambda text: [convert(t) for t in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="coverage,paired,power",
                        help="which tables: coverage, paired, power")
    parser.add_argument("--replicates", type=int, default=2000)
    parser.add_argument("--problems", type=numbers(int), default=[4, 20, 50, 164])
    parser.add_argument("--means", type=numbers(float), default=[0.03, 0.5, 0.97])
    parser.add_argument("--concentration", type=float, default=1.0,
                        help="a + b of the Beta population (1: U-shaped, as real models' "
                        "per-problem rates are; larger: problems more alike)")
    parser.add_argument("--methods", default="auto,logit",
                        help=f"interval methods of {', '.join(INTERVAL_METHODS)}, the first "
                        "detailed")
    parser.add_argument("--paired-problems", type=int, default=164)
    parser.add_argument("--n", type=int, default=20, help="samples per problem (paired)")
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--beta", type=float, default=0.7)
    parser.add_argument("--gaps", type=numbers(float), default=[0.02, 0.03, 0.05])
    parser.add_argument("--level", type=float, default=0.95)
    parser.add_argument("--resamples", type=int, default=2000,
                        help="bootstrap resamples per interval, sign flips per paired test")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.methods = args.methods.split(",")
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    print(f"{args.replicates} replicates, seed {args.seed}, {args.level:.0%} intervals, "
          f"concentration {args.concentration:g}\n")
    for part in args.parts.split(","):
        {"coverage": coverage, "paired": paired, "power": power}[part](args, rng)
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
