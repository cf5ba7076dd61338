"""The OpenAI-compatible backend against a real local HTTP server that misbehaves."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.openai_server import FakeOpenAI

from execeval.api import load_dataset
from execeval.cli import main

KEY = "sk-test-0123456789-secret"
DATASET = load_dataset("humaneval")


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    code = main(args)
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    summary = json.loads(lines[-1]) if code == 0 else {}
    return code, summary, out + err


def markers(rows: list[dict]) -> list[str]:
    return [m for r in rows for m in re.findall(r"sample ([0-9a-f]{32})", r["raw"])]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EXECEVAL_API_KEY", KEY)
    monkeypatch.setenv("EXECEVAL_CONFIG", str(tmp_path / "none.toml"))
    return tmp_path


def common(server: FakeOpenAI, tmp: Path, *extra: str) -> list[str]:
    return ["run", "--dataset", "humaneval", "--store", str(tmp / "runs.sqlite"),
            "--results", str(tmp / "results.jsonl"), "--json", "--request-timeout", "0.5",
            "--retries", "5", "--concurrency", "4", "--workers", "2", *extra]


def read_rows(tmp: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp / "results.jsonl").read_text().splitlines()]


def assert_secret_kept(tmp: Path, output: str) -> None:
    assert KEY not in output
    for f in tmp.iterdir():
        assert KEY.encode() not in f.read_bytes(), f"the API key leaked into {f.name}"


def test_completions_with_429_500_timeouts_and_n_above_server_cap(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeOpenAI(DATASET, KEY, max_n=3) as server:
        code, s, output = run_cli(common(server, env, "--model", f"openai:fake@{server.url}",
                                         "--n", "5", "--limit", "6", "--temperature", "0.8"),
                                  capsys)
    assert code == 0, output
    rows = read_rows(env)
    assert len(rows) == 30 and s["n_samples"] == 30
    got = markers(rows)
    assert len(got) == 30 and len(set(got)) == 30, "a sample was lost or duplicated"
    assert set(got) <= set(server.served)
    assert {(r["task_id"], r["sample"]) for r in rows} == {
        (f"HumanEval/{t}", i) for t in range(6) for i in range(5)}
    # every fault kind happened, and the client came through all of them
    assert server.statuses[429] and server.statuses[500] and server.statuses["slow"]
    assert server.bad_auth == 0
    assert s["pass_at_k"]["1"] == 1.0 and s["status_counts"] == {"passed": 30}
    g = s["generation"]
    assert g["extraction_counts"] == {"completion+stop": 30}
    assert g["empty_rate"] == g["unparseable_rate"] == g["truncated_rate"] == 0
    assert all(r["sum_logprob"] < 0 and r["n_tokens"] > 0 for r in rows)
    # HumanEval's stops went to the server, cut to the API's limit of 4
    assert all(b["stop"] == ["\nclass", "\ndef", "\n#", "\nif"] for b in server.seen_bodies)
    assert all(b["temperature"] == 0.8 and b["max_tokens"] == 512 for b in server.seen_bodies)
    assert_secret_kept(env, output)


def test_chat_endpoint_fenced_answers(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeOpenAI(DATASET, KEY, max_n=8) as server:
        code, s, output = run_cli(common(server, env, "--model", f"openai-chat:fake@{server.url}",
                                         "--n", "2", "--limit", "4"), capsys)
    assert code == 0, output
    rows = read_rows(env)
    assert len(set(markers(rows))) == 8
    assert s["generation"]["prompt_style"] == "chat"
    assert all(r["extraction"].startswith("fenced") for r in rows)
    assert s["status_counts"] == {"passed": 8}
    system, user = server.seen_bodies[0]["messages"]
    assert system["role"] == "system" and "```python" in user["content"]
    assert_secret_kept(env, output)


def test_interrupted_run_resumes_without_regenerating(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeOpenAI(DATASET, KEY, faults=False, max_n=2) as server:
        server.fail_after = 5  # then every request gets a 400: the run stops half-way
        args = common(server, env, "--model", f"openai:fake@{server.url}", "--n", "4",
                      "--limit", "5", "--concurrency", "1")
        code, _, output = run_cli(args, capsys)
        assert code == 2 and "HTTP 400" in output
        first = list(server.served)
        assert len(first) == 10

        server.fail_after = None
        code, s, output = run_cli(args, capsys)
    assert code == 0, output
    rows = read_rows(env)
    got = markers(rows)
    assert len(got) == 20 and len(set(got)) == 20
    assert set(first) <= set(got), "samples generated before the failure were not reused"
    assert len(server.served) == 20, "finished samples were generated again"
    assert s["generation"]["reused"] == 10 and s["generation"]["generated"] == 10
    assert s["status_counts"] == {"passed": 20}


def wait_for(predicate: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def stored_generations(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_ctrl_c_keeps_generations_and_the_rerun_completes_them(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A real `execeval run` process, interrupted by SIGINT half-way through generation."""
    with FakeOpenAI(DATASET, KEY, faults=False) as server:
        server.delay = 0.25
        args = common(server, env, "--model", f"openai:fake@{server.url}", "--limit", "12",
                      "--concurrency", "1")
        # the client's debug log prints every request: the key must still not show
        proc = subprocess.Popen([sys.executable, "-m", "execeval.cli", *args],
                                env=dict(os.environ, OPENAI_LOG="debug"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: stored_generations(env / "runs.sqlite") >= 3, 60)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
        assert proc.returncode == 130, err
        assert "run the same command again to resume" in err
        assert "DEBUG" in err and KEY not in err
        kept = stored_generations(env / "runs.sqlite")
        assert 3 <= kept < 12
        served_before = len(server.served)
        # the interrupted run shows what it has: its samples, listed and readable
        assert main(["runs", "--store", str(env / "runs.sqlite"), "--json"]) == 0
        (listed,) = json.loads(capsys.readouterr().out)
        assert listed["status"] == "interrupted" and 1 <= listed["n_samples"] <= kept
        assert main(["samples", listed["run_id"], "--store", str(env / "runs.sqlite")]) == 0
        partial = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
        assert len(partial) == listed["n_samples"]
        assert all(x["raw"] and x["program"] and x["n_tokens"] for x in partial)

        server.delay = 0.0
        code, s, output = run_cli(args, capsys)
    assert code == 0, output
    g = s["generation"]
    assert g["reused"] == kept and g["generated"] == 12 - kept
    assert len(server.served) - served_before == 12 - kept
    assert s["status_counts"] == {"passed": 12}


def test_grading_overlaps_generation(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The first verdicts are stored while the model is still generating."""
    with FakeOpenAI(DATASET, KEY, faults=False) as server:
        server.delay = 0.3  # 10 requests one at a time: generation takes 3 s or more
        code, s, output = run_cli(common(server, env, "--model", f"openai:fake@{server.url}",
                                         "--limit", "10", "--concurrency", "1"), capsys)
    assert code == 0, output
    with sqlite3.connect(env / "runs.sqlite") as db:
        first_verdict = db.execute("SELECT MIN(created) FROM verdicts").fetchone()[0]
        last_generation = db.execute("SELECT MAX(created) FROM generations").fetchone()[0]
    assert first_verdict < last_generation - 1.0
    g = s["generation"]
    assert g["grading_tail_seconds"] < g["generation_seconds"]


def test_a_server_without_logprobs_is_asked_again_without(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeOpenAI(DATASET, KEY, faults=False) as server:
        server.refuse_logprobs = True
        code, s, output = run_cli(common(server, env, "--model", f"openai:fake@{server.url}",
                                         "--limit", "3", "--concurrency", "1"), capsys)
    assert code == 0, output
    assert server.statuses["refused logprobs"] == 1  # asked once, then never again
    rows = read_rows(env)
    assert all(r["sum_logprob"] is None for r in rows) and s["status_counts"] == {"passed": 3}


def test_each_prompt_gets_its_own_stops(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A problem file mixing a HumanEval-style function with a stdin script: the function's
    prompt is sent HumanEval's stops, the script's none (HumanEval's "\\nprint" would cut it)."""
    he = DATASET.problems["HumanEval/0"]
    script = "a, b = map(int, input().split())\nprint(a + b)\n"
    rows = [{"task_id": "Mix/fn", "prompt": he.prompt, "entry_point": he.entry_point,
             "canonical_solution": he.reference[len(he.prompt):], "test": he.tests},
            {"task_id": "Mix/sum", "kind": "stdio", "prompt": "# Print the sum of two ints.\n",
             "reference": "# Print the sum of two ints.\n" + script,
             "tests": [{"input": "1 2\n", "output": "3\n"}]}]
    problems = env / "mixed.jsonl"
    problems.write_text("".join(json.dumps(r) + "\n" for r in rows))
    mixed = load_dataset(None, problems_file=str(problems))
    with FakeOpenAI(mixed, KEY, faults=False) as server:
        code, s, output = run_cli(["run", "--problems", str(problems), "--model",
                                   f"openai:fake@{server.url}", "--store",
                                   str(env / "runs.sqlite"), "--json"], capsys)
        stops = {b["prompt"]: b.get("stop") for b in server.seen_bodies}
    assert code == 0, output
    assert stops[he.prompt] == ["\nclass", "\ndef", "\n#", "\nif"]  # the API takes 4
    assert stops["# Print the sum of two ints.\n"] is None
    assert main(["samples", s["run_id"], "--store", str(env / "runs.sqlite")]) == 0
    by_task = {x["task_id"]: x for x in map(json.loads, capsys.readouterr().out.splitlines())}
    assert "print(a + b)" in by_task["Mix/sum"]["program"]
    assert by_task["Mix/fn"]["status"] == "passed"
