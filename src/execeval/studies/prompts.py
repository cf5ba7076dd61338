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

import random
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from execeval import api
from execeval.dataset import Dataset, Problem
from execeval.errors import UserError
from execeval.executor import Executor
from execeval.options import DatasetOptions, RunOptions, about
from execeval.prompts import mbpp as mbpp_prompt
from execeval.stats import ci_mean, ci_ratio, paired_difference
from execeval.studies import common

Exemplar = dict[str, Any]  # {"task", "text", "tests", "code"}
DEFAULT_SHOTS = 3  # the paper's exemplars per prompt (--shots)


@dataclass(frozen=True)
class PromptsOptions(common.OnModel):
    """`execeval study prompts`: how many exemplar sets, and where they are drawn from
    (--shots: exemplars per set, default 3; --seed: the draw's seed, default 0)."""

    dataset: str = field(default="mbpp", metadata=about("the benchmark (MBPP's format)"))
    prompts: int = field(default=15, metadata=about("how many exemplar sets", positive=True))
    from_train: bool = field(default=False, metadata=about(
        "also draw exemplars from MBPP's train split"))


@dataclass(frozen=True)
class Scores:
    """A variant's solved share (any sample passes) and pass@1, with 95% intervals over
    tasks."""

    solved: float
    solved_ci: tuple[float, float]
    pass_at_1: float
    pass_at_1_ci: tuple[float, float]

    def to_json(self) -> dict[str, Any]:
        return {"solved": self.solved, "solved_ci": list(self.solved_ci),
                "pass_at_1": self.pass_at_1, "pass_at_1_ci": list(self.pass_at_1_ci)}


@dataclass(frozen=True)
class Paired:
    """A minus B per task (pass@1), its 95% interval and p-value."""

    difference: float
    ci: tuple[float, float]
    p_value: float

    def to_json(self) -> dict[str, Any]:
        return {"difference": self.difference, "ci": list(self.ci), "p_value": self.p_value}

    def text(self) -> str:
        return f"{self.difference:+.4f} [{self.ci[0]:+.4f}, {self.ci[1]:+.4f}]"


@dataclass(frozen=True)
class PromptScore:
    """One exemplar set: its exemplars' task ids, its run, its scores."""

    index: int
    exemplars: tuple[str, ...]
    run: str
    scores: Scores

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "exemplars": list(self.exemplars), "run": self.run,
                **self.scores.to_json()}


@dataclass(frozen=True)
class Spread:
    """The prompts' range of solved share and pass@1, and the solved share's SD."""

    solved: tuple[float, float]
    pass_at_1: tuple[float, float]
    solved_sd: float

    def to_json(self) -> dict[str, Any]:
        return {"solved": list(self.solved), "pass_at_1": list(self.pass_at_1),
                "solved_sd": self.solved_sd}


@dataclass(frozen=True)
class PromptsResult:
    """Per prompt its scores; the ensemble's solved share; the spread; best - worst."""

    model: str
    dataset: str
    n: int
    shots: int
    seed: int
    pool: tuple[str, ...]
    n_tasks: int
    prompts: tuple[PromptScore, ...]
    ensemble_solved: float
    ensemble_solved_ci: tuple[float, float]
    spread: Spread
    best: int
    worst: int
    best_minus_worst: Paired

    def to_json(self) -> dict[str, Any]:
        return {"study": "prompts", "model": self.model, "dataset": self.dataset, "n": self.n,
                "shots": self.shots, "seed": self.seed, "pool": list(self.pool),
                "n_tasks": self.n_tasks, "prompts": [e.to_json() for e in self.prompts],
                "ensemble_solved": self.ensemble_solved,
                "ensemble_solved_ci": list(self.ensemble_solved_ci),
                "spread": self.spread.to_json(), "best": self.best, "worst": self.worst,
                "best_minus_worst": self.best_minus_worst.to_json()}

    def render(self, console: Console) -> None:
        rows = [[str(e.index), " ".join(x.rpartition("/")[2] for x in e.exemplars),
                 common.fmt_ci(e.scores.solved, e.scores.solved_ci),
                 common.fmt_ci(e.scores.pass_at_1, e.scores.pass_at_1_ci),
                 "best" if e.index == self.best else "worst" if e.index == self.worst else ""]
                for e in self.prompts]
        rows.append(["any", "(ensemble)", common.fmt_ci(self.ensemble_solved,
                                                        self.ensemble_solved_ci), "", ""])
        d, s = self.best_minus_worst, self.spread
        common.table(console, f"few-shot prompts: {self.model} on {self.dataset} "
                     f"({self.n_tasks} tasks, n={self.n}, {self.shots} exemplars from "
                     f"{'+'.join(self.pool)}, seed {self.seed})",
                     ["prompt", "exemplars", "solved", "pass@1", ""], rows,
                     [f"solved ranges {s.solved[0]:.4f}-{s.solved[1]:.4f} (sd "
                      f"{s.solved_sd:.4f}); pass@1 best - worst {d.text()} paired, p "
                      f"{d.p_value:.3g} (chosen as extremes: the interval is optimistic)"])


def exemplar(problem: Problem, code: str | None = None,
             tests: Sequence[str] | None = None) -> Exemplar:
    """A solved example as prompts/mbpp.build takes it (its task id kept for the record)."""
    meta = problem.metadata
    return {"task": problem.task_id, "text": meta["text"],
            "tests": list(meta["tests_shown"] if tests is None else tests),
            "code": problem.reference if code is None else code}


def load_targets(name: str, options: DatasetOptions) -> tuple[Dataset, list[str]]:
    """The MBPP dataset and the chosen target tasks (refusing other benchmarks: the
    prompts are MBPP's format)."""
    dataset = api.load_dataset(name, options.data, problems_file=options.problems_file,
                               **options.benchmark_options())
    if dataset.benchmark not in ("mbpp", "mbpp-sanitized"):
        raise UserError(f"the prompt studies vary MBPP's few-shot prompt: --dataset mbpp "
                        f"(not {dataset.name})")
    chosen = api.select_tasks(dataset, options.tasks, options.limit)
    if not chosen:
        raise UserError("no target tasks")
    return dataset, chosen


def pool(name: str, data: Path | None, splits: Sequence[str]) -> list[Problem]:
    """MBPP tasks exemplars may be drawn from, in task order."""
    return [p for s in splits for p in api.load_dataset(name, data, split=s).problems.values()]


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


def run_variant(model: str, ds: Dataset, run: RunOptions, shots: int,
                executor: Executor | None) -> tuple[str, dict[str, tuple[int, int]]]:
    """One ordinary run of a variant (all of its tasks, `shots` exemplars), and its (n, c)
    per task."""
    options = replace(run, dataset=DatasetOptions(),
                      generation=replace(run.generation, shots=shots))
    result = api.run(model, ds, options, executor=executor)
    with ExitStack() as stack:
        counts = common.open_store(stack, run.grading.store).task_counts(result.run_id)
    return result.run_id, counts


def shots_of(run: RunOptions) -> int:
    """The exemplars per prompt: --shots, else the paper's three."""
    return DEFAULT_SHOTS if run.generation.shots is None else run.generation.shots


def shared_tasks(chosen: Sequence[str], counts: Sequence[dict[str, tuple[int, int]]]
                 ) -> list[str]:
    """The target tasks every variant's run graded."""
    tasks = [t for t in chosen if all(t in c for c in counts)]
    if not tasks:
        raise UserError("the runs share no graded task")
    return tasks


def scores(counts: dict[str, tuple[int, int]], tasks: Sequence[str]) -> Scores:
    """Solved share (any sample passes) and pass@1 (pooled share of passing samples), with
    95% intervals over tasks."""
    n = np.array([counts[t][0] for t in tasks], dtype=float)
    c = np.array([counts[t][1] for t in tasks], dtype=float)
    solved, pass_at_1 = ci_mean((c > 0).astype(float)), ci_ratio(c, n)
    return Scores(solved.estimate, (solved.low, solved.high), pass_at_1.estimate,
                  (pass_at_1.low, pass_at_1.high))


def per_task(counts: dict[str, tuple[int, int]], tasks: Sequence[str]) -> np.ndarray:
    """Per-task pass@1 (c / n), for paired differences."""
    return np.array([counts[t][1] / counts[t][0] for t in tasks])


def paired(a: np.ndarray, b: np.ndarray) -> Paired:
    d = paired_difference(a, b)
    return Paired(d.difference, (d.low, d.high), d.p_value)


def draw_exemplars(candidates: Sequence[Problem], prompts: int, shots: int,
                   seed: int) -> list[list[Problem]]:
    """`prompts` sets of `shots` distinct exemplars, drawn with a seeded generator."""
    if shots < 1 or shots > len(candidates):
        raise UserError(f"--shots {shots}: the pool has {len(candidates)} tasks")
    rng = random.Random(seed)
    return [sorted(rng.sample(list(candidates), shots), key=lambda p: int(p.task_id[5:]))
            for _ in range(prompts)]


def prompts(options: PromptsOptions, run: RunOptions | None = None, *,
            executor: Executor | None = None) -> PromptsResult:
    """`options.prompts` random few-shot prompts, one run each (`run`: `execeval run`'s
    options; its seed seeds the draw, the runs sample unseeded); per prompt, the spread
    and the ensemble. `executor`: an open one to grade on (else `run.grading`'s)."""
    run = run or RunOptions()
    if options.prompts < 1:
        raise UserError("--prompts: give 1 or more")
    shots, seed = shots_of(run), run.generation.seed or 0
    dataset, chosen = load_targets(options.dataset, run.dataset)
    splits = ("prompt", "train") if options.from_train else ("prompt",)
    candidates = [p for p in pool(dataset.benchmark, run.dataset.data, splits)
                  if p.task_id not in set(chosen)]
    sets = draw_exemplars(candidates, options.prompts, shots, seed)
    unseeded = replace(run, generation=replace(run.generation, seed=None))
    runs, counts = [], []
    for drawn in sets:
        v = variant(dataset, chosen, [exemplar(p) for p in drawn],
                    tag=f"prompt={','.join(p.task_id for p in drawn)}")
        run_id, c = run_variant(options.model, v, unseeded, shots, executor)
        runs.append(run_id)
        counts.append(c)
    tasks = shared_tasks(chosen, counts)
    entries = tuple(PromptScore(i, tuple(p.task_id for p in drawn), run_id, scores(c, tasks))
                    for i, (drawn, run_id, c) in enumerate(zip(sets, runs, counts,
                                                               strict=True)))
    ensemble = ci_mean(np.array([float(any(c[t][1] > 0 for c in counts)) for t in tasks]))
    order = sorted(range(len(entries)), key=lambda i: (entries[i].scores.pass_at_1, -i))
    worst, best = order[0], order[-1]
    solved = [e.scores.solved for e in entries]
    pass_at_1 = [e.scores.pass_at_1 for e in entries]
    spread = Spread((min(solved), max(solved)), (min(pass_at_1), max(pass_at_1)),
                    float(np.std(solved, ddof=1)) if len(solved) > 1 else 0.0)
    return PromptsResult(
        model=options.model, dataset=dataset.name, n=run.generation.n, shots=shots, seed=seed,
        pool=splits, n_tasks=len(tasks), prompts=entries, ensemble_solved=ensemble.estimate,
        ensemble_solved_ci=(ensemble.low, ensemble.high), spread=spread, best=best,
        worst=worst, best_minus_worst=paired(per_task(counts[best], tasks),
                                             per_task(counts[worst], tasks)))


STUDY = common.Study(
    help="random few-shot exemplar sets: per prompt, the spread, the ensemble",
    options=PromptsOptions, main=prompts,
    example="execeval study prompts --model fake:prompted --limit 20 --prompts 5",
    without=frozenset({"results"}))
