"""MBPP execution prediction: problems built from the asserts, graded on the real output."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import write_jsonl

import execeval
import execeval.api
from execeval.api import load_dataset
from execeval.benchmark import build_prompt
from execeval.benchmarks.mbpp_execution import call_and_value
from execeval.judge import grade
from execeval.sandbox import Sandbox

DATA = str(Path(__file__).parent / "data" / "mbpp_small.jsonl")


def test_asserts_become_a_call_and_its_value() -> None:
    assert call_and_value("assert add(1, 2) == 3") == ("add", "add(1, 2)", "3")
    assert call_and_value("assert [85] == top([85, 1], 1)") == ("top", "top([85, 1], 1)", "[85]")
    assert call_and_value("assert math.isclose(f(1), 2.0)") is None  # not `call == value`
    assert call_and_value("assert f(1) == g(2)") is None  # the value must be a literal


def test_problems_prompts_and_examples() -> None:
    ds = load_dataset("mbpp-execution", DATA, split="test")
    assert list(ds.problems) == ["Mbpp/11", "Mbpp/12", "Mbpp/13"]
    square = ds.problems["Mbpp/11"]
    assert square.tests["call"] == "square(3)" and square.reference == "9"
    text = build_prompt(ds, square, "completion").text
    assert text.endswith("assert square(3) ==") and "assert square(" not in text.split("\n")[-2]
    with_pairs = load_dataset("mbpp-execution", DATA, split="test", examples=2)
    assert "Mbpp/11" not in with_pairs.problems  # its third assert is not `call == value`
    shown = with_pairs.problems["Mbpp/13"]
    lines = build_prompt(with_pairs, shown, "completion").text.splitlines()
    assert [line.startswith("assert reverse(") for line in lines[-3:]] == [True, True, True]
    assert lines[-1] == "assert reverse('ab') =="  # the question comes last
    assert "For example" in build_prompt(with_pairs, shown, "chat").messages[-1][1]


def test_predictions_are_graded_against_the_real_output(sandbox: Sandbox) -> None:
    ds = load_dataset("mbpp-execution", DATA, split="test")
    square, count = ds.problems["Mbpp/11"], ds.problems["Mbpp/12"]
    assert grade(square, "9", sandbox).passed
    wrong = grade(square, "6", sandbox)
    assert (wrong.status, wrong.detail) == ("failed", "predicted 6, square gives 9")
    assert grade(square, "square(3)", sandbox).detail == "the prediction calls square on the input"
    # an answer is a literal, read here and never run: `3 * 3` is not one
    assert grade(square, "3 * 3", sandbox).detail == "the answer is not a Python literal"
    assert grade(count, "3", sandbox).passed  # the test's setup builds `head` after the program


def test_validate_and_a_planted_answerer(tmp_path: Path) -> None:
    """References all pass; a replayed answerer that is right on a known set of problems
    gets exactly that accuracy."""
    assert execeval.api.validate("mbpp-execution", data=DATA,
                                 store=tmp_path / "s.sqlite").n_passed == 3
    answers = write_jsonl(tmp_path / "a.jsonl", [
        {"task_id": "Mbpp/11", "raw": "[ANSWER] 9 [/ANSWER]"},
        {"task_id": "Mbpp/12", "raw": "[ANSWER] 4 [/ANSWER]"},
        {"task_id": "Mbpp/13", "raw": "```python\n'ba'\n```"}])
    result = execeval.run(f"samples:{answers}", "mbpp-execution", data=DATA, split="test",
                          prompt_style="chat", store=tmp_path / "s.sqlite", k=[1])
    assert result.summary["pass_at_k"]["1"] == pytest.approx(2 / 3)
