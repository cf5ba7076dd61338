"""What the studies share: stored runs and their datasets, derived gradings, the output.

A study never grades outside an Executor. Where it needs verdicts a run does not have
(a prompt's example tests, programs on fresh inputs, a reference's outputs), it builds
derived problems and grades them as a run of its own kind ("study-examples",
"study-overfit", "export-mbpp-train"): recorded in the store like any run (listed by
`execeval runs`, resumable), its verdicts content-addressed, so asking again costs
nothing.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from execeval.api import open_executor as open_executor  # as the API opens them
from execeval.api import open_store as open_store
from execeval.errors import UserError
from execeval.executor import Executor
from execeval.problems.model import Dataset, Problem
from execeval.sandbox import Limits
from execeval.stats import _t_quantile
from execeval.store import Store, default_path
from execeval.verdict import Verdict

StoreArg = Store | str | Path | None


def t_quantile(q: float, df: int) -> float:
    """Student t quantile (stats' exact one), for intervals on fitted slopes."""
    if not 0.5 < q < 1 or df < 1:
        raise ValueError("t_quantile needs 0.5 < q < 1 and df >= 1")
    return _t_quantile(q, df)


def series_ks(n: int) -> list[int]:
    """1, 2, 5, 10, 20, 50, ... up to n: the ks a study shows by default."""
    out, scale = [], 1
    while scale <= n:
        out += [k for k in (scale, 2 * scale, 5 * scale) if k <= n]
        scale *= 10
    return out


def store_arg(args: argparse.Namespace) -> Path:
    return Path(args.store) if getattr(args, "store", None) else default_path()


def dataset_of_run(run: dict[str, Any], data: str | Path | None = None,
                   dataset: Dataset | None = None) -> Dataset:
    """The problems a stored run was graded on: `dataset` when given, else loaded again
    by name (from `data`, the package or the hub, with the split its version records),
    and refused unless its content hash is the run's."""
    from execeval.api import load_dataset

    if dataset is None:
        name, version = run["dataset"], run["dataset_version"]
        split = re.search(r" split=(\S+)", version)
        try:
            if name.startswith("file:"):
                if not data:
                    raise UserError(f"the run's problems came from a file ({name[5:]})")
                dataset = load_dataset(None, problems_file=data)
            else:
                dataset = load_dataset(name, data=data, split=split[1] if split else None,
                                       challenge_tests="+challenge" in version)
        except UserError as e:
            raise UserError(f"run {run['run_id']}: cannot load its dataset {name} again ({e}); "
                            "give the file it was run on (--data PATH)") from None
    if dataset.hash != run["dataset_hash"]:
        raise UserError(f"run {run['run_id']} was graded on other problems than {dataset.name} "
                        f"{dataset.version} (dataset hash {run['dataset_hash'][:12]} vs "
                        f"{dataset.hash[:12]}); give the file it was run on (--data PATH)")
    return dataset


def run_limits(run: dict[str, Any]) -> Limits:
    """The limits the run graded under, so derived verdicts are comparable (and MBPP's
    shown tests, which are its tests, reuse the run's verdicts)."""
    return Limits(**run["config"].get("limits", {}))


@dataclass(frozen=True)
class Job:
    """One program to grade against a derived problem; `row` is what the store keeps."""

    problem: Problem
    program: str
    row: dict[str, Any]


def grade_jobs(kind: str, source: str, jobs: Sequence[Job], store: Store,
               executor: Executor, config: dict[str, Any]) -> tuple[str, list[Verdict]]:
    """Grade `jobs` as one stored run of `kind` (id from the jobs themselves, so the same
    request resumes or reuses it); the verdicts in the jobs' order."""
    from execeval import grading
    from execeval.samples import Sample

    problems: dict[str, Problem] = {}
    for j in jobs:
        if problems.setdefault(j.problem.task_id, j.problem).hash != j.problem.hash:
            raise ValueError(f"{kind}: two derived problems for {j.problem.task_id}")
    dataset = Dataset(name=f"{kind}:{source}", version=kind, problems=problems)
    rows = [{**j.row, "task_id": j.problem.task_id, "solution": j.program} for j in jobs]
    samples = [Sample(i + 1, j.problem.task_id, j.program, r)
               for i, (j, r) in enumerate(zip(jobs, rows, strict=True))]
    config = {**grading.base_config(executor.limits, (1,)), **config, "source": source}
    digest = [[r["task_id"], r["solution"]] for r in rows]
    run_id = grading.run_id_of(kind, dataset, config, digest)
    if jobs:
        grading.evaluate(dataset, iter(samples), len(samples), store, executor, ks=(1,),
                         run_id=run_id, kind=kind, config=config)
    verdicts = [s.verdict for s in store.samples(run_id)] if jobs else []
    if any(v is None for v in verdicts):
        raise RuntimeError(f"{kind} run {run_id}: a program was left ungraded")
    return run_id, [v for v in verdicts if v is not None]


def fmt_ci(value: float, ci: Sequence[float] | None) -> str:
    return f"{value:.4f} [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else f"{value:.4f}"


def table(title: str, columns: Iterable[str], rows: Iterable[Sequence[str]],
          notes: Iterable[str] = ()) -> None:
    """A study's rich table on stdout, then its notes."""
    console = Console(highlight=False)
    t = Table(*columns, title=title)
    for row in rows:
        t.add_row(*row)
    console.print(t)
    for note in notes:
        console.print(f"note: {note}")


def finish(args: argparse.Namespace, payload: dict[str, Any],
           render: Callable[[dict[str, Any]], None]) -> int:
    """The table, then (with --json) the payload as the last line of stdout."""
    render(payload)
    if getattr(args, "json", False):
        print(json.dumps(payload))
    return 0


def refuse_results(args: argparse.Namespace) -> None:
    if getattr(args, "results", None):
        raise UserError("--results: a study makes several runs; write a run's results with "
                        "`execeval export RUN` instead")


def run_options(args: argparse.Namespace) -> dict[str, Any]:
    """`execeval run`'s options from a study's arguments (the same flags), for api.run."""
    return {
        "data": args.data, "split": args.split, "challenge_tests": args.challenge_tests,
        "problems": args.problems, "tasks": args.tasks, "limit": args.limit,
        "top_p": args.top_p, "max_tokens": args.max_tokens,
        "stop": () if args.no_stop else (tuple(args.stop) if args.stop else None),
        "seed": args.seed, "prompt_style": args.prompt_style, "shots": args.shots,
        "concurrency": args.concurrency, "request_timeout": args.request_timeout,
        "retries": args.retries, "batch_size": args.batch_size, "params": args.params,
        "beams": args.beams, "k": args.k, "timeout": args.timeout, "memory_mb": args.memory,
        "workers": args.workers, "store": store_arg(args), "executor": args.executor,
    }
