"""MathQA-Python: the program's `answer` against the gold one, within a tolerance.

The fixture is written by us in the published format (rows with text, code, dsl_code,
reasoning, answer, task_id); task 2's reference is deliberately wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from execeval.api import load_dataset, validate
from execeval.errors import UserError
from execeval.judge import grade
from execeval.judge.mathqa import answers_match
from execeval.sandbox import Sandbox

DATA = str(Path(__file__).parent.parent / "benchmarks" / "data" / "mathqa_small.json")


def test_loader_reads_the_published_format() -> None:
    ds = load_dataset("mathqa-python", DATA)
    assert list(ds.problems) == ["MathQA/0", "MathQA/1", "MathQA/2"]
    p = ds.problems["MathQA/0"]
    assert p.prompt.startswith("a train running") and p.tests == {"answer": 150.00000000000003}
    assert p.metadata["dsl_code"].startswith("multiply(")


def test_without_data_the_message_says_what_to_pass() -> None:
    with pytest.raises(UserError, match=r"mathqa-python.*--data PATH"):
        load_dataset("mathqa-python", None)


def test_tolerance() -> None:
    assert answers_match(150, 150.00000000000003) and answers_match(10.0005, 10.0)
    assert not answers_match(10.01, 10.0) and not answers_match("10", 10.0)
    assert not answers_match(True, 1.0) and not answers_match(None, 0.0)


def test_grading(sandbox: Sandbox) -> None:
    p = load_dataset("mathqa-python", DATA).problems["MathQA/1"]
    assert grade(p, p.reference, sandbox).passed
    assert grade(p, "answer = 50 * 0.2\n", sandbox).passed  # same number, another way
    wrong = grade(p, "answer = 12\n", sandbox)
    assert (wrong.status, wrong.detail) == ("failed", "answer 12, expected 10.0")
    assert grade(p, "result = 10.0\n", sandbox).status == "error"  # no `answer`


def test_validate_lists_the_broken_reference(tmp_path: Path) -> None:
    report = validate(load_dataset("mathqa-python", DATA), store=tmp_path / "s.sqlite",
                      workers=2)
    assert report.n_passed == 2
    assert [r["task_id"] for r in report.failing] == ["MathQA/2"]
