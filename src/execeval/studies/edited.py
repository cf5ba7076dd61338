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

import argparse
from contextlib import ExitStack
from typing import Any

from execeval.errors import UserError
from execeval.stats import paired_difference
from execeval.studies import common

METRICS = ("solved_by_any", "pass_at_1")


def edited(model: str, *, n: int = 1, data: str | None = None,
           sanitized_data: str | None = None, split: str | None = None,
           tasks: str | None = None, limit: int | None = None,
           **run_options: Any) -> dict[str, Any]:
    """Two runs (original and edited descriptions) on their shared tasks, compared."""
    import execeval
    from execeval.api import load_dataset, select_tasks

    original = load_dataset("mbpp", data=data, split=split)
    sanitized = load_dataset("mbpp-sanitized", data=sanitized_data, split=split)
    chosen = [t for t in select_tasks(sanitized, tasks, None) if t in original.problems]
    chosen = chosen[:limit] if limit else chosen
    if not chosen:
        raise UserError("no task of the split is in both the original and the sanitized file")
    runs = {name: execeval.run(model, ds, tasks=chosen, n=n, **run_options).run_id
            for name, ds in (("original", original), ("edited", sanitized))}
    with ExitStack() as stack:
        st = common.open_store(stack, run_options.get("store"))
        counts = {name: st.task_counts(run_id) for name, run_id in runs.items()}
    shared = [t for t in chosen if all(t in c for c in counts.values())]
    values = {name: {"solved_by_any": [float(c[t][1] > 0) for t in shared],
                     "pass_at_1": [c[t][1] / c[t][0] for t in shared]}
              for name, c in counts.items()}
    metrics = {}
    for m in METRICS:
        a, b = values["edited"][m], values["original"][m]
        diff = paired_difference(a, b)
        metrics[m] = {"original": sum(b) / len(b), "edited": sum(a) / len(a),
                      "difference": diff.difference, "ci": [diff.low, diff.high],
                      "p_value": diff.p_value, "edited_better": diff.a_better,
                      "original_better": diff.b_better, "tied": diff.tied}
    text = [t for t in shared if original.problems[t].metadata["text"]
            != sanitized.problems[t].metadata["text"]]
    tests = [t for t in shared if original.problems[t].metadata["tests_shown"]
             != sanitized.problems[t].metadata["tests_shown"]]
    return {"study": "edited", "model": model, "n": n, "runs": runs, "n_tasks": len(shared),
            "n_text_changed": len(text), "n_tests_changed": len(tests), "metrics": metrics}


def render(r: dict[str, Any]) -> None:
    rows = [[m, f"{v['original']:.4f}", f"{v['edited']:.4f}",
             f"{v['difference']:+.4f} [{v['ci'][0]:+.4f}, {v['ci'][1]:+.4f}]",
             f"{v['p_value']:.3g}", f"{v['edited_better']} / {v['original_better']} / {v['tied']}"]
            for m, v in r["metrics"].items()]
    common.table(f"original vs edited MBPP descriptions: {r['model']}, {r['n_tasks']} tasks, "
                 f"n={r['n']}", ["metric", "original", "edited", "edited - original [95% CI]",
                                 "p (sign-flip)", "edited/original better/tied"], rows,
                 [f"{r['n_text_changed']} tasks have an edited description, "
                  f"{r['n_tests_changed']} edited shown tests",
                  f"runs: original {r['runs']['original']}, edited {r['runs']['edited']}"])


def cmd(args: argparse.Namespace) -> int:
    common.refuse_results(args)
    if args.dataset not in ("mbpp", "humaneval"):  # humaneval: the flag's default, unset
        raise UserError("study edited compares MBPP with its sanitized edition: --dataset mbpp")
    if args.challenge_tests or args.problems:
        raise UserError("study edited: the sanitized tasks have no challenge tests and no "
                        "problem file; leave out --challenge-tests and --problems")
    options = common.run_options(args)
    for name in ("data", "split", "challenge_tests", "problems", "tasks", "limit"):
        options.pop(name)
    result = edited(args.model, n=args.n, data=args.data, sanitized_data=args.sanitized_data,
                    split=args.split, tasks=args.tasks, limit=args.limit,
                    temperature=args.temperature, **options)
    return common.finish(args, result, render)
