"""The grading stage and the run recorder, shared by every command that grades.

`Recorder` is a run in the store: begun once, each sample recorded as it arrives, each
verdict the moment it lands, finished with a summary folded over the stored verdicts.
`Grading` feeds programs to an `Executor`: a verdict already stored (same problem,
program, limits and judge) is reused, a program already in flight is not submitted
twice, and at most `window` programs wait at once, so memory stays flat however many
samples a run has. `evaluate` is the two together over a samples file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from functools import partial
from itertools import islice
from pathlib import Path
from queue import SimpleQueue
from typing import Any

from execeval.dataset import Dataset, Problem
from execeval.errors import UserError
from execeval.executor import Executor
from execeval.judge import JUDGE_VERSION
from execeval.progress import progress_bar
from execeval.prompts import Prompt
from execeval.samples import Sample
from execeval.sandbox import Limits, codec
from execeval.store import SampleRow, Store
from execeval.summary import Summary, summarize
from execeval.verdict import Verdict
from execeval.version import __version__

CHUNK = 256  # samples read, looked up and recorded together


def verdict_key(problem: Problem, program: str, limits: Limits, environment: str) -> str:
    """Content address of a verdict: anything that can change it is in here (`environment`:
    the grading environment's hash, so two environments never share a verdict)."""
    h = hashlib.sha256()
    for part in (problem.hash, limits.key(), JUDGE_VERSION, environment, program):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def base_config(executor: Executor) -> dict[str, Any]:
    """What every run records of how it graded (and what makes it the same run again;
    the ks are not in it: they only choose what the summary reports)."""
    return {"harness": __version__, "judge": JUDGE_VERSION, "limits": asdict(executor.limits),
            "environment": executor.environment.identity()}


def grading_facts(executor: Executor) -> dict[str, Any]:
    """What a finished run's summary says of how it graded."""
    return {"limits": asdict(executor.limits), "environment": executor.environment.identity(),
            "sandbox": executor.describe()}


def run_id_of(kind: str, dataset: Dataset, config: dict[str, Any], inputs: Any) -> str:
    """Same command, same inputs, same settings: same run (so running it again resumes)."""
    blob = json.dumps([kind, dataset.hash, config, inputs], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass
class RunResult:
    """What a finished run hands back; its samples stay in the store (`samples()`)."""

    run_id: str
    resumed: bool
    cached: int  # verdicts this invocation found in the store
    summary: Summary
    store: Path

    def samples(self, **filters: Any) -> Iterator[Any]:
        store = Store(self.store, read_only=True)
        try:
            yield from store.samples(self.run_id, **filters)
        finally:
            store.close()


class Recorder:
    """One run in the store, from begin to finish; used by every command that grades."""

    def __init__(self, store: Store, run_id: str, kind: str, dataset: Dataset,
                 config: dict[str, Any]):
        self.store, self.run_id, self.dataset = store, run_id, dataset
        if not store.has_problem_set(dataset.hash):  # the run carries its problems
            store.put_problem_set(dataset.hash, problem_records(dataset))
        self.new = store.begin_run(run_id, kind, (dataset.name, dataset.version, dataset.hash),
                                   config, benchmark=dataset.benchmark, source=dataset.source)

    def samples(self, rows: Sequence[SampleRow]) -> None:
        if rows:
            self.store.put_samples(self.run_id, rows)

    def verdicts(self, items: Sequence[tuple[str, Verdict]]) -> None:
        if items:
            self.store.put_verdicts(items)

    def finish(self, ks: Sequence[int], facts: dict[str, Any]) -> Summary:
        """The summary, folded over the run's stored samples in one pass, then stored."""
        summary = summarize(self.dataset, self.store.graded(self.run_id), ks)
        summary.extra.update(run_id=self.run_id, store=str(self.store.path), **facts)
        self.store.finish_run(self.run_id, summary.to_json())
        return summary


def problem_records(dataset: Dataset) -> list[dict[str, Any]]:
    """The problems as the store keeps them, exactly: `tests` and `metadata` as they are
    where JSON gives them back unchanged (the usual case, and the cheap one), else in the
    sandbox codec's tagged form (tuples, non-string keys and NaN, which JSON changes)."""
    records = []
    for p in dataset.problems.values():
        record: dict[str, Any] = {
            "task_id": p.task_id, "prompt": p.prompt, "entry_point": p.entry_point,
            "grader": p.grader, "reference": p.reference, "code_prefix": p.code_prefix}
        data = {"tests": p.tests, "metadata": p.metadata}
        try:
            exact = json.loads(json.dumps(data)) == data
        except (TypeError, ValueError):  # not JSON at all, or an int past JSON's digits
            exact = False
        try:
            record.update(data if exact else {"tagged": codec.to_plain(data)})
        except codec.Unserializable as e:  # metadata is outside the content hash: anything
            raise UserError(f"{dataset.name} problem {p.task_id}: its tests or metadata hold "
                            f"what a run cannot keep ({e})") from None
        records.append(record)
    return records


def stored_dataset(store: Store, run: dict[str, Any]) -> Dataset | None:
    """The problems a run was graded on, from the store's copy (None: the run was recorded
    before runs kept their problems), under the run's dataset name and version."""
    records = store.problem_set(run["dataset_hash"])
    if records is None:
        return None
    problems = {}
    for r in records:
        data = codec.from_plain(r["tagged"]) if "tagged" in r else r
        problems[r["task_id"]] = Problem(r["task_id"], r["prompt"], r["entry_point"], r["grader"],
                                         data["tests"], r["reference"], r["code_prefix"],
                                         data["metadata"])
    dataset = Dataset(run["dataset"], run["dataset_version"], problems,
                      source=run["source"] or "", benchmark=run["benchmark"] or "")
    if dataset.hash != run["dataset_hash"]:
        raise UserError(f"run {run['run_id']}: its stored problems do not match its dataset "
                        f"hash {run['dataset_hash'][:12]} (the store is damaged)")
    return dataset


class Grading:
    """Programs to the executor, verdicts to the recorder as they land.

    Each future puts its key on `landed` when it resolves, so taking a verdict costs the
    same however many wait: `wait()`ing on and scanning the whole window for every verdict
    cost O(window) per sample (issue 17: 5 s of the driver's CPU over 3,280 samples).
    """

    def __init__(self, executor: Executor, recorder: Recorder, advance: Callable[[int], None],
                 window: int = 1024):
        self.executor, self.recorder, self.advance = executor, recorder, advance
        self.window = window
        self.inflight: dict[str, tuple[Future[Verdict], int]] = {}  # key -> (future, waiting)
        self.landed: SimpleQueue[str] = SimpleQueue()  # keys of resolved futures, in order
        self.reused = 0

    def add(self, jobs: Sequence[tuple[str, Problem, str]]) -> None:
        """(verdict key, problem, program) for each sample; stored verdicts are reused."""
        found = self.recorder.store.get_verdicts(k for k, _, _ in jobs if k not in self.inflight)
        ready = 0
        for key, problem, program in jobs:
            if key in self.inflight:
                fut, waiting = self.inflight[key]
                self.inflight[key] = (fut, waiting + 1)
            elif key in found:
                ready += 1
            else:
                while len(self.inflight) >= self.window:
                    self.collect(block=True)
                fut = self.executor.submit(problem, program)
                self.inflight[key] = (fut, 1)
                fut.add_done_callback(partial(self._land, key))
        self.reused += ready
        if ready:
            self.advance(ready)

    def _land(self, key: str, _: Future[Verdict]) -> None:
        """A future's done callback (on the thread that resolved it)."""
        self.landed.put(key)

    def collect(self, block: bool = False) -> None:
        """Store the verdicts that have landed (waiting for one when `block`)."""
        keys = [self.landed.get()] if block and self.inflight else []
        while not self.landed.empty():
            keys.append(self.landed.get())
        done = [(k, *self.inflight.pop(k)) for k in keys]
        self.recorder.verdicts([(k, f.result()) for k, f, _ in done])
        if done:
            self.advance(sum(n for _, _, n in done))

    def finish(self) -> None:
        while self.inflight:
            self.collect(block=True)

    def cancel(self) -> None:
        for fut, _ in self.inflight.values():
            fut.cancel()


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    rows = iter(items)
    while chunk := list(islice(rows, size)):
        yield chunk


def evaluate(dataset: Dataset, samples: Iterable[Sample], count: int, store: Store,
             executor: Executor, *, ks: Sequence[int], run_id: str, kind: str,
             config: dict[str, Any]) -> RunResult:
    """Grade `count` samples, streamed, reusing stored verdicts; record the run."""
    recorder = Recorder(store, run_id, kind, dataset, config)
    seen: dict[str, int] = {}
    prompts: dict[str, str] = {}  # task -> key of what a model would have been shown
    with progress_bar("grading", total=count) as bar:
        grading = Grading(executor, recorder, bar)
        try:
            for idx0, chunk in enumerate(chunks(samples)):
                rows, jobs, new_prompts = [], [], []
                for i, s in enumerate(chunk):
                    problem = dataset.problems[s.task_id]
                    key = verdict_key(problem, s.program, executor.limits,
                                      executor.environment.hash)
                    nth = seen.get(s.task_id, 0)
                    seen[s.task_id] = nth + 1
                    if s.task_id not in prompts:
                        shown = Prompt("completion", "problem", text=problem.prompt)
                        prompts[s.task_id] = shown.key()
                        new_prompts.append((shown.key(), shown.record()))
                    rows.append(SampleRow(idx0 * CHUNK + i, s.task_id, nth, key, s.program,
                                          s.extraction, s.row, prompts[s.task_id]))
                    jobs.append((key, problem, s.program))
                store.put_prompts(new_prompts)  # one transaction a chunk, as the samples
                recorder.samples(rows)
                grading.add(jobs)
                grading.collect()
            grading.finish()
        except BaseException:
            grading.cancel()
            raise
    summary = recorder.finish(ks, grading_facts(executor))
    return RunResult(run_id, not recorder.new, grading.reused, summary, store.path)


def result_rows(store: Store, run_id: str) -> Iterator[dict[str, Any]]:
    """The results file's rows, in run order: the input fields plus the verdict (verdict
    fields win over same-named inputs); a `run` sample adds its raw output."""
    generated = store.run(run_id)["kind"] == "run"
    for s in store.samples(run_id):
        row = {**s.record, "raw": s.raw} if generated else s.record
        yield {**row, "passed": s.passed, "status": s.status, "detail": s.detail, **s.extra}
