"""`execeval run` end to end with the offline backends: reference and samples:FILE."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from support import real_data

from execeval.cli import main

FUNC0 = ("def has_close_elements(numbers, threshold):\n"
         "    return any(abs(a - b) < threshold for i, a in enumerate(numbers)"
         " for j, b in enumerate(numbers) if i != j)\n")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    code = main(args)
    out, err = capsys.readouterr()
    summary = json.loads(out.strip().splitlines()[-1]) if code == 0 and "--json" in args else {}
    return code, summary, err


def test_reference_run_stores_and_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", "--dataset", "humaneval", "--model", "reference", "--limit", "4", "--n", "2",
            "--store", str(tmp_path / "s.sqlite"), "--results", str(tmp_path / "r.jsonl"), "--json"]
    code, s, err = run(args, capsys)
    assert code == 0, err
    assert s["n_samples"] == 8 and s["pass_at_k"]["1"] == 1.0
    assert s["generation"]["extraction_counts"] == {"program": 8}
    rows = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [(r["task_id"], r["sample"]) for r in rows] == [
        (f"HumanEval/{t}", i) for t in range(4) for i in range(2)]
    assert all("def " in r["solution"] for r in rows)
    code, again, _ = run(args, capsys)
    assert again["run_id"] == s["run_id"] and again["generation"]["generated"] == 0
    # the stored run carries the settings that made it, and its samples
    assert main(["show", s["run_id"], "--store", str(tmp_path / "s.sqlite"), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "complete" and shown["summary"]["pass_at_k"] == s["pass_at_k"]
    assert shown["config"]["model"] == "reference" and shown["config"]["settings"]["n"] == 2
    assert main(["samples", s["run_id"][:6], "--store", str(tmp_path / "s.sqlite")]) == 0
    samples = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(x["task_id"], x["sample"], x["status"]) for x in samples] == [
        (f"HumanEval/{t}", i, "passed") for t in range(4) for i in range(2)]
    assert all(x["program"] == x["raw"] and x["extraction"] == "program" for x in samples)
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        n = db.execute("SELECT COUNT(*) FROM run_samples").fetchone()[0]
    assert n == 8


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_replayed_chat_outputs_are_extracted_and_rates_reported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = [
        {"task_id": "HumanEval/0", "raw": f"Sure:\n```python\n{FUNC0}```\nDone."},
        {"task_id": "HumanEval/0", "raw": "<think>pairs...</think>\n" + FUNC0},
        {"task_id": "HumanEval/0", "raw": "I don't know."},
        {"task_id": "HumanEval/0", "raw": "```python\ndef has_close_elements(:\n```"},
    ]
    samples = write(tmp_path / "raw.jsonl", raw)
    code, s, err = run(["run", "--dataset", "humaneval", "--model", f"samples:{samples}",
                        "--tasks", "0", "--n", "4", "--store", str(tmp_path / "s.sqlite"),
                        "--json", "--results", str(tmp_path / "r.jsonl")], capsys)
    assert code == 0, err
    g = s["generation"]
    assert g["prompt_style"] == "chat" and g["empty_rate"] == 0.25
    assert g["unparseable_rate"] == 0.25 and g["truncated_rate"] == 0
    assert s["status_counts"] == {"passed": 2, "error": 1, "syntax_error": 1}
    rows = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [r["extraction"] for r in rows] == [
        "fenced+context", "raw+thinking+context", "none", "fenced"]


def test_raising_n_generates_only_the_new_samples(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"task_id": f"HumanEval/{t}", "completion": "    return None\n"} for t in (0, 1)
            for _ in range(4)]
    samples = write(tmp_path / "c.jsonl", rows)
    base = ["run", "--dataset", "humaneval", "--model", f"samples:{samples}", "--tasks",
            "HumanEval/0,1", "--store", str(tmp_path / "s.sqlite"), "--json"]
    code, s2, err = run([*base, "--n", "2"], capsys)
    assert code == 0, err
    assert s2["generation"]["generated"] == 4
    code, s4, err = run([*base, "--n", "4"], capsys)
    assert s4["generation"]["generated"] == 4 and s4["generation"]["reused"] == 4
    assert s4["n_samples"] == 8 and s4["status_counts"] == {"failed": 8}
    code, _, err = run([*base, "--n", "5"], capsys)
    assert code == 2 and "fewer than --n 5" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "gpt4"], "bad model spec"),
    (["--model", "openai:m@localhost:8000"], "must be an http(s) URL"),
    (["--model", "reference", "--tasks", "HumanEval/999"], "unknown task"),
    (["--model", "samples:/nonexistent.jsonl"], "cannot read"),
    (["--model", "hf:/nonexistent-model-dir"], "hf:"),
    (["--model", "reference", "--temperature", "-1"], "--temperature must be"),
    (["--model", "reference", "--top-p", "1.5"], "--top-p in"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["run", "--dataset", "humaneval", "--store", str(tmp_path / "s.sqlite"),
                        *args], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_secrets_never_reach_the_sandbox_store_or_results(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "sk-live-do-not-leak-42"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("EXECEVAL_API_KEY", secret)
    problems = write(tmp_path / "p.jsonl", [{
        "task_id": "Env/0", "prompt": 'def env():\n    """The environment."""\n',
        "entry_point": "env",
        "canonical_solution": "    return ''\n",
        # the test names the secret reversed, so that no file here holds it in plain text
        "test": f"def check(candidate):\n    assert {secret[::-1]!r}[::-1] not in candidate()\n"
                "    assert 'PATH' in candidate()\n"}])
    program = "import os\n\ndef env():\n    return repr(dict(os.environ))\n"
    samples = write(tmp_path / "s.jsonl", [{"task_id": "Env/0", "solution": program}])
    code, s, err = run(["run", "--problems", str(problems), "--model", f"samples:{samples}",
                        "--store", str(tmp_path / "s.sqlite"), "--results",
                        str(tmp_path / "r.jsonl"), "--json"], capsys)
    assert code == 0, err
    assert s["status_counts"] == {"passed": 1}  # the program saw an environment without it
    for f in tmp_path.iterdir():
        assert secret.encode() not in f.read_bytes()


def test_problems_selects_task_ids_or_loads_a_file(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "s.sqlite")
    code, s, err = run(["run", "--model", "reference", "--problems", "HumanEval/3,7",
                        "--store", store, "--json"], capsys)
    assert code == 0, err
    assert (s["n_samples"], s["n_problems"], s["n_problems_total"]) == (2, 2, 164)
    code, _, err = run(["run", "--model", "reference", "--problems", "HumanEval/999",
                        "--store", store], capsys)
    assert code == 2 and "unknown task 'HumanEval/999' (not a file" in err
    problem = {"task_id": "T/1", "prompt": "def one():\n", "entry_point": "one",
               "canonical_solution": "    return 1\n",
               "test": "def check(candidate):\n    assert candidate() == 1\n"}
    path = write(tmp_path / "mine.jsonl", [problem])
    code, s, err = run(["run", "--model", "reference", "--problems", str(path),
                        "--store", store, "--json"], capsys)
    assert code == 0, err
    assert s["dataset"] == "file:mine.jsonl" and s["pass_at_k"]["1"] == 1.0


def flat(text: str) -> str:
    """Text with its line breaks undone: rich wraps a long note at 80 columns."""
    return " ".join(text.split())


def test_ks_left_out_are_named(cli) -> None:
    """pass@k needs k samples of every problem: a requested k above them is left out and
    named, in the summary (`ks_left_out`) and in a note, never dropped silently."""
    fake = ["run", "--model", "fake:planted?distinct=0", "--n", "5", "--temperature", "0.8",
            "--limit", "4", "--json"]
    proc = cli(*fake, check=True)
    s = json.loads(proc.stdout)
    assert set(s["pass_at_k"]) == {"1"} and s["ks_left_out"] == [10, 100]
    assert "note: pass@10, pass@100 left out: only 5 samples per problem" in flat(proc.stderr)
    proc = cli(*fake, "--k", "5,10", check=True)
    s = json.loads(proc.stdout)
    assert set(s["pass_at_k"]) == {"5"} and s["ks_left_out"] == [10]
    assert "note: pass@10 left out: only 5 samples per problem" in flat(proc.stderr)
    # no requested k is usable: the run is kept, and it says why it has no pass@k
    proc = cli("run", "--model", "fake:planted?distinct=0", "--limit", "4", "--k", "5,10",
               "--json", check=True)
    s = json.loads(proc.stdout)
    assert s["pass_at_k"] == {} and s["ks_left_out"] == [5, 10]
    said = ("note: no pass@k reported: every requested k is left out (pass@5, pass@10): "
            "only 1 sample per problem")
    assert said in flat(proc.stderr)
    assert said in flat(cli("show", s["run_id"], check=True).stdout)  # and so does the store


def test_reference_model_needs_reference_solutions(cli, tmp_path: Path) -> None:
    """APPS's test split has no solutions: `--model reference` would score 0.0 there."""
    apps = real_data("apps", "apps_test_10.jsonl")
    proc = cli("run", "--model", "reference", "--dataset", "apps", "--data", str(apps))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "execeval: error: --model reference: 10 of the 10 selected problems have no reference "
        "solution in apps (`execeval validate apps` lists them)"]
    assert not (tmp_path / "store.sqlite").exists()  # refused before anything was stored
