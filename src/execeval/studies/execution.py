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

import argparse
from contextlib import ExitStack
from typing import Any

import numpy as np

from execeval.errors import UserError
from execeval.stats import ci_ratio, summary_intervals
from execeval.studies import common

BENCHMARK = {("cruxeval", "output"): "cruxeval-o", ("cruxeval", "input"): "cruxeval-i",
             ("mbpp", "output"): "mbpp-execution"}


def execution(model: str, dataset: str = "cruxeval", *, mode: str = "output",
              examples: int = 0, n: int = 1, **run_options: Any) -> dict[str, Any]:
    """One run of `model` on the execution-prediction benchmark for `dataset` and `mode`."""
    import execeval
    from execeval.benchmark import load_dataset

    name = BENCHMARK.get((dataset, mode))
    if name is None:
        raise UserError(f"study execution: --dataset mbpp|cruxeval, and --mode input only "
                        f"with cruxeval (not {dataset} {mode})")
    if examples not in (0, 2) or (examples and dataset != "mbpp"):
        raise UserError("--examples 2 (two other input/output pairs) is MBPP's setting; "
                        "give 0 or 2 with --dataset mbpp")
    options = {"examples": examples} if dataset == "mbpp" else {}
    ds = load_dataset(name, run_options.pop("data", None), split=run_options.pop("split", None),
                      **options)
    run_options.pop("challenge_tests", None)
    ks = [k for k in (1, 5) if k <= n]
    result = execeval.run(model, ds, n=n, **{**run_options, "k": ks})
    with ExitStack() as stack:
        counts = common.open_store(stack, run_options.get("store")).task_counts(result.run_id)
    n_arr = np.array([c[0] for c in counts.values()])
    c_arr = np.array([c[1] for c in counts.values()])
    accuracy = ci_ratio(c_arr, n_arr)
    intervals = summary_intervals(list(counts.values()), ks)
    return {"study": "execution", "model": model, "dataset": name, "mode": mode,
            "examples": examples, "n": n, "n_problems": len(counts), "run": result.run_id,
            "accuracy": accuracy.estimate, "accuracy_ci": accuracy.as_list(),
            "pass_at_k": {k: iv.estimate for k, iv in intervals["pass_at_k"].items()},
            "pass_at_k_ci": {k: iv.as_list() for k, iv in intervals["pass_at_k"].items()},
            "status_counts": result.summary["status_counts"],
            "unparseable_rate": result.summary["generation"]["unparseable_rate"]}


def render(r: dict[str, Any]) -> None:
    rows = [["accuracy", common.fmt_ci(r["accuracy"], r["accuracy_ci"])]]
    rows += [[f"pass@{k}", common.fmt_ci(v, r["pass_at_k_ci"][k])]
             for k, v in r["pass_at_k"].items()]
    rows.append(["answers not one expression", f"{r['unparseable_rate']:.4f}"])
    shown = f", {r['examples']} example pairs shown" if r["examples"] else ""
    common.table(f"execution prediction ({r['mode']}): {r['model']} on {r['dataset']} "
                 f"({r['n_problems']} problems, n={r['n']}{shown})", ["metric", "value"], rows,
                 [f"run {r['run']}; statuses {r['status_counts']}"])


def cmd(args: argparse.Namespace) -> int:
    common.refuse_results(args)
    options = common.run_options(args)
    for unused in ("problems", "beams", "params", "k"):
        options.pop(unused)
    result = execution(args.model, args.dataset, mode=args.mode, examples=args.examples,
                       n=args.n, **options)
    return common.finish(args, result, render)
