"""Benchmarks' problems: the data model, and one loader module per benchmark.

Each loader module declares its `Benchmark` (execeval.benchmark), which finds it.
"""

from __future__ import annotations

from execeval.problems.model import Dataset, Problem

__all__ = ["Dataset", "Problem", "load_dataset"]


def load_dataset(name: str | None, data: str | None = None, problems_file: str | None = None,
                 **options: object) -> Dataset:
    """A named benchmark (optionally from a local copy), or a user problem file."""
    from execeval.benchmark import load_dataset as load

    return load(name, data, problems_file, **options)
