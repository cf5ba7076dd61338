"""`samples:FILE`: replay a samples file as if a model had written it.

Rows carry `task_id` and one of `raw` (a model's raw output, which goes through
extraction like any generation), `completion` (appended to the prompt after stop
truncation) or `solution` (a whole program, taken as is). Sample i of a task is the
i-th row for it in the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from execeval.dataset import Dataset
from execeval.errors import UserError, where
from execeval.jsonl import read_rows
from execeval.models.base import (
    BackendOptions,
    Generation,
    ModelKind,
    ModelSpec,
    Request,
    Settings,
)
from execeval.samples import task_of


class ReplayModel:
    chat = False
    request_size = 1 << 30

    def __init__(self, path: str, dataset: Dataset):
        self.spec = f"samples:{path}"
        self.path = Path(path)
        self.rows: dict[str, list[tuple[str, str]]] = {}  # task_id -> [(field, text)]
        rows = read_rows(path)  # reports unreadable files and bad lines
        self.digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
        for n, row in rows:
            task_id = task_of(row, dataset, path, n)
            field = next((f for f in ("raw", "solution", "completion")
                          if isinstance(row.get(f), str)), None)
            if field is None:
                raise UserError(f"{where(path, n)}: needs a string 'raw', 'completion' or "
                                "'solution'")
            self.rows.setdefault(task_id, []).append((field, row[field]))
        fields = {f for rows in self.rows.values() for f, _ in rows}
        if {"raw", "completion"} <= fields:
            raise UserError(f"{path}: mixes 'raw' and 'completion' rows; use one kind per file")
        self.chat = "raw" in fields  # raw outputs are taken to be a chat model's answers

    def check(self, task_ids: Iterable[str], n: int) -> None:
        """Every selected task must have n rows: a replay cannot invent samples."""
        for t in task_ids:
            have = len(self.rows.get(t, []))
            if have < n:
                raise UserError(f"{self.path}: {have} rows for {t}, fewer than --n {n} "
                                "(select tasks with --tasks or --limit, or lower --n)")

    def fingerprint(self) -> str:
        return f"samples:{self.digest}"

    def generate(self, requests: Iterable[Request], settings: Settings) -> Iterator[list[Generation]]:
        for r in requests:
            out = []
            for i in range(r.first, r.first + r.count):
                field, text = self.rows[r.task_id][i]
                out.append(Generation(r.task_id, i, text, is_program=field == "solution",
                                      info={"replayed": field}))
            yield out

    def close(self) -> None:
        pass


def load(spec: ModelSpec, dataset: Dataset, options: BackendOptions) -> ReplayModel:
    return ReplayModel(spec.name, dataset)


KIND = ModelKind("samples:FILE", load)
