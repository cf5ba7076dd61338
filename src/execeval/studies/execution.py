"""`execeval study execution`: can the model say what a program does without running it?

MBPP (Austin et al. 2021) measured execution prediction: given a program and an input,
predict the output; the largest model got 21%, 27% when also shown two input/output pairs
of the same program. CRUXEval (Gu et al. 2024) is today's benchmark for the skill, in
both directions (CRUXEval-O: the output; CRUXEval-I: an input). This study makes one
ordinary run on the matching benchmark (`mbpp-execution`, `cruxeval-o`, `cruxeval-i`),
so generations and verdicts are stored and reused, and reports the accuracy (the share
of predictions that are right, problems being the unit of resampling) and pass@k for
k = 1 and 5 where n allows, as CRUXEval reports them.
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rich.console import Console

from execeval import api
from execeval.errors import UserError
from execeval.executor import Executor
from execeval.options import RunOptions, about
from execeval.stats import ci_ratio, summary_intervals
from execeval.studies import common

BENCHMARK = {("cruxeval", "output"): "cruxeval-o", ("cruxeval", "input"): "cruxeval-i",
             ("mbpp", "output"): "mbpp-execution"}


@dataclass(frozen=True)
class ExecutionOptions(common.OnModel):
    """Which execution-prediction benchmark: cruxeval-o, cruxeval-i or mbpp-execution."""

    dataset: str = field(default="cruxeval", metadata=about(
        "whose programs: cruxeval or mbpp", choices=("cruxeval", "mbpp")))
    mode: str = field(default="output", metadata=about(
        "predict the output, or an input (cruxeval only)", choices=("output", "input")))
    examples: int = field(default=0, metadata=about(
        "MBPP: also show two other input/output pairs of the program", choices=(0, 2)))


@dataclass(frozen=True)
class ExecutionResult:
    model: str
    dataset: str  # the benchmark run: cruxeval-o, cruxeval-i or mbpp-execution
    mode: str
    examples: int
    n: int
    n_problems: int
    run: str
    accuracy: float
    accuracy_ci: list[float]
    pass_at_k: dict[str, float]  # k = 1 and 5 where n allows
    pass_at_k_ci: dict[str, list[float]]
    status_counts: dict[str, int]
    unparseable_rate: float

    def to_json(self) -> dict[str, Any]:
        return {"study": "execution", **dataclasses.asdict(self)}

    def render(self, console: Console) -> None:
        rows = [["accuracy", common.fmt_ci(self.accuracy, self.accuracy_ci)]]
        rows += [[f"pass@{k}", common.fmt_ci(v, self.pass_at_k_ci[k])]
                 for k, v in self.pass_at_k.items()]
        rows.append(["answers not one expression", f"{self.unparseable_rate:.4f}"])
        shown = f", {self.examples} example pairs shown" if self.examples else ""
        common.table(console, f"execution prediction ({self.mode}): {self.model} on "
                     f"{self.dataset} ({self.n_problems} problems, n={self.n}{shown})",
                     ["metric", "value"], rows,
                     [f"run {self.run}; statuses {self.status_counts}"])


def execution(options: ExecutionOptions, run: RunOptions | None = None, *,
              executor: Executor | None = None) -> ExecutionResult:
    """One run of the model on the execution-prediction benchmark for the dataset and
    mode (pass@k for k = 1 and 5, whatever `run.grading.k` says)."""
    run = run or RunOptions()
    dataset, mode, examples = options.dataset, options.mode, options.examples
    name = BENCHMARK.get((dataset, mode))
    if name is None:
        raise UserError(f"study execution: --dataset mbpp|cruxeval, and --mode input only "
                        f"with cruxeval (not {dataset} {mode})")
    if examples not in (0, 2) or (examples and dataset != "mbpp"):
        raise UserError("--examples 2 (two other input/output pairs) is MBPP's setting; "
                        "give 0 or 2 with --dataset mbpp")
    more: dict[str, Any] = {"examples": examples} if dataset == "mbpp" else {}
    loaded = api.load_dataset(name, run.dataset.data, split=run.dataset.split, **more)
    n = run.generation.n
    k_values = tuple(k for k in (1, 5) if k <= n)
    result = api.run(options.model, loaded, run.with_changes(k=k_values), executor=executor)
    with ExitStack() as stack:
        counts = common.open_store(stack, run.grading.store).task_counts(result.run_id)
    n_arr = np.array([c[0] for c in counts.values()])
    c_arr = np.array([c[1] for c in counts.values()])
    accuracy = ci_ratio(c_arr, n_arr)
    intervals = summary_intervals(list(counts.values()), k_values)
    return ExecutionResult(
        options.model, name, mode, examples, n, len(counts), result.run_id, accuracy.estimate,
        accuracy.as_list(), {k: iv.estimate for k, iv in intervals["pass_at_k"].items()},
        {k: iv.as_list() for k, iv in intervals["pass_at_k"].items()},
        result.summary["status_counts"], result.summary["generation"]["unparseable_rate"])


STUDY = common.Study(
    help="predict a program's output (MBPP, CRUXEval-O) or an input (CRUXEval-I)",
    options=ExecutionOptions, main=execution,
    example="execeval study execution --model openai-chat:MODEL --dataset cruxeval --mode input",
    without=frozenset({"results", "problems_file", "challenge_tests", "beams", "params", "k"}))
