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

import argparse
from typing import Any

from execeval.errors import UserError
from execeval.problems.model import Dataset
from execeval.studies import common
from execeval.studies.prompts import load_targets, paired, per_task, run_variant, scores, variant


def parse_shown(text: str) -> list[int]:
    try:
        values = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise UserError(f"--shown takes counts like 0,1,3, not {text!r}") from None
    if not values or min(values) < 0:
        raise UserError("--shown: give one or more counts >= 0")
    return values


def tests_in_prompt(model: str, dataset: str | Dataset = "mbpp", *,
                    shown: list[int] | tuple[int, ...] = (0, 1, 3), shots: int = 3, n: int = 1,
                    **run_options: Any) -> dict[str, Any]:
    """One run per count of shown asserts (the paper's exemplars), compared by task."""
    ds, chosen = load_targets(dataset, run_options.get("data"), run_options.get("split"),
                              bool(run_options.get("challenge_tests")),
                              run_options.get("tasks") or run_options.get("problems"),
                              run_options.get("limit"))
    examples = list(ds.problems[chosen[0]].metadata.get("mbpp_shots", []))[:shots]
    if len(examples) < shots:
        raise UserError(f"--shots {shots}: the file has {len(examples)} of the paper's shots")
    runs, counts = {}, {}
    for m in shown:
        v = variant(ds, chosen, examples, shown=m, tag=f"shown={m}")
        runs[str(m)], counts[str(m)] = run_variant(model, v, n, shots, run_options)
    tasks = [t for t in chosen if all(t in c for c in counts.values())]
    if not tasks:
        raise UserError("the runs share no graded task")
    results = {m: scores(c, tasks) for m, c in counts.items()}
    base = str(min(shown))
    differences = {f"{m}-{base}": paired(per_task(counts[m], tasks),
                                         per_task(counts[base], tasks))
                   for m in counts if m != base}
    return {"study": "tests-in-prompt", "model": model, "dataset": ds.name, "n": n,
            "shots": shots, "n_tasks": len(tasks), "runs": runs, "results": results,
            "differences": differences}


def render(r: dict[str, Any]) -> None:
    rows = [[m, common.fmt_ci(v["solved"], v["solved_ci"]),
             common.fmt_ci(v["pass_at_1"], v["pass_at_1_ci"])] for m, v in r["results"].items()]
    notes = [f"pass@1 {k}: {d['difference']:+.4f} [{d['ci'][0]:+.4f}, {d['ci'][1]:+.4f}] "
             f"paired, p {d['p_value']:.3g}" for k, d in r["differences"].items()]
    common.table(f"asserts shown in the prompt: {r['model']} on {r['dataset']} "
                 f"({r['n_tasks']} tasks, n={r['n']}, {r['shots']} exemplars; graded on all "
                 "tests)", ["shown", "solved", "pass@1"], rows,
                 [*notes, f"runs: {', '.join(f'{m}: {i}' for m, i in r['runs'].items())}"])


def cmd(args: argparse.Namespace) -> int:
    common.refuse_results(args)
    options = common.run_options(args)
    shots = options.pop("shots")
    result = tests_in_prompt(args.model, args.dataset, shown=parse_shown(args.shown),
                             shots=3 if shots is None else shots, n=args.n,
                             temperature=args.temperature, **options)
    return common.finish(args, result, render)
