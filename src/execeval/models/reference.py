"""The `reference` model: emits each problem's canonical solution (the demo, validation)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from execeval.models.base import Generation, Request, Settings
from execeval.problems.model import Dataset


class ReferenceModel:
    spec = "reference"
    chat = False
    request_size = 1 << 30

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def fingerprint(self) -> str:
        return "reference"

    def generate(self, requests: Iterable[Request], settings: Settings) -> Iterator[list[Generation]]:
        for r in requests:
            program = self.dataset.problems[r.task_id].reference
            yield [Generation(r.task_id, r.first + i, program, is_program=True)
                   for i in range(r.count)]

    def close(self) -> None:
        pass
