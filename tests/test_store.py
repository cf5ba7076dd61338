"""The run store on a real SQLite file: migration from schemas 1, 2 and 3, reading samples
back, and telling a running run from one whose process is gone."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from execeval.errors import UserError
from execeval.store import SCHEMA_VERSION, TABLES, V2, V3, SampleRow, Store
from execeval.verdict import Verdict

# the schema execeval 0.1 wrote (no user_version): an existing runs.sqlite looks like this
SCHEMA_1 = """
CREATE TABLE verdicts (
    key TEXT PRIMARY KEY, passed INTEGER NOT NULL, status TEXT NOT NULL,
    detail TEXT NOT NULL, seconds REAL NOT NULL, extra TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, kind TEXT NOT NULL, dataset TEXT NOT NULL,
    dataset_version TEXT NOT NULL, dataset_hash TEXT NOT NULL, config TEXT NOT NULL,
    status TEXT NOT NULL, summary TEXT, created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE run_samples (
    run_id TEXT NOT NULL, idx INTEGER NOT NULL, task_id TEXT NOT NULL,
    verdict_key TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (run_id, idx));
CREATE TABLE generations (
    key TEXT NOT NULL, idx INTEGER NOT NULL, task_id TEXT NOT NULL, record TEXT NOT NULL,
    created REAL NOT NULL, PRIMARY KEY (key, idx));
"""


def schema_1_file(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_1)
    summary = {"dataset": "humaneval", "pass_at_k": {"1": 0.5}, "n_samples": 2}
    db.execute("INSERT INTO runs VALUES ('aaaa11112222', 'evaluate', 'humaneval', 'v', 'h', "
               "'{}', 'complete', ?, 1.0, 2.0)", (json.dumps(summary),))
    for idx, key in enumerate(("k0", "k1")):
        db.execute("INSERT INTO run_samples VALUES ('aaaa11112222', ?, 'HumanEval/0', ?, ?)",
                   (idx, key, json.dumps({"task_id": "HumanEval/0", "completion": f"  pass{idx}"})))
    db.execute("INSERT INTO verdicts VALUES ('k0', 1, 'passed', '', 0.1, '{}', 1.0)")
    db.execute("INSERT INTO verdicts VALUES ('k1', 0, 'failed', 'assertion failed', 0.1, '{}', 1)")
    db.execute("INSERT INTO runs VALUES ('bbbb11112222', 'run', 'humaneval', 'v', 'h', '{}', "
               "'running', NULL, 3.0, 3.0)")
    db.execute("INSERT INTO run_samples VALUES ('bbbb11112222', 7, 'HumanEval/3', 'k9', ?)",
               (json.dumps({"task_id": "HumanEval/3", "sample": 3, "raw": "x"}),))
    db.commit()
    db.close()
    return path


def test_a_schema_1_store_is_migrated_in_place_and_reads_back(tmp_path: Path) -> None:
    path = schema_1_file(tmp_path / "old.sqlite")
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    runs = {r["run_id"]: r for r in store.runs()}
    assert runs["aaaa11112222"]["n_samples"] == 2 and runs["aaaa11112222"]["n_graded"] == 2
    old = list(store.samples("aaaa11112222"))
    assert [(s.sample, s.raw, s.status) for s in old] == [(0, "  pass0", "passed"),
                                                          (1, "  pass1", "failed")]
    assert old[0].program is None  # schema 1 did not keep the program
    assert store.task_counts("aaaa11112222") == {"HumanEval/0": (2, 1)}
    (unfinished,) = store.samples("bbbb11112222")
    assert (unfinished.sample, unfinished.status) == (3, None)  # stated index; not graded
    store.close()
    Store(path).close()  # opening again is a no-op
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM run_samples").fetchone()[0] == 3


def test_a_store_from_a_newer_execeval_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(UserError, match="schema 99 is newer"):
        Store(path)


def test_samples_carry_generation_logprobs_and_verdict(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    store.begin_run("r1", "run", ("humaneval", "v", "h"), {})
    gen = {"task_id": "HumanEval/0", "index": 1, "text": "    return 1\n", "finish_reason": "stop",
           "n_prompt_tokens": 50, "n_tokens": 4, "logprobs": [-0.5, -0.25, -0.25, -1.0],
           "seconds": 0.3, "future_field": "ignored by old readers"}
    store.put_generations("g", "HumanEval/0", [(1, gen)])
    store.put_samples("r1", [SampleRow(0, "HumanEval/0", 1, "v1", "def f():\n    return 1\n",
                                       "completion+stop", {"task_id": "HumanEval/0"}, "p", "g")])
    store.put_verdicts([("v1", Verdict(False, "error", "NameError: x", 0.01, {"n": 1}))])
    (s,) = store.samples("r1")
    assert (s.raw, s.finish_reason, s.n_prompt_tokens, s.n_tokens) == (gen["text"], "stop", 50, 4)
    assert s.logprobs == gen["logprobs"] and s.sum_logprob == -2.0 and s.mean_logprob == -0.5
    assert (s.passed, s.status, s.detail, s.extra) == (False, "error", "NameError: x", {"n": 1})
    assert [x.idx for x in store.samples("r1", status="error")] == [0]
    assert list(store.samples("r1", status="passed")) == []
    assert list(store.samples("r1", task_id="HumanEval/1")) == []


def test_a_harness_error_is_shown_but_never_reused(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    store.put_verdicts([("bug", Verdict(False, "harness_error", "KeyError: 'x'")),
                        ("ok", Verdict(True, "passed"))])
    assert set(store.get_verdicts(["bug", "ok"])) == {"ok"}
    store.begin_run("r", "evaluate", ("d", "v", "h"), {})
    store.put_samples("r", [SampleRow(0, "T/1", 0, "bug", "x = 1\n", "solution", {})])
    assert [s.status for s in store.samples("r")] == ["harness_error"]


def test_importing_the_store_loads_no_sandbox_judge_or_numpy() -> None:
    code = ("import sys, execeval.store\n"
            "bad = [m for m in sys.modules if m.startswith(('execeval.sandbox', 'execeval.judge',"
            " 'numpy'))]\nprint(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def schema_2_file(path: Path) -> Path:
    """A store as execeval 0.2 left it: schema 2, a finished run and one left "running"."""
    db = sqlite3.connect(path)
    db.executescript(TABLES + V2)
    for run_id, status in (("done11112222", "complete"), ("left11112222", "running")):
        db.execute("INSERT INTO runs VALUES (?, 'run', 'humaneval', 'v', 'h', '{}', ?, NULL, "
                   "1.0, 1.0)", (run_id, status))
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    return path


def test_a_schema_2_store_is_read_as_it_is_and_migrated_when_written(tmp_path: Path) -> None:
    path = schema_2_file(tmp_path / "v2.sqlite")
    before = path.read_bytes()
    store = Store(path, read_only=True)  # `execeval runs`: no migration, no change
    # no owner was recorded then: a run left "running" cannot be told from one going on
    assert {r["run_id"]: r["status"] for r in store.runs()} == {
        "done11112222": "complete", "left11112222": "running"}
    assert store.run("left")["status"] == "running"
    store.close()
    assert path.read_bytes() == before
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    columns = [c[1] for c in store.db.execute("PRAGMA table_info(runs)")]
    assert columns[-3:] == ["owner", "benchmark", "source"]
    assert store.run("left")["status"] == "running"
    store.begin_run("left11112222", "run", ("humaneval", "v", "h"), {})  # resumed here
    assert json.loads(store.db.execute("SELECT owner FROM runs WHERE run_id = 'left11112222'")
                      .fetchone()[0])["pid"] == os.getpid()
    store.close()


def test_a_running_run_whose_process_is_gone_reads_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = Store(path)
    store.begin_run("mine11112222", "run", ("d", "v", "h"), {})
    code = ("import sys; from execeval.store import Store\n"
            "Store(sys.argv[1]).begin_run('gone11112222', 'run', ('d', 'v', 'h'), {})")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)  # began, then exited
    owner = json.loads(store.db.execute("SELECT owner FROM runs WHERE run_id = 'mine11112222'")
                       .fetchone()[0])
    for run_id, changed in (("reused112222", {"start": "1"}),  # the pid is another process
                            ("remote112222", {"host": "elsewhere", "pid": 1})):
        store.begin_run(run_id, "run", ("d", "v", "h"), {})
        store.db.execute("UPDATE runs SET owner = ? WHERE run_id = ?",
                         (json.dumps({**owner, **changed}), run_id))
    store.begin_run("done11112222", "run", ("d", "v", "h"), {})
    store.finish_run("done11112222", {})
    reader = Store(path, read_only=True)
    expected = {"mine11112222": "running", "gone11112222": "interrupted",
                "reused112222": "interrupted", "remote112222": "running",
                "done11112222": "complete"}
    assert {r["run_id"]: r["status"] for r in reader.runs()} == expected
    assert {run_id: reader.run(run_id)["status"] for run_id in expected} == expected
    assert reader.progress("mine11112222") == (0, 0)
    reader.close()
    store.close()


def schema_3_file(path: Path) -> Path:
    """A store as execeval 0.2 left it before runs kept their problems: schema 3."""
    db = sqlite3.connect(path)
    db.executescript(TABLES + V2 + V3)
    db.execute("INSERT INTO runs VALUES ('old111112222', 'evaluate', 'humaneval', 'v', 'h', "
               "'{}', 'complete', NULL, 1.0, 1.0, NULL)")
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    return path


def test_a_schema_3_store_is_read_as_it_is_and_gains_problem_sets_when_written(
        tmp_path: Path) -> None:
    path = schema_3_file(tmp_path / "v3.sqlite")
    before = path.read_bytes()
    reader = Store(path, read_only=True)
    old = reader.run("old1")
    assert (old["benchmark"], old["source"]) == (None, None)
    assert reader.problem_set("h") is None  # no table yet: nothing kept, nothing changed
    reader.close()
    assert path.read_bytes() == before
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.problem_set("h") is None and not store.has_problem_set("h")
    records = [{"task_id": "T/1", "tests": [1.5, float("inf")]}]
    store.put_problem_set("h", records)
    store.put_problem_set("h", [{"task_id": "other"}])  # kept once: the first stays
    assert store.problem_set("h") == records
    assert store.db.execute("SELECT COUNT(*) FROM problem_sets").fetchone()[0] == 1
    store.begin_run("old111112222", "evaluate", ("humaneval", "v", "h"), {},
                    benchmark="humaneval", source="packaged")  # resumed: gains its origin
    store.begin_run("new111112222", "evaluate", ("humaneval", "v", "h"), {},
                    benchmark="humaneval", source="elsewhere")
    assert [(store.run(r)["benchmark"], store.run(r)["source"]) for r in ("old1", "new1")] \
        == [("humaneval", "packaged"), ("humaneval", "elsewhere")]
    store.db.execute("UPDATE problem_sets SET problems = X'00'")
    with pytest.raises(UserError, match="stored problems h are unreadable"):
        store.problem_set("h")
    store.close()
