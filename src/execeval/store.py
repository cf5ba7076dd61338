"""Runs, samples, generations and verdicts in one embedded SQLite file, and read back.

Verdicts are content-addressed (problem hash, program, limits, judge version), so the
same program is never graded twice and an interrupted run resumes where it stopped:
each sample is recorded as it arrives and each verdict the moment it is known.

The schema is versioned (`PRAGMA user_version`); a file written by an older execeval is
migrated in place when opened to write. A read-only opener (`execeval runs`, `show`,
`compare`, the viewer) never creates or changes a file: it reads schema 2 on as it is.

A run carries its problems: each problem set a run is graded on is kept once, under its
content hash (the runs' `dataset_hash`), as zlib-compressed JSON, so a run can be
studied, reported and re-graded after the file it came from is gone.

A run stays "running" in the file until it finishes, so a killed or interrupted run
would look running forever. Each run therefore records its owner: the host, pid and
process start time of the process that began (or resumed) it. A "running" run whose
owner is on this host and no longer alive reads back as "interrupted"; on another host,
or begun before schema 3, it reads as stored. The start time (Linux's /proc) keeps a
reused pid from passing for the owner; no heartbeat is needed, so a slow model that
writes nothing for an hour is still "running".

This module reads and writes plain records only: it imports nothing from the sandbox or
the judge, and no numpy, so tools that only look at runs (the viewer, `execeval samples`)
start fast.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from execeval.errors import UserError
from execeval.verdict import Verdict

SCHEMA_VERSION = 4
READABLE_FROM = 2  # the oldest schema a read-only opener reads as it is

TABLES = """
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
# Version 2: a run's samples say which sample of their task they are, which
# prompt and stored generation they came from, the program that ran and how it was
# extracted; prompts are kept; harness errors are kept (shown) but never reused.
V2 = """
ALTER TABLE run_samples ADD COLUMN sample INTEGER;
ALTER TABLE run_samples ADD COLUMN prompt_key TEXT;
ALTER TABLE run_samples ADD COLUMN generation_key TEXT;
ALTER TABLE run_samples ADD COLUMN program TEXT;
ALTER TABLE run_samples ADD COLUMN extraction TEXT;
CREATE TABLE IF NOT EXISTS prompts (key TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS run_samples_task ON run_samples (run_id, task_id);
"""
# Version 3: who runs a running run (JSON: host, pid, start), to tell a run still going
# from one whose process is gone.
V3 = """
ALTER TABLE runs ADD COLUMN owner TEXT;
"""
# Version 4 (this one): runs carry their problems. `problem_sets` holds each problem set
# once, keyed by its content hash (zlib-compressed JSON: a list of problem records); a run
# names the benchmark its problems belong to and where they were read from.
V4 = """
CREATE TABLE IF NOT EXISTS problem_sets (
    hash TEXT PRIMARY KEY, problems BLOB NOT NULL, created REAL NOT NULL);
ALTER TABLE runs ADD COLUMN benchmark TEXT;
ALTER TABLE runs ADD COLUMN source TEXT;
"""


def _statements(script: str) -> list[str]:
    """The statements of a script, to run one by one inside a transaction (executescript
    would commit first)."""
    return [s.strip() for s in script.split(";") if s.strip()]


def store_path(given: str | Path | None = None) -> Path:
    """The one place the run store's path is decided: the one given, else
    $EXECEVAL_STORE, else $XDG_DATA_HOME/execeval/runs.sqlite (~/.local/share/...)."""
    if given:
        return Path(given)
    if os.environ.get("EXECEVAL_STORE"):
        return Path(os.environ["EXECEVAL_STORE"])
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return Path(data_home) / "execeval" / "runs.sqlite"


def _started(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot, from /proc), so that a pid
    reused by another process is not taken for it; None where /proc cannot say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]  # field 22; the name before ")" may hold spaces


def _this_process() -> str:
    """The owner a run records: this host, pid and start time."""
    pid = os.getpid()
    return json.dumps({"host": socket.gethostname(), "pid": pid, "start": _started(pid)})


def _status(stored: str, owner: str | None) -> str:
    """A run's status as it stands: a "running" run whose owner on this host is gone
    was interrupted; one without an owner, or owned on another host, cannot be told."""
    if stored != "running" or owner is None:
        return stored
    o = json.loads(owner)
    if o["host"] != socket.gethostname():
        return stored
    try:
        os.kill(o["pid"], 0)
    except ProcessLookupError:
        return "interrupted"
    except PermissionError:
        pass  # alive, another user's
    if o["start"] is not None and _started(o["pid"]) != o["start"]:
        return "interrupted"  # the pid now names another process
    return stored


@dataclass(frozen=True)
class SampleRow:
    """One sample of a run as it is recorded: where it sits, what ran, and its input."""

    idx: int                        # position in the run (the results file's order)
    task_id: str
    sample: int                     # index among its task's samples
    verdict_key: str
    program: str
    extraction: str                 # how the program was obtained ("completion", "fenced", ...)
    record: dict[str, Any]          # the input row (evaluate) or what the run knows (run)
    prompt_key: str | None = None
    generation_key: str | None = None


@dataclass(frozen=True)
class StoredSample:
    """One sample read back, with its generation and verdict where they exist."""

    run_id: str
    idx: int
    task_id: str
    sample: int | None
    prompt_key: str | None
    raw: str | None                 # the model's output (or the input row's code)
    program: str | None             # what ran (None for runs stored before schema 2)
    extraction: str | None
    finish_reason: str | None
    n_prompt_tokens: int | None
    n_tokens: int | None
    sum_logprob: float | None
    mean_logprob: float | None
    logprobs: list[float] | None
    gen_seconds: float | None
    passed: bool | None             # None: not graded yet
    status: str | None
    detail: str | None
    seconds: float | None
    extra: dict[str, Any]
    record: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def verdict(self) -> Verdict | None:
        if self.status is None:
            return None
        return Verdict(bool(self.passed), self.status, self.detail or "", self.seconds or 0.0,
                       self.extra)


def _raw_of(record: dict[str, Any], generation: dict[str, Any] | None) -> str | None:
    if generation is not None:
        text: str | None = generation.get("text")
        return text
    for name in ("completion", "solution"):
        value = record.get(name)
        if isinstance(value, str):
            return value
    return None


class Store:
    """One SQLite connection, used from one thread."""

    def __init__(self, path: Path | str, *, read_only: bool = False):
        self.path = Path(path)
        try:
            if read_only:
                if not self.path.exists():
                    raise UserError(f"{self.path}: no run store here")
                self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                          isolation_level=None)
                self.db.execute("PRAGMA busy_timeout=10000")
                self.version = self.db.execute("PRAGMA user_version").fetchone()[0]
                self._check_version(self.version, writable=False)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=10000")
            self._migrate()
            self.version = SCHEMA_VERSION
        except (OSError, sqlite3.Error) as e:
            raise UserError(f"{self.path}: cannot open the run store ({e})") from None

    def _check_version(self, version: int, writable: bool) -> None:
        if version > SCHEMA_VERSION:
            raise UserError(f"{self.path}: run store schema {version} is newer than this "
                            f"execeval's ({SCHEMA_VERSION}); upgrade execeval")
        if version < READABLE_FROM and not writable:
            raise UserError(f"{self.path}: run store schema {version} needs migrating; run "
                            "one command that writes to it (`execeval evaluate` or `run`)")

    def _migrate(self) -> None:
        """Bring the file to SCHEMA_VERSION, one step at a time, each in one transaction."""
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        self._check_version(version, writable=True)
        if version == SCHEMA_VERSION:
            return
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]  # another opener?
            if version < 2:  # 0: a new file, or one of schema 1 (which had no version)
                for statement in _statements(TABLES + V2):
                    self.db.execute(statement)
                self._number_old_samples()
            if version < 3:
                for statement in _statements(V3):
                    self.db.execute(statement)
            if version < 4:
                for statement in _statements(V4):
                    self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _number_old_samples(self) -> None:
        """Schema-1 samples get their index within their task: a `run` row says it, an
        `evaluate` row is numbered in file order."""
        seen: dict[tuple[str, str], int] = {}
        updates = []
        for run_id, idx, task_id, record in self.db.execute(
                "SELECT run_id, idx, task_id, record FROM run_samples ORDER BY run_id, idx"):
            stated = json.loads(record).get("sample")
            number = stated if isinstance(stated, int) else seen.get((run_id, task_id), 0)
            seen[(run_id, task_id)] = number + 1
            updates.append((number, run_id, idx))
        self.db.executemany("UPDATE run_samples SET sample = ? WHERE run_id = ? AND idx = ?",
                            updates)

    def close(self) -> None:
        self.db.close()

    # verdicts -------------------------------------------------------------
    def get_verdicts(self, keys: Iterable[str]) -> dict[str, Verdict]:
        """Stored verdicts that may be reused: a `harness_error` (a bug of ours) never is."""
        found: dict[str, Verdict] = {}
        keys = list(set(keys))
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = self.db.execute(
                f"SELECT key, passed, status, detail, seconds, extra FROM verdicts "
                f"WHERE status != 'harness_error' AND key IN ({','.join('?' * len(chunk))})",
                chunk)
            for key, passed, status, detail, seconds, extra in rows:
                found[key] = Verdict(bool(passed), status, detail, seconds, json.loads(extra))
        return found

    def put_verdicts(self, items: Sequence[tuple[str, Verdict]]) -> None:
        """Committed at once (WAL), so a kill -9 loses at most the verdicts in flight."""
        now = time.time()
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?)",
                ((k, int(v.passed), v.status, v.detail, v.seconds, json.dumps(v.extra), now)
                 for k, v in items))

    # generations: raw samples addressed by (model, settings, prompt) ---------
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

    def put_prompts(self, prompts: Iterable[tuple[str, dict[str, Any]]]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR IGNORE INTO prompts VALUES (?, ?)",
                                ((k, json.dumps(r)) for k, r in prompts))

    def prompt(self, key: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT record FROM prompts WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    # problem sets: what runs were graded on, by content hash -------------------
    def has_problem_set(self, dataset_hash: str) -> bool:
        """Whether it is kept already (so a run on it need not encode it again)."""
        return self.db.execute("SELECT 1 FROM problem_sets WHERE hash = ?",
                               (dataset_hash,)).fetchone() is not None

    def put_problem_set(self, dataset_hash: str, problems: Sequence[dict[str, Any]]) -> None:
        """Keep a problem set (plain JSON records) once under its content hash."""
        blob = zlib.compress(json.dumps(list(problems), separators=(",", ":")).encode())
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("INSERT OR IGNORE INTO problem_sets VALUES (?, ?, ?)",
                            (dataset_hash, blob, time.time()))

    def problem_set(self, dataset_hash: str) -> list[dict[str, Any]] | None:
        """The records kept under a content hash; None where none are (a run recorded
        before schema 4, or a schema-3 file read as it is)."""
        if self.version < 4:
            return None
        row = self.db.execute("SELECT problems FROM problem_sets WHERE hash = ?",
                              (dataset_hash,)).fetchone()
        if row is None:
            return None
        try:
            records: list[dict[str, Any]] = json.loads(zlib.decompress(row[0]))
        except (zlib.error, ValueError) as e:
            raise UserError(f"{self.path}: the stored problems {dataset_hash[:12]} are "
                            f"unreadable ({e})") from None
        return records

    # runs -----------------------------------------------------------------
    def begin_run(self, run_id: str, kind: str, dataset: tuple[str, str, str],
                  config: dict[str, Any], *, benchmark: str = "", source: str = "") -> bool:
        """Record a run (again running, owned by this process); False if it already existed
        (a resume). `benchmark` and `source`: whose problems, read from where (a run begun
        before schema 4 gains them when resumed)."""
        now, owner = time.time(), _this_process()
        with self.db:
            self.db.execute("BEGIN")
            exists = self.db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if exists:
                self.db.execute("UPDATE runs SET status = 'running', owner = ?, updated = ?, "
                                "benchmark = COALESCE(benchmark, ?), source = COALESCE(source, ?) "
                                "WHERE run_id = ?", (owner, now, benchmark, source, run_id))
                return False
            self.db.execute(
                "INSERT INTO runs (run_id, kind, dataset, dataset_version, dataset_hash, config, "
                "status, summary, created, updated, owner, benchmark, source) "
                "VALUES (?, ?, ?, ?, ?, ?, 'running', NULL, ?, ?, ?, ?, ?)",
                (run_id, kind, *dataset, json.dumps(config, sort_keys=True), now, now, owner,
                 benchmark, source))
        return True

    def put_samples(self, run_id: str, rows: Sequence[SampleRow]) -> None:
        """A run's samples, committed as they arrive (an interrupted run shows what it has)."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT OR REPLACE INTO run_samples (run_id, idx, task_id, verdict_key, record, "
                "sample, prompt_key, generation_key, program, extraction) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((run_id, r.idx, r.task_id, r.verdict_key, json.dumps(r.record), r.sample,
                  r.prompt_key, r.generation_key, r.program, r.extraction) for r in rows))

    def finish_run(self, run_id: str, summary: dict[str, Any]) -> None:
        self.db.execute("UPDATE runs SET status = 'complete', summary = ?, updated = ? "
                        "WHERE run_id = ?", (json.dumps(summary), time.time(), run_id))

    @property
    def _owner(self) -> str:
        """The owner column, or NULL in a schema-2 file read as it is."""
        return "owner" if self.version >= 3 else "NULL"

    @property
    def _origin(self) -> str:
        """The benchmark and source columns, or NULLs in a file older than schema 4."""
        return "benchmark, source" if self.version >= 4 else "NULL, NULL"

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first, with its status as it stands (`_status`) and how many
        of its samples are graded."""
        cur = self.db.execute(
            f"SELECT r.run_id, r.kind, r.dataset, r.status, {self._owner}, r.created, "
            "r.config, r.summary, "
            "(SELECT COUNT(*) FROM run_samples s WHERE s.run_id = r.run_id), "
            "(SELECT COUNT(*) FROM run_samples s JOIN verdicts v ON v.key = s.verdict_key "
            " WHERE s.run_id = r.run_id) "
            "FROM runs r ORDER BY r.created")
        return [{"run_id": a, "kind": b, "dataset": c, "status": _status(d, owner), "created": e,
                 "config": json.loads(config), "summary": json.loads(f) if f else None,
                 "n_samples": g, "n_graded": h}
                for a, b, c, d, owner, e, config, f, g, h in cur]

    def run(self, prefix: str) -> dict[str, Any]:
        """A run by id or unique prefix; `benchmark` and `source` are None for a run
        recorded before schema 4."""
        rows = self.db.execute(
            "SELECT run_id, kind, dataset, dataset_version, dataset_hash, config, status, "
            f"summary, created, updated, {self._origin}, {self._owner} FROM runs "
            "WHERE substr(run_id, 1, ?) = ?", (len(prefix), prefix)).fetchall()
        if not rows:
            raise UserError(f"no run {prefix!r} in {self.path}")
        if len(rows) > 1:
            raise UserError(f"run id {prefix!r} is ambiguous ({len(rows)} runs match)")
        names = ("run_id", "kind", "dataset", "dataset_version", "dataset_hash", "config",
                 "status", "summary", "created", "updated", "benchmark", "source")
        run = dict(zip(names, rows[0][:-1], strict=True))
        run["status"] = _status(run["status"], rows[0][-1])
        run["config"] = json.loads(run["config"])
        run["summary"] = json.loads(run["summary"]) if run["summary"] else None
        return run

    def progress(self, run_id: str) -> tuple[int, int]:
        """(samples recorded, samples graded) of a run: fewer graded means unfinished."""
        n, graded = self.db.execute(
            "SELECT COUNT(*), COUNT(v.key) FROM run_samples s "
            "LEFT JOIN verdicts v ON v.key = s.verdict_key WHERE s.run_id = ?",
            (run_id,)).fetchone()
        return n, graded

    def task_ids(self, run_id: str) -> list[str]:
        """The tasks a run has samples of, in run order."""
        return [t for t, in self.db.execute(
            "SELECT task_id FROM run_samples WHERE run_id = ? GROUP BY task_id "
            "ORDER BY MIN(idx)", (run_id,))]

    def task_counts(self, run_id: str) -> dict[str, tuple[int, int]]:
        """(graded samples, passed) per task of a run, in run order: what pass@k needs."""
        rows = self.db.execute(
            "SELECT s.task_id, COUNT(v.key), COALESCE(SUM(v.passed), 0), MIN(s.idx) "
            "FROM run_samples s JOIN verdicts v ON v.key = s.verdict_key "
            "WHERE s.run_id = ? GROUP BY s.task_id ORDER BY MIN(s.idx)", (run_id,))
        return {task: (n, c) for task, n, c, _ in rows}

    def graded(self, run_id: str) -> Iterator[tuple[str, Verdict]]:
        """(task id, verdict) of each graded sample, in run order: what a summary folds,
        without reading records or generations."""
        for task, passed, status, detail, seconds, extra in self.db.execute(
                "SELECT s.task_id, v.passed, v.status, v.detail, v.seconds, v.extra "
                "FROM run_samples s JOIN verdicts v ON v.key = s.verdict_key "
                "WHERE s.run_id = ? ORDER BY s.idx", (run_id,)):
            yield task, Verdict(bool(passed), status, detail, seconds, json.loads(extra))

    def status_counts(self, run_id: str) -> list[tuple[str, str, int, int, int]]:
        """(task, status or "pending", samples, passed, first index) per task and status: a
        run's per-problem picture in one query, no sample parsed (the viewer polls it)."""
        return self.db.execute(
            "SELECT s.task_id, COALESCE(v.status, 'pending'), COUNT(*), "
            "COALESCE(SUM(v.passed), 0), MIN(s.idx) "
            "FROM run_samples s LEFT JOIN verdicts v ON v.key = s.verdict_key "
            "WHERE s.run_id = ? GROUP BY s.task_id, v.status", (run_id,)).fetchall()

    def samples(self, run_id: str, *, status: str | None = None, task_id: str | None = None,
                idx: int | None = None) -> Iterator[StoredSample]:
        """A run's samples in run order, streamed: `status` "pending" selects the ungraded;
        `idx` one sample by its position in the run."""
        where: list[str] = ["s.run_id = ?"]
        args: list[Any] = [run_id]
        if idx is not None:
            where.append("s.idx = ?")
            args.append(idx)
        if task_id is not None:
            where.append("s.task_id = ?")
            args.append(task_id)
        if status == "pending":
            where.append("v.status IS NULL")
        elif status is not None:
            where.append("v.status = ?")
            args.append(status)
        cur = self.db.execute(
            "SELECT s.idx, s.task_id, s.sample, s.prompt_key, s.program, s.extraction, s.record, "
            "g.record, v.passed, v.status, v.detail, v.seconds, v.extra "
            "FROM run_samples s LEFT JOIN verdicts v ON v.key = s.verdict_key "
            "LEFT JOIN generations g ON g.key = s.generation_key AND g.idx = s.sample "
            f"WHERE {' AND '.join(where)} ORDER BY s.idx", args)
        for (idx, task, sample, prompt_key, program, extraction, record, gen, passed, vstatus,
             detail, seconds, extra) in cur:
            rec = json.loads(record)
            g = json.loads(gen) if gen else None
            logprobs = g.get("logprobs") if g else None
            total = round(sum(logprobs), 6) if logprobs else rec.get("sum_logprob")
            n_tok = (g or {}).get("n_tokens") or (len(logprobs) if logprobs else None)
            yield StoredSample(
                run_id=run_id, idx=idx, task_id=task, sample=sample, prompt_key=prompt_key,
                raw=_raw_of(rec, g), program=program,
                extraction=extraction or rec.get("extraction"),
                finish_reason=(g or rec).get("finish_reason"),
                n_prompt_tokens=(g or rec).get("n_prompt_tokens"), n_tokens=n_tok,
                sum_logprob=total,
                mean_logprob=(round(total / n_tok, 6) if total is not None and n_tok else None),
                logprobs=logprobs, gen_seconds=g.get("seconds") if g else rec.get("gen_seconds"),
                passed=None if passed is None else bool(passed), status=vstatus, detail=detail,
                seconds=seconds, extra=json.loads(extra) if extra else {}, record=rec)
