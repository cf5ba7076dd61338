"""The benchmarks through the real CLI: validate, evaluate summaries, and the hub message."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from execeval.api import load_dataset
from execeval.errors import UserError

DATA = Path(__file__).parent / "data"
Cli = Callable[..., CompletedProcess[str]]


def last_json(out: str) -> dict[str, object]:
    return json.loads(out.strip().splitlines()[-1])


def test_validate_lists_failing_and_sandbox_graded_problems(cli: Cli) -> None:
    proc = cli("validate", "mbpp", "--data", str(DATA / "mbpp_small.jsonl"), "--split", "all",
               "--json", check=True)
    report = last_json(proc.stdout)
    assert (report["n_with_reference"], report["n_passed"]) == (8, 7)
    assert report["failing"] == [{"task_id": "Mbpp/13", "status": "failed",
                                  "detail": "assertion failed: assert reverse('abc') == 'abc'"}]
    assert [r["task_id"] for r in report["graded_in_sandbox"]] == ["Mbpp/12"]
    assert "7 of 8 reference solutions pass" in proc.stderr


def test_mbpp_samples_may_name_tasks_by_number(cli: Cli, tmp_path: Path) -> None:
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": 11, "completion": "def square(x):\n"
                                   "    return x * x\n"}) + "\n" +
                       json.dumps({"task_id": "Mbpp/13", "completion": "def reverse(s):\n"
                                   "    return s\n"}) + "\n")
    proc = cli("evaluate", "--dataset", "mbpp", "--data", str(DATA / "mbpp_small.jsonl"),
               "--samples", str(samples), "--k", "1", "--json", check=True)
    summary = last_json(proc.stdout)
    assert summary["pass_at_k"] == {"1": 0.5} and summary["n_problems"] == 2
    assert "split=test" in str(summary["dataset_version"]) and summary["dataset_hash"]


def test_apps_summary_has_strict_accuracy_and_test_case_average(cli: Cli, tmp_path: Path) -> None:
    rows = [{"problem_id": 7, "difficulty": "introductory", "question": "Add.",
             "starter_code": "", "input_output": json.dumps(
                 {"inputs": ["1 2\n", "3 4\n"], "outputs": ["3\n", "7\n"]})}]
    apps = tmp_path / "apps.jsonl"
    apps.write_text("".join(json.dumps(r) + "\n" for r in rows))
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "APPS/7", "solution": "print(3)\n"}) + "\n")
    proc = cli("evaluate", "--dataset", "apps", "--data", str(apps), "--samples", str(samples),
               "--k", "1", "--json", check=True)
    s = last_json(proc.stdout)
    assert (s["strict_accuracy"], s["test_case_average"]) == (0.0, 0.5)
    level = s["by_difficulty"]["introductory"]
    assert (level["n_problems"], level["strict_accuracy"], level["test_case_average"],
            level["syntax_error_rate"]) == (1, 0.0, 0.5, 0.0)
    assert level["strict_accuracy_ci"] == [0.0, 1.0]  # one problem: all of [0, 1]
    assert "strict accuracy" in proc.stderr and "test case average" in proc.stderr


def test_hub_without_the_datasets_package_is_one_clear_line(cli: Cli, tmp_path: Path) -> None:
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": 11, "completion": "x"}) + "\n")
    proc = cli("evaluate", "--dataset", "mbpp-plus", "--samples", str(samples))
    if "datasets" in sys.modules or _installed("datasets"):
        pytest.skip("the datasets package is installed here: the hub path would be tried")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--data PATH" in lines[0] and "execeval[hub]" in lines[0]


def _installed(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_hub_failure_is_a_user_error_naming_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # importing it now raises ImportError
    with pytest.raises(UserError, match="google-research-datasets/mbpp from the Hugging Face"):
        load_dataset("mbpp", None)
    with pytest.raises(UserError, match="codeparrot/apps"):
        load_dataset("apps", None)
