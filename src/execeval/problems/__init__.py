"""Benchmarks by name: each loader turns its published files into `Problem`s."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from execeval.errors import UserError
from execeval.problems import humaneval
from execeval.problems.model import Dataset, Problem

__all__ = ["DATASETS", "Dataset", "Problem", "load_dataset"]

# name -> loader(data_path or None). Loaders import lazily what they need.
DATASETS: dict[str, Callable[[Path | None], Dataset]] = {
    "humaneval": lambda data: humaneval.load(data, "humaneval"),
}


def load_dataset(name: str | None, data: str | None = None,
                 problems_file: str | None = None) -> Dataset:
    """A named benchmark (optionally from a local copy), or a user problem file."""
    if problems_file:
        path = Path(problems_file)
        return humaneval.load(path, name=f"file:{path.name}")
    if name not in DATASETS:
        known = ", ".join(sorted(DATASETS))
        raise UserError(f"unknown dataset {name!r} (known: {known}; or --problems FILE)")
    return DATASETS[name](Path(data) if data else None)
