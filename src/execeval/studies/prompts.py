"""`execeval study prompts`: how much does the choice of few-shot examples matter?

Austin et al. (2021, section 4.4) prompted MBPP with 15 different sets of examples drawn
at random and found large swings: a prompt's choice of exemplars moved the share of tasks
solved by several points, and counting a task as solved when any prompt solves it (an
ensemble of prompts) solved many more. This study draws `prompts` sets of `shots`
exemplars (seeded, recorded) from MBPP's prompt split (tasks 1-10) and, with
`from_train`, its training split; each set makes the paper's prompt (prompts/mbpp.build)
for every target task, and one ordinary stored run (the prompt text is part of each
generation's address, so a prompt's samples are its own and are reused). Per prompt: the
share of tasks solved by any sample and pass@1, with intervals over tasks; the spread;
best minus worst, paired by task; and the ensemble's solved share.

The helpers here (`load_targets`, `variant`, `scores`) are shared by the other prompt
studies (tests_in_prompt, misalignment).
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

import numpy as np

from execeval.errors import UserError
from execeval.problems.model import Dataset, Problem
from execeval.prompts import mbpp as mbpp_prompt
from execeval.stats import ci_mean, ci_ratio, paired_difference
from execeval.studies import common

Exemplar = dict[str, Any]  # {"task", "text", "tests", "code"}


def exemplar(problem: Problem, code: str | None = None,
             tests: Sequence[str] | None = None) -> Exemplar:
    """A solved example as prompts/mbpp.build takes it (its task id kept for the record)."""
    meta = problem.metadata
    return {"task": problem.task_id, "text": meta["text"],
            "tests": list(meta["tests_shown"] if tests is None else tests),
            "code": problem.reference if code is None else code}


def load_targets(dataset: str | Dataset, data: Any = None, split: str | None = None,
                 challenge_tests: bool = False, tasks: Any = None,
                 limit: int | None = None) -> tuple[Dataset, list[str]]:
    """The MBPP dataset and the chosen target tasks (refusing other benchmarks: the
    prompts are MBPP's format)."""
    from execeval.api import load_dataset, select_tasks

    ds = load_dataset(dataset, data=data, split=split, challenge_tests=challenge_tests)
    if ds.benchmark not in ("mbpp", "mbpp-sanitized"):
        raise UserError(f"the prompt studies vary MBPP's few-shot prompt: --dataset mbpp "
                        f"(not {ds.name})")
    chosen = select_tasks(ds, tasks, limit)
    if not chosen:
        raise UserError("no target tasks")
    return ds, chosen


def pool(name: str, data: Any, splits: Sequence[str]) -> list[Problem]:
    """MBPP tasks exemplars may be drawn from, in task order."""
    from execeval.api import load_dataset

    return [p for s in splits for p in load_dataset(name, data=data, split=s).problems.values()]


def variant(ds: Dataset, task_ids: Sequence[str], examples: Sequence[Exemplar],
            shown: int | None = None, tag: str = "") -> Dataset:
    """The target tasks with `examples` as their solved examples and the first `shown` of
    their asserts shown (None: all, as published). The problem's prompt is the variant's
    text, so each variant has its own dataset hash, run and generations; the tests that
    grade it are unchanged."""
    problems = {}
    for t in task_ids:
        p = ds.problems[t]
        tests = list(p.metadata["tests_shown"])
        meta = {**p.metadata, "mbpp_shots": [dict(e) for e in examples],
                "tests_shown": tests if shown is None else tests[:shown]}
        text = mbpp_prompt.build(meta["text"], meta["tests_shown"], meta["mbpp_shots"])
        problems[t] = replace(p, prompt=text, metadata=meta)
    return replace(ds, problems=problems, version=f"{ds.version} {tag}".rstrip())


def run_variant(model: str, ds: Dataset, n: int, shots: int,
                run_options: dict[str, Any]) -> tuple[str, dict[str, tuple[int, int]]]:
    """One ordinary run of a variant, and its (n, c) per task."""
    import execeval

    options = {k: v for k, v in run_options.items()
               if k not in ("data", "split", "challenge_tests", "problems", "tasks", "limit",
                            "shots")}
    result = execeval.run(model, ds, n=n, shots=shots, **options)
    with ExitStack() as stack:
        counts = common.open_store(stack, run_options.get("store")).task_counts(result.run_id)
    return result.run_id, counts


def scores(counts: dict[str, tuple[int, int]], tasks: Sequence[str]) -> dict[str, Any]:
    """Solved share (any sample passes) and pass@1 (pooled share of passing samples), with
    95% intervals over tasks."""
    n = np.array([counts[t][0] for t in tasks], dtype=float)
    c = np.array([counts[t][1] for t in tasks], dtype=float)
    solved, p1 = ci_mean((c > 0).astype(float)), ci_ratio(c, n)
    return {"solved": solved.estimate, "solved_ci": solved.as_list(),
            "pass_at_1": p1.estimate, "pass_at_1_ci": p1.as_list()}


def per_task(counts: dict[str, tuple[int, int]], tasks: Sequence[str]) -> np.ndarray:
    """Per-task pass@1 (c / n), for paired differences."""
    return np.array([counts[t][1] / counts[t][0] for t in tasks])


def paired(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    d = paired_difference(a, b)
    return {"difference": d.difference, "ci": [d.low, d.high], "p_value": d.p_value}


def draw_exemplars(candidates: Sequence[Problem], prompts: int, shots: int,
                   seed: int) -> list[list[Problem]]:
    """`prompts` sets of `shots` distinct exemplars, drawn with a seeded generator."""
    if shots < 1 or shots > len(candidates):
        raise UserError(f"--shots {shots}: the pool has {len(candidates)} tasks")
    rng = random.Random(seed)
    return [sorted(rng.sample(list(candidates), shots), key=lambda p: int(p.task_id[5:]))
            for _ in range(prompts)]


def prompts(model: str, dataset: str | Dataset = "mbpp", *, prompts: int = 15, shots: int = 3,
            seed: int = 0, from_train: bool = False, n: int = 1,
            **run_options: Any) -> dict[str, Any]:
    """`prompts` random few-shot prompts, one run each; per prompt, spread and ensemble."""
    if prompts < 1:
        raise UserError("--prompts: give 1 or more")
    ds, chosen = load_targets(dataset, run_options.get("data"), run_options.get("split"),
                              bool(run_options.get("challenge_tests")),
                              run_options.get("tasks") or run_options.get("problems"),
                              run_options.get("limit"))
    splits = ["prompt", "train"] if from_train else ["prompt"]
    candidates = [p for p in pool(ds.benchmark, run_options.get("data"), splits)
                  if p.task_id not in set(chosen)]
    sets = draw_exemplars(candidates, prompts, shots, seed)
    entries, counts = [], []
    for i, drawn in enumerate(sets):
        v = variant(ds, chosen, [exemplar(p) for p in drawn],
                    tag=f"prompt={','.join(p.task_id for p in drawn)}")
        run_id, c = run_variant(model, v, n, shots, run_options)
        counts.append(c)
        entries.append({"index": i, "exemplars": [p.task_id for p in drawn], "run": run_id,
                        **scores(c, chosen)})
    tasks = [t for t in chosen if all(t in c for c in counts)]
    if not tasks:
        raise UserError("the prompts' runs share no graded task")
    for e, c in zip(entries, counts, strict=True):
        e.update(scores(c, tasks))
    ensemble = ci_mean(np.array([float(any(c[t][1] > 0 for c in counts)) for t in tasks]))
    order = sorted(range(len(entries)), key=lambda i: (entries[i]["pass_at_1"], -i))
    worst, best = order[0], order[-1]
    solved = [e["solved"] for e in entries]
    p1 = [e["pass_at_1"] for e in entries]
    return {"study": "prompts", "model": model, "dataset": ds.name, "n": n, "shots": shots,
            "seed": seed, "pool": splits, "n_tasks": len(tasks), "prompts": entries,
            "ensemble_solved": ensemble.estimate, "ensemble_solved_ci": ensemble.as_list(),
            "spread": {"solved": [min(solved), max(solved)], "pass_at_1": [min(p1), max(p1)],
                       "solved_sd": float(np.std(solved, ddof=1)) if len(solved) > 1 else 0.0},
            "best": best, "worst": worst,
            "best_minus_worst": paired(per_task(counts[best], tasks),
                                       per_task(counts[worst], tasks))}


def render(r: dict[str, Any]) -> None:
    rows = [[str(e["index"]), " ".join(x.rpartition("/")[2] for x in e["exemplars"]),
             common.fmt_ci(e["solved"], e["solved_ci"]),
             common.fmt_ci(e["pass_at_1"], e["pass_at_1_ci"]),
             "best" if e["index"] == r["best"] else "worst" if e["index"] == r["worst"] else ""]
            for e in r["prompts"]]
    rows.append(["any", "(ensemble)", common.fmt_ci(r["ensemble_solved"],
                                                    r["ensemble_solved_ci"]), "", ""])
    d = r["best_minus_worst"]
    common.table(f"few-shot prompts: {r['model']} on {r['dataset']} ({r['n_tasks']} tasks, "
                 f"n={r['n']}, {r['shots']} exemplars from {'+'.join(r['pool'])}, "
                 f"seed {r['seed']})", ["prompt", "exemplars", "solved", "pass@1", ""], rows,
                 [f"solved ranges {r['spread']['solved'][0]:.4f}-{r['spread']['solved'][1]:.4f}"
                  f" (sd {r['spread']['solved_sd']:.4f}); pass@1 best - worst "
                  f"{d['difference']:+.4f} [{d['ci'][0]:+.4f}, {d['ci'][1]:+.4f}] paired, "
                  f"p {d['p_value']:.3g} (chosen as extremes: the interval is optimistic)"])


def cmd(args: argparse.Namespace) -> int:
    common.refuse_results(args)
    options = common.run_options(args)
    seed = options.pop("seed")
    shots = options.pop("shots")
    result = prompts(args.model, args.dataset, prompts=args.prompts,
                     shots=3 if shots is None else shots, seed=seed or 0,
                     from_train=args.from_train, n=args.n, temperature=args.temperature,
                     **options)
    return common.finish(args, result, render)
