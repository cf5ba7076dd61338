"""Benchmarks by name: each loader turns its published files into `Problem`s."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from execeval.errors import UserError
from execeval.problems import humaneval
from execeval.problems.model import Dataset, Problem

__all__ = ["DATASETS", "Dataset", "Problem", "load_dataset"]


def _mbpp(name: str) -> Callable[..., Dataset]:
    def load(data: Path | None, **options: object) -> Dataset:
        from execeval.problems import mbpp

        return mbpp.load(name, data, **options)  # type: ignore[arg-type]

    return load


def _lazy(module: str, name: str) -> Callable[..., Dataset]:
    def load(data: Path | None) -> Dataset:
        import importlib

        return importlib.import_module(f"execeval.problems.{module}").load(name, data)

    return load


# name -> loader(data_path or None, **options). Loaders import lazily what they need.
DATASETS: dict[str, Callable[..., Dataset]] = {
    "humaneval": lambda data: humaneval.load(data, "humaneval"),
    "humaneval-plus": _lazy("evalplus", "humaneval-plus"),
    "mbpp": _mbpp("mbpp"),
    "mbpp-sanitized": _mbpp("mbpp-sanitized"),
    "mbpp-plus": _lazy("evalplus", "mbpp-plus"),
    "apps": _lazy("apps", "apps"),
    "mathqa-python": _lazy("mathqa", "mathqa-python"),
}
MBPP_OPTIONS = ("mbpp", "mbpp-sanitized")  # the datasets that take --split/--challenge-tests


def load_dataset(name: str | None, data: str | None = None,
                 problems_file: str | None = None, *, split: str | None = None,
                 challenge_tests: bool = False) -> Dataset:
    """A named benchmark (optionally from a local copy), or a user problem file."""
    if problems_file:
        from execeval.problems import userfile

        return userfile.load(Path(problems_file))
    if name not in DATASETS:
        known = ", ".join(sorted(DATASETS))
        raise UserError(f"unknown dataset {name!r} (known: {known}; or --problems FILE)")
    options: dict[str, object] = {}
    if split is not None or challenge_tests:
        if name not in MBPP_OPTIONS:
            raise UserError(f"--split and --challenge-tests apply to MBPP only, not {name!r}")
        options = {"split": split or "test", "challenge_tests": challenge_tests}
    return DATASETS[name](Path(data) if data else None, **options)
