"""`execeval study ranking RUN`: one program must be chosen from k samples; how good is
each way of choosing? (Chen et al. 2021, section 3.3 and figure 7.)

For each problem with n stored samples, a strategy scores every sample and picks the
best-scored one of a random k-subset (ties broken uniformly at random). Its pass rate
at k is the chance that the pick is correct, averaged over problems. That chance is
computed exactly over all C(n, k) subsets, with no Monte Carlo: rank the samples by
score; a sample below `a` strictly better ones is picked from a subset that holds it and
none of those, so with distinct scores P(i) = C(n-1-a, k-1) / C(n, k). A group of g
tied samples below a better ones shares the average over the tie orders,

    P(i in group) = sum_{q<g} C(n-1-a-q, k-1) / (g C(n, k))
                  = (C(n-a, k) - C(n-a-g, k)) / (g C(n, k))      (hockey stick)

so `random` (all tied) is c/n = pass@1 at every k, and `oracle` (the correct ones on
top) is 1 - C(n-c, k)/C(n, k) = pass@k.

Strategies: random; mean_logprob and sum_logprob (need stored log-probabilities);
example_tests (keep the samples that pass the tests the prompt shows, run in the sandbox
as a "study-examples" run of their own, then prefer higher mean log-probability when
stored, else choose uniformly); oracle.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import groupby
from typing import Any

from rich.console import Console

from execeval.dataset import Dataset
from execeval.errors import UserError
from execeval.executor import Executor
from execeval.options import RunOptions, about
from execeval.stats import ci_mean, paired_difference
from execeval.store import Store
from execeval.studies import common
from execeval.studies.examples import examples_problem

STRATEGIES = ("random", "mean_logprob", "sum_logprob", "example_tests", "oracle")


def _best_groups(scores: Sequence[Hashable], k: int) -> Iterator[tuple[list[int], int]]:
    """Each group of tied samples, best first, with the number of k-subsets in which it is
    the best group present: C(n-a, k) - C(n-a-g, k) for g tied below a better ones."""
    n = len(scores)
    if not 1 <= k <= n:
        raise ValueError(f"k={k} must be between 1 and n={n}")
    order = sorted(range(n), key=lambda i: scores[i], reverse=True)  # type: ignore[arg-type,return-value]
    above = 0
    for _, members in groupby(order, key=lambda i: scores[i]):
        group = list(members)
        yield group, math.comb(n - above, k) - math.comb(n - above - len(group), k)
        above += len(group)


def pick_probabilities(scores: Sequence[Hashable], k: int) -> list[Fraction]:
    """P(sample i is chosen) when the best score of a uniformly random k-subset wins and
    ties are broken uniformly: each tied sample gets 1/g of its group's subsets."""
    out = [Fraction(0)] * len(scores)
    for group, subsets in _best_groups(scores, k):
        for i in group:
            out[i] = Fraction(subsets, len(group) * math.comb(len(scores), k))
    return out


def strategy_value(scores: Sequence[Hashable], passed: Sequence[bool], k: int) -> float:
    """The chance that the sample a strategy picks from k is correct (exact, then float)."""
    total = sum((Fraction(subsets * sum(bool(passed[i]) for i in group), len(group))
                 for group, subsets in _best_groups(scores, k)), Fraction(0))
    return float(total / math.comb(len(scores), k))


@dataclass
class TaskSamples:
    """One problem's samples, in sample order: what the strategies score."""

    passed: list[bool]
    mean_logprob: list[float | None]
    sum_logprob: list[float | None]
    programs: list[str]
    examples: list[bool] | None = None  # passes the shown tests (None: none shown)


def _scorers(logprobs: bool) -> dict[str, Callable[[TaskSamples, int], Hashable]]:
    return {
        "random": lambda t, i: 0,
        "mean_logprob": lambda t, i: t.mean_logprob[i],
        "sum_logprob": lambda t, i: t.sum_logprob[i],
        "example_tests": lambda t, i: (bool(t.examples and t.examples[i]),
                                       t.mean_logprob[i] if logprobs else 0.0),
        "oracle": lambda t, i: t.passed[i],
    }


def _read(store: Store, run_id: str) -> dict[str, TaskSamples]:
    tasks: dict[str, TaskSamples] = {}
    ungraded = 0
    for s in store.samples(run_id):
        t = tasks.setdefault(s.task_id, TaskSamples([], [], [], []))
        ungraded += s.passed is None
        t.passed.append(bool(s.passed))
        t.mean_logprob.append(s.mean_logprob)
        t.sum_logprob.append(s.sum_logprob)
        t.programs.append(s.program or "")
    if ungraded:
        raise UserError(f"run {run_id} has {ungraded} ungraded samples: run its command again "
                        "to finish it first")
    if not tasks:
        raise UserError(f"run {run_id} has no samples")
    return tasks


def _example_verdicts(tasks: dict[str, TaskSamples], dataset: Dataset, run: dict[str, Any],
                      store: Store, executor: Executor) -> tuple[str, int]:
    """Every sample against its prompt's shown tests, as one "study-examples" run."""
    jobs, where = [], []
    for task_id, t in tasks.items():
        derived = examples_problem(dataset.problems[task_id])
        if derived is None:
            continue
        t.examples = [False] * len(t.programs)
        for i, program in enumerate(t.programs):
            jobs.append(common.Job(derived, program, {"source_run": run["run_id"], "sample": i}))
            where.append((t, i))
    run_id, verdicts = common.grade_jobs("study-examples", run["run_id"], jobs, store,
                                         executor, {"shown_tests": "prompt"})
    for (t, i), v in zip(where, verdicts, strict=True):
        t.examples[i] = v.passed  # type: ignore[index]
    return run_id, sum(t.examples is not None for t in tasks.values())


@dataclass(frozen=True)
class RankingOptions(common.OnRun):
    """The run to study, and the ks (those above its smallest n are left out)."""

    k: tuple[int, ...] | None = field(default=None, metadata=about(
        "k values, comma-separated (default 1, 2, 5, 10, ... up to n)", positive=True))


@dataclass(frozen=True)
class RankingResult:
    """Per strategy, one value per k (in the order of `k`)."""

    run: str
    dataset: str
    n_problems: int
    n_min: int  # the smallest number of samples of a problem
    k: list[int]
    strategies: dict[str, list[float]]
    intervals: dict[str, list[list[float]]]
    gain_over_random: dict[str, list[dict[str, Any]]]  # stats.PairedResult.as_dict()
    left_out: dict[str, str]  # strategy: why
    examples: dict[str, Any]  # the "study-examples" run ({} when none was made)
    notes: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"study": "ranking", **dataclasses.asdict(self)}

    def render(self, console: Console) -> None:
        names = list(self.strategies)
        rows = [[str(k)] + [common.fmt_ci(self.strategies[s][j], self.intervals[s][j])
                            for s in names] for j, k in enumerate(self.k)]
        notes = [*self.notes, *(f"{s} left out: {why}" for s, why in self.left_out.items())]
        if self.examples:
            e = self.examples
            notes.append(f"example tests: {e['problems_with_examples']} of {self.n_problems} "
                         f"problems show tests; {e['samples_passing']} samples pass them; "
                         f"verdicts stored as run {e['run']}")
        notes.append("each value: the chance that the chosen sample is correct, exact over "
                     "all k-subsets, mean over problems [95% CI]")
        common.table(console, f"choosing 1 of k samples: run {self.run} ({self.dataset}, "
                     f"{self.n_problems} problems, n >= {self.n_min})", ["k", *names], rows,
                     notes)


def ranking(options: RankingOptions, run: RunOptions | None = None, *,
            dataset: Dataset | None = None, executor: Executor | None = None) -> RankingResult:
    """Every strategy on the stored run `options.run` (see the module docstring and
    docs/studies.md); `run.grading` names the store and where the shown tests are graded,
    `dataset` spares loading the run's problems again."""
    if options.k is not None and (not options.k or min(options.k) < 1):
        raise UserError("--k values must be at least 1")
    grading = (run or RunOptions()).grading
    with ExitStack() as stack:
        store = common.open_store(stack, grading.store)
        stored = store.run(options.run)
        tasks = _read(store, stored["run_id"])
        n_min = min(len(t.passed) for t in tasks.values())
        wanted = sorted(set(options.k)) if options.k else common.series_ks(n_min)
        usable = [k for k in wanted if k <= n_min]
        if not usable:
            raise UserError(f"--k: every k exceeds the smallest number of samples per problem "
                            f"({n_min})")
        notes = [f"k > {n_min} (the smallest n) left out: {[k for k in wanted if k > n_min]}"] \
            if len(usable) < len(wanted) else []
        left_out: dict[str, str] = {}
        logprobs = all(v is not None for t in tasks.values() for v in t.mean_logprob)
        if not logprobs:
            for name in ("mean_logprob", "sum_logprob"):
                left_out[name] = "the run stored no log-probabilities for some samples"
        examples: dict[str, Any] = {}
        try:
            run_dataset = common.dataset_of_run(store, stored, options.data, dataset)
        except UserError as e:
            left_out["example_tests"] = str(e)
        else:
            grader = common.open_executor(stack, executor or grading.executor,
                                          common.run_limits(stored), grading.workers,
                                          common.run_environment(stored))
            examples_run, shown = _example_verdicts(tasks, run_dataset, stored, store, grader)
            if shown:
                examples = {"run": examples_run, "problems_with_examples": shown,
                            "samples_passing": sum(sum(t.examples or ()) for t in tasks.values())}
            else:
                left_out["example_tests"] = (f"{run_dataset.name}'s prompts show no tests this "
                                             "study reads")
    scorers = _scorers(logprobs)
    values: dict[str, list[list[float]]] = {}  # strategy -> per k -> per problem
    for name in STRATEGIES:
        if name in left_out:
            continue
        score = scorers[name]
        values[name] = [[strategy_value([score(t, i) for i in range(len(t.passed))],
                                        t.passed, k) for t in tasks.values()] for k in usable]
    intervals = {name: [ci_mean(v).as_list() for v in per_k] for name, per_k in values.items()}
    gains = {name: [paired_difference(v, r).as_dict() for v, r in
                    zip(per_k, values["random"], strict=True)]
             for name, per_k in values.items() if name != "random"}
    return RankingResult(stored["run_id"], stored["dataset"], len(tasks), n_min, usable,
                         {name: [sum(v) / len(v) for v in per_k]
                          for name, per_k in values.items()},
                         intervals, gains, left_out, examples, notes)


STUDY = common.Study(
    help="choose one of k samples: by log-probability, by the prompt's example tests, at "
         "random, or by the oracle", options=RankingOptions, main=ranking,
    example="execeval study ranking RUN --k 1,2,5")
