"""`execeval study scaling RUN=PARAMS ...`: how the MBPP paper's two metrics grow with
model size (Austin et al. 2021, figure 3).

Each point is a stored run and its model's parameter count (`RUN=1.5e9`, or a run made
with `execeval run --params`). The metrics are the paper's: `solved_by_any`, the share
of problems with at least one correct sample, and `fraction_correct`, the share of all
samples that are correct, both on the problems every run graded. Each is fitted by
least squares against log10(parameters); the slope's 95% interval is t-based with m-2
degrees of freedom (m points), and r^2 says how straight the line is.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from execeval.errors import UserError
from execeval.options import RunOptions, about
from execeval.studies import common

METRICS = ("solved_by_any", "fraction_correct")


@dataclass(frozen=True)
class ScalingOptions:
    """Stored runs on one dataset, each with its model's parameter count."""

    points: tuple[str, ...] = field(default=(), metadata=about(
        "a run and its model's parameter count (e.g. 1a2b3c=1.5e9), or a run made with "
        "--params", positional=True, nargs="+", metavar="RUN=PARAMS"))


@dataclass(frozen=True)
class Fit:
    """Least squares y = intercept + slope x; the slope's t interval (None for two points)."""

    slope: float
    slope_ci: list[float] | None
    intercept: float
    r2: float | None
    n_points: int
    df: int


@dataclass(frozen=True)
class Point:
    """One run on the shared problems."""

    run: str
    params: float
    log10_params: float
    solved_by_any: float
    fraction_correct: float
    n_samples: int


@dataclass(frozen=True)
class ScalingResult:
    dataset: str
    n_problems: int
    points: list[Point]
    fits: dict[str, Fit]  # per metric
    problems_left_out: int  # not graded by every run

    def to_json(self) -> dict[str, Any]:
        return {"study": "scaling", **dataclasses.asdict(self)}

    def render(self, console: Console) -> None:
        common.table(console, f"scaling on {self.dataset} ({self.n_problems} shared problems)",
                     ["run", "parameters", "log10", *METRICS],
                     [[p.run, f"{p.params:.3g}", f"{p.log10_params:.3f}",
                       f"{p.solved_by_any:.4f}", f"{p.fraction_correct:.4f}"]
                      for p in self.points],
                     [f"{self.problems_left_out} problems not graded by every run are left out"]
                     if self.problems_left_out else [])
        rows = []
        for name, f in self.fits.items():
            interval = f"[{f.slope_ci[0]:+.4f}, {f.slope_ci[1]:+.4f}]" if f.slope_ci else "-"
            r_squared = f"{f.r2:.3f}" if f.r2 is not None else "-"
            rows.append([name, f"{f.slope:+.4f}", interval, f"{f.intercept:+.4f}", r_squared])
        common.table(console, "least-squares fit against log10(parameters)",
                     ["metric", "slope / decade", "95% CI (t, m-2 df)", "intercept", "r^2"],
                     rows, ["two points give a slope but no interval"]
                     if self.fits["solved_by_any"].df == 0 else [])


def fit_line(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> Fit:
    """Least squares y = intercept + slope x, the slope's t interval and r^2."""
    m = len(x)
    if m < 2 or len(set(x)) < 2:
        raise UserError("a fit needs at least two different model sizes")
    mean_x, mean_y = sum(x) / m, sum(y) / m
    sxx = sum((a - mean_x) ** 2 for a in x)
    slope = sum((a - mean_x) * (b - mean_y) for a, b in zip(x, y, strict=True)) / sxx
    intercept = mean_y - slope * mean_x
    ssr = sum((b - intercept - slope * a) ** 2 for a, b in zip(x, y, strict=True))
    sst = sum((b - mean_y) ** 2 for b in y)
    slope_ci = None
    if m > 2:
        half = common.t_quantile((1 + level) / 2, m - 2) * math.sqrt(ssr / (m - 2) / sxx)
        slope_ci = [slope - half, slope + half]
    return Fit(slope, slope_ci, intercept, 1 - ssr / sst if sst > 0 else None, m, m - 2)


def parse_point(text: str) -> tuple[str, float | None]:
    run, sep, params = text.partition("=")
    if not sep:
        return run, None
    try:
        value = float(params)
    except ValueError:
        raise UserError(f"{text!r}: expected RUN=PARAMS with a number (e.g. 1a2b=1.5e9)") from None
    if value <= 0:
        raise UserError(f"{text!r}: the parameter count must be positive")
    return run, value


def scaling(options: ScalingOptions, run: RunOptions | None = None) -> ScalingResult:
    """Points are "RUN=PARAMS" or "RUN" (the run's recorded --params); runs are read from
    `run.grading.store`."""
    if len(options.points) < 2:
        raise UserError("a fit needs at least two runs (RUN=PARAMS ...)")
    with ExitStack() as stack:
        store = common.open_store(stack, (run or RunOptions()).grading.store, read_only=True)
        runs, counts = [], []
        for run_id, params in map(parse_point, options.points):
            stored = store.run(run_id)
            params = params if params is not None else stored["config"].get("params")
            if params is None:
                raise UserError(f"run {stored['run_id']}: no parameter count; give it as "
                                f"{stored['run_id']}=PARAMS (or make the run with --params)")
            runs.append((stored, float(params)))
            counts.append(store.task_counts(stored["run_id"]))
    datasets = {r["dataset"] for r, _ in runs}
    if len(datasets) > 1:
        raise UserError(f"the runs are on different datasets ({', '.join(sorted(datasets))})")
    shared = [t for t in counts[0] if all(t in c for c in counts)]
    if not shared:
        raise UserError("the runs share no graded problems")
    points = []
    for (stored, params), c in zip(runs, counts, strict=True):
        n = sum(c[t][0] for t in shared)
        points.append(Point(stored["run_id"], params, math.log10(params),
                            sum(c[t][1] > 0 for t in shared) / len(shared),
                            sum(c[t][1] for t in shared) / n, n))
    x = [p.log10_params for p in points]
    fits = {m: fit_line(x, [getattr(p, m) for p in points]) for m in METRICS}
    left = {t for c in counts for t in c} - set(shared)
    return ScalingResult(datasets.pop(), len(shared), points, fits, len(left))


STUDY = common.Study(
    help="fit metrics against log10(parameters)", options=ScalingOptions, main=scaling,
    example="execeval study scaling 1a2b3c=1.5e8 4d5e6f=1.5e9 7a8b9c=1.5e10",
    without=frozenset({"workers", "executor"}))
