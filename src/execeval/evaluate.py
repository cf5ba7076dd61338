"""Grade samples against a dataset: cache lookup, parallel grading, summary, results.

The pipeline is the same for every benchmark; what differs lives in the problem's
grader. Verdicts are stored as they arrive, so a run killed half-way resumes from
the store with nothing lost and nothing graded twice.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from typing import Any

from execeval import __version__, metrics
from execeval.judge import JUDGE_VERSION, Verdict
from execeval.judge.timing import grade_calibrated, mark_rechecked, needs_recheck
from execeval.problems.model import Dataset, Problem
from execeval.progress import progress_bar
from execeval.samples import Sample
from execeval.sandbox import Limits, Sandbox
from execeval.store import Store

DEFAULT_KS = (1, 10, 100)


def verdict_key(problem: Problem, program: str, limits: Limits) -> str:
    """Content address of a verdict: anything that can change it is in here."""
    h = hashlib.sha256()
    for part in (problem.hash, limits.key(), JUDGE_VERSION, program):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


@dataclass
class RunResult:
    run_id: str
    resumed: bool
    cached: int
    rows: list[dict[str, Any]]
    summary: dict[str, Any]


def safe_grade(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    """A bug of ours becomes a flagged verdict (not cached), never a dead run."""
    try:
        return grade_calibrated(problem, program, sandbox)
    except Exception as e:
        return Verdict(False, "harness_error", f"{type(e).__name__}: {e}")


Job = tuple[str, tuple[Problem, str]]  # (verdict key, (problem, program))
IDLE: Any = object()  # an iterator of jobs yields this when it has none ready yet


def grade_all(jobs: Mapping[str, tuple[Problem, str]] | Iterable[Job], sandbox: Sandbox,
              workers: int, on_verdict: Callable[[str, Verdict], None], label: str = "grading",
              advance: Callable[[], None] | None = None) -> None:
    """Grade unique programs on `workers` threads; each verdict is handed over as it lands.

    `jobs` may be an iterator that is still being filled (execeval.pipeline grades while
    it generates): it yields IDLE when it has nothing yet, so verdicts still land while it
    waits. Such a caller draws its own progress and passes `advance`.
    """
    if advance is None:
        assert isinstance(jobs, Mapping), "an iterator of jobs needs the caller's `advance`"
        with progress_bar(label, total=len(jobs)) as bar:
            grade_all(jobs, sandbox, workers, on_verdict, label, bar)
        return
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        todo = iter(jobs.items() if isinstance(jobs, Mapping) else jobs)
        running: dict[Future[Verdict], tuple[str, Problem, str]] = {}
        rechecks: list[tuple[str, Problem, str]] = []  # timeouts: graded again, alone, at the end
        exhausted = False
        try:
            while True:
                idle = False
                while not exhausted and len(running) < 2 * max(1, workers):  # memory stays flat
                    item = next(todo, None)
                    if item is None:
                        exhausted = True
                    elif item is IDLE:  # nothing to grade yet: look at what is running
                        idle = True
                        break
                    else:
                        key, (problem, program) = item
                        running[pool.submit(safe_grade, problem, program, sandbox)] = (
                            key, problem, program)
                if not running:
                    if exhausted:
                        break
                    continue
                done, _ = wait(running, timeout=0.05 if idle else None,
                               return_when=FIRST_COMPLETED)
                for fut in done:
                    key, problem, program = running.pop(fut)
                    if needs_recheck(verdict := fut.result()):
                        rechecks.append((key, problem, program))
                        continue
                    on_verdict(key, verdict)
                    advance()
            for key, problem, program in rechecks:  # the pool is idle now
                on_verdict(key, mark_rechecked(safe_grade(problem, program, sandbox)))
                advance()
        except BaseException:
            for fut in running:
                fut.cancel()
            raise


# grader name -> extra summary keys (APPS's strict accuracy, EvalPlus's base pass@k, ...)
Summarizer = Callable[[Dataset, Sequence[str], Sequence[Verdict], Sequence[int]], dict[str, Any]]
SUMMARIZERS: dict[str, Summarizer] = {}


def summarize(dataset: Dataset, task_ids: Sequence[str], verdicts: Sequence[Verdict],
              ks: Sequence[int]) -> dict[str, Any]:
    """The keys every run reports, plus those of each grader the dataset uses."""
    per_task: dict[str, list[bool]] = {}
    for task_id, v in zip(task_ids, verdicts, strict=True):
        per_task.setdefault(task_id, []).append(v.passed)
    counts = [(len(p), sum(p)) for p in per_task.values()]
    n_per = [n for n, _ in counts]
    summary = {
        "dataset": dataset.name,
        "dataset_version": dataset.version,
        "dataset_hash": dataset.hash,
        "n_problems": len(per_task),
        "n_problems_total": len(dataset.problems),
        "n_samples": len(verdicts),
        "samples_per_problem": {"min": min(n_per), "max": max(n_per)},
        "pass_at_k": {str(k): v for k, v in metrics.mean_pass_at_k(counts, ks).items()},
        "fraction_correct": sum(v.passed for v in verdicts) / len(verdicts),
        "status_counts": dict(sorted(Counter(v.status for v in verdicts).items())),
        # the flagged fallback: tests that had to run inside the sandbox, next to the program
        "graded_in_sandbox": sum(1 for v in verdicts if v.extra.get("graded_in_sandbox")),
    }
    for name in sorted({dataset.problems[t].grader for t in set(task_ids)}):
        if name in SUMMARIZERS:
            summary.update(SUMMARIZERS[name](dataset, task_ids, verdicts, ks))
    return summary


def evaluate(dataset: Dataset, samples: Sequence[Sample], store: Store, sandbox: Sandbox,
             *, ks: Sequence[int] = DEFAULT_KS, workers: int | None = None,
             kind: str = "evaluate", config: dict[str, Any] | None = None) -> RunResult:
    """Grade every sample (reusing stored verdicts) and record the run."""
    limits = sandbox.limits
    keys = [verdict_key(dataset.problems[s.task_id], s.program, limits) for s in samples]
    config = {**base_config(limits, ks), **(config or {})}
    run_id = run_id_of(kind, dataset, config, keys)
    new = store.begin_run(run_id, kind, (dataset.name, dataset.version, dataset.hash), config,
                          [(s.task_id, k, s.row) for s, k in zip(samples, keys, strict=True)])
    verdicts = store.get_verdicts(keys)
    cached = len(verdicts)
    jobs = {k: (dataset.problems[s.task_id], s.program)
            for s, k in zip(samples, keys, strict=True) if k not in verdicts}

    def keep(key: str, v: Verdict) -> None:
        verdicts[key] = v
        store.put_verdict(key, v)

    grade_all(jobs, sandbox, workers or os.cpu_count() or 1, keep)
    ordered = [verdicts[k] for k in keys]
    summary = summarize(dataset, [s.task_id for s in samples], ordered, ks)
    summary.update(run_facts(run_id, store, sandbox))
    store.finish_run(run_id, summary)
    rows = [result_row(s.row, v) for s, v in zip(samples, ordered, strict=True)]
    return RunResult(run_id, not new, cached, rows, summary)


def base_config(limits: Limits, ks: Sequence[int]) -> dict[str, Any]:
    """What every run records of how it graded."""
    return {"harness": __version__, "judge": JUDGE_VERSION, "limits": asdict(limits),
            "ks": list(ks)}


def run_id_of(kind: str, dataset: Dataset, config: dict[str, Any], items: Sequence[str]) -> str:
    """Same command, same inputs, same settings: same run (so running it again resumes)."""
    blob = json.dumps([kind, dataset.hash, config, list(items)], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def run_facts(run_id: str, store: Store, sandbox: Sandbox) -> dict[str, Any]:
    """Summary keys saying where the run lives and what held its programs."""
    return {"run_id": run_id, "store": str(store.path), "limits": asdict(sandbox.limits),
            "sandbox": getattr(sandbox, "report", {})}  # the protections that held


def result_row(row: dict[str, Any], v: Verdict) -> dict[str, Any]:
    """The input fields plus the verdict; verdict fields win over same-named inputs."""
    return {**row, "passed": v.passed, "status": v.status, "detail": v.detail, **v.extra}


from execeval.judge import summaries as _summaries  # noqa: E402,F401  (registers summary extensions)
