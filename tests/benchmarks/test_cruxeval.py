"""CRUXEval: loading, prompts, answer extraction and sandboxed grading of predictions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import real_data, write_jsonl

import execeval
import execeval.api
from execeval.benchmark import build_prompt
from execeval.benchmarks.cruxeval import expression_of, extract_answer
from execeval.judge import grade
from execeval.sandbox import Sandbox

ROWS = [  # in the published format (all strings)
    {"code": "def f(nums):\n    return sorted(nums)[::-1]", "input": "[3, 1, 2]",
     "output": "[3, 2, 1]", "id": "sample_0"},
    {"code": "def f(a, b):\n    return {a: b}", "input": "'k', (1, 2)",
     "output": "{'k': (1, 2)}", "id": "sample_1"},
    {"code": "def f(x):\n    return x / 0.0 if x else float('inf')", "input": "0",
     "output": "float('inf')", "id": "sample_2"},
]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "crux.jsonl", ROWS)


def test_output_predictions_are_graded_on_plain_values(data: Path, sandbox: Sandbox) -> None:
    ds = execeval.load_dataset("cruxeval", data=data)
    p0, p1, p2 = ds.problems.values()
    assert grade(p0, "[3, 2, 1]", sandbox).passed
    assert grade(p1, "{'k': (1, 2)}", sandbox).passed
    assert grade(p2, "float('inf')", sandbox).passed  # not a literal: evaluated in the sandbox
    wrong = grade(p1, "{'k': [1, 2]}", sandbox)  # a list is not the tuple f returns
    assert (wrong.status, wrong.detail) == ("failed", "predicted {'k': [1, 2]}, f gives "
                                                      "{'k': (1, 2)}")
    assert grade(p0, "f([3, 1, 2])", sandbox).detail == "the prediction calls f on the input"
    assert grade(p0, "[3, 2,", sandbox).status == "syntax_error"
    assert grade(p0, "[3, 2, 1]\nimport os", sandbox).status == "syntax_error"


def test_a_prediction_cannot_forge_equality_or_reach_the_host(data: Path,
                                                              sandbox: Sandbox) -> None:
    p0 = execeval.load_dataset("cruxeval", data=data).problems["sample_0"]
    always = "type('Eq', (), {'__eq__': lambda s, o: True, '__hash__': None})()"
    forged = grade(p0, always, sandbox)
    assert not forged.passed and forged.status == "error"  # not plain data: never compared
    # upstream's `assert [3, 2, 1] == [9] or True` passes; here the prediction is one value
    assert grade(p0, "[9] or True", sandbox).status == "failed"
    reached = grade(p0, "__import__('os').listdir('/work') or [3, 2, 1]", sandbox)
    assert not reached.passed


def test_input_predictions_call_f(data: Path, sandbox: Sandbox) -> None:
    ds = execeval.load_dataset("cruxeval-i", data=data)
    p0, p1 = ds.problems["sample_0"], ds.problems["sample_1"]
    assert grade(p0, "f([1, 2, 3])", sandbox).passed  # any input that gives the output
    assert grade(p1, "f('k', b=(1, 2))", sandbox).passed
    assert grade(p0, "[3, 2, 1]", sandbox).detail == "the prediction does not call f"
    assert grade(p0, "f([1, 2])", sandbox).status == "failed"
    assert grade(p0, "f(None)", sandbox).status == "error"  # f raised on it


def test_prompts_and_extraction(data: Path) -> None:
    out = execeval.load_dataset("cruxeval", data=data)
    inp = execeval.load_dataset("cruxeval-i", data=data)
    p = out.problems["sample_1"]
    completion = build_prompt(out, p, "completion")
    assert completion.text.endswith("assert f('k', (1, 2)) ==") and completion.stop == ("\n",)
    shot = build_prompt(inp, inp.problems["sample_1"], "completion", shots=1)
    assert "assert [3, 2, 1] == f([3, 1, 2])\n" in shot.text and shot.text.endswith("== f(")
    question = build_prompt(out, p, "chat").messages[-1][1]
    assert "`f('k', (1, 2))`" in question and "[ANSWER]" in question
    # completion answers continue the open assertion; an input answer gets its `f(` back
    ex = extract_answer(inp.problems["sample_1"], "'k', (1, 2))\nassert f(", False, ("\n",))
    assert (ex.program, ex.method) == ("f('k', (1, 2))", "completion+stop")
    chat_answer = "Let me trace it.\n[ANSWER] {'k': (1, 2)} [/ANSWER]"
    assert extract_answer(p, chat_answer, True, ()).program == "{'k': (1, 2)}"
    assert expression_of("```python\nassert f('k', (1, 2)) == {'k': (1, 2)}\n```",
                         "output") == "{'k': (1, 2)}"
    assert expression_of("assert {'k': (1, 2)} == f('k', (1, 2))", "input") == "f('k', (1, 2))"
    assert not extract_answer(p, "[ANSWER] {'k': ( [/ANSWER]", True, ()).parseable


def test_a_run_on_replayed_chat_answers(data: Path, tmp_path: Path) -> None:
    answers = write_jsonl(tmp_path / "answers.jsonl", [
        {"task_id": "sample_0", "raw": "[ANSWER] [3, 2, 1] [/ANSWER]"},
        {"task_id": "sample_1", "raw": "<think>a dict</think>[ANSWER] {'k': [1, 2]} [/ANSWER]"},
        {"task_id": "sample_2", "raw": "```python\nfloat('inf')\n```"}])
    result = execeval.run(f"samples:{answers}", "cruxeval", data=data, prompt_style="chat",
                          store=tmp_path / "s.sqlite", k=[1])
    assert result.summary["pass_at_k"]["1"] == pytest.approx(2 / 3)
    samples = {s.task_id: s for s in result.samples()}
    assert samples["sample_1"].extraction == "answer+thinking"
    assert samples["sample_1"].status == "failed"


def test_every_published_reference_passes(tmp_path: Path) -> None:
    """`execeval validate cruxeval` on the real 800 problems, and CRUXEval-I on a slice."""
    path = real_data("cruxeval", "cruxeval.jsonl")
    report = execeval.api.validate("cruxeval", data=path, store=tmp_path / "s.sqlite")
    assert (report.n_passed, report.n_with_reference) == (800, 800)
    rows = [json.loads(line) for line in path.read_text().splitlines()[:100]]
    report = execeval.api.validate("cruxeval-i", data=write_jsonl(tmp_path / "i.jsonl", rows),
                                   store=tmp_path / "s.sqlite")
    assert (report.n_passed, report.n_with_reference) == (100, 100)
