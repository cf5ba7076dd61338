"""A made-up benchmark, added the way a user adds one: a loader, a grader, a tally, rows.

Each problem gives a sentence; the program must define `count(text)` returning how many
words it has. Its grader calls the program through the sandbox and compares here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from execeval.benchmark import Benchmark
from execeval.dataset import Dataset, Problem, by_task_id
from execeval.jsonl import read_rows
from execeval.judge import Grader, failure_verdict
from execeval.sandbox import ProgramFailure, Sandbox
from execeval.verdict import Verdict


def grade_words(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    with sandbox.start() as ex:
        try:
            ex.exec_program(program)
            got = ex.call("count", (problem.tests["text"],))
        except ProgramFailure as f:
            return failure_verdict(f)
    ok = got == problem.tests["words"]
    return Verdict(ok, "passed" if ok else "failed", "" if ok else f"got {got!r}",
                   extra={"words": problem.tests["words"]})


GRADER = Grader("support.toy_benchmark:GRADER", grade_words)


def load(data: Path | None, options: Mapping[str, Any]) -> Dataset:
    assert data is not None
    problems = by_task_id(((str(n), Problem(
        task_id=f"Toy/{row['id']}", prompt=f"# count the words of: {row['text']}\n",
        entry_point="count", grader="support.toy_benchmark:GRADER",
        tests={"text": row["text"], "words": len(row["text"].split())},
        reference="def count(text):\n    return len(text.split())\n"))
        for n, row in read_rows(data)), str(data))
    return Dataset("toy", "1", problems, str(data))


class WordTally:
    def __init__(self) -> None:
        self.words = 0

    def add(self, problem: Problem, verdict: Verdict) -> None:
        self.words += verdict.extra.get("words", 0) * verdict.passed

    def result(self, ks: Sequence[int]) -> dict[str, Any]:
        return {"words_counted_right": self.words}


TOY = Benchmark("toy", "count words", load, tally=WordTally,
                display=lambda s: [("words counted right", str(s["words_counted_right"]))])
