"""The `reference` model: emits each problem's canonical solution (the demo, validation)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from execeval.dataset import Dataset
from execeval.errors import UserError
from execeval.models.base import (
    BackendOptions,
    Generation,
    ModelKind,
    ModelSpec,
    Request,
    Settings,
)


class ReferenceModel:
    spec = "reference"
    chat = False
    request_size = 1 << 30

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def check(self, task_ids: Iterable[str], n: int) -> None:
        """Refused before generating: a problem without a reference would be graded as a
        failure, and pass@1 would read 0.0 on a dataset that ships no solutions."""
        ids = list(task_ids)
        missing = sum(1 for t in ids if not self.dataset.problems[t].reference)
        if missing:
            raise UserError(f"--model reference: {missing} of the {len(ids)} selected problems "
                            f"have no reference solution in {self.dataset.name} (`execeval "
                            f"validate {self.dataset.name}` lists them)")

    def fingerprint(self) -> str:
        return "reference"

    def generate(self, requests: Iterable[Request], settings: Settings) -> Iterator[list[Generation]]:
        for r in requests:
            program = self.dataset.problems[r.task_id].reference
            yield [Generation(r.task_id, r.first + i, program, is_program=True)
                   for i in range(r.count)]

    def close(self) -> None:
        pass


def load(spec: ModelSpec, dataset: Dataset, options: BackendOptions) -> ReferenceModel:
    return ReferenceModel(dataset)


KIND = ModelKind("reference", load, bare=True)
