"""User problem files: call, assert and stdio problems, and HumanEval's schema, in one file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from execeval.api import load_dataset, validate
from execeval.errors import UserError
from execeval.judge import grade
from execeval.sandbox import Sandbox

DATA = str(Path(__file__).parent / "data" / "user_problems.jsonl")


def test_every_kind_loads_with_its_grader() -> None:
    ds = load_dataset(None, problems_file=DATA)
    assert ds.name == "file:user_problems.jsonl" and ds.version.startswith("sha256:")
    graders = {t: p.grader for t, p in ds.problems.items()}
    assert graders == {"demo/add": "io", "demo/mean": "io", "demo/square": "asserts",
                       "demo/echo": "io", "demo/he": "check"}


def test_every_reference_passes(tmp_path: Path) -> None:
    report = validate(load_dataset(None, problems_file=DATA), store=tmp_path / "s.sqlite",
                      workers=2)
    assert report.failing == []
    assert report.n_passed == report.n_with_reference == 5


def test_wrong_programs_fail_with_per_test_results(sandbox: Sandbox) -> None:
    ds = load_dataset(None, problems_file=DATA)
    v = grade(ds.problems["demo/add"], "def add(a, b):\n    return 3\n", sandbox)
    assert v.extra == {"tests_passed": 1, "tests_total": 2, "per_test": ["pass", "fail"]}
    tup = grade(ds.problems["demo/add"], "def add(a, b):\n    return tuple(a + b) if "
                "isinstance(a, list) else a + b\n", sandbox)
    assert tup.passed  # JSON has no tuples: a tuple answer reads as a list
    echo = grade(ds.problems["demo/echo"], "print(input())\n", sandbox)
    assert echo.extra["per_test"] == ["fail", "pass"]
    assert not grade(ds.problems["demo/square"], "def square(x):\n    return x + x\n",
                     sandbox).passed
    assert not grade(ds.problems["demo/mean"], "def mean(xs):\n    return 1.5\n", sandbox).passed


@pytest.mark.parametrize(("row", "message"), [
    ({"task_id": "x", "kind": "shell", "prompt": "", "tests": [1]}, "field 'kind' is 'shell'"),
    ({"task_id": "x", "kind": "call", "prompt": "", "tests": [{"input": [1], "output": 1}]},
     "field 'entry_point' is missing"),
    ({"task_id": "x", "kind": "stdio", "prompt": "", "tests": [{"input": 1, "output": "1"}]},
     r"tests\[0\]: stdio 'input' and 'output' must be strings"),
    ({"task_id": "x", "kind": "assert", "prompt": "", "tests": []}, "field 'tests' is empty"),
])
def test_bad_rows_name_file_line_and_field(tmp_path: Path, row: dict[str, object],
                                           message: str) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text("\n" + json.dumps(row) + "\n")
    with pytest.raises(UserError, match=r"mine.jsonl:2: " + message):
        load_dataset(None, problems_file=str(path))
