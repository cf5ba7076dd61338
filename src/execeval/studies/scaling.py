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

import argparse
import math
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

from execeval.errors import UserError
from execeval.studies import common

METRICS = ("solved_by_any", "fraction_correct")


def fit_line(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> dict[str, Any]:
    """Least squares y = intercept + slope x, the slope's t interval and r^2."""
    m = len(x)
    if m < 2 or len(set(x)) < 2:
        raise UserError("a fit needs at least two different model sizes")
    mx, my = sum(x) / m, sum(y) / m
    sxx = sum((a - mx) ** 2 for a in x)
    slope = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / sxx
    intercept = my - slope * mx
    ssr = sum((b - intercept - slope * a) ** 2 for a, b in zip(x, y, strict=True))
    sst = sum((b - my) ** 2 for b in y)
    ci = None
    if m > 2:
        half = common.t_quantile((1 + level) / 2, m - 2) * math.sqrt(ssr / (m - 2) / sxx)
        ci = [slope - half, slope + half]
    return {"slope": slope, "slope_ci": ci, "intercept": intercept,
            "r2": 1 - ssr / sst if sst > 0 else None, "n_points": m, "df": m - 2}


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


def scaling(points: Sequence[str | tuple[str, float | None]], *,
            store: common.StoreArg = None) -> dict[str, Any]:
    """Points are "RUN=PARAMS", "RUN" (the run's recorded --params) or (run, params)."""
    parsed = [parse_point(p) if isinstance(p, str) else p for p in points]
    with ExitStack() as stack:
        st = common.open_store(stack, store)
        runs, counts = [], []
        for run_id, params in parsed:
            run = st.run(run_id)
            params = params if params is not None else run["config"].get("params")
            if params is None:
                raise UserError(f"run {run['run_id']}: no parameter count; give it as "
                                f"{run['run_id']}=PARAMS (or make the run with --params)")
            runs.append((run, float(params)))
            counts.append(st.task_counts(run["run_id"]))
    datasets = {r["dataset"] for r, _ in runs}
    if len(datasets) > 1:
        raise UserError(f"the runs are on different datasets ({', '.join(sorted(datasets))})")
    shared = [t for t in counts[0] if all(t in c for c in counts)]
    if not shared:
        raise UserError("the runs share no graded problems")
    out_points = []
    for (run, params), c in zip(runs, counts, strict=True):
        n = sum(c[t][0] for t in shared)
        out_points.append({
            "run": run["run_id"], "params": params, "log10_params": math.log10(params),
            "solved_by_any": sum(c[t][1] > 0 for t in shared) / len(shared),
            "fraction_correct": sum(c[t][1] for t in shared) / n, "n_samples": n})
    x = [p["log10_params"] for p in out_points]
    fits = {m: fit_line(x, [p[m] for p in out_points]) for m in METRICS}
    left = sorted({t for c in counts for t in c} - set(shared))
    return {"study": "scaling", "dataset": datasets.pop(), "n_problems": len(shared),
            "points": out_points, "fits": fits, "problems_left_out": len(left)}


def render(r: dict[str, Any]) -> None:
    common.table(f"scaling on {r['dataset']} ({r['n_problems']} shared problems)",
                 ["run", "parameters", "log10", *METRICS],
                 [[p["run"], f"{p['params']:.3g}", f"{p['log10_params']:.3f}",
                   f"{p['solved_by_any']:.4f}", f"{p['fraction_correct']:.4f}"]
                  for p in r["points"]],
                 [f"{r['problems_left_out']} problems not graded by every run are left out"]
                 if r["problems_left_out"] else [])
    rows = []
    for name, f in r["fits"].items():
        ci = f"[{f['slope_ci'][0]:+.4f}, {f['slope_ci'][1]:+.4f}]" if f["slope_ci"] else "-"
        r2 = f"{f['r2']:.3f}" if f["r2"] is not None else "-"
        rows.append([name, f"{f['slope']:+.4f}", ci, f"{f['intercept']:+.4f}", r2])
    common.table("least-squares fit against log10(parameters)",
                 ["metric", "slope / decade", "95% CI (t, m-2 df)", "intercept", "r^2"], rows,
                 ["two points give a slope but no interval"] if r["fits"]["solved_by_any"]["df"]
                 == 0 else [])


def cmd(args: argparse.Namespace) -> int:
    return common.finish(args, scaling(args.points, store=common.store_arg(args)), render)
