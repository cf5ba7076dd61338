"""The Python API: what the CLI calls, and what a notebook or a study calls.

    import execeval
    result = execeval.evaluate("samples.jsonl", dataset="humaneval")
    result.summary["pass_at_k"]
    run = execeval.load_run(result.run_id)
    failing = [s for s in run.samples() if not s.passed]

Every function loads what it is named (a dataset by name or a `Dataset`), grades
through an `Executor` (a local one unless given), records the run in the store, and
returns typed results; samples stay in the store and are read back as needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from execeval.benchmark import environment_of
from execeval.dataset import Dataset
from execeval.environment import EnvironmentSpec, from_identity
from execeval.errors import UserError
from execeval.executor import Executor, executor_from_spec
from execeval.grading import RunResult, base_config, result_rows, run_id_of, stored_dataset
from execeval.options import (
    EvaluateOptions,
    GradingOptions,
    RunOptions,
    evaluate_options,
    normalise,
)
from execeval.sandbox import Limits
from execeval.store import Store, StoredSample, store_path
from execeval.summary import Summary
from execeval.validate import Validation
from execeval.validate import validate as check

__all__ = ["EvaluateOptions", "GradingOptions", "Run", "RunOptions", "RunResult", "Summary",
           "dataset_of_run", "evaluate", "load_dataset", "load_run", "regrade", "run",
           "validate"]

StoreArg = Store | str | Path | None
DatasetArg = Dataset | str | None


def load_dataset(dataset: DatasetArg = "humaneval", data: str | Path | None = None, *,
                 problems_file: str | Path | None = None, **options: Any) -> Dataset:
    """A benchmark by name (from `data`, a local copy of its published file, else the
    packaged copy or the hub), or the problems of `problems_file`. `options` are the
    benchmark's own (MBPP's `split`, `challenge_tests`, ...): one it does not take is
    refused by name."""
    if isinstance(dataset, Dataset):
        return dataset
    from execeval import benchmark

    return benchmark.load(dataset, data, problems_file, **options)


def _load(dataset: DatasetArg, options: EvaluateOptions | RunOptions) -> Dataset:
    d = options.dataset
    return load_dataset(dataset, d.data, problems_file=d.problems_file,
                        **d.benchmark_options())


def dataset_of_run(store: Store, run: dict[str, Any], data: str | Path | None = None
                   ) -> Dataset:
    """The problems a stored run (`Store.run`) was graded on: the copy the store keeps,
    so the file they came from is not needed again. A run recorded before runs kept their
    problems has its dataset loaded again by name (from `data`, the package or the hub,
    with the split its version records), refused unless its content hash is the run's."""
    kept = stored_dataset(store, run)
    if kept is not None:
        return kept
    name, version = run["dataset"], run["dataset_version"]
    missing = f"run {run['run_id']}: its problems are not in the store (recorded before runs " \
              "kept them)"
    split = re.search(r" split=(\S+)", version)
    try:
        if name.startswith("file:"):
            if not data:
                raise UserError(f"they came from the file {name[5:]}")
            dataset = load_dataset(None, problems_file=data)
        else:
            dataset = load_dataset(name, data=data, split=split[1] if split else None,
                                   challenge_tests="+challenge" in version)
    except UserError as e:
        raise UserError(f"{missing} and {name} cannot be loaded again ({e}); give the file it "
                        "was run on (--data PATH)") from None
    if dataset.hash != run["dataset_hash"]:
        raise UserError(f"{missing} and {dataset.name} {dataset.version} holds other problems "
                        f"(dataset hash {dataset.hash[:12]}, the run's "
                        f"{run['dataset_hash'][:12]}); give the file it was run on (--data PATH)")
    return dataset


def open_store(stack: ExitStack, store: StoreArg, *, read_only: bool = False) -> Store:
    """The store given, or one opened here (closed when `stack` closes); `read_only` for
    those that only read, which then never create a file."""
    if isinstance(store, Store):
        return store
    opened = Store(store_path(store), read_only=read_only)
    stack.callback(opened.close)
    return opened


def open_executor(stack: ExitStack, executor: Executor | str | None, limits: Limits,
                  workers: int | None, environment: EnvironmentSpec | str | None = None
                  ) -> Executor:
    """An executor given as an object is the caller's (it grades in its own environment);
    one named by a spec ("local", "ray:auto", ...; None: local) is built here, in
    `environment` (a spec, a name or a spec file; None: the default; built first if it is
    not, with a progress bar), and closed when `stack` closes."""
    if executor is not None and not isinstance(executor, str):
        return executor
    built = executor_from_spec(executor or "local", limits, workers, environment)
    stack.callback(built.close)
    return built


def _check_results(results: Path | None) -> None:
    """A results file that cannot be written is said before any work, not after it."""
    if results is not None:
        from execeval.jsonl import output_path

        output_path(results)


def _write_results(result: RunResult, store: Store, results: str | Path | None) -> None:
    if results:
        from execeval.jsonl import write_rows

        write_rows(results, result_rows(store, result.run_id))
        result.summary["results"] = str(results)


def evaluate(samples: str | Path | Iterable[dict[str, Any]], dataset: DatasetArg = "humaneval",
             options: EvaluateOptions | None = None, *, store: StoreArg = None,
             executor: Executor | str | None = None, **changes: Any) -> RunResult:
    """Grade a samples file (or rows with `task_id` and `completion` or `solution`).

    `options` (or flat keywords such as `data=`, `k=`, `timeout=`, routed into it) say
    which problems and how to grade; `store` and `executor` may be open objects."""
    from execeval import grading
    from execeval.samples import iter_samples, scan_samples

    opts = evaluate_options(options, **changes)
    _check_results(opts.grading.results)
    problems = _load(dataset, opts)
    if not isinstance(samples, str | Path):
        samples = list(samples)
    count, digest = scan_samples(samples, problems)  # every row checked before grading starts
    with ExitStack() as stack:
        g = opts.grading
        opened = open_store(stack, store or g.store)
        grader = open_executor(stack, executor or g.executor, g.limits(), g.workers,
                               g.env or environment_of(problems))
        source = os.path.abspath(samples) if isinstance(samples, str | Path) else "<rows>"
        config = {**base_config(grader), "samples": source}
        result = grading.evaluate(problems, iter_samples(samples, problems), count, opened,
                                  grader, ks=g.k, kind="evaluate", config=config,
                                  run_id=run_id_of("evaluate", problems, config, digest))
        _write_results(result, opened, g.results)
    return result


def select_tasks(dataset: Dataset, tasks: Sequence[str] | None,
                 limit: int | None) -> list[str]:
    """Task ids by id (the dataset's spelling, or a number), then the first `limit`
    (`tasks` as DatasetOptions holds them: a comma list is split where they are made)."""
    ids = list(dataset.problems)
    if tasks:
        ids = []
        for name in (str(t).strip() for t in tasks if str(t).strip()):
            found = dataset.resolve(name)
            if found is None:
                raise UserError(f"--tasks/--problems: unknown task {name!r} (not a file, nor a "
                                f"task of dataset {dataset.name})")
            ids.append(found)
        ids = list(dict.fromkeys(ids))
    return ids[:limit] if limit else ids


def run(model: str, dataset: DatasetArg = "humaneval", options: RunOptions | None = None, *,
        store: StoreArg = None, executor: Executor | str | None = None,
        **changes: Any) -> RunResult:
    """Generate `n` samples per problem with `model` (a spec such as `openai:NAME@URL`,
    `hf:PATH`, `reference`) and grade them as they come.

    `options` (or flat keywords such as `n=`, `temperature=`, `tasks=`, `k=`, routed into
    it): `params` (the model's parameter count) is recorded for scaling studies; `beams`
    asks for beam search (the n samples are the n best beams); `temperature` defaults to
    0 (greedy) for n=1, else 0.8; `stop` None takes each prompt's own stops, () none."""
    from execeval import pipeline
    from execeval.models import BackendOptions, Settings, kind_of, load_model

    opts = (options or RunOptions()).with_changes(**changes)
    _check_results(opts.grading.results)
    gen, g = opts.generation, opts.grading
    problems = _load(dataset, opts)
    task_ids = select_tasks(problems, opts.dataset.tasks, opts.dataset.limit)
    n, temperature = gen.n, gen.temperature
    if gen.beams:
        if not kind_of(model).beams:
            raise UserError(f"--beams: the backend of {model!r} has no beam search (hf:PATH "
                            "and vllm:PATH have)")
        if n not in (1, gen.beams):
            raise UserError(f"--beams {gen.beams} gives {gen.beams} samples per problem; "
                            f"--n {n} differs")
        n, temperature = gen.beams, 0.0
    if temperature is None:
        temperature = 0.0 if n == 1 else 0.8
    top_p = Settings().top_p if gen.top_p is None else gen.top_p
    if temperature < 0 or not 0 < top_p <= 1:
        raise UserError("--temperature must be >= 0 and --top-p in (0, 1]")
    settings = Settings(n=n, temperature=temperature, top_p=top_p, max_tokens=gen.max_tokens,
                        stop=gen.stop, seed=gen.seed, beams=gen.beams)
    with ExitStack() as stack:
        backend = load_model(model, problems, BackendOptions(
            concurrency=gen.concurrency, timeout=gen.request_timeout, retries=gen.retries,
            batch_size=gen.batch_size, seed=gen.seed))
        stack.callback(backend.close)
        check = getattr(backend, "check", None)
        if check is not None:
            check(task_ids, n)
        style = gen.prompt_style or ("chat" if backend.chat else "completion")
        plan = pipeline.plan(problems, task_ids, settings, style, gen.shots)
        opened = open_store(stack, store or g.store)
        grader = open_executor(stack, executor or g.executor, g.limits(), g.workers,
                               g.env or environment_of(problems))
        result = pipeline.run(plan, backend, opened, grader, ks=g.k,
                              config=None if gen.params is None else {"params": gen.params})
        _write_results(result, opened, g.results)
    return result


def validate(dataset: DatasetArg, options: EvaluateOptions | None = None, *,
             store: StoreArg = None, executor: Executor | str | None = None,
             **changes: Any) -> Validation:
    """Every reference solution through the grader: which fail, and why."""

    opts = evaluate_options(options, **changes)
    problems = _load(dataset, opts)
    g = opts.grading
    with ExitStack() as stack:
        grader = open_executor(stack, executor or g.executor, g.limits(), g.workers,
                               g.env or environment_of(problems))
        return check(problems, grader, open_store(stack, store or g.store))


def regrade(run_id: str, options: GradingOptions | None = None, *, store: StoreArg = None,
            executor: Executor | str | None = None, data: str | Path | None = None,
            **changes: Any) -> RunResult:
    """Grade a stored run's programs again on the problems it carries (under other limits,
    on another executor or environment, with a newer judge): a run of kind "regrade" whose
    id comes from the run and the grading settings, so asking again resumes it, and,
    verdicts being content-addressed, grades nothing already graded the same way.

    `options` (or flat keywords such as `timeout=`, `k=`) say how to grade; without
    `options`, limits not given are the run's own. `data` is needed only for a run
    recorded before runs kept their problems."""
    from execeval import grading
    from execeval.samples import Sample

    g = replace(options or GradingOptions(), **{k: normalise(k, v) for k, v in changes.items()})
    _check_results(g.results)
    with ExitStack() as stack:
        # first a reader: a mistyped store is refused, never created; it streams the
        # samples while `opened` writes
        reader = open_store(stack, store.path if isinstance(store, Store)
                            else store_path(store or g.store), read_only=True)
        opened = open_store(stack, store or g.store)
        stored = opened.run(run_id)
        if options is None:
            recorded = stored["config"].get("limits", {})
            g = replace(g, **{name: recorded[name] for name in ("timeout", "memory_mb")
                              if name in recorded and name not in changes})
        problems = dataset_of_run(opened, stored, data)
        count, digest = 0, hashlib.sha256()
        for s in reader.samples(stored["run_id"]):
            if s.program is None:
                raise UserError(f"run {stored['run_id']} was stored before runs kept their "
                                "programs (schema 1): there is nothing to grade again")
            count += 1
            digest.update(json.dumps([s.task_id, s.program], ensure_ascii=False)
                          .encode("utf-8", "surrogatepass"))
        if not count:
            raise UserError(f"run {stored['run_id']} has no samples to grade again")
        environment = stored["config"].get("environment")  # graded in it again unless told
        grader = open_executor(stack, executor or g.executor, g.limits(), g.workers,
                               g.env or (from_identity(environment) if environment
                                         else environment_of(problems)))
        config = {**stored["config"], **base_config(grader), "regraded": stored["run_id"]}
        samples = (Sample(s.idx + 1, s.task_id, s.program or "", s.record)
                   for s in reader.samples(stored["run_id"]))
        result = grading.evaluate(problems, samples, count, opened, grader, ks=g.k,
                                  kind="regrade", config=config,
                                  run_id=run_id_of("regrade", problems, config,
                                                   digest.hexdigest()))
        _write_results(result, opened, g.results)
    return result


@dataclass(frozen=True)
class Run:
    """A stored run: its settings, its summary (None until it finishes) and its samples."""

    run_id: str
    kind: str
    dataset: str
    dataset_version: str
    config: dict[str, Any]
    status: str
    summary: Summary | None
    created: float
    updated: float
    store: Path

    def to_json(self) -> dict[str, Any]:
        """What `execeval show --json` prints (the store's path left out)."""
        return {"run_id": self.run_id, "kind": self.kind, "dataset": self.dataset,
                "dataset_version": self.dataset_version, "config": self.config,
                "status": self.status,
                "summary": None if self.summary is None else self.summary.to_json(),
                "created": self.created, "updated": self.updated}

    def samples(self, *, status: str | None = None,
                task_id: str | None = None) -> Iterator[StoredSample]:
        opened = Store(self.store, read_only=True)
        try:
            yield from opened.samples(self.run_id, status=status, task_id=task_id)
        finally:
            opened.close()

    def results(self) -> Iterator[dict[str, Any]]:
        """Rows in the layout of `--results`."""
        opened = Store(self.store, read_only=True)
        try:
            yield from result_rows(opened, self.run_id)
        finally:
            opened.close()

    def problems(self) -> Dataset:
        """The problems it was graded on: the copy the store keeps (`dataset_of_run`)."""
        opened = Store(self.store, read_only=True)
        try:
            return dataset_of_run(opened, opened.run(self.run_id))
        finally:
            opened.close()


def load_run(run_id: str, store: str | Path | None = None) -> Run:
    """A stored run by id (a unique prefix is enough); the store is only read."""
    path = store_path(store)
    opened = Store(path, read_only=True)
    try:
        r = opened.run(run_id)
    finally:
        opened.close()
    summary = None if r["summary"] is None else Summary.from_json(r["summary"])
    return Run(r["run_id"], r["kind"], r["dataset"], r["dataset_version"], r["config"],
               r["status"], summary, r["created"], r["updated"], path)
