"""The `reference` model: emits each problem's canonical solution (the demo, validation)."""

from __future__ import annotations

from execeval.models.base import Generation
from execeval.problems.model import Problem


class ReferenceModel:
    name = "reference"

    def generate(self, problem: Problem, n: int) -> list[Generation]:
        return [Generation(problem.task_id, problem.reference, is_program=True)] * n
