"""Extensions from outside the package: a third-party package (tests/support/toy_plugin,
a module plus its dist-info) registers a benchmark, a grader, a model backend, an
executor and a study by entry points alone, and the real CLI uses all of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from support import last_json, write_jsonl

PLUGIN = Path(__file__).parent / "support" / "toy_plugin"
GROUPS = ("benchmarks", "graders", "models", "executors", "studies", "environments")


@pytest.fixture
def execeval(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = dict(os.environ, EXECEVAL_STORE=str(tmp_path / "store.sqlite"),
               PYTHONPATH=os.pathsep.join([str(PLUGIN), os.environ.get("PYTHONPATH", "")]))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "execeval.cli", *args], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)

    return run


def test_every_builtin_extension_is_an_entry_point_of_the_installed_package() -> None:
    names = {g: {ep.name for ep in entry_points(group=f"execeval.{g}")} for g in GROUPS}
    assert names["benchmarks"] >= {"humaneval", "humaneval-plus", "mbpp", "mbpp-sanitized",
                                   "mbpp-plus", "mbpp-execution", "apps", "mathqa-python",
                                   "cruxeval", "cruxeval-o", "cruxeval-i", "file"}
    assert names["models"] >= {"openai", "openai-chat", "hf", "vllm", "samples", "reference",
                               "fake"}
    assert names["executors"] >= {"local", "ray"}
    assert names["environments"] >= {"classic", "stdlib"}
    assert names["studies"] >= {"ranking", "temperature", "scaling", "overfit", "edited",
                                "execution", "prompts", "tests-in-prompt", "misalignment",
                                "repair"}
    assert names["graders"] >= {"check", "asserts", "io", "apps", "evalplus", "mathqa",
                                "cruxeval"}


def test_a_package_of_ones_own_adds_a_benchmark_backend_executor_and_study(
        execeval, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = write_jsonl(tmp_path / "words.jsonl", [{"text": "one two three"},
                                                  {"text": "four five"}, {"text": "six"}])
    count = tmp_path / "graded.txt"
    right = execeval("run", "--dataset", "toy-words", "--data", str(data), "--model",
                     "echo:right", "--n", "2", "--k", "1", "--executor", f"counting:{count}",
                     "--json")
    assert right.returncode == 0, right.stderr
    summary = json.loads(right.stdout)
    assert summary["dataset"] == "toy-words" and summary["pass_at_k"] == {"1": 1.0}
    # the plugin's executor graded the 3 distinct programs (a repeat is graded once)
    assert count.read_text() == "3"

    wrong = execeval("run", "--dataset", "toy-words", "--data", str(data), "--model",
                     "echo:wrong", "--k", "1", "--json")
    assert wrong.returncode == 0, wrong.stderr
    assert last_json(wrong.stdout)["pass_at_k"] == {"1": 0.0}

    study = execeval("study", "word-count", summary["run_id"], "--json")
    assert study.returncode == 0, study.stderr
    assert json.loads(study.stdout) == {"study": "word-count", "run": summary["run_id"],
                                        "passed": {"Words/0": 2, "Words/1": 2, "Words/2": 2}}
    helped = execeval("study", "--help")
    assert "word-count" in helped.stdout and "passed samples per task" in helped.stdout


def test_unknown_names_list_the_plugins_too(execeval) -> None:  # type: ignore[no-untyped-def]
    proc = execeval("run", "--model", "nosuch:x", "--limit", "1")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "echo:right|wrong" in proc.stderr
    proc = execeval("run", "--model", "reference", "--limit", "1", "--executor", "nosuch")
    assert proc.returncode == 2 and "counting:FILE" in proc.stderr
