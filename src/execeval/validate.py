"""`execeval validate DATASET`: every reference solution through the grader.

A benchmark whose own solutions fail its tests is a broken benchmark; this lists where,
and why, so docs/benchmarks.md can name the known-broken problems and a grader change
that breaks a good problem shows up at once. It is a run like any other (kind
`validate`), recorded and cached.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from execeval.dataset import Dataset
from execeval.executor import Executor
from execeval.grading import base_config, evaluate, run_id_of
from execeval.samples import Sample
from execeval.store import Store


def references(dataset: Dataset) -> Iterator[Sample]:
    for i, p in enumerate((p for p in dataset.problems.values() if p.reference), 1):
        yield Sample(i, p.task_id, p.reference, {"task_id": p.task_id, "solution": p.reference})


@dataclass(frozen=True)
class Validation:
    """Every reference solution graded: which fail and why, and which problems are graded
    inside the sandbox (the flagged fallback)."""

    dataset: str
    dataset_version: str
    dataset_hash: str
    n_problems: int
    n_with_reference: int
    n_passed: int
    failing: list[dict[str, str | None]]    # {"task_id", "status", "detail"}
    no_reference: list[str]
    graded_in_sandbox: list[dict[str, Any]]  # {"task_id", "reason"}
    run_id: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def render(self, console: Console) -> None:
        console.print(f"{self.dataset} ({self.dataset_version}): {self.n_passed} of "
                      f"{self.n_with_reference} reference solutions pass")
        if self.no_reference:
            console.print(f"{len(self.no_reference)} problems have no reference solution")
        if self.failing:
            table = Table("task", "status", "why", title="failing reference solutions")
            for row in self.failing:
                table.add_row(row["task_id"], row["status"], row["detail"])
            console.print(table)
        if self.graded_in_sandbox:
            table = Table("task", "why", title="problems whose tests run inside the sandbox")
            for row in self.graded_in_sandbox:
                table.add_row(row["task_id"], row["reason"])
            console.print(table)


def validate(dataset: Dataset, executor: Executor, store: Store) -> Validation:
    """Grade each problem's reference; report the failures and the sandbox-graded ones."""
    count = sum(1 for _ in references(dataset))
    config = base_config(executor)
    result = evaluate(dataset, references(dataset), count, store, executor, ks=[1],
                      run_id=run_id_of("validate", dataset, config, []), kind="validate",
                      config=config)
    failing = [{"task_id": s.task_id, "status": s.status, "detail": s.detail}
               for s in store.samples(result.run_id) if not s.passed]
    in_sandbox = [{"task_id": p.task_id, "reason": p.tests.get("in_sandbox")}
                  for p in dataset.problems.values()
                  if isinstance(p.tests, dict) and p.tests.get("in_sandbox")]
    return Validation(
        dataset=dataset.name, dataset_version=dataset.version, dataset_hash=dataset.hash,
        n_problems=len(dataset.problems), n_with_reference=count,
        n_passed=count - len(failing), failing=failing,
        no_reference=[t for t, p in dataset.problems.items() if not p.reference],
        graded_in_sandbox=in_sandbox, run_id=result.run_id)
