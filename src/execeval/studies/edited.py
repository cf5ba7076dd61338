"""`execeval study edited`: does the wording of a task change what a model solves?

Austin et al. (2021) hand-checked 427 MBPP tasks and edited the descriptions that were
unclear (the "sanitized" set). This study runs the same model, with the same settings,
on the original descriptions (`mbpp`, --data mbpp.jsonl) and on the edited ones
(`mbpp-sanitized`, --sanitized-data sanitized-mbpp.json) of the same tasks (the split's
tasks present in both files), and compares them task by task: the share of tasks solved
by any sample and pass@1 (the share of correct samples), each edited minus original with
the paired sign-flip test of execeval.stats. The sanitized set also edited some tests;
the table says how many tasks changed their text and how many their shown tests.
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from execeval import api
from execeval.errors import UserError
from execeval.executor import Executor
from execeval.options import DatasetOptions, RunOptions, about
from execeval.stats import paired_difference
from execeval.studies import common

METRICS = ("solved_by_any", "pass_at_1")


@dataclass(frozen=True)
class EditedOptions(common.OnModel):
    """MBPP's original file (--data) against its sanitized edition."""

    dataset: str = field(default="mbpp", metadata=about(
        "the benchmark: mbpp, against its sanitized edition", choices=("mbpp",)))
    sanitized_data: Path | None = field(default=None, metadata=about(
        "local copy of sanitized-mbpp.json (with --data for mbpp.jsonl)", metavar="PATH"))


@dataclass(frozen=True)
class Comparison:
    """One metric, edited minus original, paired by task (sign-flip test)."""

    original: float
    edited: float
    difference: float
    ci: list[float]
    p_value: float
    edited_better: int  # tasks
    original_better: int
    tied: int


@dataclass(frozen=True)
class EditedResult:
    model: str
    n: int
    runs: dict[str, str]  # "original" and "edited": run ids
    n_tasks: int
    n_text_changed: int
    n_tests_changed: int
    metrics: dict[str, Comparison]

    def to_json(self) -> dict[str, Any]:
        return {"study": "edited", **dataclasses.asdict(self)}

    def render(self, console: Console) -> None:
        rows = [[m, f"{v.original:.4f}", f"{v.edited:.4f}",
                 f"{v.difference:+.4f} [{v.ci[0]:+.4f}, {v.ci[1]:+.4f}]", f"{v.p_value:.3g}",
                 f"{v.edited_better} / {v.original_better} / {v.tied}"]
                for m, v in self.metrics.items()]
        common.table(console, f"original vs edited MBPP descriptions: {self.model}, "
                     f"{self.n_tasks} tasks, n={self.n}",
                     ["metric", "original", "edited", "edited - original [95% CI]",
                      "p (sign-flip)", "edited/original better/tied"], rows,
                     [f"{self.n_text_changed} tasks have an edited description, "
                      f"{self.n_tests_changed} edited shown tests",
                      f"runs: original {self.runs['original']}, edited {self.runs['edited']}"])


def edited(options: EditedOptions, run: RunOptions | None = None, *,
           executor: Executor | None = None) -> EditedResult:
    """Two runs (original and edited descriptions) on their shared tasks, compared.
    `run.dataset` gives mbpp.jsonl (`data`), the split, the tasks and the limit."""
    run = run or RunOptions()
    selection = run.dataset
    if options.dataset != "mbpp":
        raise UserError("study edited compares MBPP with its sanitized edition: --dataset mbpp")
    if selection.challenge_tests or selection.problems_file:
        raise UserError("study edited: the sanitized tasks have no challenge tests and no "
                        "problem file")
    original = api.load_dataset("mbpp", selection.data, split=selection.split)
    sanitized = api.load_dataset("mbpp-sanitized", options.sanitized_data,
                                 split=selection.split)
    chosen = [t for t in api.select_tasks(sanitized, selection.tasks, None)
              if t in original.problems]
    chosen = chosen[:selection.limit] if selection.limit else chosen
    if not chosen:
        raise UserError("no task of the split is in both the original and the sanitized file")
    both = dataclasses.replace(run, dataset=DatasetOptions(tasks=tuple(chosen)))
    runs = {name: api.run(options.model, ds, both, executor=executor).run_id
            for name, ds in (("original", original), ("edited", sanitized))}
    with ExitStack() as stack:
        store = common.open_store(stack, run.grading.store)
        counts = {name: store.task_counts(run_id) for name, run_id in runs.items()}
    shared = [t for t in chosen if all(t in c for c in counts.values())]
    values = {name: {"solved_by_any": [float(c[t][1] > 0) for t in shared],
                     "pass_at_1": [c[t][1] / c[t][0] for t in shared]}
              for name, c in counts.items()}
    metrics = {}
    for m in METRICS:
        a, b = values["edited"][m], values["original"][m]
        diff = paired_difference(a, b)
        metrics[m] = Comparison(sum(b) / len(b), sum(a) / len(a), diff.difference,
                                [diff.low, diff.high], diff.p_value, diff.a_better,
                                diff.b_better, diff.tied)
    text = [t for t in shared if original.problems[t].metadata["text"]
            != sanitized.problems[t].metadata["text"]]
    tests = [t for t in shared if original.problems[t].metadata["tests_shown"]
             != sanitized.problems[t].metadata["tests_shown"]]
    return EditedResult(options.model, run.generation.n, runs, len(shared), len(text),
                        len(tests), metrics)


STUDY = common.Study(
    help="MBPP's original against its edited descriptions, paired by task",
    options=EditedOptions, main=edited,
    example="execeval study edited --model 'fake:planted?edit=1.5' --n 5 --temperature 0.8",
    without=frozenset({"results", "challenge_tests", "problems_file"}))
