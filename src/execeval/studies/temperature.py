"""`execeval study temperature`: which sampling temperature is best for each k?

Chen et al. (2021, figure 5) found the best temperature rising with k: 0.2 for pass@1,
0.8 for pass@100, because more diverse samples help more the more of them one may
submit. This study makes one ordinary run per temperature (`api.run`, so a run already
in the store is reused, and generations and verdicts are cached), estimates pass@k for
every k up to n on the same problems with its interval over problems, and names the best
temperature per k together with the temperatures a paired comparison on the same
problems cannot tell from it (their interval for "best minus this" holds 0).
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from execeval import api
from execeval.errors import UserError
from execeval.executor import Executor
from execeval.options import RunOptions, about
from execeval.stats import ci_mean, paired_difference, pass_at_k_matrix
from execeval.studies import common


@dataclass(frozen=True)
class TemperatureOptions(common.OnModel):
    """The temperatures to compare: one run each, with the other run options."""

    temperatures: tuple[float, ...] = field(default=(0.2, 0.4, 0.6, 0.8, 1.0), metadata=about(
        "comma-separated temperatures (default 0.2,0.4,0.6,0.8,1.0)"))


@dataclass(frozen=True)
class TemperatureResult:
    """Per temperature (keys: str(T)) and per k (keys: str(k)), for k = 1 .. n."""

    model: str
    dataset: str
    n: int
    n_problems: int
    runs: dict[str, str]
    pass_at_k: dict[str, dict[str, float]]
    intervals: dict[str, dict[str, list[float]]]
    best_temperature: dict[str, float]
    not_worse: dict[str, list[float]]  # the best and those it cannot be told from

    def to_json(self) -> dict[str, Any]:
        return {"study": "temperature", **dataclasses.asdict(self)}

    def render(self, console: Console) -> None:
        temps = list(self.pass_at_k)
        rows = []
        for k in map(str, sorted(set(common.series_ks(self.n)) | {self.n})):
            cells = [common.fmt_ci(self.pass_at_k[t][k], self.intervals[t][k]) for t in temps]
            alike = [f"{t:g}" for t in self.not_worse[k] if t != self.best_temperature[k]]
            rows.append([k, *cells, f"{self.best_temperature[k]:g}"
                         + (f" (~ {', '.join(alike)})" if alike else "")])
        notes = [f"runs: {', '.join(f'T={t}: {i}' for t, i in self.runs.items())}",
                 "~ : temperatures whose paired difference from the best holds 0 (95%)"]
        common.table(console, f"pass@k by temperature: {self.model} on {self.dataset} "
                      f"({self.n_problems} problems, n={self.n})",
                      ["k", *[f"T={t}" for t in temps], "best T"], rows, notes)


def temperature(options: TemperatureOptions, run: RunOptions | None = None, *,
                executor: Executor | None = None) -> TemperatureResult:
    """One run per temperature (with `run`'s other options), then pass@k per k."""
    run = run or RunOptions()
    temperatures = sorted(set(options.temperatures))
    if not temperatures or min(temperatures) < 0:
        raise UserError("--temperatures: give one or more temperatures >= 0")
    runs = {str(float(t)): api.run(options.model, options.dataset,
                                   run.with_changes(temperature=float(t)),
                                   executor=executor).run_id for t in temperatures}
    with ExitStack() as stack:
        store = common.open_store(stack, run.grading.store)
        counts = {t: store.task_counts(run_id) for t, run_id in runs.items()}
        ds_name = store.run(next(iter(runs.values())))["dataset"]
    tasks = [t for t in next(iter(counts.values())) if all(t in c for c in counts.values())]
    if not tasks:
        raise UserError("the temperature runs share no graded problems")
    n_min = min(c[t][0] for c in counts.values() for t in tasks)
    k_values = list(range(1, n_min + 1))
    per_problem = {t: pass_at_k_matrix([c[x][0] for x in tasks], [c[x][1] for x in tasks],
                                       k_values)
                   for t, c in counts.items()}
    estimates = {t: {str(k): float(m[:, j].mean()) for j, k in enumerate(k_values)}
                 for t, m in per_problem.items()}
    intervals = {t: {str(k): ci_mean(m[:, j]).as_list() for j, k in enumerate(k_values)}
                 for t, m in per_problem.items()}
    best: dict[str, float] = {}
    not_worse: dict[str, list[float]] = {}
    for j, k in enumerate(k_values):
        top = max(estimates, key=lambda t: (estimates[t][str(k)], -float(t)))
        best[str(k)] = float(top)
        not_worse[str(k)] = [float(t) for t in estimates if t == top or paired_difference(
            per_problem[top][:, j], per_problem[t][:, j]).low <= 0]
    return TemperatureResult(options.model, ds_name, n_min, len(tasks), runs, estimates,
                             intervals, best, not_worse)


STUDY = common.Study(
    help="one run per temperature; the best per k", options=TemperatureOptions,
    main=temperature, example="execeval study temperature --model fake:planted --n 20",
    without=frozenset({"temperature", "results"}))
