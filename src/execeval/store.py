"""Runs and verdicts in one embedded SQLite file.

Verdicts are content-addressed (problem hash, program, limits, judge version), so the
same program is never graded twice and an interrupted run resumes where it stopped:
each verdict is committed the moment it is known.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from execeval.errors import UserError
from execeval.judge import Verdict

SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    key TEXT PRIMARY KEY, passed INTEGER NOT NULL, status TEXT NOT NULL,
    detail TEXT NOT NULL, seconds REAL NOT NULL, extra TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, kind TEXT NOT NULL, dataset TEXT NOT NULL,
    dataset_version TEXT NOT NULL, dataset_hash TEXT NOT NULL, config TEXT NOT NULL,
    status TEXT NOT NULL, summary TEXT, created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS run_samples (
    run_id TEXT NOT NULL, idx INTEGER NOT NULL, task_id TEXT NOT NULL,
    verdict_key TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (run_id, idx));
CREATE TABLE IF NOT EXISTS generations (
    key TEXT NOT NULL, idx INTEGER NOT NULL, task_id TEXT NOT NULL, record TEXT NOT NULL,
    created REAL NOT NULL, PRIMARY KEY (key, idx));
"""


def default_path() -> Path:
    """$EXECEVAL_STORE, else $XDG_DATA_HOME/execeval/runs.sqlite (~/.local/share/...)."""
    if os.environ.get("EXECEVAL_STORE"):
        return Path(os.environ["EXECEVAL_STORE"])
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return Path(data_home) / "execeval" / "runs.sqlite"


class Store:
    """One SQLite connection, used from one thread."""

    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=10000")
            self.db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as e:
            raise UserError(f"{path}: cannot open the run store ({e})") from None

    def close(self) -> None:
        self.db.close()

    # verdicts -------------------------------------------------------------
    def get_verdicts(self, keys: Iterable[str]) -> dict[str, Verdict]:
        found: dict[str, Verdict] = {}
        keys = list(set(keys))
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = self.db.execute(
                f"SELECT key, passed, status, detail, seconds, extra FROM verdicts "
                f"WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            for key, passed, status, detail, seconds, extra in rows:
                found[key] = Verdict(bool(passed), status, detail, seconds, json.loads(extra))
        return found

    def put_verdict(self, key: str, v: Verdict) -> None:
        """Committed at once (WAL), so a kill -9 loses at most the verdicts in flight.
        A `harness_error` (a bug of ours) is never kept: the next run grades it again."""
        if v.status == "harness_error":
            return
        self.db.execute(
            "INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, int(v.passed), v.status, v.detail, v.seconds, json.dumps(v.extra), time.time()))

    # generations (execeval.pipeline): raw samples addressed by (model, settings, prompt) --
    def get_generations(self, key: str, below: int) -> dict[int, dict[str, Any]]:
        """Stored samples 0 .. below-1 of one generation address, by sample index."""
        rows = self.db.execute("SELECT idx, record FROM generations WHERE key = ? AND idx < ?",
                               (key, below))
        return {idx: json.loads(record) for idx, record in rows}

    def put_generations(self, key: str, task_id: str,
                        records: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Committed at once: a finished sample is never generated again."""
        now = time.time()
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO generations VALUES (?, ?, ?, ?, ?)",
                                ((key, i, task_id, json.dumps(r), now) for i, r in records))

    def set_run_samples(self, run_id: str,
                        samples: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """A generation run knows its samples (task_id, verdict key, record) only at the end."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM run_samples WHERE run_id = ?", (run_id,))
            self._insert_samples(run_id, samples)

    def _insert_samples(self, run_id: str,
                        samples: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        self.db.executemany(
            "INSERT INTO run_samples VALUES (?, ?, ?, ?, ?)",
            ((run_id, i, t, k, json.dumps(r)) for i, (t, k, r) in enumerate(samples)))

    # runs -----------------------------------------------------------------
    def begin_run(self, run_id: str, kind: str, dataset: tuple[str, str, str],
                  config: dict[str, Any], samples: Sequence[tuple[str, str, dict[str, Any]]]) -> bool:
        """Record a run and its samples (task_id, verdict key, record); False if it already existed."""
        now = time.time()
        with self.db:
            self.db.execute("BEGIN")
            exists = self.db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if exists:
                self.db.execute("UPDATE runs SET status = 'running', updated = ? WHERE run_id = ?",
                                (now, run_id))
                return False
            self.db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, 'running', NULL, ?, ?)",
                            (run_id, kind, *dataset, json.dumps(config, sort_keys=True), now, now))
            self._insert_samples(run_id, samples)
        return True

    def finish_run(self, run_id: str, summary: dict[str, Any]) -> None:
        self.db.execute("UPDATE runs SET status = 'complete', summary = ?, updated = ? "
                        "WHERE run_id = ?", (json.dumps(summary), time.time(), run_id))

    def runs(self) -> list[dict[str, Any]]:
        cur = self.db.execute(
            "SELECT r.run_id, r.kind, r.dataset, r.status, r.created, r.summary, "
            "(SELECT COUNT(*) FROM run_samples s WHERE s.run_id = r.run_id) "
            "FROM runs r ORDER BY r.created")
        return [{"run_id": a, "kind": b, "dataset": c, "status": d, "created": e,
                 "summary": json.loads(f) if f else None, "n_samples": g}
                for a, b, c, d, e, f, g in cur]

    def run(self, prefix: str) -> dict[str, Any]:
        rows = self.db.execute(
            "SELECT run_id, kind, dataset, dataset_version, dataset_hash, config, status, "
            "summary, created, updated FROM runs WHERE run_id LIKE ?", (prefix + "%",)).fetchall()
        if not rows:
            raise UserError(f"no run {prefix!r} in {self.path}")
        if len(rows) > 1:
            raise UserError(f"run id {prefix!r} is ambiguous ({len(rows)} runs match)")
        names = ("run_id", "kind", "dataset", "dataset_version", "dataset_hash", "config",
                 "status", "summary", "created", "updated")
        run = dict(zip(names, rows[0], strict=True))
        run["config"] = json.loads(run["config"])
        run["summary"] = json.loads(run["summary"]) if run["summary"] else None
        return run
