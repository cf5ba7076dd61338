"""stats.py: exact checks, edge cases, and calibration measured by simulation.

The simulated benchmark: 164 problems (HumanEval's size) whose success rates p are drawn
from Beta(0.5, 0.7), a U-shaped spread (many problems nearly always or nearly never
solved) with population pass@1 = 0.417 and pass@10 = 0.781; the small-benchmark checks
draw 4 and 20 problems from Beta populations with means 0.03, 0.5 and 0.97. Each
replicate draws fresh problems, so the truth an interval must cover is the population
pass@k (see docs/statistics.md). The seeds are fixed; the assertions were checked to hold
for seeds 0-9 while writing this file, they are not tuned to one seed.
"""

from __future__ import annotations

import itertools
import math
import time
from statistics import NormalDist

import numpy as np
import pytest

from execeval.metrics import mean_pass_at_k, pass_at_k
from execeval.stats import (
    CLT_MIN_PROBLEMS,
    EXACT_SIGN_FLIP_MAX,
    INTERVAL_METHODS,
    Interval,
    _beta_quantile,
    _betainc,
    _pass_at_k_noise,
    _t_quantile,
    beta_pass_at_k,
    ci_mean,
    ci_pass_at_k,
    ci_ratio,
    paired_difference,
    pass_at_k_matrix,
    per_problem_intervals,
    summary_intervals,
)

ALPHA, BETA = 0.5, 0.7
PROBLEMS, N = 164, 20
METHODS = ("logit", "t", "bootstrap", "bca")  # the methods that read only the values
EFFECTIVE = ("auto", "kg")


def simulate(rng: np.random.Generator, replicates: int, problems: int = PROBLEMS,
             n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """Success rates p (replicates x problems) from the Beta population, and correct counts."""
    p = rng.beta(ALPHA, BETA, size=(replicates, problems))
    return p, rng.binomial(n, p)


def per_problem(c: np.ndarray, n: int, k: int) -> np.ndarray:
    """pass@k of every problem of every replicate, same shape as c."""
    return pass_at_k_matrix(np.full(c.size, n), c.ravel(), k).reshape(c.shape)


# --- exact ----------------------------------------------------------------------------

def test_matrix_equals_pass_at_k_entry_by_entry() -> None:
    rng = np.random.default_rng(7)
    n = rng.integers(10, 250, size=400)
    c = rng.integers(0, n + 1)
    c[:20] = 0  # the edges: nothing passes, everything passes
    c[20:40] = n[20:40]
    ks = [1, 2, 5, 10]
    got = pass_at_k_matrix(n, c, ks)
    want = np.array([[pass_at_k(int(ni), int(ci), k) for k in ks] for ni, ci in zip(n, c, strict=True)])
    assert got.shape == (400, 4)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_matrix_random_k_per_draw_and_scalar_n() -> None:
    rng = np.random.default_rng(8)
    for _ in range(200):
        n = int(rng.integers(1, 60))
        c = int(rng.integers(0, n + 1))
        k = int(rng.integers(1, n + 1))
        assert pass_at_k_matrix([n], [c], k)[0, 0] == pytest.approx(pass_at_k(n, c, k), abs=1e-12)
    assert pass_at_k_matrix(5, [0, 1, 5], [1]).ravel().tolist() == pytest.approx([0, 0.2, 1])


@pytest.mark.parametrize(("n", "c", "ks"), [
    ([5, 3], [1, 1], [4]),   # k larger than a problem's sample count
    ([5], [6], [1]),         # more correct than samples
    ([5], [-1], [1]),
    ([5], [1], [0]),
    ([[5]], [[1]], [1]),     # not one row per problem
    ([5.5], [1], [1]),
])
def test_matrix_rejects_what_pass_at_k_rejects(n: list, c: list, ks: list[int]) -> None:
    with pytest.raises(ValueError):
        pass_at_k_matrix(n, c, ks)


def test_beta_population_pass_at_k() -> None:
    # uniform p: E[1 - (1-p)^k] = k / (k+1); Beta(2, 3): E[p] = 2/5
    for k in (1, 3, 10):
        assert beta_pass_at_k(1.0, 1.0, k) == pytest.approx(k / (k + 1), abs=1e-12)
    assert beta_pass_at_k(2.0, 3.0, 1) == pytest.approx(0.4, abs=1e-12)
    p = np.random.default_rng(9).beta(ALPHA, BETA, size=1_000_000)
    assert beta_pass_at_k(ALPHA, BETA, 10) == pytest.approx(np.mean(1 - (1 - p) ** 10), abs=2e-3)


@pytest.mark.parametrize(("q", "df", "want"), [
    (0.975, 1, 12.706204736174694), (0.975, 2, 4.302652729749462),
    (0.975, 5, 2.5705818356363146), (0.975, 10, 2.228138851986274),
    (0.975, 163, 1.974624620966361), (0.95, 30, 1.697260886593957),
    (0.995, 1000, 2.580754698065951),
    # fractional degrees of freedom (the Satterthwaite df of "kg"), from scipy 1.17
    (0.975, 1.7, 5.1188389882530565), (0.975, 2.35, 3.7433071856730233),
])
def test_t_quantile_matches_tables(q: float, df: float, want: float) -> None:
    assert _t_quantile(q, df) == pytest.approx(want, rel=1e-10)


def test_t_interval_by_hand() -> None:
    values = np.linspace(0.2, 0.7, 11)
    half = 2.228138851986274 * values.std(ddof=1) / math.sqrt(11)
    got = ci_mean(values, method="t")
    assert (got.low, got.high) == pytest.approx((values.mean() - half, values.mean() + half))
    assert got.se == pytest.approx(values.std(ddof=1) / math.sqrt(11))
    assert got.as_list() == [got.low, got.high]
    assert got.level == 0.95 and got.method == "t"


# --- edges ----------------------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_all_solved_and_none_solved_are_points(method: str) -> None:
    assert ci_mean(np.ones(164), method=method).as_list() == [1.0, 1.0]
    assert ci_mean(np.zeros(30), method=method).as_list() == [0.0, 0.0]
    assert ci_mean(np.ones(5), method=method).se == 0.0


def binomial_cdf(x: int, m: int, p: float) -> float:
    return sum(math.comb(m, i) * p**i * (1 - p) ** (m - i) for i in range(x + 1))


def test_all_solved_and_none_solved_count_one_trial_per_problem() -> None:
    """No spread seen: "auto" and "kg" take the worst case, each problem one pass/fail
    trial, which is the exact binomial interval ("rule of three" at the bound)."""
    for method in EFFECTIVE:
        assert ci_mean(np.ones(164), method=method).as_list() == pytest.approx(
            [0.025 ** (1 / 164), 1.0], rel=1e-12)
        assert ci_mean(np.zeros(30), method=method).as_list() == pytest.approx(
            [0.0, 1 - 0.025 ** (1 / 30)], rel=1e-12)
        assert ci_mean(np.ones(5), method=method).se == 0.0


def test_one_right_sample_of_two_on_four_problems_is_not_a_point() -> None:
    """The issue's example: every problem 1 of 2 right. The noise within problems
    (c (n-c) / (n^2 (n-1)) = 0.25 each) stands in for the spread the data do not show."""
    got = summary_intervals([(2, 1)] * 4, [1])
    interval = got["pass_at_k"]["1"]
    assert interval.estimate == 0.5 and interval.se == pytest.approx(0.25)
    assert interval.method == "kg" and got["method"] == "auto"
    # 4 effective trials, 2 successes: Clopper-Pearson, checked on the binomial tails
    assert 1 - binomial_cdf(1, 4, interval.low) == pytest.approx(0.025, abs=1e-9)
    assert binomial_cdf(2, 4, interval.high) == pytest.approx(0.025, abs=1e-9)
    assert got["fraction_correct"].as_list() == pytest.approx(interval.as_list(), abs=1e-12)
    assert ci_mean([0.5] * 4, method="logit").as_list() == [0.5, 0.5]  # what it was


@pytest.mark.parametrize("m", [4, 12, 20, 50])
def test_one_sample_per_problem_is_clopper_pearson(m: int) -> None:
    """With n = 1 the number solved is Binomial(m, mean) whatever the problems: "kg" is
    then the exact Clopper-Pearson interval, each end on the binomial tail at 2.5%."""
    for solved in sorted({1, m // 3, m - 1}):
        c = (np.arange(m) < solved).astype(int)
        got = ci_pass_at_k(np.ones(m, dtype=int), c, 1, method="kg")
        assert 1 - binomial_cdf(solved - 1, m, got.low) == pytest.approx(0.025, abs=1e-9)
        assert binomial_cdf(solved, m, got.high) == pytest.approx(0.025, abs=1e-9)


@pytest.mark.parametrize("m", [4, 20, 50, 164])
@pytest.mark.parametrize("mean", [0.03, 0.5, 0.97])
def test_exact_coverage_with_one_sample_per_problem(m: int, mean: float) -> None:
    """Summed over every outcome, not simulated: "kg" never covers less than 95% (the
    Clopper-Pearson guarantee), nor "auto" less than 93%; the old default collapsed."""
    def coverage(method: str) -> float:
        total = 0.0
        for solved in range(m + 1):
            c = (np.arange(m) < solved).astype(int)
            got = ci_pass_at_k(np.ones(m, dtype=int), c, 1, method=method)
            if got.low <= mean <= got.high:
                total += math.comb(m, solved) * mean**solved * (1 - mean) ** (m - solved)
        return total

    assert coverage("kg") >= 0.95
    assert coverage("auto") >= 0.93
    if m <= 20 and mean != 0.5:
        assert coverage("logit") < 0.5


def test_beta_quantile_inverts_the_incomplete_beta() -> None:
    rng = np.random.default_rng(19)
    for _ in range(300):
        a, b = np.exp(rng.uniform(math.log(0.05), math.log(1e5), size=2))
        q = float(rng.choice([1e-6, 0.025, 0.3, 0.5, 0.975]))
        x = _beta_quantile(q, float(a), float(b))
        assert 0.0 < x <= 1.0
        # near 1 the next float may already be far up the CDF: q lies between neighbours'
        below, above = (_betainc(float(a), float(b), min(1.0, x + step * math.ulp(x)))
                        for step in (-4, 4))
        assert below * (1 - 1e-7) <= q <= above * (1 + 1e-7)


@pytest.mark.parametrize(("n", "k", "p"), [(2, 1, 0.5), (5, 2, 0.3), (20, 10, 0.9),
                                           (7, 3, 0.05)])
def test_noise_within_a_problem_is_unbiased(n: int, k: int, p: float) -> None:
    """E[noise estimate | p] = Var(unbiased pass@k | p), summed exactly over c."""
    c = np.arange(n + 1)
    weights = np.array([math.comb(n, int(i)) * p**i * (1 - p) ** (n - i) for i in c])
    values = pass_at_k_matrix(np.full(n + 1, n), c, k)[:, 0]
    variance = float(weights @ values**2 - (weights @ values) ** 2)
    noise = _pass_at_k_noise(np.full(n + 1, n), c, k)
    assert float(weights @ noise) == pytest.approx(variance, rel=1e-9, abs=1e-15)
    assert variance > 0
    # fewer than 2k samples: no unbiased estimate, the problem adds no floor
    assert _pass_at_k_noise(np.array([3]), np.array([1]), 2).tolist() == [0.0]


def test_never_a_point_when_problems_hold_sampling_noise() -> None:
    rng = np.random.default_rng(20)
    for _ in range(200):
        m, n = int(rng.integers(2, 30)), int(rng.integers(2, 8))
        c = rng.integers(1, n, size=m)  # 0 < c < n: every problem shows noise
        for k in (1, 2):
            if 2 * k <= n:
                got = ci_pass_at_k(np.full(m, n), c, k)
                assert got.low < got.estimate < got.high
                assert got.estimate == pytest.approx(
                    mean_pass_at_k([(n, int(x)) for x in c], [k])[k], abs=1e-12)


def test_auto_switches_by_the_rule() -> None:
    rng = np.random.default_rng(21)
    middle = rng.beta(2, 2, size=100)
    auto, logit = ci_mean(middle), ci_mean(middle, method="logit")
    assert auto.method == "logit" and auto.as_list() == logit.as_list()
    few = middle[:CLT_MIN_PROBLEMS - 1]
    assert ci_mean(few).method == "kg" == ci_mean(few, method="kg").method
    assert ci_mean(few).as_list() == ci_mean(few, method="kg").as_list()
    assert ci_mean(middle[:CLT_MIN_PROBLEMS]).method == "logit"
    # 164 problems but three solved once in 20: about 3 effective successes
    c = np.zeros(164, dtype=int)
    c[:3] = 1
    near_zero = ci_pass_at_k(np.full(164, 20), c, 1)
    assert near_zero.method == "kg" and near_zero.low > 0
    assert near_zero.high > ci_pass_at_k(np.full(164, 20), c, 1, method="logit").high


@pytest.mark.parametrize("method", INTERVAL_METHODS)
def test_single_problem_says_nothing(method: str) -> None:
    got = ci_mean([0.3], method=method)
    assert (got.estimate, got.low, got.high) == (0.3, 0.0, 1.0)
    assert math.isnan(got.se)


@pytest.mark.parametrize("method", INTERVAL_METHODS)
def test_intervals_stay_in_bounds_and_hold_the_estimate(method: str) -> None:
    for values in ([0.0] * 9 + [1.0], [1.0] * 9 + [0.0], [0.0, 0.05, 0.0, 0.1], [0.5, 1.0]):
        got = ci_mean(values, method=method)
        assert 0.0 <= got.low <= got.estimate <= got.high <= 1.0
        assert got.high - got.low > 0


def test_logit_leans_away_from_the_bound() -> None:
    rng = np.random.default_rng(10)
    values = np.clip(rng.beta(8, 1, size=40), 0, 1)  # a mean near 1, a tail towards 0
    for method in ("logit", *EFFECTIVE):
        leaning, t = ci_mean(values, method=method), ci_mean(values, method="t")
        assert leaning.estimate - leaning.low > leaning.high - leaning.estimate
        assert leaning.low < t.low and leaning.high < t.high
    middle = np.linspace(0.3, 0.7, 50)  # in the middle the two agree
    assert ci_mean(middle, method="logit").as_list() == pytest.approx(
        ci_mean(middle, method="t").as_list(), abs=2e-3)


@pytest.mark.parametrize(("args", "kwargs"), [
    (([],), {}), (([0.5, math.nan],), {}), (([0.5, 1.2],), {}), (([[0.5]],), {}),
    (([0.5, 0.6],), {"level": 1.0}), (([0.5, 0.6],), {"method": "wald"}),
    (([0.5, 0.6],), {"method": "bootstrap", "n_resamples": 0}),
    (([0.5, 0.6],), {"bounds": None}),  # auto, kg and logit need the bounds
    (([0.5, 0.6],), {"method": "logit", "bounds": (0.0, math.inf)}),
])
def test_ci_mean_rejects(args: tuple, kwargs: dict) -> None:
    with pytest.raises(ValueError):
        ci_mean(*args, **kwargs)


def test_unbounded_t_and_interval_is_frozen() -> None:
    got = ci_mean([3.0, 5.0, 4.0], method="t", bounds=None)
    assert got.low < 3.0 and got.high > 5.0
    with pytest.raises(AttributeError):
        got.low = 0.0  # type: ignore[misc]


def test_bootstrap_is_seeded_and_agrees_with_t_on_a_large_sample() -> None:
    values = np.random.default_rng(11).beta(2, 2, size=500)
    t = ci_mean(values, method="t")
    for method in ("bootstrap", "bca"):
        one, again = ci_mean(values, method=method, seed=3), ci_mean(values, method=method, seed=3)
        assert one == again
        assert ci_mean(values, method=method, seed=4) != one
        assert one.as_list() == pytest.approx(t.as_list(), abs=0.004)
        assert one.se == pytest.approx(t.se, rel=0.1)


def test_bca_moves_with_the_skew() -> None:
    rng = np.random.default_rng(17)
    right = rng.beta(0.3, 3.0, size=80)  # most values near 0, a tail towards 1
    for values, direction in ((right, 1), (1 - right, -1)):
        percentile = ci_mean(values, method="bootstrap")
        bca = ci_mean(values, method="bca")  # same seed: the same resamples
        assert direction * (bca.low - percentile.low) > 0
        assert direction * (bca.high - percentile.high) > 0


def test_bca_by_the_textbook() -> None:
    """Efron's BCa, written out here from the definition, on the same resamples."""
    values = np.random.default_rng(18).beta(0.4, 2.0, size=50)
    got = ci_mean(values, method="bca", n_resamples=4000, seed=5)
    idx = np.random.default_rng(5).integers(0, 50, size=(4000, 50))
    means = values[idx].mean(axis=1)
    normal = NormalDist()
    z0 = normal.inv_cdf(float(np.mean(means < values.mean())))
    jack = np.array([np.delete(values, i).mean() for i in range(50)])
    u = jack.mean() - jack
    accel = np.sum(u**3) / (6 * np.sum(u**2) ** 1.5)
    ends = [normal.cdf(z0 + (z0 + z) / (1 - accel * (z0 + z))) for z in (-1.959964, 1.959964)]
    assert z0 != 0 and accel > 0
    assert got.as_list() == pytest.approx(np.quantile(means, ends).tolist(), abs=1e-6)


# --- fraction correct and summaries ---------------------------------------------------

def test_ratio_with_equal_sample_counts_is_the_mean_of_shares() -> None:
    rng = np.random.default_rng(12)
    c = rng.integers(0, 21, size=60)
    for method in METHODS:
        ratio, mean = ci_ratio(c, np.full(60, 20), method=method), ci_mean(c / 20, method=method)
        assert ratio.as_list() == pytest.approx(mean.as_list(), abs=1e-12)
        assert ratio.se == pytest.approx(mean.se, rel=1e-9)
    for method in EFFECTIVE:  # the counts' noise and bound: the same as pass@1's
        for size in (60, 8):
            ratio = ci_ratio(c[:size], np.full(size, 20), method=method)
            mean = ci_pass_at_k(np.full(size, 20), c[:size], 1, method=method)
            assert ratio.as_list() == pytest.approx(mean.as_list(), abs=1e-12)
            assert (ratio.se, ratio.method) == (pytest.approx(mean.se, rel=1e-9), mean.method)
    with pytest.raises(ValueError, match="successes out of trials"):
        ci_ratio([3, 5], [4, 4])


def test_ratio_resamples_problems_not_samples() -> None:
    rng = np.random.default_rng(13)
    n = rng.integers(1, 50, size=300)
    c = rng.binomial(n, rng.beta(0.5, 0.7, size=300))
    linear, boot = ci_ratio(c, n), ci_ratio(c, n, method="bootstrap")
    assert linear.estimate == c.sum() / n.sum()
    ratio = c.sum() / n.sum()  # the delta method: residuals c_i - R n_i, scaled by mean n
    by_hand = math.sqrt(np.sum((c - ratio * n) ** 2) / (300 * 299)) / n.mean()
    assert linear.se == pytest.approx(by_hand, rel=1e-12)
    assert linear.se == pytest.approx(boot.se, rel=0.1)
    # treating the pooled samples as independent would be far too narrow
    pooled = linear.estimate
    naive_se = math.sqrt(pooled * (1 - pooled) / n.sum())
    assert linear.se > 2 * naive_se
    with pytest.raises(ValueError):
        ci_ratio(c, np.zeros(300))


def test_summary_intervals_match_the_summary() -> None:
    counts = [(20, 3), (20, 20), (20, 0), (25, 7), (20, 11), (30, 1)]
    got = summary_intervals(counts, [1, 10, 100])
    assert list(got["pass_at_k"]) == ["1", "10"]  # 100 > the smallest n, as in the summary
    for k, value in mean_pass_at_k(counts, [1, 10]).items():
        assert got["pass_at_k"][str(k)].estimate == pytest.approx(value, abs=1e-12)
        n, c = zip(*counts, strict=True)
        assert got["pass_at_k"][str(k)] == ci_pass_at_k(n, c, k)
    total_c, total_n = sum(c for _, c in counts), sum(n for n, _ in counts)
    assert got["fraction_correct"].estimate == pytest.approx(total_c / total_n)
    assert got["n_problems"] == 6 and got["level"] == 0.95
    for interval in (*got["pass_at_k"].values(), got["fraction_correct"]):
        assert isinstance(interval, Interval) and 0 <= interval.low <= interval.high <= 1
    with pytest.raises(ValueError):
        summary_intervals([], [1])


def test_per_problem_intervals_for_apps_metrics() -> None:
    strict = [1.0, 0.0, 0.5, 0.25, 1.0]
    average = [1.0, 0.4, 0.9, 0.7, 1.0]
    got = per_problem_intervals({"strict_accuracy": strict, "test_case_average": average})
    assert got["strict_accuracy"].estimate == pytest.approx(np.mean(strict))
    assert got["test_case_average"] == ci_mean(average)


# --- paired test ----------------------------------------------------------------------

def brute_force_p(d: list[float]) -> float:
    observed = abs(sum(d))
    sums = [abs(sum(s * x for s, x in zip(signs, d, strict=True)))
            for signs in itertools.product((1, -1), repeat=len(d))]
    return sum(s >= observed - 1e-12 for s in sums) / len(sums)


def test_sign_flip_exact_matches_brute_force() -> None:
    a = np.array([0.9, 0.6, 0.3, 0.5, 1.0, 0.2, 0.45, 0.8])
    b = np.array([0.7, 0.65, 0.1, 0.5, 0.6, 0.2, 0.4, 0.5])
    got = paired_difference(a, b)
    d = [x for x in (a - b).tolist() if x != 0]
    assert got.p_value == pytest.approx(brute_force_p(d), abs=1e-12)
    assert got.difference == pytest.approx(float(np.mean(a - b)))
    assert (got.a_better, got.b_better, got.tied, got.n_problems) == (5, 1, 2, 8)
    # ties add nothing; the exact p-value does not depend on the seed
    assert paired_difference(np.r_[a, [0.3] * 5], np.r_[b, [0.3] * 5], seed=9).p_value == got.p_value


def test_sign_flip_edges() -> None:
    same = paired_difference([0.2, 0.5, 1.0], [0.2, 0.5, 1.0])
    assert (same.p_value, same.difference, same.low, same.high, same.tied) == (1.0, 0.0, 0.0, 0.0, 3)
    # five problems all better by the same amount: 2 of the 32 sign patterns are as extreme
    assert paired_difference([0.6] * 5, [0.5] * 5).p_value == pytest.approx(2 / 32)
    one = paired_difference([1.0], [0.0])
    assert (one.p_value, one.low, one.high) == (1.0, -1.0, 1.0)
    with pytest.raises(ValueError):
        paired_difference([0.1, 0.2], [0.1])
    with pytest.raises(ValueError):
        paired_difference([0.1, 0.2], [0.1, 0.3], method="wilcoxon")  # type: ignore[arg-type]


def test_monte_carlo_switch_and_agreement_with_exact() -> None:
    rng = np.random.default_rng(14)
    d = rng.normal(0.02, 0.1, size=EXACT_SIGN_FLIP_MAX + 1)
    a, b = np.full(d.size, 0.5) + d / 2, np.full(d.size, 0.5) - d / 2
    sums = np.zeros(1)
    for x in a - b:  # exact over 2**21 patterns, done here independently
        sums = np.concatenate((sums + x, sums - x))
    exact = float(np.mean(np.abs(sums) >= abs((a - b).sum()) - 1e-12))
    monte_carlo = [paired_difference(a, b, n_resamples=20_000, seed=s).p_value for s in (0, 1)]
    assert monte_carlo[0] != monte_carlo[1]  # above 20 non-zero differences: random patterns
    for p in monte_carlo:
        assert p == pytest.approx(exact, abs=0.01)
    assert paired_difference(np.ones(30), np.zeros(30), n_resamples=99).p_value == 1 / 100
    # at exactly 20 the p-value is still enumerated: the seed does not matter
    at_limit = [paired_difference(a[:-1], b[:-1], n_resamples=50, seed=s).p_value for s in (0, 1)]
    assert at_limit[0] == at_limit[1]
    assert at_limit[0] * 2**20 == pytest.approx(round(at_limit[0] * 2**20), abs=1e-6)


def test_bootstrap_p_value_matches_the_normal_approximation_on_many_problems() -> None:
    rng = np.random.default_rng(16)
    a = 0.2 + 0.6 * rng.random(2000)
    b = np.clip(a + rng.normal(0.0, 0.1, size=2000), 0, 1)
    got = paired_difference(a, b, method="bootstrap", n_resamples=40_000)
    d = a - b
    z = abs(d.mean()) / (d.std(ddof=1) / math.sqrt(d.size))
    assert got.p_value == pytest.approx(2 * (1 - NormalDist().cdf(z)), abs=0.01)
    assert 0.01 < got.p_value < 0.5  # a p-value in the range where the check has teeth
    t = ci_mean(d, method="t", bounds=(-1, 1))
    assert [got.low, got.high] == pytest.approx(t.as_list(), abs=0.001)


def test_paired_is_fast() -> None:
    rng = np.random.default_rng(15)
    a, b = rng.random(164), rng.random(164)
    for method in ("sign-flip", "bootstrap"):
        best = math.inf
        for _ in range(3):
            start = time.perf_counter()
            paired_difference(a, b, method=method, n_resamples=10_000)
            best = min(best, time.perf_counter() - start)
        assert best < 0.5, f"{method}: {best:.3f} s for 10,000 resamples on 164 problems"


# --- calibration, measured ------------------------------------------------------------

def test_coverage_of_pass_at_1_and_10_and_fraction_correct() -> None:
    """95% intervals cover the population value in 93-97% of 2,000 simulated benchmarks.

    Truth: the population pass@k, E_p[1 - (1-p)^k]. With 2,000 replicates the coverage of
    an exact 95% interval has a standard error of 0.5 points, so 93-97% is +-4 SE (the
    default interval's coverage, measured on 20,000 replicates, is 95.3% for both k).
    """
    rng = np.random.default_rng(2021)
    replicates = 2000
    p, c = simulate(rng, replicates)
    for k in (1, 10):
        truth = beta_pass_at_k(ALPHA, BETA, k)
        intervals = [ci_pass_at_k(np.full(PROBLEMS, N), row, k) for row in c]
        covered = np.mean([iv.low <= truth <= iv.high for iv in intervals])
        print(f"pass@{k}: coverage of the population value {covered:.3f}")
        assert 0.93 <= covered <= 0.97, f"pass@{k} coverage {covered:.3f}"
        # the fixed benchmark's own mean pass@k is covered at least as often (conservative)
        fixed = (1 - (1 - p) ** k).mean(axis=1)
        fixed_covered = np.mean([iv.low <= f <= iv.high for iv, f in zip(intervals, fixed, strict=True)])
        assert fixed_covered >= 0.95
    # fraction correct with unequal sample counts: the truth is E[p] (n independent of p)
    n = rng.integers(5, 41, size=(replicates, PROBLEMS))
    p = rng.beta(ALPHA, BETA, size=(replicates, PROBLEMS))
    c = rng.binomial(n, p)
    truth = ALPHA / (ALPHA + BETA)
    covered = np.mean([ci_ratio(ci, ni).low <= truth <= ci_ratio(ci, ni).high
                       for ci, ni in zip(c, n, strict=True)])
    print(f"fraction correct: coverage {covered:.3f}")
    assert 0.93 <= covered <= 0.97


@pytest.mark.parametrize("problems", [4, 20])
def test_coverage_holds_on_small_benchmarks_near_the_bounds(problems: int) -> None:
    """4 and 20 problems, population means 0.03, 0.5 and 0.97 (Beta(mean, 1 - mean):
    U-shaped), n = 20: the default covers pass@1 and pass@10 in at least 92% of 600
    benchmarks (measured on 2,000: 96.2-100% in these cells, docs/statistics.md; the
    lowest here over seeds 0-9 was 95.8%). 92% is where a coverage of 93% would sit 1.1
    standard errors below; the old default, logit, covers 4-36% at 4 problems near the
    bounds."""
    rng = np.random.default_rng(22)
    replicates = 600
    for mean in (0.03, 0.5, 0.97):
        p = rng.beta(mean, 1 - mean, size=(replicates, problems))
        c = rng.binomial(N, p)
        for k in (1, 10):
            truth = beta_pass_at_k(mean, 1 - mean, k)
            found = [ci_pass_at_k(np.full(problems, N), row, k) for row in c]
            covered = np.mean([iv.low <= truth <= iv.high for iv in found])
            print(f"{problems} problems, mean {mean}, pass@{k}: coverage {covered:.3f}")
            assert covered >= 0.92, (mean, k, covered)
            if problems == 4 and mean != 0.5:
                old = [ci_mean(y, method="logit") for y in per_problem(c, N, k)]
                assert np.mean([iv.low <= truth <= iv.high for iv in old]) < 0.7


@pytest.mark.parametrize(("k", "method", "replicates", "seed"), [
    (1, "sign-flip", 800, 1), (10, "sign-flip", 800, 2), (1, "bootstrap", 1200, 3)])
def test_false_positives_between_two_runs_of_one_model(k: int, method: str, replicates: int,
                                                       seed: int) -> None:
    """Two independent sample sets from the same model: p < 0.05 in at most ~5% of them.

    At a true 5% the rate's standard error is 0.8 points over 800 replicates (0.6 over
    1,200), so 7% is 2.6 (3.3) SE above: a test anti-conservative by a few points fails
    this. Measured on 4,000 replicates: sign-flip 4.7%, bootstrap 4.9%.
    """
    rng = np.random.default_rng(seed)
    p = rng.beta(ALPHA, BETA, size=(replicates, PROBLEMS))
    a = per_problem(rng.binomial(N, p), N, k)
    b = per_problem(rng.binomial(N, p), N, k)
    rate = np.mean([paired_difference(x, y, method=method, n_resamples=2000, seed=i).p_value < 0.05
                    for i, (x, y) in enumerate(zip(a, b, strict=True))])
    print(f"pass@{k} {method}: false-positive rate {rate:.3f}")
    assert rate <= 0.07


def z_test_power(gap: float, problems: int = PROBLEMS, n: int = N) -> float:
    """Power of a two-sided 5% z-test that knows the true variance of the per-problem
    pass@1 differences, for model B with p_B = r + (1-r) p (a gap of r (1 - E[p]))."""
    r = gap / (1 - ALPHA / (ALPHA + BETA))
    mean = ALPHA / (ALPHA + BETA)
    second = mean * (ALPHA + 1) / (ALPHA + BETA + 1)  # E[p^2]
    var_a = mean - second  # E[p (1-p)]: binomial noise of one share, times n
    var_b = (1 - r) * (r * (1 - mean) + (1 - r) * var_a)  # E[p_B (1-p_B)]
    variance = r * r * (second - mean**2) + (var_a + var_b) / n
    z = gap * math.sqrt(problems / variance)
    normal = NormalDist()
    return normal.cdf(z - 1.959964) + normal.cdf(-z - 1.959964)


def test_power_against_a_real_gap() -> None:
    """A 5-point pass@1 gap (164 problems, n = 20) is detected nearly always, and a 2-point
    one about as often as a z-test that knows the true variance (which no real test does).

    The oracle powers are 0.999 and 0.584. The sign-flip test estimates the spread from
    the data and measured about 0.02 below the oracle at the 2-point gap (500 replicates,
    three seeds); it is allowed 0.10 less, 3 standard errors of 400 replicates. Ignoring
    the pairing (the variance of the two means instead of that of the differences) would
    give about 0.26 for the 5-point gap and fail.
    """
    rng = np.random.default_rng(4)
    replicates = 400
    for gap in (0.05, 0.02):
        r = gap / (1 - ALPHA / (ALPHA + BETA))
        p = rng.beta(ALPHA, BETA, size=(replicates, PROBLEMS))
        a = per_problem(rng.binomial(N, p), N, 1)
        b = per_problem(rng.binomial(N, r + (1 - r) * p), N, 1)
        detected = np.mean([paired_difference(y, x, n_resamples=2000, seed=i).p_value < 0.05
                            for i, (x, y) in enumerate(zip(a, b, strict=True))])
        oracle = z_test_power(gap)
        print(f"gap {gap:.2f}: power {detected:.3f} (z-test oracle {oracle:.3f})")
        assert detected >= oracle - 0.10
    assert z_test_power(0.05) > 0.99  # the claim "nearly always" rests on this
