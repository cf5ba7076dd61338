"""The model interface: problems in, generations out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from execeval.problems.model import Problem


@dataclass(frozen=True)
class Generation:
    """One sample: the raw text and, when it is a whole program, `is_program`."""

    task_id: str
    text: str
    is_program: bool = False  # True: a whole program (EvalPlus `solution`); False: a completion
    info: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        field_name = "solution" if self.is_program else "completion"
        return {"task_id": self.task_id, field_name: self.text, **self.info}


class Model(Protocol):
    name: str

    def generate(self, problem: Problem, n: int) -> list[Generation]: ...
