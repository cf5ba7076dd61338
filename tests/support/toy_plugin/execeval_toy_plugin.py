"""A third-party package, as a user would write one: a benchmark (with its grader), a
model backend, an executor and a study, each registered by an entry point of this
package's metadata (entry_points.txt beside it), none by touching execeval.

- benchmark `toy-words`: each line of a JSONL file gives a sentence; a program must define
  `count(text)` returning how many words it has (graded on the trusted side).
- backend `echo:right|wrong`: answers every problem with a right (or a wrong) program.
- executor `counting:FILE`: grades like the local one, and writes how many programs it
  graded to FILE when it closes (so a test can see it was used).
- study `word-count RUN`: how many of a stored run's samples passed, by task.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from execeval import api
from execeval.benchmark import Benchmark
from execeval.dataset import Dataset, Problem, by_task_id
from execeval.environment import EnvironmentSpec
from execeval.errors import UserError
from execeval.executor import ExecutorKind, LocalExecutor
from execeval.judge import Grader, failure_verdict
from execeval.models.base import Generation, ModelKind, Request, Settings
from execeval.options import RunOptions, about
from execeval.sandbox import Limits, ProgramFailure, Sandbox
from execeval.studies.common import OnRun, Study
from execeval.verdict import Verdict


def grade_words(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    with sandbox.start() as execution:
        try:
            execution.exec_program(program)
            got = execution.call("count", (problem.tests["text"],))
        except ProgramFailure as failure:
            return failure_verdict(failure)
    right = got == problem.tests["words"]
    return Verdict(right, "passed" if right else "failed", "" if right else f"got {got!r}")


GRADER = Grader("toy-words", grade_words)
RIGHT = "def count(text):\n    return len(text.split())\n"


def load(data: Path | None, options: Mapping[str, Any]) -> Dataset:
    if data is None:
        raise UserError("toy-words needs --data FILE")
    rows = [json.loads(line) for line in data.read_text().splitlines() if line.strip()]
    problems = by_task_id(((str(n), Problem(
        task_id=f"Words/{n}", prompt=f"# count the words of: {row['text']}\n",
        entry_point="count", grader="toy-words",
        tests={"text": row["text"], "words": len(row["text"].split())}, reference=RIGHT))
        for n, row in enumerate(rows)), str(data))
    return Dataset("toy-words", "1", problems, str(data))


BENCHMARK = Benchmark("toy-words", "count the words of a sentence", load)


class EchoModel:
    chat = False
    request_size = 1 << 20

    def __init__(self, name: str) -> None:
        self.spec = f"echo:{name}"
        self.program = RIGHT if name == "right" else "def count(text):\n    return 0\n"

    def fingerprint(self) -> str:
        return self.spec

    def generate(self, requests: Iterable[Request],
                 settings: Settings) -> Iterator[list[Generation]]:
        for r in requests:
            yield [Generation(r.task_id, r.first + i, self.program, is_program=True)
                   for i in range(r.count)]

    def close(self) -> None:
        pass


MODEL = ModelKind("echo:right|wrong",
                  lambda spec, dataset, options: EchoModel(spec.name))


class CountingExecutor(LocalExecutor):
    def __init__(self, out: Path, limits: Limits, workers: int | None,
                 environment: EnvironmentSpec) -> None:
        super().__init__(limits, workers, environment=environment)
        self.out, self.graded = out, 0

    def submit(self, problem: Problem, program: str, limits: Limits | None = None) -> Any:
        self.graded += 1
        return super().submit(problem, program, limits)

    def close(self) -> None:
        super().close()
        self.out.write_text(str(self.graded))


def open_counting(address: str | None, limits: Limits, workers: int | None,
                  environment: EnvironmentSpec) -> CountingExecutor:
    if not address:
        raise UserError("the counting executor needs a file: counting:FILE")
    return CountingExecutor(Path(address), limits, workers, environment)


EXECUTOR = ExecutorKind("counting:FILE", open_counting)


@dataclass(frozen=True)
class WordCountOptions(OnRun):
    task_prefix: str = field(default="", metadata=about("only tasks whose id starts so"))


@dataclass(frozen=True)
class WordCount:
    run: str
    passed: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"study": "word-count", "run": self.run, "passed": self.passed}

    def render(self, console: Console) -> None:
        for task, n in self.passed.items():
            console.print(f"{task}: {n} passed")


def word_count(options: WordCountOptions, run: RunOptions) -> WordCount:
    stored = api.load_run(options.run, run.grading.store)
    passed: dict[str, int] = {}
    for s in stored.samples():
        if s.task_id.startswith(options.task_prefix):
            passed[s.task_id] = passed.get(s.task_id, 0) + int(bool(s.passed))
    return WordCount(stored.run_id, passed)


STUDY = Study("passed samples per task of a toy-words run", WordCountOptions, word_count,
              example="execeval study word-count RUN")
