"""Uncertainty for execeval's metrics: intervals over problems and paired comparisons.

A benchmark is a sample of problems, and the samples a model writes for one problem are
nested inside that problem. Every interval and test here therefore resamples *problems*:
the per-problem estimates (unbiased pass@k, a problem's share of passing samples, APPS's
per-problem test-case share) are independent across problems, and their spread already
holds the within-problem sampling noise. docs/statistics.md gives the reasoning and the
figures that benchmarks/calibration.py measured.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

IntervalMethod = Literal["logit", "t", "bootstrap", "bca"]
PairedMethod = Literal["sign-flip", "bootstrap"]

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
            method: IntervalMethod = "logit", *, n_resamples: int = 10_000, seed: int = 0,
            bounds: tuple[float, float] | None = (0.0, 1.0)) -> Interval:
    """Interval for the mean over problems of a per-problem value (pass@k, strict accuracy).

    Problems are the unit: the interval is for the population of problems the benchmark
    was drawn from. "logit" (default): the t interval built on the logit scale of
    `bounds` and mapped back; it stays inside the bounds and leans away from them, where
    the plain "t" (mean +- t_{m-1} sd / sqrt(m)) undercovers pass@k for large k.
    "bootstrap": percentile bootstrap over problems; "bca": bias-corrected and accelerated
    bootstrap. One problem gives the whole of `bounds`; identical values (every problem
    solved) give a zero-width interval at that value.
    """
    y = _values(values_per_problem, "values_per_problem", bounds)
    return _ratio_interval(y, np.ones_like(y), level, method, n_resamples, seed, bounds)


def ci_ratio(numerators: npt.ArrayLike, denominators: npt.ArrayLike, level: float = 0.95,
             method: IntervalMethod = "logit", *, n_resamples: int = 10_000, seed: int = 0,
             bounds: tuple[float, float] | None = (0.0, 1.0)) -> Interval:
    """Interval for sum(numerators) / sum(denominators), resampling problems.

    This is execeval's fraction_correct (total correct / total samples): pooled over
    samples, but the samples of a problem are not independent of each other, so the
    ratio's uncertainty comes from which problems were drawn. "logit" and "t" use the
    linearised (delta-method) standard error of a ratio estimator; with equal
    denominators the interval is exactly ci_mean's of the per-problem shares.
    """
    y = _values(numerators, "numerators", None)
    x = _values(denominators, "denominators", None)
    if y.shape != x.shape:
        raise ValueError(f"{y.size} numerators but {x.size} denominators")
    if np.any(x <= 0):
        raise ValueError("every denominator must be positive")
    return _ratio_interval(y, x, level, method, n_resamples, seed, bounds)


def summary_intervals(counts: Sequence[tuple[int, int]], ks: Iterable[int], level: float = 0.95,
                      method: IntervalMethod = "logit", *, n_resamples: int = 10_000,
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
    per_problem = pass_at_k_matrix(n, c, usable)
    options: dict[str, Any] = {"n_resamples": n_resamples, "seed": seed}
    return {
        "level": level,
        "method": method,
        "n_problems": len(counts),
        "pass_at_k": {str(k): ci_mean(per_problem[:, j], level, method, **options)
                      for j, k in enumerate(usable)},
        "fraction_correct": ci_ratio(c, n, level, method, **options),
    }


def per_problem_intervals(metrics: Mapping[str, npt.ArrayLike], level: float = 0.95,
                          method: IntervalMethod = "logit", *, n_resamples: int = 10_000,
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
                    resampled: np.ndarray | None = None) -> Interval:
    """sum(y)/sum(x) with an interval from resampling rows; x = 1 gives the plain mean.
    `resampled`: bootstrap replicates already drawn (the paired test reuses them)."""
    _check_level(level)
    if method not in ("logit", "t", "bootstrap", "bca"):
        raise ValueError(f"unknown method {method!r}: 'logit', 't', 'bootstrap' or 'bca'")
    if method in ("bootstrap", "bca") and n_resamples < 1:
        raise ValueError("n_resamples must be >= 1")
    lo_bound, hi_bound = bounds if bounds is not None else (-math.inf, math.inf)
    if method == "logit" and not (math.isfinite(lo_bound) and math.isfinite(hi_bound)
                                  and lo_bound < hi_bound):
        raise ValueError("the logit interval needs finite bounds (low < high)")
    m = y.size
    estimate = float(y.sum() / x.sum())
    if m == 1:  # nothing is known about the spread between problems
        return Interval(estimate, lo_bound, hi_bound, math.nan, level, method)
    residuals = (y - estimate * x) / x.mean()  # the linearised ratio; y - mean for x = 1
    if np.all(np.abs(residuals) <= 1e-12 * max(1.0, abs(estimate))):
        return Interval(estimate, estimate, estimate, 0.0, level, method)
    if method in ("t", "logit"):
        std_error = float(residuals.std(ddof=1) / math.sqrt(m))
        half = _t_quantile((1.0 + level) / 2.0, m - 1) * std_error
        low, high = estimate - half, estimate + half
        span = hi_bound - lo_bound
        share = (estimate - lo_bound) / span
        if method == "logit" and 0.0 < share < 1.0:
            # delta method on logit(share): its standard error is se / (span share (1-share))
            centre = math.log(share / (1.0 - share))
            reach = half / (span * share * (1.0 - share))
            low = lo_bound + span * _expit(centre - reach)
            high = lo_bound + span * _expit(centre + reach)
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
    return Interval(estimate, float(min(max(low, lo_bound), estimate)),
                    float(max(min(high, hi_bound), estimate)), std_error, level, method)


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
def _t_quantile(q: float, df: int) -> float:
    """Student t quantile for q in (0.5, 1), by bisection on the exact CDF (no scipy)."""
    if df == 1:
        return math.tan(math.pi * (q - 0.5))
    if df == 2:
        s = 2.0 * q - 1.0
        return s * math.sqrt(2.0 / (1.0 - s * s))
    low, high = 0.0, 2.0 * NormalDist().inv_cdf(q) + 1.0
    while _t_cdf(high, df) < q:
        low, high = high, 2.0 * high
    for _ in range(200):
        mid = 0.5 * (low + high)
        if _t_cdf(mid, df) < q:
            low = mid
        else:
            high = mid
        if high - low <= 1e-15 * high:
            break
    return 0.5 * (low + high)


def _t_cdf(t: float, df: int) -> float:
    """P(T <= t) for t >= 0: 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2."""
    return 1.0 - 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))


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
