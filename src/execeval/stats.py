"""Uncertainty for execeval's metrics: intervals over problems and paired comparisons.

A benchmark is a sample of problems, and the samples a model writes for one problem are
nested inside that problem. Every interval and test here therefore resamples *problems*:
the per-problem estimates (unbiased pass@k, a problem's share of passing samples, APPS's
per-problem test-case share) are independent across problems, and their spread already
holds the within-problem sampling noise. With few problems, or a mean near 0 or 1, that
spread is too unreliable for a central-limit interval, and the default ("auto") switches
to Clopper-Pearson on the effective number of trials. `paired_power` says, before a run,
how likely the paired test is to find a given gap. docs/statistics.md gives the reasoning
and the figures that benchmarks/calibration.py measured.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

IntervalMethod = Literal["auto", "kg", "logit", "t", "bootstrap", "bca"]
PairedMethod = Literal["sign-flip", "bootstrap"]
INTERVAL_METHODS: tuple[IntervalMethod, ...] = ("auto", "kg", "logit", "t", "bootstrap", "bca")

# "auto" takes the logit interval only where the central limit theorem has enough to work
# with: this many problems, and this many effective successes and as many failures
# (effective trials x mean, and x (1 - mean)); elsewhere "kg" (docs/statistics.md)
CLT_MIN_PROBLEMS = 20
CLT_MIN_COUNT = 10

# sign-flip p-values are enumerated exactly up to this many non-zero differences (2**20
# sums, about 8 MB), and estimated from random sign patterns above it
EXACT_SIGN_FLIP_MAX = 20
# resampling works in blocks of at most this many drawn indices, so 5,000 APPS problems
# with 10,000 resamples do not build a 400 MB index array at once
_BLOCK = 1 << 21


@dataclass(frozen=True)
class Interval:
    """An estimate with a two-sided confidence interval (`se`: its standard error)."""

    estimate: float
    low: float
    high: float
    se: float
    level: float
    method: str

    def as_list(self) -> list[float]:
        return [self.low, self.high]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PairedResult:
    """Run A minus run B on the same problems: mean difference, its interval, p-value."""

    difference: float
    low: float
    high: float
    p_value: float
    n_problems: int
    a_better: int
    b_better: int
    tied: int
    method: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- pass@k, vectorised ---------------------------------------------------------------

def pass_at_k_matrix(n: npt.ArrayLike, c: npt.ArrayLike, ks: int | Iterable[int]) -> np.ndarray:
    """Unbiased pass@k for every problem (rows) and every k (columns).

    The same running product as metrics.pass_at_k, 1 - prod_{j=n-c+1}^{n} (1 - k/j), done
    for all problems at once so that simulations and bootstraps need no Python loop.
    `n` may be one number for all problems.
    """
    n_arr, c_arr = np.broadcast_arrays(np.asarray(n), np.asarray(c))
    k_list = [ks] if isinstance(ks, (int, np.integer)) else list(ks)
    if n_arr.ndim != 1:
        raise ValueError("n and c must be one-dimensional (one entry per problem)")
    for name, arr in (("n", n_arr), ("c", c_arr)):
        whole = np.issubdtype(arr.dtype, np.integer) or np.all(arr == np.round(arr))
        if not whole:
            raise ValueError(f"{name} must hold whole numbers")
    n_arr, c_arr = n_arr.astype(np.int64), c_arr.astype(np.int64)
    if np.any(c_arr < 0) or np.any(c_arr > n_arr):
        raise ValueError("pass@k needs 0 <= c <= n for every problem")
    if any(int(k) != k or k < 1 for k in k_list):
        raise ValueError(f"every k must be a whole number >= 1 (got {k_list})")
    if n_arr.size and max(k_list, default=1) > n_arr.min():
        raise ValueError(f"k={max(k_list)} exceeds the smallest sample count n={n_arr.min()}")
    out = np.empty((n_arr.size, len(k_list)))
    width = int(c_arr.max()) if c_arr.size else 0
    rows = max(1, _BLOCK // max(width, 1))
    offsets = np.arange(width)
    for start in range(0, n_arr.size, rows):
        n_block, c_block = n_arr[start:start + rows], c_arr[start:start + rows]
        denom = (n_block - c_block + 1)[:, None] + offsets[None, :]  # n-c+1, ..., n (then past n)
        used = offsets[None, :] < c_block[:, None]
        for j, k in enumerate(k_list):
            terms = np.where(used, 1.0 - k / denom, 1.0)
            out[start:start + rows, j] = np.where(n_block - c_block < k, 1.0,
                                                  1.0 - terms.prod(axis=1))
    return out


def beta_pass_at_k(alpha: float, beta: float, k: int) -> float:
    """Population pass@k when problems' success rates p follow Beta(alpha, beta).

    E[1 - (1-p)^k] = 1 - B(alpha, beta+k) / B(alpha, beta): the truth that the calibration
    tests and benchmarks/calibration.py check the intervals against.
    """
    return 1.0 - math.prod((beta + j) / (alpha + beta + j) for j in range(k))


# --- intervals for a mean (or ratio) over problems ------------------------------------

def ci_mean(values_per_problem: npt.ArrayLike, level: float = 0.95,
            method: IntervalMethod = "auto", *, n_resamples: int = 10_000, seed: int = 0,
            bounds: tuple[float, float] | None = (0.0, 1.0)) -> Interval:
    """Interval for the mean over problems of a per-problem value (pass@k, strict accuracy).

    Problems are the unit: the interval is for the population of problems the benchmark
    was drawn from. "auto" (default): "logit" where the central limit theorem holds (at
    least CLT_MIN_PROBLEMS problems and CLT_MIN_COUNT effective successes and failures),
    "kg" elsewhere. "kg": Clopper-Pearson on the effective number of trials (Korn and
    Graubard 1998), which holds with few problems and near the bounds, where the spread
    of a few values is no guide. "logit": the t interval built on the logit scale of
    `bounds` and mapped back. "t": mean +- t_{m-1} sd / sqrt(m). "bootstrap": percentile
    bootstrap over problems; "bca": bias-corrected and accelerated bootstrap. One problem
    gives the whole of `bounds`. Identical values give a zero-width interval for the last
    four; "auto" and "kg" then count each problem as one trial, since no spread was seen.
    Given the (n, c) counts, ci_pass_at_k also knows the noise within each problem.
    """
    y = _values(values_per_problem, "values_per_problem", bounds)
    return _ratio_interval(y, np.ones_like(y), level, method, n_resamples, seed, bounds)


def ci_pass_at_k(n: npt.ArrayLike, c: npt.ArrayLike, k: int, level: float = 0.95,
                 method: IntervalMethod = "auto", *, n_resamples: int = 10_000,
                 seed: int = 0) -> Interval:
    """Interval for the mean over problems of unbiased pass@k, from each problem's (n, c).

    The estimate is exactly metrics.mean_pass_at_k's. Knowing the counts, "auto" and "kg"
    also know the sampling noise within each problem: the spread between problems is never
    taken to be smaller than that noise (four problems with one right sample of two are not
    the point [0.5, 0.5]), and the effective number of trials never exceeds sum(n) / k.
    """
    y = pass_at_k_matrix(n, c, [k])[:, 0]
    if y.size == 0:
        raise ValueError("no problems")
    n_arr, c_arr = (a.astype(np.int64) for a in np.broadcast_arrays(np.asarray(n), np.asarray(c)))
    return _ratio_interval(y, np.ones_like(y), level, method, n_resamples, seed, (0.0, 1.0),
                           noise=_pass_at_k_noise(n_arr, c_arr, k),
                           trials=float(n_arr.sum()) / k)


def ci_ratio(numerators: npt.ArrayLike, denominators: npt.ArrayLike, level: float = 0.95,
             method: IntervalMethod = "auto", *, n_resamples: int = 10_000, seed: int = 0,
             bounds: tuple[float, float] | None = (0.0, 1.0)) -> Interval:
    """Interval for sum(numerators) / sum(denominators), resampling problems.

    This is execeval's fraction_correct (total correct / total samples): pooled over
    samples, but the samples of a problem are not independent of each other, so the
    ratio's uncertainty comes from which problems were drawn. "auto", "kg", "logit" and
    "t" use the linearised (delta-method) standard error of a ratio estimator. "auto" and
    "kg" read the numerators as successes out of the denominators' trials, whose binomial
    noise bounds the spread from below; with equal denominators the interval is exactly
    ci_pass_at_k's for k = 1 (ci_mean's of the shares, for the other methods).
    """
    y = _values(numerators, "numerators", None)
    x = _values(denominators, "denominators", None)
    if y.shape != x.shape:
        raise ValueError(f"{y.size} numerators but {x.size} denominators")
    if np.any(x <= 0):
        raise ValueError("every denominator must be positive")
    if method not in ("auto", "kg"):
        return _ratio_interval(y, x, level, method, n_resamples, seed, bounds)
    if np.any(y < 0) or np.any(y > x):
        raise ValueError(f"method {method!r} needs 0 <= numerator <= denominator "
                         "(successes out of trials)")
    noise = np.zeros(x.size)  # Var(c | p) = n p (1-p), unbiasedly c (n-c) / (n-1)
    several = x > 1
    noise[several] = y[several] * (x[several] - y[several]) / (x[several] - 1)
    return _ratio_interval(y, x, level, method, n_resamples, seed, bounds,
                           noise=noise / x.mean() ** 2, trials=float(x.sum()))


def summary_intervals(counts: Sequence[tuple[int, int]], ks: Iterable[int], level: float = 0.95,
                      method: IntervalMethod = "auto", *, n_resamples: int = 10_000,
                      seed: int = 0) -> dict[str, Any]:
    """Intervals for the summary's pass@k (each k <= the smallest n) and fraction correct.

    `counts` is one (n, c) per problem, as metrics.mean_pass_at_k takes it; the estimates
    equal what the summary reports. Keys of "pass_at_k" are str(k), as in the summary.
    """
    if not counts:
        raise ValueError("no problems")
    n = np.array([nc[0] for nc in counts])
    c = np.array([nc[1] for nc in counts])
    usable = sorted(k for k in set(ks) if k <= n.min())
    options: dict[str, Any] = {"n_resamples": n_resamples, "seed": seed}
    return {
        "level": level,
        "method": method,
        "n_problems": len(counts),
        "pass_at_k": {str(k): ci_pass_at_k(n, c, k, level, method, **options) for k in usable},
        "fraction_correct": ci_ratio(c, n, level, method, **options),
    }


def per_problem_intervals(metrics: Mapping[str, npt.ArrayLike], level: float = 0.95,
                          method: IntervalMethod = "auto", *, n_resamples: int = 10_000,
                          seed: int = 0) -> dict[str, Interval]:
    """ci_mean for each named per-problem metric, e.g. APPS's strict accuracy and test-case
    average (each a mean over problems of one value per problem)."""
    return {name: ci_mean(values, level, method, n_resamples=n_resamples, seed=seed)
            for name, values in metrics.items()}


# --- paired comparison of two runs ----------------------------------------------------

def paired_difference(a: npt.ArrayLike, b: npt.ArrayLike, level: float = 0.95,
                      method: PairedMethod = "sign-flip", n_resamples: int = 10_000,
                      seed: int = 0) -> PairedResult:
    """Compare runs A and B on the same problems (a[i], b[i]: problem i's values).

    Pairing removes the between-problem spread (easy problems are easy for both), which
    is most of the variance. "sign-flip" (default): p-value from the sign-flip
    permutation test of the per-problem differences (exact when at most 20 are non-zero,
    else Monte Carlo with the +1 correction), interval from t on the differences.
    "bootstrap": paired percentile bootstrap interval and the centred bootstrap test,
    which is anti-conservative with few problems.
    """
    values_a, values_b = _values(a, "a", (0.0, 1.0)), _values(b, "b", (0.0, 1.0))
    if values_a.shape != values_b.shape:
        raise ValueError(f"a has {values_a.size} problems but b has {values_b.size}: "
                         "align them by problem")
    if method not in ("sign-flip", "bootstrap"):
        raise ValueError(f"unknown method {method!r}: 'sign-flip' or 'bootstrap'")
    _check_level(level)
    if n_resamples < 1:
        raise ValueError("n_resamples must be >= 1")
    d = values_a - values_b
    rng = np.random.default_rng(seed)
    ones = np.ones_like(d)
    if method == "sign-flip":
        interval = _ratio_interval(d, ones, level, "t", n_resamples, seed, (-1.0, 1.0))
        p_value = _sign_flip_p(d, n_resamples, rng)
    else:
        means = _resampled_ratios(d, ones, n_resamples, rng)
        interval = _ratio_interval(d, ones, level, "bootstrap", n_resamples, seed, (-1.0, 1.0),
                                   resampled=means)
        p_value = _bootstrap_p(d, means)
    return PairedResult(difference=interval.estimate, low=interval.low, high=interval.high,
                        p_value=p_value, n_problems=int(d.size), a_better=int(np.sum(d > 0)),
                        b_better=int(np.sum(d < 0)), tied=int(np.sum(d == 0)), method=method)


# --- power of a paired comparison, before the runs -----------------------------------

@dataclass(frozen=True)
class Power:
    """The chance that the paired sign-flip test (`execeval compare`) finds a pass@1 gap,
    and the problems (at `n` samples) or samples (on `problems`) that `target` needs;
    `samples_needed` is None when no number of samples reaches it on that many problems.
    `sd_difference`: the standard deviation of one problem's difference under the model."""

    power: float
    problems: int
    n: int
    difference: float
    pass_rate: float
    concentration: float
    alpha: float
    target: float
    sd_difference: float
    problems_needed: int
    samples_needed: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# the most samples per problem samples_needed tries before saying that none suffice
_MOST_SAMPLES = 1 << 20


def paired_power(problems: int, n: int, difference: float, *, pass_rate: float = 0.5,
                 concentration: float = 1.0, alpha: float = 0.05,
                 target: float = 0.8) -> Power:
    """How likely a paired comparison of two runs on `problems` problems, `n` samples each,
    is to find run A's pass@1 `difference` above run B's (p < `alpha`, two-sided).

    The planted model of docs/statistics.md: run B's per-problem success rates p follow
    Beta(pass_rate c, (1 - pass_rate) c), c the concentration (1: U-shaped, many problems
    nearly always or nearly never solved), and run A makes every problem a little easier,
    p_A = r + (1 - r) p with r = difference / (1 - pass_rate). A per-problem difference
    then has variance r^2 Var(p) + (E[p_A (1-p_A)] + E[p (1-p)]) / n, and the sign-flip
    test is taken as the paired t-test with a continuity correction (the sum of the
    differences moves in steps of 2/n); below 6 problems it can never reach p < 0.05.
    benchmarks/calibration.py checks it against simulated comparisons.
    """
    if isinstance(problems, bool) or not isinstance(problems, int) or problems < 1:
        raise ValueError(f"problems must be a whole number >= 1 (got {problems!r})")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n (samples per problem) must be a whole number >= 1 (got {n!r})")
    if not 0.0 < pass_rate < 1.0:
        raise ValueError(f"pass rate must be strictly between 0 and 1 (got {pass_rate})")
    if not 0.0 < difference <= 1.0 - pass_rate:
        raise ValueError(f"difference must be above 0 and at most 1 - pass rate = "
                         f"{1.0 - pass_rate:g} (got {difference})")
    if not 0.0 < concentration < math.inf:
        raise ValueError(f"concentration must be a positive number (got {concentration})")
    for name, value in (("alpha", alpha), ("target", target)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"{name} must be strictly between 0 and 1 (got {value})")

    def chance(m: int, samples: float) -> float:
        return _paired_power(m, samples, difference, pass_rate, concentration, alpha)

    enough_samples = (chance(problems, math.inf) >= target
                      and chance(problems, _MOST_SAMPLES) >= target)
    return Power(power=chance(problems, n), problems=problems, n=n, difference=difference,
                 pass_rate=pass_rate, concentration=concentration, alpha=alpha, target=target,
                 sd_difference=_sd_difference(n, difference, pass_rate, concentration),
                 problems_needed=_smallest(lambda m: chance(m, n) >= target),
                 samples_needed=(_smallest(lambda s: chance(problems, s) >= target)
                                 if enough_samples else None))


def _paired_power(m: int, n: float, difference: float, pass_rate: float,
                  concentration: float, alpha: float) -> float:
    """paired_power's figure: P(|sum of d| beyond t_{m-1} sd sqrt(m) plus half a step)."""
    if 2.0 ** (1 - m) >= alpha:  # the sign-flip test's smallest p-value, all signs alike
        return 0.0
    spread = _sd_difference(n, difference, pass_rate, concentration) * math.sqrt(m)
    threshold = _t_quantile(1.0 - alpha / 2.0, m - 1) * spread + 1.0 / n
    normal = NormalDist()
    return (normal.cdf((m * difference - threshold) / spread)
            + normal.cdf((-m * difference - threshold) / spread))


def _sd_difference(n: float, difference: float, pass_rate: float,
                   concentration: float) -> float:
    """Standard deviation of d = (A's share) - (B's share) of one problem's n samples."""
    lift = difference / (1.0 - pass_rate)
    between = pass_rate * (1.0 - pass_rate) / (concentration + 1.0)  # Var(p)
    noise_b = pass_rate * (1.0 - pass_rate) - between  # E[p (1-p)]
    noise_a = (1.0 - lift) * (lift * (1.0 - pass_rate) + (1.0 - lift) * noise_b)
    return math.sqrt(lift**2 * between + (noise_a + noise_b) / n)


def _smallest(enough: Callable[[int], bool]) -> int:
    """The smallest whole number >= 1 for which `enough` (false, then true for good) holds."""
    high = 1
    while not enough(high):
        high *= 2
    low = high // 2  # not enough (or 0)
    while high - low > 1:
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle
    return high


# --- internals ------------------------------------------------------------------------

def _values(values: npt.ArrayLike, name: str, bounds: tuple[float, float] | None) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty one-dimensional array (one per problem)")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values")
    if bounds is not None and (arr.min() < bounds[0] or arr.max() > bounds[1]):
        raise ValueError(f"{name} must lie within {list(bounds)}")
    return arr


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1 (got {level})")


def _ratio_interval(y: np.ndarray, x: np.ndarray, level: float, method: str, n_resamples: int,
                    seed: int, bounds: tuple[float, float] | None, *,
                    resampled: np.ndarray | None = None, noise: np.ndarray | None = None,
                    trials: float = math.inf) -> Interval:
    """sum(y)/sum(x) with an interval from resampling rows; x = 1 gives the plain mean.
    `resampled`: bootstrap replicates already drawn (the paired test reuses them). For
    "auto" and "kg": `noise`, each row's unbiased estimate of its residual's variance
    within its problem (sampling noise), and `trials`, the most independent pass/fail
    trials the rows can be worth."""
    _check_level(level)
    if method not in INTERVAL_METHODS:
        raise ValueError(f"unknown method {method!r}: one of "
                         + ", ".join(repr(name) for name in INTERVAL_METHODS))
    if method in ("bootstrap", "bca") and n_resamples < 1:
        raise ValueError("n_resamples must be >= 1")
    lo_bound, hi_bound = bounds if bounds is not None else (-math.inf, math.inf)
    if method in ("auto", "kg", "logit") and not (math.isfinite(lo_bound)
                                                  and math.isfinite(hi_bound)
                                                  and lo_bound < hi_bound):
        raise ValueError(f"the {method} interval needs finite bounds (low < high)")
    m = y.size
    estimate = float(y.sum() / x.sum())
    if m == 1:  # nothing is known about the spread between problems
        return Interval(estimate, lo_bound, hi_bound, math.nan, level, method)
    residuals = (y - estimate * x) / x.mean()  # the linearised ratio; y - mean for x = 1
    flat = bool(np.all(np.abs(residuals) <= 1e-12 * max(1.0, abs(estimate))))
    if method in ("auto", "kg"):
        floor = 0.0 if noise is None else max(0.0, float(noise.mean()))
        return _effective_interval(estimate, np.zeros(m) if flat else residuals, floor, level,
                                   method, (lo_bound, hi_bound), max(trials, m))
    if flat:
        return Interval(estimate, estimate, estimate, 0.0, level, method)
    if method in ("t", "logit"):
        std_error = float(residuals.std(ddof=1) / math.sqrt(m))
        low, high = _t_bounds(estimate, std_error, level, m, (lo_bound, hi_bound),
                              logit=method == "logit")
    else:
        stats = (_resampled_ratios(y, x, n_resamples, np.random.default_rng(seed))
                 if resampled is None else resampled)
        std_error = float(stats.std(ddof=1)) if n_resamples > 1 else math.nan
        tail = (1.0 - level) / 2.0
        if method == "bca":
            quantiles = _bca_quantiles(y, x, estimate, stats, tail)
        else:
            quantiles = (tail, 1.0 - tail)
        low, high = (float(q) for q in np.quantile(stats, quantiles))
    return _clamped(estimate, low, high, std_error, level, method, (lo_bound, hi_bound))


def _clamped(estimate: float, low: float, high: float, std_error: float, level: float,
             method: str, bounds: tuple[float, float]) -> Interval:
    """The interval cut to the bounds, never excluding its own estimate."""
    return Interval(estimate, float(min(max(low, bounds[0]), estimate)),
                    float(max(min(high, bounds[1]), estimate)), std_error, level, method)


def _t_bounds(estimate: float, std_error: float, level: float, m: int,
              bounds: tuple[float, float], *, logit: bool) -> tuple[float, float]:
    """t_{m-1} standard errors either side: of the estimate, or (`logit`) of its logit
    within the bounds, mapped back, so that it leans away from the nearer bound."""
    half = _t_quantile((1.0 + level) / 2.0, m - 1) * std_error
    low, high = estimate - half, estimate + half
    span = bounds[1] - bounds[0]
    share = (estimate - bounds[0]) / span if logit else math.nan
    if 0.0 < share < 1.0:
        # delta method on logit(share): its standard error is se / (span share (1-share))
        centre = math.log(share / (1.0 - share))
        reach = half / (span * share * (1.0 - share))
        low = bounds[0] + span * _expit(centre - reach)
        high = bounds[0] + span * _expit(centre + reach)
    return low, high


def _effective_interval(estimate: float, residuals: np.ndarray, floor: float, level: float,
                        method: str, bounds: tuple[float, float], trials: float) -> Interval:
    """"auto" and "kg". The variance of a problem's value is the larger of the residuals'
    (sample variance) and `floor` (the mean noise within problems: the spread between
    problems holds at least that). "auto" keeps the logit interval where the effective
    counts are large enough for the central limit theorem; otherwise Clopper-Pearson on
    the effective number of trials, which is what carries the interval near the bounds."""
    m = residuals.size
    squares = residuals ** 2
    variance = max(float(squares.sum()) / (m - 1), floor)
    std_error = math.sqrt(variance / m)
    span = bounds[1] - bounds[0]
    share = (estimate - bounds[0]) / span
    count = _effective_trials(share, variance / span**2, squares, level, trials)
    if (method == "auto" and m >= CLT_MIN_PROBLEMS
            and min(share, 1.0 - share) * count >= CLT_MIN_COUNT):
        low, high = _t_bounds(estimate, std_error, level, m, bounds, logit=True)
        return _clamped(estimate, low, high, std_error, level, "logit", bounds)
    low, high = _clopper_pearson(share * count, count, level)
    return _clamped(estimate, bounds[0] + span * low, bounds[0] + span * high, std_error,
                    level, "kg", bounds)


def _effective_trials(share: float, variance: float, squares: np.ndarray, level: float,
                      trials: float) -> float:
    """How many independent pass/fail trials the problems are worth (Korn and Graubard
    1998): share (1-share) / variance of the mean, shrunk by (z / t_df)^2 for the
    uncertainty of the variance, then kept within [m, trials]. A [0, 1] value varies at
    most as a pass/fail trial does, so the problems are worth at least m; no spread at all
    (every problem alike, or all at a bound) leaves only that worst case.

    df, the degrees of freedom of the variance, is the least of m - 1, its Satterthwaite
    value for the residuals' kurtosis, 2m / (kurtosis - 1), and the effective successes
    and failures before the shrinking. Near a bound the spread is seen only through the
    few problems that leave it: one problem solved once in twenty says little about how
    often the unseen problems are solved, and the interval must not narrow on it."""
    m = squares.size
    if variance <= 0.0 or not 0.0 < share < 1.0:
        return float(m)
    raw = share * (1.0 - share) / (variance / m)
    total = float(squares.sum())
    kurtosis = m * float(np.sum(squares**2)) / total**2 if total > 0.0 else math.nan
    freedom = min(float(m - 1), max(1.0, raw * min(share, 1.0 - share)))
    if kurtosis > 1.0:  # NaN (no residuals: the floor alone) adds no bound
        freedom = min(freedom, max(1.0, 2.0 * m / (kurtosis - 1.0)))
    q = (1.0 + level) / 2.0
    shrink = (NormalDist().inv_cdf(q) / _t_quantile(q, freedom)) ** 2
    return min(max(raw * shrink, float(m)), trials)


def _clopper_pearson(successes: float, trials: float, level: float) -> tuple[float, float]:
    """The Clopper-Pearson interval on the [0, 1] scale; `successes` need not be whole."""
    tail = (1.0 - level) / 2.0
    low = 0.0 if successes <= 0.0 else _beta_quantile(tail, successes, trials - successes + 1.0)
    high = (1.0 if successes >= trials
            else _beta_quantile(1.0 - tail, successes + 1.0, trials - successes))
    return low, high


def _pass_at_k_noise(n: np.ndarray, c: np.ndarray, k: int) -> np.ndarray:
    """Each problem's unbiased estimate of Var(Y | p), Y its unbiased pass@k: with q = 1-p,
    Y^2 estimates E[Y^2 | p] and 1 - 2 q^k + q^(2k) = g(p)^2 has the unbiased estimate
    1 - 2 (1-Y) + est(q^(2k)), so the difference is (1-Y)^2 - est(q^(2k)). est(q^(2k)) is
    1 - unbiased pass@(2k), which needs 2k <= n; a problem with fewer samples gives 0."""
    out = np.zeros(n.size)
    fits = 2 * k <= n
    if np.any(fits):
        missed = 1.0 - pass_at_k_matrix(n[fits], c[fits], [k, 2 * k])
        out[fits] = missed[:, 0] ** 2 - missed[:, 1]
    return out


def _bca_quantiles(y: np.ndarray, x: np.ndarray, estimate: float, stats: np.ndarray,
                   tail: float) -> tuple[float, float]:
    """Efron's BCa: shift the percentiles for the bootstrap's bias (z0) and for skewness
    (acceleration from the jackknife)."""
    normal = NormalDist()
    tied = np.abs(stats - estimate) <= 1e-12 * max(1.0, abs(estimate))  # rounding-proof
    below = (np.sum((stats < estimate) & ~tied) + 0.5 * np.sum(tied)) / stats.size
    bias = normal.inv_cdf(min(max(float(below), 1e-6), 1 - 1e-6))
    jack = (y.sum() - y) / (x.sum() - x)
    spread = jack.mean() - jack
    denom = 6.0 * float(np.sum(spread**2)) ** 1.5
    accel = float(np.sum(spread**3)) / denom if denom > 0 else 0.0
    out = []
    for z in (normal.inv_cdf(tail), normal.inv_cdf(1.0 - tail)):
        shifted = bias + (bias + z) / (1.0 - accel * (bias + z))
        out.append(normal.cdf(shifted))
    return out[0], out[1]


def _resampled_ratios(y: np.ndarray, x: np.ndarray, n_resamples: int,
                      rng: np.random.Generator) -> np.ndarray:
    """sum(y*)/sum(x*) for `n_resamples` resamples of the problems, drawn in blocks."""
    m = y.size
    out = np.empty(n_resamples)
    unit = bool(np.all(x == 1.0))
    block = max(1, _BLOCK // m)
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        idx = rng.integers(0, m, size=(size, m))
        num = y[idx].sum(axis=1)
        out[start:start + size] = num / m if unit else num / x[idx].sum(axis=1)
    return out


def _sign_flip_p(d: np.ndarray, n_resamples: int, rng: np.random.Generator) -> float:
    """Two-sided p-value of sum(d) under random signs: exact, or Monte Carlo with +1."""
    nonzero = d[d != 0]
    if nonzero.size == 0:
        return 1.0
    observed = abs(float(nonzero.sum()))
    cutoff = observed - 1e-9 * float(np.abs(nonzero).sum())  # sums equal up to rounding tie
    if nonzero.size <= EXACT_SIGN_FLIP_MAX:
        sums = np.zeros(1)
        for value in nonzero:
            sums = np.concatenate((sums + value, sums - value))
        return float(np.mean(np.abs(sums) >= cutoff))
    hits = 0
    block = max(1, _BLOCK // nonzero.size)
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        flips = rng.integers(0, 2, size=(size, nonzero.size), dtype=np.int8)
        sums = nonzero.sum() - 2.0 * (flips @ nonzero)  # a flipped entry counts -value
        hits += int(np.sum(np.abs(sums) >= cutoff))
    return (hits + 1) / (n_resamples + 1)


def _bootstrap_p(d: np.ndarray, means: np.ndarray) -> float:
    """Centred paired bootstrap test: how often a resampled mean strays from the observed
    mean by at least the observed distance from zero."""
    mean = float(d.mean())
    if d.size == 1 or mean == 0.0:
        return 1.0
    cutoff = abs(mean) * (1 - 1e-12)
    return (int(np.sum(np.abs(means - mean) >= cutoff)) + 1) / (means.size + 1)


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


@lru_cache(maxsize=256)
def _t_quantile(q: float, df: float) -> float:
    """Student t quantile for q in (0.5, 1) (no scipy): P(|T| > t) = I_x(df/2, 1/2) with
    x = df / (df + t^2), so t comes from the beta quantile x of 2 (1 - q)."""
    x = _beta_quantile(2.0 * (1.0 - q), df / 2.0, 0.5)
    return math.sqrt(df * (1.0 - x) / x)


def _beta_quantile(q: float, a: float, b: float) -> float:
    """x with I_x(a, b) = q, for 0 < q < 1: Newton's steps on the exact CDF, each kept
    inside the bracket the signs seen so far leave (halving it when a step would not)."""
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    low, high = 0.0, 1.0
    x = a / (a + b)
    if not 0.0 < x < 1.0:  # a or b below rounding of the other
        x = 0.5
    for _ in range(400):
        gap = _betainc(a, b, x) - q
        if gap == 0.0:
            return x
        if gap > 0.0:
            high = x
        else:
            low = x
        density = math.exp(min(log_norm + (a - 1.0) * math.log(x)
                                + (b - 1.0) * math.log1p(-x), 700.0))
        step = x - gap / density if density > 0.0 else x
        following = step if low < step < high else 0.5 * (low + high)
        # converged relative to the distance from the nearer end (near 1 the CDF is steep)
        if (abs(following - x) <= 1e-15 * min(x, 1.0 - x)
                or high - low <= 2.0 * math.ulp(high)):
            return following
        x = following
    return x


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b) by its continued fraction (modified Lentz)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300

    def guard(v: float) -> float:
        return tiny if abs(v) < tiny else v

    c, d = 1.0, 1.0 / guard(1.0 - (a + b) * x / (a + 1.0))
    h = d
    for i in range(1, 500):
        even = i * (b - i) * x / ((a + 2 * i - 1) * (a + 2 * i))
        d = 1.0 / guard(1.0 + even * d)
        c = guard(1.0 + even / c)
        h *= d * c
        odd = -(a + i) * (a + b + i) * x / ((a + 2 * i) * (a + 2 * i + 1))
        d = 1.0 / guard(1.0 + odd * d)
        c = guard(1.0 + odd / c)
        step = d * c
        h *= step
        if abs(step - 1.0) < 1e-16:
            break
    return h
