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

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from execeval.errors import UserError
from execeval.executor import Executor, executor_from_spec
from execeval.grading import DEFAULT_KS, RunResult, base_config, result_rows, run_id_of
from execeval.problems.model import Dataset
from execeval.sandbox import Limits
from execeval.store import Store, StoredSample, default_path

__all__ = ["Run", "RunResult", "evaluate", "load_dataset", "load_run", "run", "validate"]

StoreArg = Store | str | Path | None
DatasetArg = Dataset | str


def load_dataset(dataset: DatasetArg = "humaneval", *, data: str | Path | None = None,
                 problems_file: str | Path | None = None, split: str | None = None,
                 challenge_tests: bool = False) -> Dataset:
    if isinstance(dataset, Dataset):
        return dataset
    from execeval.benchmark import load_dataset as load

    return load(dataset, data, problems_file, split=split, challenge_tests=challenge_tests)


def open_store(stack: ExitStack, store: StoreArg) -> Store:
    """The store given, or one opened here (closed when `stack` closes)."""
    if isinstance(store, Store):
        return store
    opened = Store(Path(store) if store else default_path())
    stack.callback(opened.close)
    return opened


def open_executor(stack: ExitStack, executor: Executor | str | None, limits: Limits,
                  workers: int | None) -> Executor:
    """An executor given as an object is the caller's; one named by a spec ("local",
    "ray:auto", ...; None: local) is built here and closed when `stack` closes."""
    if executor is not None and not isinstance(executor, str):
        return executor
    built = executor_from_spec(executor or "local", limits, workers)
    stack.callback(built.close)
    return built


def _write_results(result: RunResult, store: Store, results: str | Path | None) -> None:
    if results:
        from execeval.jsonl import write_rows

        write_rows(results, result_rows(store, result.run_id))
        result.summary["results"] = str(results)


def evaluate(samples: str | Path | Iterable[dict[str, Any]], dataset: DatasetArg = "humaneval",
             *, data: str | Path | None = None, problems_file: str | Path | None = None,
             split: str | None = None, challenge_tests: bool = False,
             results: str | Path | None = None, k: Sequence[int] = DEFAULT_KS,
             timeout: float = 3.0, memory_mb: int = 2048, workers: int | None = None,
             store: StoreArg = None, executor: Executor | str | None = None) -> RunResult:
    """Grade a samples file (or rows with `task_id` and `completion` or `solution`)."""
    from execeval import grading
    from execeval.samples import iter_samples, scan_samples

    ds = load_dataset(dataset, data=data, problems_file=problems_file, split=split,
                      challenge_tests=challenge_tests)
    if not isinstance(samples, str | Path):
        samples = list(samples)
    count, digest = scan_samples(samples, ds)  # every row checked before grading starts
    with ExitStack() as stack:
        st = open_store(stack, store)
        ex = open_executor(stack, executor, Limits(timeout=timeout, memory_mb=memory_mb), workers)
        source = os.path.abspath(samples) if isinstance(samples, str | Path) else "<rows>"
        config = {**base_config(ex.limits, k), "samples": source}
        result = grading.evaluate(ds, iter_samples(samples, ds), count, st, ex, ks=k,
                                  run_id=run_id_of("evaluate", ds, config, digest),
                                  kind="evaluate", config=config)
        _write_results(result, st, results)
    return result


def select_tasks(dataset: Dataset, tasks: str | Sequence[str] | None,
                 limit: int | None) -> list[str]:
    """Task ids by id (the dataset's spelling, or a number), then the first `limit`."""
    ids = list(dataset.problems)
    if tasks:
        names = tasks.split(",") if isinstance(tasks, str) else list(tasks)
        ids = []
        for name in (str(t).strip() for t in names if str(t).strip()):
            found = dataset.resolve(name)
            if found is None:
                raise UserError(f"--tasks/--problems: unknown task {name!r} (not a file, nor a "
                                f"task of dataset {dataset.name})")
            ids.append(found)
        ids = list(dict.fromkeys(ids))
    return ids[:limit] if limit else ids


def run(model: str, dataset: DatasetArg = "humaneval", *, data: str | Path | None = None,
        problems: str | Path | None = None, tasks: str | Sequence[str] | None = None,
        limit: int | None = None, split: str | None = None, challenge_tests: bool = False,
        n: int = 1, temperature: float | None = None, top_p: float | None = None,
        max_tokens: int = 512, stop: Sequence[str] | None = None, seed: int | None = None,
        prompt_style: str | None = None, shots: int | None = None,
        concurrency: int = 8, request_timeout: float = 120.0, retries: int = 6,
        batch_size: int | None = None, params: float | None = None, beams: int | None = None,
        results: str | Path | None = None,
        k: Sequence[int] = DEFAULT_KS, timeout: float = 3.0, memory_mb: int = 2048,
        workers: int | None = None, store: StoreArg = None,
        executor: Executor | str | None = None) -> RunResult:
    """Generate `n` samples per problem with `model` (a spec such as `openai:NAME@URL`,
    `hf:PATH`, `reference`) and grade them as they come.

    `problems` is a problem file when it names one, else task ids like `tasks`. `params`
    (the model's parameter count) is recorded in the run's config for scaling studies.
    `beams` (hf:, vllm:) asks for beam search: the n samples are the n best beams.
    `temperature` defaults to 0 (greedy) for n=1, else 0.8; `stop` None takes each
    prompt's own stops, () none at all."""
    from execeval import pipeline
    from execeval.models import Backend, Settings, load_model

    problems_file = problems if problems and Path(problems).is_file() else None
    if problems and problems_file is None:
        tasks = tasks or str(problems)
    ds = load_dataset(dataset, data=data, problems_file=problems_file, split=split,
                      challenge_tests=challenge_tests)
    task_ids = select_tasks(ds, tasks, limit)
    if beams:
        if not model.startswith(("hf:", "vllm:")):
            raise UserError("--beams needs a local model: hf:PATH or vllm:PATH")
        if n not in (1, beams):
            raise UserError(f"--beams {beams} gives {beams} samples per problem; --n {n} differs")
        n, temperature = beams, 0.0
    if temperature is None:
        temperature = 0.0 if n == 1 else 0.8
    defaults = Settings()
    top_p = defaults.top_p if top_p is None else top_p
    if temperature < 0 or not 0 < top_p <= 1:
        raise UserError("--temperature must be >= 0 and --top-p in (0, 1]")
    settings = Settings(n=n, temperature=temperature, top_p=top_p, max_tokens=max_tokens,
                        stop=None if stop is None else tuple(stop), seed=seed, beams=beams)
    with ExitStack() as stack:
        m = load_model(model, ds, Backend(concurrency=concurrency, timeout=request_timeout,
                                          retries=retries, batch_size=batch_size, seed=seed))
        stack.callback(m.close)
        check = getattr(m, "check", None)
        if check is not None:
            check(task_ids, n)
        style = prompt_style or ("chat" if m.chat else "completion")
        plan = pipeline.plan(ds, task_ids, settings, style, shots)
        st = open_store(stack, store)
        ex = open_executor(stack, executor, Limits(timeout=timeout, memory_mb=memory_mb), workers)
        result = pipeline.run(plan, m, st, ex, ks=k,
                              config=None if params is None else {"params": params})
        _write_results(result, st, results)
    return result


def validate(dataset: DatasetArg, *, data: str | Path | None = None,
             problems_file: str | Path | None = None, split: str | None = None,
             challenge_tests: bool = False, timeout: float = 3.0, memory_mb: int = 2048,
             workers: int | None = None, store: StoreArg = None,
             executor: Executor | str | None = None) -> dict[str, Any]:
    """Every reference solution through the grader: which fail, and why."""
    from execeval.validate import validate as check

    ds = load_dataset(dataset, data=data, problems_file=problems_file, split=split,
                      challenge_tests=challenge_tests)
    with ExitStack() as stack:
        ex = open_executor(stack, executor, Limits(timeout=timeout, memory_mb=memory_mb), workers)
        return check(ds, ex, open_store(stack, store))


@dataclass(frozen=True)
class Run:
    """A stored run: its settings, its summary (None until it finishes) and its samples."""

    run_id: str
    kind: str
    dataset: str
    dataset_version: str
    config: dict[str, Any]
    status: str
    summary: dict[str, Any] | None
    created: float
    updated: float
    store: Path

    def samples(self, *, status: str | None = None,
                task_id: str | None = None) -> Iterator[StoredSample]:
        st = Store(self.store, read_only=True)
        try:
            yield from st.samples(self.run_id, status=status, task_id=task_id)
        finally:
            st.close()

    def results(self) -> Iterator[dict[str, Any]]:
        """Rows in the layout of `--results`."""
        st = Store(self.store, read_only=True)
        try:
            yield from result_rows(st, self.run_id)
        finally:
            st.close()


def load_run(run_id: str, store: str | Path | None = None) -> Run:
    """A stored run by id (a unique prefix is enough)."""
    path = Path(store) if store else default_path()
    st = Store(path)
    try:
        r = st.run(run_id)
    finally:
        st.close()
    return Run(r["run_id"], r["kind"], r["dataset"], r["dataset_version"], r["config"],
               r["status"], r["summary"], r["created"], r["updated"], path)
