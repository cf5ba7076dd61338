"""`execeval study temperature`: which sampling temperature is best for each k?

Chen et al. (2021, figure 5) found the best temperature rising with k: 0.2 for pass@1,
0.8 for pass@100, because more diverse samples help more the more of them one may
submit. This study makes one ordinary run per temperature (`execeval.run`, so a run
already in the store is reused, and generations and verdicts are cached), estimates
pass@k for every k up to n on the same problems with its interval over problems, and
names the best temperature per k together with the temperatures a paired comparison on
the same problems cannot tell from it (their interval for "best minus this" holds 0).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

from execeval.errors import UserError
from execeval.problems.model import Dataset
from execeval.stats import ci_mean, paired_difference, pass_at_k_matrix
from execeval.studies import common


def parse_temperatures(text: str) -> list[float]:
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise UserError(f"--temperatures takes numbers like 0.2,0.8, not {text!r}") from None
    if not values or min(values) < 0:
        raise UserError("--temperatures: give one or more temperatures >= 0")
    return sorted(set(values))


def temperature(model: str, dataset: str | Dataset = "humaneval", *,
                temperatures: Sequence[float], n: int, **run_options: Any) -> dict[str, Any]:
    """One run per temperature (api.run's options pass through), then pass@k per k."""
    import execeval

    runs = {str(float(t)): execeval.run(model, dataset, n=n, temperature=float(t),
                                        **run_options).run_id for t in temperatures}
    with ExitStack() as stack:
        st = common.open_store(stack, run_options.get("store"))
        counts = {t: st.task_counts(run_id) for t, run_id in runs.items()}
        ds_name = st.run(next(iter(runs.values())))["dataset"]
    tasks = [t for t in next(iter(counts.values())) if all(t in c for c in counts.values())]
    if not tasks:
        raise UserError("the temperature runs share no graded problems")
    n_min = min(c[t][0] for c in counts.values() for t in tasks)
    ks = list(range(1, n_min + 1))
    per_problem = {t: pass_at_k_matrix([c[x][0] for x in tasks], [c[x][1] for x in tasks], ks)
                   for t, c in counts.items()}
    estimates = {t: {str(k): float(m[:, j].mean()) for j, k in enumerate(ks)}
                 for t, m in per_problem.items()}
    intervals = {t: {str(k): ci_mean(m[:, j]).as_list() for j, k in enumerate(ks)}
                 for t, m in per_problem.items()}
    best: dict[str, float] = {}
    not_worse: dict[str, list[float]] = {}
    for j, k in enumerate(ks):
        top = max(estimates, key=lambda t: (estimates[t][str(k)], -float(t)))
        best[str(k)] = float(top)
        not_worse[str(k)] = [float(t) for t in estimates if t == top or paired_difference(
            per_problem[top][:, j], per_problem[t][:, j]).low <= 0]
    return {"study": "temperature", "model": model, "dataset": ds_name,
            "n": n_min, "n_problems": len(tasks), "runs": runs, "pass_at_k": estimates,
            "intervals": intervals, "best_temperature": best, "not_worse": not_worse}


def render(r: dict[str, Any]) -> None:
    temps = list(r["pass_at_k"])
    shown = sorted(set(common.series_ks(r["n"])) | {r["n"]})
    rows = []
    for k in map(str, shown):
        cells = [common.fmt_ci(r["pass_at_k"][t][k], r["intervals"][t][k]) for t in temps]
        alike = [f"{t:g}" for t in r["not_worse"][k] if t != r["best_temperature"][k]]
        rows.append([k, *cells, f"{r['best_temperature'][k]:g}"
                     + (f" (~ {', '.join(alike)})" if alike else "")])
    notes = [f"runs: {', '.join(f'T={t}: {i}' for t, i in r['runs'].items())}",
             "~ : temperatures whose paired difference from the best holds 0 (95%)"]
    common.table(f"pass@k by temperature: {r['model']} on {r['dataset']} ({r['n_problems']} "
                 f"problems, n={r['n']})", ["k", *[f"T={t}" for t in temps], "best T"],
                 rows, notes)


def cmd(args: argparse.Namespace) -> int:
    common.refuse_results(args)
    if args.temperature is not None:
        raise UserError("study temperature: use --temperatures (a list), not --temperature")
    result = temperature(args.model, args.dataset, n=args.n,
                         temperatures=parse_temperatures(args.temperatures),
                         **common.run_options(args))
    return common.finish(args, result, render)
