"""A run carries its problems: evaluated from a problem file that is then deleted, it is
still studied, reported, exported, compared, listed with its prompts and re-graded, all
through the real CLI on a real store, without `--data`; and the problems come back
exactly (tuples, NaN, integer keys and all), each problem set kept once."""

from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest
from support import last_json, real_data, write_jsonl

import execeval
from execeval import api
from execeval.dataset import Dataset, Problem
from execeval.errors import UserError
from execeval.grading import Recorder
from execeval.store import SampleRow, Store

PROMPTS = {"P/double": 'def double(n):\n    """Twice n.\n    >>> double(3)\n    6\n    """\n',
           "P/add": 'def add(a, b):\n    """a + b"""\n'}
PROBLEMS = [
    {"task_id": "P/double", "prompt": PROMPTS["P/double"], "entry_point": "double",
     "canonical_solution": "    return 2 * n\n",
     "test": "def check(candidate):\n    assert candidate(3) == 6\n    assert candidate(21) == 42\n"},
    {"task_id": "P/add", "prompt": PROMPTS["P/add"], "entry_point": "add",
     "canonical_solution": "    return a + b\n",
     "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n"},
]
SPECIAL_CASER = "    if n == 3:\n        return 6\n    if n == 21:\n        return 42\n    return 0\n"
SAMPLES = [{"task_id": "P/double", "completion": "    return 2 * n\n"},
           {"task_id": "P/double", "completion": SPECIAL_CASER},  # passes, but only the tests
           {"task_id": "P/add", "completion": "    return a + b\n"},
           {"task_id": "P/add", "completion": "    return a - b\n"}]


def execeval_cli(store: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """`execeval ARGS --store STORE`, as a user runs it (checked unless `ok` is False)."""
    proc = subprocess.run([sys.executable, "-m", "execeval.cli", *args, "--store", str(store)],
                          capture_output=True, text=True, cwd=store.parent, timeout=600)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


@dataclass(frozen=True)
class Gone:
    store: Path
    run: str
    dataset: Dataset  # the problems as loaded from the file, before it was deleted


@pytest.fixture(scope="module")
def gone(tmp_path_factory: pytest.TempPathFactory) -> Gone:
    """A run evaluated from a problem file and a samples file, both deleted since."""
    root = tmp_path_factory.mktemp("gone")
    store = root / "store.sqlite"
    problems = write_jsonl(root / "problems.jsonl", PROBLEMS)
    samples = write_jsonl(root / "s.jsonl", SAMPLES)
    dataset = execeval.load_dataset(None, problems_file=problems)
    run = last_json(execeval_cli(store, "evaluate", "--problems", str(problems), "--samples",
                                 str(samples), "--k", "1", "--json").stdout)["run_id"]
    problems.unlink()
    samples.unlink()
    return Gone(store, run, dataset)


def test_study_overfit_needs_no_data(gone: Gone) -> None:
    out = last_json(execeval_cli(gone.store, "study", "overfit", gone.run, "--json").stdout)
    assert (out["n_samples"], out["n_flagged"], out["n_confirmed"]) == (4, 1, 1)
    (flagged,) = out["flagged"]
    assert (flagged["task_id"], flagged["sample"], flagged["passed"]) == ("P/double", 1, True)
    assert out["fresh_run"] and "differs from the reference" in flagged["evidence"]


def test_report_show_and_exports_need_no_data(gone: Gone) -> None:
    report = gone.store.parent / "r.html"
    execeval_cli(gone.store, "report", gone.run, "-o", str(report))
    assert gone.run in report.read_text()
    assert "file:problems.jsonl" in execeval_cli(gone.store, "show", gone.run).stdout
    csv = execeval_cli(gone.store, "export", gone.run, "--format", "csv").stdout.splitlines()
    assert [line.split(",")[:3] for line in csv[1:]] == [["P/double", "2", "2"],
                                                         ["P/add", "2", "1"]]
    evalplus = json.loads(execeval_cli(gone.store, "export", gone.run, "--format",
                                       "evalplus").stdout)
    assert evalplus["hash"] == gone.dataset.hash and evalplus["pass_at_k"]["base"] == {
        "pass@1": 0.75}
    sft = gone.store.parent / "sft.jsonl"
    execeval_cli(gone.store, "export", "sft", gone.run, "--out", str(sft))
    assert sorted(json.loads(line)["task_id"] for line in sft.read_text().splitlines()) == [
        "P/add", "P/double", "P/double"]


def test_samples_prompts_gives_each_sample_its_prompt(gone: Gone) -> None:
    rows = [json.loads(line) for line in execeval_cli(
        gone.store, "samples", gone.run, "--prompts").stdout.splitlines()]
    assert [r["task_id"] for r in rows] == [s["task_id"] for s in SAMPLES]
    assert all(r["prompt"]["text"] == PROMPTS[r["task_id"]] for r in rows)
    assert {r["prompt"]["style"] for r in rows} == {"completion"}
    failed = execeval_cli(gone.store, "samples", gone.run, "--prompts", "--status", "failed")
    (only,) = [json.loads(line) for line in failed.stdout.splitlines()]
    assert only["task_id"] == "P/add" and only["prompt"]["text"] == PROMPTS["P/add"]
    plain = execeval_cli(gone.store, "samples", gone.run).stdout.splitlines()
    assert "prompt" not in json.loads(plain[0])


def test_regrade_and_compare_need_no_data(gone: Gone) -> None:
    same = last_json(execeval_cli(gone.store, "regrade", gone.run, "--k", "1",
                                  "--json").stdout)
    assert same["verdicts_reused"] == 4 and same["run_id"] != gone.run  # nothing graded again
    again = last_json(execeval_cli(gone.store, "regrade", gone.run, "--k", "1",
                                   "--json").stdout)
    assert again["run_id"] == same["run_id"]  # the same regrade: resumed
    longer = last_json(execeval_cli(gone.store, "regrade", gone.run, "--timeout", "5",
                                    "--k", "1", "--json").stdout)
    assert longer["verdicts_reused"] == 0 and longer["run_id"] not in (gone.run, same["run_id"])
    assert longer["pass_at_k"] == {"1": 0.75} and longer["limits"]["timeout"] == 5
    shown = json.loads(execeval_cli(gone.store, "show", longer["run_id"], "--json").stdout)
    assert shown["kind"] == "regrade" and shown["config"]["regraded"] == gone.run
    kept = last_json(execeval_cli(gone.store, "regrade", longer["run_id"], "--k", "1",
                                  "--json").stdout)
    assert kept["limits"]["timeout"] == 5 and kept["verdicts_reused"] == 4  # the run's limits
    compared = json.loads(execeval_cli(gone.store, "compare", gone.run, longer["run_id"],
                                       "--json").stdout)
    assert (compared["n_shared"], compared["difference"], compared["tied"]) == (2, 0.0, 2)


def test_the_api_gives_a_runs_problems_back_exactly(gone: Gone) -> None:
    kept = execeval.load_run(gone.run, gone.store).problems()
    assert (kept.name, kept.version, kept.benchmark, kept.hash) == (
        gone.dataset.name, gone.dataset.version, "file", gone.dataset.hash)
    assert kept.problems == gone.dataset.problems
    with sqlite3.connect(gone.store) as db:  # one problem set, however many runs use it
        assert db.execute("SELECT COUNT(*) FROM problem_sets WHERE hash = ?",
                          (gone.dataset.hash,)).fetchone()[0] == 1


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (NaN equal to NaN, -0.0 not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and str(a) == str(b))
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return [(type(k), k) for k in a] == [(type(k), k) for k in b] and all(
            same(a[k], b[k]) for k in a)
    return bool(a == b)


def same_problems(a: Dataset, b: Dataset) -> bool:
    return list(a.problems) == list(b.problems) and all(
        same(getattr(p, f.name), getattr(b.problems[t], f.name))
        for t, p in a.problems.items() for f in fields(Problem))


def kept(store: Store, dataset: Dataset, run_id: str = "r1") -> Dataset:
    """`dataset` recorded as a run, then read back from the store alone."""
    Recorder(store, run_id, "evaluate", dataset, {})
    return api.dataset_of_run(store, store.run(run_id))


def test_problems_come_back_exactly_whatever_their_tests_hold(tmp_path: Path) -> None:
    # what a problem's content hash can take (JSON with tuples, NaN, other keys), not
    # all of which JSON gives back as it was
    odd = {"args": (1, (2.5, "x")), "int_keys": {1: "one", 2: [None, True]},
           "float_keys": {0.5: (), 1.5: "x"}, "big": 7 ** 200,
           "floats": [float("nan"), float("inf"), -float("inf"), -0.0, 1e-320]}
    plain = {"cases": [{"input": [1, [2, 3]], "output": 1.0}], "atol": 0.0}
    dataset = Dataset("odd", "1", {
        "T/odd": Problem("T/odd", "p", "f", "io", odd, "r", "c", {"meta": (1, 2)}),
        "T/plain": Problem("T/plain", "p\u00e9\U0001f600", None, "io", plain, "r", "",
                           {"k": "v"}),
        "T/text": Problem("T/text", "p", "g", "check", "def check(c): pass", "r")},
        source="/nowhere/odd.jsonl", benchmark="file")
    store = Store(tmp_path / "s.sqlite")
    back = kept(store, dataset)
    assert same_problems(back, dataset) and back.hash == dataset.hash
    assert (back.source, back.benchmark) == ("/nowhere/odd.jsonl", "file")
    assert kept(store, dataset, "r2").hash == dataset.hash  # a second run: kept once
    assert store.db.execute("SELECT COUNT(*) FROM problem_sets").fetchone()[0] == 1
    store.close()


def test_a_problem_a_run_cannot_keep_is_refused_in_one_line(tmp_path: Path) -> None:
    dataset = Dataset("odd", "1", {"T/1": Problem("T/1", "p", "f", "io", [], "r", "",
                                                  {"where": Path("x")})})
    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(UserError, match=r"^odd problem T/1: its tests or metadata hold what "
                       r"a run cannot keep \(pathlib\.PosixPath is not plain data\)$"):
        Recorder(store, "r1", "evaluate", dataset, {})
    assert store.runs() == []  # refused before the run began
    store.close()


def test_humaneval_plus_comes_back_exactly(tmp_path: Path) -> None:
    data = real_data("evalplus", "HumanEvalPlus-Mini-v0.1.10.jsonl.gz")
    dataset = execeval.load_dataset("humaneval-plus", data)
    store = Store(tmp_path / "s.sqlite")
    back = kept(store, dataset)
    assert same_problems(back, dataset) and back.hash == dataset.hash
    assert back.benchmark == "humaneval-plus"
    store.close()


def test_a_run_recorded_before_runs_kept_problems_loads_them_again(tmp_path: Path) -> None:
    """A store migrated from schema 3 has no problem sets: a run on a packaged dataset is
    loaded again by name; one on a file needs that file, and says so in one line."""
    store = tmp_path / "store.sqlite"
    ds = execeval.load_dataset("humaneval")
    builtin = last_json(execeval_cli(store, "evaluate", "--samples", str(write_jsonl(
        tmp_path / "h.jsonl", [{"task_id": t, "completion": "    pass\n"}
                               for t in list(ds.problems)[:2]])), "--k", "1", "--json").stdout)
    problems = write_jsonl(tmp_path / "problems.jsonl", PROBLEMS)
    samples = write_jsonl(tmp_path / "s.jsonl", SAMPLES)
    from_file = last_json(execeval_cli(store, "evaluate", "--problems", str(problems),
                                       "--samples", str(samples), "--k", "1", "--json").stdout)
    with sqlite3.connect(store) as db:  # as a run recorded before schema 4 reads
        db.execute("DELETE FROM problem_sets")
        db.execute("UPDATE runs SET benchmark = NULL, source = NULL")
    out = last_json(execeval_cli(store, "study", "overfit", builtin["run_id"], "--json").stdout)
    assert out["n_samples"] == 2
    moved = tmp_path / "moved.jsonl"
    problems.rename(moved)
    refused = execeval_cli(store, "study", "overfit", from_file["run_id"], ok=False)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip() == (
        f"execeval: error: run {from_file['run_id']}: its problems are not in the store "
        "(recorded before runs kept them) and file:problems.jsonl cannot be loaded again "
        "(they came from the file problems.jsonl); give the file it was run on (--data PATH)")
    regraded = execeval_cli(store, "regrade", from_file["run_id"], "--json", ok=False)
    assert regraded.returncode == 2 and len(regraded.stderr.strip().splitlines()) == 1
    out = last_json(execeval_cli(store, "study", "overfit", from_file["run_id"], "--data",
                                 str(moved), "--json").stdout)
    assert out["n_flagged"] == 1
    last_json(execeval_cli(store, "regrade", from_file["run_id"], "--data", str(moved),
                           "--json").stdout)


def test_regrade_refuses_what_it_cannot_grade(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = Store(path)
    dataset = Dataset("d", "1", {"T/1": Problem("T/1", "p", "f", "check", "", "r")})
    Recorder(store, "empty1111111", "evaluate", dataset, {})
    Recorder(store, "old111111111", "evaluate", dataset, {})
    store.put_samples("old111111111", [SampleRow(0, "T/1", 0, "k", "x", "completion", {})])
    store.db.execute("UPDATE run_samples SET program = NULL")  # as schema 1 left it
    with pytest.raises(UserError, match="run empty1111111 has no samples to grade again"):
        api.regrade("empty1", store=path)
    with pytest.raises(UserError, match="stored before runs kept their programs"):
        api.regrade("old1", store=store)
    store.close()
