"""The commands that read the run store, driven as a user would: `runs`, `show`,
`samples` and `compare` (and `export`, `report`, `regrade`) never create a store, tell runs apart,
say when a run was interrupted, and say when a handful of problems makes an interval
wide."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import canonical_completion, last_json, write_jsonl

import execeval
from execeval.verdict import STATUSES

CLI = Callable[..., subprocess.CompletedProcess[str]]
LONG_MODEL = "fake:planted?seed=12345&margin=0.15&memo=0.3&distinct=1"


def execeval_cli(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`execeval ARGS` on `store`, checked."""
    proc = subprocess.run([sys.executable, "-m", "execeval.cli", *args, "--store", str(store)],
                          capture_output=True, text=True, cwd=store.parent, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


def one_line_error(proc: subprocess.CompletedProcess[str], text: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and text in proc.stderr, proc.stderr


@dataclass(frozen=True)
class Stored:
    store: Path
    temperatures: list[str]  # the study's five runs, oldest first
    reference: str           # `run --model reference --limit 4 --timeout 10`
    long: str                # a run of LONG_MODEL on 4 problems
    evaluated: str           # `evaluate` of s.jsonl (4 problems), the newest


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Stored:
    root = tmp_path_factory.mktemp("stored")
    store = root / "store.sqlite"
    study = last_json(execeval_cli(store, "study", "temperature", "--model", "fake:planted",
                                   "--n", "5", "--limit", "4", "--json").stdout)
    temperatures = list(study["runs"].values())  # {"0.2": run id, ...}, in order
    reference = last_json(execeval_cli(store, "run", "--model", "reference", "--limit", "4",
                                       "--timeout", "10", "--json").stdout)["run_id"]
    long = last_json(execeval_cli(store, "run", "--model", LONG_MODEL, "--limit", "4",
                                  "--json").stdout)["run_id"]
    ds = execeval.load_dataset("humaneval")
    samples = write_jsonl(root / "s.jsonl", [
        {"task_id": t, "completion": canonical_completion(ds.problems[t])}
        for t in list(ds.problems)[:4]])
    evaluated = last_json(execeval_cli(store, "evaluate", "--samples", str(samples),
                                       "--json").stdout)["run_id"]
    return Stored(store, temperatures, reference, long, evaluated)


@pytest.mark.parametrize("args", [
    ("runs",), ("runs", "--json"), ("show", "1a2b"), ("samples", "1a2b"), ("regrade", "1a2b"),
    ("compare", "1a2b", "3c4d"), ("export", "1a2b", "--format", "csv"),
    ("report", "1a2b", "-o", "r.html"), ("export", "sft", "1a2b", "--out", "sft.jsonl"),
    ("study", "scaling", "1a2b=1e9", "3c4d=2e9"),
])
def test_read_only_commands_never_create_a_store(cli: CLI, tmp_path: Path,
                                                 args: tuple[str, ...]) -> None:
    typo = tmp_path / "typo" / "runs.sqlite"
    one_line_error(cli(*args, "--store", str(typo)), f"execeval: error: {typo}: no run store here")
    assert not typo.parent.exists()
    # the default store ($EXECEVAL_STORE here) is not created either
    one_line_error(cli(*args), "store.sqlite: no run store here")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_runs_tells_runs_apart_newest_first_and_cuts_nothing(stored: Stored) -> None:
    listing = execeval_cli(stored.store, "runs").stdout
    lines = listing.splitlines()
    assert "…" not in listing and max(map(len, lines)) > 80
    table = {cells[0]: cells for line in lines
             if len(cells := [c.strip() for c in line.split("│")[1:-1]]) == 9}
    order = [stored.evaluated, stored.long, stored.reference, *stored.temperatures[::-1]]
    assert list(table) == order  # newest first, one line each
    assert "┃ model " in listing and "┃ settings " in listing
    for run, temperature in zip(stored.temperatures, ("0.2", "0.4", "0.6", "0.8", "1"),
                                strict=True):
        assert table[run][2:4] == ["fake:planted", f"n=5 T={temperature}"]
    assert table[stored.reference][2:4] == ["reference", "n=1 T=0 timeout=10"]
    assert table[stored.long][2:4] == [LONG_MODEL, "n=1 T=0"]  # past 80 columns, whole
    assert table[stored.evaluated][1:4] == ["evaluate", "s.jsonl", ""]
    assert "8 runs in" in listing
    listed = json.loads(execeval_cli(stored.store, "runs", "--json").stdout)
    assert [r["run_id"] for r in listed] == order
    assert listed[1]["config"]["model"] == LONG_MODEL


def test_show_prints_the_config_one_key_per_line_and_stores_nothing(stored: Stored) -> None:
    before = stored.store.stat().st_mtime_ns
    shown = execeval_cli(stored.store, "show", stored.reference[:6]).stdout
    assert f"run {stored.reference} (run, complete) on humaneval" in shown
    lines = shown.splitlines()
    assert '  "model": "reference",' in lines and '    "timeout": 10.0' in lines
    assert "pass@1" in shown and "stored in" not in shown and "(new)" not in shown
    assert stored.store.stat().st_mtime_ns == before


def test_samples_checks_the_status_and_takes_task_numbers(stored: Stored, cli: CLI) -> None:
    run = stored.reference

    def samples(*args: str) -> subprocess.CompletedProcess[str]:
        return cli("samples", run, *args, "--store", str(stored.store))

    proc = samples("--status", "timeouts")
    one_line_error(proc, "invalid choice: 'timeouts'")
    assert all(s in proc.stderr for s in (*STATUSES, "pending"))
    by_id = samples("--task", "HumanEval/3").stdout
    assert json.loads(by_id)["task_id"] == "HumanEval/3"
    assert samples("--task", "3").stdout == samples("--task", "humaneval/3").stdout == by_id
    assert samples("--task", "3", "--status", "passed").stdout == by_id
    one_line_error(samples("--task", "4"), f"run {run} has no task '4' (its 4 tasks: "
                   "HumanEval/0, HumanEval/1, HumanEval/2, ...)")
    one_line_error(samples("--task", "MBPP/3"), "has no task 'MBPP/3'")


def test_a_few_problems_make_intervals_wide_and_it_says_so(stored: Stored) -> None:
    note = "only 4 problems: intervals are wide below 12 (docs/statistics.md)"
    shown = execeval_cli(stored.store, "show", stored.reference).stdout
    # 4 of 4 solved, one sample each: Clopper-Pearson's 95% interval, never zero width
    assert f"note: {note}" in shown and "[0.3976, 1.0000]" in shown
    summary = json.loads(execeval_cli(stored.store, "show", stored.reference,
                                      "--json").stdout)["summary"]
    assert note in summary["notes"]
    pair = (stored.reference, stored.temperatures[-1])
    table = execeval_cli(stored.store, "compare", *pair).stdout
    shared = "only 4 shared problems: the interval and p-value are unreliable below 12"
    assert f"note: {shared}" in table
    out = json.loads(execeval_cli(stored.store, "compare", *pair, "--json").stdout)
    assert out["n_shared"] == 4 and any(shared in n for n in out["notes"])


def wait_graded(cli: CLI, graded: int, proc: subprocess.Popen[str]) -> dict:
    """The only run of the store once `graded` of its samples are graded."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        listed = cli("runs", "--json")
        if listed.returncode == 0 and json.loads(listed.stdout):
            (run,) = json.loads(listed.stdout)
            if run["n_graded"] >= graded:
                return dict(run)
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    raise AssertionError(f"no run with {graded} graded samples in time")


def test_a_run_whose_process_is_gone_reads_interrupted(cli: CLI, tmp_path: Path) -> None:
    ds = execeval.load_dataset("humaneval")
    right = {t: canonical_completion(ds.problems[t]) for t in ("HumanEval/0", "HumanEval/1")}
    hangs = write_jsonl(tmp_path / "hangs.jsonl", [
        {"task_id": "HumanEval/0", "completion": right["HumanEval/0"]},
        {"task_id": "HumanEval/1", "completion": "    while True:\n        pass\n"}])
    env = dict(os.environ, EXECEVAL_STORE=str(tmp_path / "store.sqlite"))
    proc = subprocess.Popen([sys.executable, "-m", "execeval.cli", "evaluate", "--samples",
                             str(hangs), "--timeout", "60"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        run = wait_graded(cli, 1, proc)
        assert (run["status"], run["n_graded"], run["n_samples"]) == ("running", 1, 2)
    finally:
        proc.kill()  # as a crash, a closed terminal or the OOM killer would
        proc.communicate()
    (listed,) = json.loads(cli("runs", "--json", check=True).stdout)
    assert listed["status"] == "interrupted"
    listing = cli("runs", check=True).stdout
    assert "│ interrupted │" in listing
    assert ("note: 1 interrupted (the process is gone): for each, run the same command again "
            "to resume") in listing
    shown = cli("show", run["run_id"], check=True).stdout
    assert f"run {run['run_id']} (evaluate, interrupted)" in shown
    assert ("no summary yet: 1 of 2 samples graded; the run was interrupted (its process is "
            "gone): run the same command again to resume") in " ".join(shown.split())
    complete = last_json(cli("evaluate", "--samples", str(write_jsonl(
        tmp_path / "right.jsonl", [{"task_id": t, "completion": c} for t, c in right.items()])),
        "--json", check=True).stdout)["run_id"]
    note = (f"run B ({run['run_id']}) was interrupted: 1 of 2 samples graded, compared on "
            "those; run the same command again to resume it")
    out = json.loads(cli("compare", complete, run["run_id"], "--json", check=True).stdout)
    assert note in out["notes"] and out["n_shared"] == 1
    assert f"note: {note}" in " ".join(cli("compare", complete, run["run_id"],
                                           check=True).stdout.split())

