"""What the studies share: stored runs and their datasets, derived gradings, the output.

A study never grades outside an Executor. Where it needs verdicts a run does not have
(a prompt's example tests, programs on fresh inputs, a reference's outputs), it builds
derived problems and grades them as a run of its own kind ("study-examples",
"study-overfit", "export-mbpp-train"): recorded in the store like any run (listed by
`execeval runs`, resumable), its verdicts content-addressed, so asking again costs
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from rich.console import Console
from rich.table import Table

from execeval.api import dataset_of_run as api_dataset_of_run
from execeval.api import open_executor as open_executor  # as the API opens them
from execeval.api import open_store as open_store
from execeval.dataset import Dataset, Problem
from execeval.environment import EnvironmentSpec, from_identity
from execeval.errors import UserError
from execeval.executor import Executor
from execeval.options import RunOptions, about
from execeval.registry import Registry
from execeval.sandbox import Limits
from execeval.stats import _t_quantile
from execeval.store import Store
from execeval.verdict import Verdict

StoreArg = Store | str | Path | None
OptionsT = TypeVar("OptionsT")


class StudyResult(Protocol):
    """What a study hands back: typed fields, the JSON that `--json` prints (keys kept
    stable), and its tables for a terminal."""

    def to_json(self) -> dict[str, Any]: ...
    def render(self, console: Console) -> None: ...


@dataclass(frozen=True)
class OnModel:
    """The options every study that makes runs starts from: which model on which dataset
    (with `execeval run`'s options beside them, as a RunOptions)."""

    model: str = field(default="", metadata=about(
        "the model spec: openai:MODEL[@URL], openai-chat:MODEL[@URL], hf:PATH, vllm:PATH, "
        "samples:FILE, fake:planted[?...] or reference (docs/generation.md)", required=True))
    dataset: str = field(default="humaneval", metadata=about("the benchmark"))


@dataclass(frozen=True)
class OnRun:
    """The options every study of one stored run starts from."""

    run: str = field(default="", metadata=about(
        "a stored run id (a unique prefix is enough)", positional=True, metavar="RUN"))
    data: Path | None = field(default=None, metadata=about(
        "only for a run recorded before runs kept their problems (store schema 4): the "
        "file its dataset came from", metavar="PATH"))


@dataclass(frozen=True)
class Study(Generic[OptionsT]):
    """A study as the registry knows it (entry-point group `execeval.studies`, the name
    being the command's: `execeval study NAME`). `options` is its own frozen dataclass,
    whose fields are its flags (subclassing OnModel: it makes runs and takes `execeval
    run`'s options too, less those named in `without`); `main` does the work."""

    help: str
    options: type[OptionsT]
    main: Callable[[OptionsT, RunOptions], StudyResult]
    example: str = ""
    without: frozenset[str] = frozenset()  # run options it does not take (no flag offered)

    @property
    def makes_runs(self) -> bool:
        return issubclass(self.options, OnModel)


STUDIES: Registry[Study[Any]] = Registry("execeval.studies", "study", Study)


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


def dataset_of_run(store: Store, run: dict[str, Any], data: str | Path | None = None,
                   dataset: Dataset | None = None) -> Dataset:
    """The problems a stored run was graded on: `dataset` when given (refused unless its
    content hash is the run's), else the copy the store keeps (`api.dataset_of_run`;
    `data` only for a run recorded before runs kept their problems)."""
    if dataset is None:
        return api_dataset_of_run(store, run, data)
    if dataset.hash != run["dataset_hash"]:
        raise UserError(f"run {run['run_id']} was graded on other problems than {dataset.name} "
                        f"{dataset.version} (dataset hash {run['dataset_hash'][:12]} vs "
                        f"{dataset.hash[:12]})")
    return dataset


def run_limits(run: dict[str, Any]) -> Limits:
    """The limits the run graded under, so derived verdicts are comparable (and MBPP's
    shown tests, which are its tests, reuse the run's verdicts)."""
    return Limits(**run["config"].get("limits", {}))


def run_environment(run: dict[str, Any]) -> EnvironmentSpec | None:
    """The grading environment the run graded in (None: a run older than environments,
    which then gets the default)."""
    identity = run["config"].get("environment")
    return from_identity(identity) if identity else None


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
    config = {**grading.base_config(executor), **config, "source": source}
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


def table(console: Console, title: str, columns: Iterable[str], rows: Iterable[Sequence[str]],
          notes: Iterable[str] = ()) -> None:
    """A study's rich table, then its notes."""
    t = Table(*columns, title=title)
    for row in rows:
        t.add_row(*row)
    console.print(t)
    for note in notes:
        console.print(f"note: {note}")
