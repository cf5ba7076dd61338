"""`execeval evaluate` end to end: a real subprocess, the real HumanEval data, a real store."""

from __future__ import annotations

import json
from pathlib import Path

from support import ADD_PROBLEM, canonical_completion, last_json, read_jsonl, write_jsonl

from execeval.benchmarks.humaneval import load

HE = load()


def canonical(task_id: str) -> str:
    return canonical_completion(HE.problems[task_id])


def test_humaneval_completions_and_solutions(cli, tmp_path: Path) -> None:
    rows = [
        {"task_id": "HumanEval/0", "completion": canonical("HumanEval/0"), "note": "kept"},
        {"task_id": "HumanEval/0", "completion": "    return False\n"},
        {"task_id": "HumanEval/2", "solution": HE.problems["HumanEval/2"].reference},
        {"task_id": "HumanEval/2", "completion": "    raise RuntimeError('nope')\n"},
        {"task_id": "HumanEval/2", "completion": "    while True:\n        pass\n"},
        {"task_id": "HumanEval/0", "completion": "    return (\n"},
    ]
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    proc = cli("evaluate", "--samples", str(samples), "--results", "r.jsonl", "--k", "1,2,10",
               "--timeout", "1", "--json", check=True)
    summary = last_json(proc.stdout)
    assert summary["dataset"] == "humaneval"
    assert summary["n_problems"] == 2 and summary["n_problems_total"] == 164
    assert summary["n_samples"] == 6
    assert set(summary["pass_at_k"]) == {"1", "2"}  # 10 > the 3 samples per problem
    assert abs(summary["pass_at_k"]["1"] - 1 / 3) < 1e-12
    assert summary["status_counts"] == {"error": 1, "failed": 1, "passed": 2,
                                        "syntax_error": 1, "timeout": 1}
    assert "2 of 164 problems" in proc.stderr  # with --json, the table is on stderr
    results = read_jsonl(tmp_path / "r.jsonl")
    assert [r["status"] for r in results] == ["passed", "failed", "passed", "error", "timeout",
                                              "syntax_error"]
    assert results[0]["note"] == "kept" and results[0]["passed"] is True
    assert "RuntimeError: nope" in results[3]["detail"]
    assert results[1]["detail"].startswith("assertion failed: assert candidate(")
    assert all(set(r) >= {"task_id", "passed", "status", "detail"} for r in results)


def test_second_run_reuses_every_verdict(cli, tmp_path: Path) -> None:
    samples = write_jsonl(tmp_path / "s.jsonl", [
        {"task_id": f"HumanEval/{i}", "completion": canonical(f"HumanEval/{i}")} for i in range(4)])
    first = last_json(cli("evaluate", "--samples", str(samples), "--json", check=True).stdout)
    again = cli("evaluate", "--samples", str(samples), "--json", check=True)
    assert "4 verdicts reused" in again.stderr
    assert last_json(again.stdout)["run_id"] == first["run_id"]
    listing = cli("runs", check=True).stdout
    assert first["run_id"] in listing and "complete" in listing
    shown = cli("show", first["run_id"][:6], check=True).stdout
    assert "pass@1" in shown and "1.0000" in shown


def test_k_does_not_make_another_run(cli, tmp_path: Path) -> None:
    """The ks only choose what the summary reports: the same samples graded again with
    more ks are the same run, and every verdict is reused."""
    samples = write_jsonl(tmp_path / "s.jsonl", [
        {"task_id": f"HumanEval/{i}", "completion": canonical(f"HumanEval/{i}")}
        for i in range(2) for _ in range(2)])
    first = last_json(cli("evaluate", "--samples", str(samples), "--k", "1", "--json",
                          check=True).stdout)
    again = last_json(cli("evaluate", "--samples", str(samples), "--k", "1,2", "--json",
                          check=True).stdout)
    assert again["run_id"] == first["run_id"]
    assert again["verdicts_reused"] == again["n_samples"] == 4
    assert set(first["pass_at_k"]) == {"1"} and set(again["pass_at_k"]) == {"1", "2"}
    assert len(json.loads(cli("runs", "--json", check=True).stdout)) == 1


def test_user_problem_file(cli, tmp_path: Path) -> None:
    problems = write_jsonl(tmp_path / "p.jsonl", [ADD_PROBLEM])
    samples = write_jsonl(tmp_path / "s.jsonl", [
        {"task_id": "Toy/add", "completion": "    return a + b\n"},
        {"task_id": "Toy/add", "completion": "    return a - b\n"},
        {"task_id": "Toy/add", "solution": "def add(a, b):\n    return str(a + b)\n"}])
    summary = last_json(cli("evaluate", "--problems", str(problems), "--samples", str(samples),
                            "--k", "1", "--json", check=True).stdout)
    assert summary["dataset"] == "file:p.jsonl"
    assert summary["status_counts"] == {"failed": 2, "passed": 1}


def bad(cli, tmp_path: Path, content: bytes, *extra: str) -> str:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    proc = cli("evaluate", "--samples", str(path), *extra)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_bad_input_is_one_line_naming_file_and_line(cli, tmp_path: Path) -> None:
    ok = b'{"task_id": "HumanEval/0", "completion": "    return True\\n"}\n'
    assert "bad.jsonl:2: not valid JSON" in bad(cli, tmp_path, ok + b'{"task_id": \n')
    assert "bad.jsonl:2: unknown task_id 'HumanEval/999'" in bad(
        cli, tmp_path, ok + b'{"task_id": "HumanEval/999", "completion": ""}\n')
    assert "bad.jsonl:1: missing field 'task_id'" in bad(cli, tmp_path, b'{"completion": "x"}\n')
    assert "bad.jsonl:1: field 'completion' is missing" in bad(
        cli, tmp_path, b'{"task_id": "HumanEval/0"}\n')
    assert "bad.jsonl:1: field 'completion' is not a string" in bad(
        cli, tmp_path, b'{"task_id": "HumanEval/0", "completion": 5}\n')
    assert "bad.jsonl:2: not UTF-8" in bad(cli, tmp_path, ok + b'{"task_id": "\xff\xfe"}\n')
    assert "bad.jsonl:1: expected a JSON object" in bad(cli, tmp_path, b'[1, 2]\n')
    assert "bad.jsonl: no samples in file" in bad(cli, tmp_path, b"")
    assert "unknown dataset 'nope'" in bad(cli, tmp_path, ok, "--dataset", "nope")


def test_missing_files_and_bad_options(cli, tmp_path: Path) -> None:
    proc = cli("evaluate", "--samples", str(tmp_path / "absent.jsonl"))
    assert proc.returncode == 2 and "absent.jsonl: cannot read" in proc.stderr
    proc = cli("evaluate", "--samples", "x.jsonl", "--k", "one")
    assert proc.returncode == 2 and "--k" in proc.stderr
    proc = cli("show", "feedface")  # no store yet: reading one never creates it
    assert proc.returncode == 2 and "no run store here" in proc.stderr
    problems = tmp_path / "p.jsonl"
    problems.write_text('{"task_id": "T/1", "prompt": "x"}\n')
    proc = cli("evaluate", "--problems", str(problems), "--samples", "x.jsonl")
    assert proc.returncode == 2 and "p.jsonl:1: field" in proc.stderr


def test_usage_mistakes_are_one_line(cli) -> None:
    for args in (["evaluate", "--samples", "s.jsonl", "--workers", "0"], ["frob"],
                 ["evaluate", "--samples", "s.jsonl", "--timeout", "soon"]):
        proc = cli(*args)
        assert proc.returncode == 2
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
