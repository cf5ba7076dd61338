"""pass@k and friends, exactly as the papers define them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of Chen et al. (2021): 1 - C(n-c, k) / C(n, k).

    Computed as a running product, which stays exact-ish where the binomials overflow.
    """
    if not 0 <= c <= n or k < 1 or k > n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def mean_pass_at_k(counts: Sequence[tuple[int, int]], ks: Iterable[int]) -> dict[int, float]:
    """Mean pass@k over problems, for each k no larger than the smallest sample count."""
    if not counts:
        return {}
    smallest = min(n for n, _ in counts)
    return {k: float(np.mean([pass_at_k(n, c, k) for n, c in counts]))
            for k in sorted(set(ks)) if k <= smallest}
