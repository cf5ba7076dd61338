"""kill -9 half-way, run again: identical results, nothing lost, nothing graded twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from support import ADD_PROBLEM, last_json, write_jsonl

N = 40


def stored_verdicts(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(store, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def evaluate_args(problems: Path, samples: Path, results: Path, store: Path) -> list[str]:
    return [sys.executable, "-m", "execeval.cli", "evaluate", "--problems", str(problems),
            "--samples", str(samples), "--results", str(results), "--store", str(store),
            "--workers", "2", "--k", "1,10", "--json"]


def test_kill_9_then_resume_gives_identical_results(tmp_path: Path) -> None:
    problems = write_jsonl(tmp_path / "p.jsonl", [ADD_PROBLEM])
    # distinct programs (no two share a cache key), each slow enough to stop mid-run
    rows = [{"task_id": "Toy/add", "i": i,
             "completion": f"    import time\n    time.sleep(0.15)  # {i}\n"
                           f"    return a + b{' + 1' if i % 3 == 0 else ''}\n"} for i in range(N)]
    samples = write_jsonl(tmp_path / "s.jsonl", rows)

    straight = tmp_path / "straight.jsonl"
    subprocess.run(evaluate_args(problems, samples, straight, tmp_path / "a.sqlite"),
                   check=True, capture_output=True)

    store, resumed = tmp_path / "b.sqlite", tmp_path / "resumed.jsonl"
    proc = subprocess.Popen(evaluate_args(problems, samples, resumed, store),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while stored_verdicts(store) < 8 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and everything it started
    proc.wait()
    before = stored_verdicts(store)
    assert 0 < before < N, f"kill landed outside the run ({before} verdicts stored)"
    assert not resumed.exists()
    with sqlite3.connect(store) as db:  # the killed run shows every sample it was given
        assert db.execute("SELECT status FROM runs").fetchall() == [("running",)]
        assert db.execute("SELECT COUNT(*) FROM run_samples").fetchone()[0] == N

    again = subprocess.run(evaluate_args(problems, samples, resumed, store), check=True,
                           capture_output=True, text=True)
    summary = last_json(again.stdout)
    assert summary["verdicts_reused"] == before  # everything stored was reused...
    assert stored_verdicts(store) == N  # ...and only the rest was graded
    assert summary["n_samples"] == N
    assert resumed.read_bytes() == straight.read_bytes()
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT status FROM runs").fetchall() == [("complete",)]
        assert db.execute("SELECT COUNT(*) FROM run_samples").fetchone()[0] == N
