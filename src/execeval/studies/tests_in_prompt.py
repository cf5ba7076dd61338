"""`execeval study tests-in-prompt`: how much do the asserts shown in the prompt help?

MBPP's prompt shows a task's three asserts (Austin et al. 2021): they name the function
and pin down its signature and the output's form. This study asks the same tasks, with
the paper's three exemplars, showing 0, 1 or 3 of the task's asserts (the first ones);
grading always uses all of its tests. One ordinary stored run per count; per count the
solved share and pass@1 with intervals over tasks, and each count against the smallest,
paired by task. With 0 shown the prompt keeps the paper's sentence with an empty list
(the format as `prompts/mbpp.build` writes it), so the function's name is not shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from execeval.errors import UserError
from execeval.executor import Executor
from execeval.options import RunOptions, about
from execeval.studies import common
from execeval.studies.prompts import (
    Paired,
    Scores,
    load_targets,
    paired,
    per_task,
    run_variant,
    scores,
    shared_tasks,
    shots_of,
    variant,
)


@dataclass(frozen=True)
class AssertsShownOptions(common.OnModel):
    """`execeval study tests-in-prompt`: how many of a task's asserts each prompt shows
    (--shots: the paper's exemplars used, default 3)."""

    dataset: str = field(default="mbpp", metadata=about("the benchmark (MBPP's format)"))
    shown: tuple[int, ...] = field(default=(0, 1, 3), metadata=about(
        "comma-separated counts of shown asserts", metavar="COUNTS"))


@dataclass(frozen=True)
class AssertsShownResult:
    """Per count of shown asserts (as text, smallest first) its run and scores; each count
    against the smallest, paired by task."""

    model: str
    dataset: str
    n: int
    shots: int
    n_tasks: int
    runs: dict[str, str]
    results: dict[str, Scores]
    differences: dict[str, Paired]  # "3-0": pass@1 with 3 shown minus with 0

    def to_json(self) -> dict[str, Any]:
        return {"study": "tests-in-prompt", "model": self.model, "dataset": self.dataset,
                "n": self.n, "shots": self.shots, "n_tasks": self.n_tasks,
                "runs": dict(self.runs),
                "results": {m: v.to_json() for m, v in self.results.items()},
                "differences": {k: d.to_json() for k, d in self.differences.items()}}

    def render(self, console: Console) -> None:
        rows = [[m, common.fmt_ci(v.solved, v.solved_ci),
                 common.fmt_ci(v.pass_at_1, v.pass_at_1_ci)] for m, v in self.results.items()]
        notes = [f"pass@1 {k}: {d.text()} paired, p {d.p_value:.3g}"
                 for k, d in self.differences.items()]
        common.table(console, f"asserts shown in the prompt: {self.model} on {self.dataset} "
                     f"({self.n_tasks} tasks, n={self.n}, {self.shots} exemplars; graded on "
                     "all tests)", ["shown", "solved", "pass@1"], rows,
                     [*notes, f"runs: {', '.join(f'{m}: {i}' for m, i in self.runs.items())}"])


def shown_counts(shown: Sequence[int]) -> list[int]:
    """The distinct counts, smallest first (refusing none and negative ones)."""
    values = sorted(set(shown))
    if not values or values[0] < 0:
        raise UserError("--shown: give one or more counts >= 0")
    return values


def tests_in_prompt(options: AssertsShownOptions, run: RunOptions | None = None, *,
                    executor: Executor | None = None) -> AssertsShownResult:
    """One run per count of shown asserts (the paper's exemplars), compared by task
    (`run`: `execeval run`'s options; `executor`: an open one to grade on)."""
    run = run or RunOptions()
    shown, shots = shown_counts(options.shown), shots_of(run)
    dataset, chosen = load_targets(options.dataset, run.dataset)
    examples = list(dataset.problems[chosen[0]].metadata.get("mbpp_shots", []))[:shots]
    if len(examples) < shots:
        raise UserError(f"--shots {shots}: the file has {len(examples)} of the paper's shots")
    runs, counts = {}, {}
    for m in shown:
        v = variant(dataset, chosen, examples, shown=m, tag=f"shown={m}")
        runs[str(m)], counts[str(m)] = run_variant(options.model, v, run, shots, executor)
    tasks = shared_tasks(chosen, list(counts.values()))
    base = str(shown[0])
    return AssertsShownResult(
        model=options.model, dataset=dataset.name, n=run.generation.n, shots=shots,
        n_tasks=len(tasks), runs=runs,
        results={m: scores(c, tasks) for m, c in counts.items()},
        differences={f"{m}-{base}": paired(per_task(counts[m], tasks),
                                           per_task(counts[base], tasks))
                     for m in counts if m != base})


STUDY = common.Study(
    help="0, 1 or 3 of a task's asserts shown; graded on all",
    options=AssertsShownOptions, main=tests_in_prompt,
    example="execeval study tests-in-prompt --model fake:prompted --limit 20 --shown 0,3",
    without=frozenset({"results"}))
