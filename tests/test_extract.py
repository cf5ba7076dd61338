"""Extraction from raw model output to program, on HumanEval's own problems."""

from __future__ import annotations

import ast

import pytest

from execeval.api import load_dataset
from execeval.extract import extract
from execeval.prompts import HUMANEVAL_STOP
from execeval.prompts.mbpp import tested_function as mbpp_function

DATASET = load_dataset("humaneval")
P0 = DATASET.problems["HumanEval/0"]
P38 = DATASET.problems["HumanEval/38"]  # decode_cyclic relies on the prompt's encode_cyclic
BODY = "    return any(abs(a - b) < threshold for i, a in enumerate(numbers)" \
       " for j, b in enumerate(numbers) if i != j)\n"
FUNC = ("def has_close_elements(numbers, threshold):\n" + BODY)


def test_completion_is_cut_at_the_first_stop_sequence() -> None:
    raw = BODY + "\n\ndef check():\n    pass\n\nprint(1)\n"
    ex = extract(P0, raw, stop=HUMANEVAL_STOP)
    assert ex.completion == BODY + "\n"
    assert ex.program == P0.prompt + BODY + "\n"
    assert ex.method == "completion+stop" and ex.stopped and ex.parseable and not ex.empty


def test_completion_without_stop_is_kept_whole_and_empty_is_flagged() -> None:
    assert extract(P0, BODY, stop=HUMANEVAL_STOP).method == "completion"
    ex = extract(P0, "\n\n", stop=HUMANEVAL_STOP)
    assert ex.empty and ex.completion == "\n\n"


def test_chat_fenced_block_with_preamble_tests_and_main_guard() -> None:
    raw = ("Sure! Here is the solution:\n\n```python\nimport math\n\n" + FUNC +
           "\n\nassert has_close_elements([1.0, 2.0], 0.5) is False\n"
           "if __name__ == '__main__':\n    print(has_close_elements([1.0], 1.0))\n```\n"
           "It compares every pair.\n```bash\npython sol.py\n```\n")
    ex = extract(P0, raw, chat=True)
    assert ex.method == "fenced+sanitized+context"
    tree = ast.parse(ex.program)
    kinds = [type(n).__name__ for n in tree.body]
    assert kinds == ["ImportFrom", "Import", "FunctionDef"]  # prompt's typing import first
    assert "__main__" not in ex.program and "assert" not in ex.program


def test_chat_prefers_the_block_that_defines_the_entry_point() -> None:
    raw = ("```python\nprint(has_close_elements([1.0], 0.1))\n```\n\n"
           "```python\n" + FUNC + "```\n\n```python\nx = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\n```")
    ex = extract(P0, raw, chat=True)
    assert "def has_close_elements" in ex.program and "print(" not in ex.program


def test_thinking_sections_are_dropped_and_unclosed_thinking_is_empty() -> None:
    raw = "<think>maybe def has_close_elements(x): pass</think>\n```python\n" + FUNC + "```"
    ex = extract(P0, raw, chat=True)
    assert "thinking" in ex.method and "pass" not in ex.program
    cut = extract(P0, "<think>Let me consider the pairs and", chat=True)
    assert cut.empty and cut.method == "none+thinking"


def test_unclosed_fence_from_a_truncated_answer() -> None:
    ex = extract(P0, "Here:\n```python\n" + FUNC, chat=True)
    assert ex.method.startswith("fenced+unclosed") and "def has_close_elements" in ex.program


def test_unfenced_answer_loses_prose_before_and_after() -> None:
    raw = "Here is my function:\n" + FUNC + "\nThis runs in quadratic time."
    ex = extract(P0, raw, chat=True)
    assert ex.method.startswith("unfenced") and ex.parseable
    assert "quadratic" not in ex.program and "Here is" not in ex.program


def test_body_only_answer_continues_the_prompt() -> None:
    ex = extract(P0, "```python\n" + BODY + "```", chat=True)
    assert ex.method == "fenced+body" and ex.program == P0.prompt + BODY


def test_helpers_from_the_prompt_are_supplied_and_dependencies_kept() -> None:
    raw = ("```python\ndef _undo(s):\n    return encode_cyclic(encode_cyclic(s))\n\n"
           "def decode_cyclic(s: str):\n    return _undo(s)\n\ndef unrelated():\n    pass\n"
           "print(decode_cyclic('abc'))\n```")
    ex = extract(P38, raw, chat=True)
    names = [n.name for n in ast.parse(ex.program).body if isinstance(n, ast.FunctionDef)]
    assert names == ["encode_cyclic", "_undo", "decode_cyclic"]


def test_unparseable_and_no_code() -> None:
    ex = extract(P0, "```python\ndef has_close_elements(numbers, threshold:\n    return\n```",
                 chat=True)
    assert not ex.parseable and not ex.empty
    none = extract(P0, "I cannot help with that.", chat=True)
    assert none.empty and none.program == ""


@pytest.mark.parametrize("text", ["", "```", "```python", "<think>", "\x00\ud800", "```\n```"])
def test_never_raises_on_odd_text(text: str) -> None:
    for chat in (True, False):
        extract(P0, text, chat=chat, stop=HUMANEVAL_STOP)


def test_mbpp_entry_point_comes_from_the_shown_tests_and_scripts_stay_whole() -> None:
    from dataclasses import replace

    raw = ("```python\nimport re\nLIMIT = 3\n\ndef f(x):\n    return helper(x)\n\n"
           "def helper(x):\n    return x\n\ndef unused():\n    pass\n\n"
           "assert f(1) == 1\nprint(f(2))\nif __name__ == '__main__':\n    f(0)\n```")
    mbpp_like = replace(P0, entry_point=None, code_prefix="", prompt="Write f.",
                        metadata={"tests_shown": ["assert f(1) == 1", "assert f(2) == 2"]})
    assert mbpp_function(mbpp_like) == "f"  # MBPP's extraction hint
    ex = extract(mbpp_like, raw, chat=True, function=mbpp_function(mbpp_like))
    assert ex.method == "fenced+sanitized"
    assert [getattr(n, "name", type(n).__name__) for n in ast.parse(ex.program).body] == [
        "Import", "f", "helper"]
    script = replace(P0, entry_point=None, code_prefix="", prompt="Read n, print n+1.")
    kept = extract(script, "```python\nn = int(input())\nprint(n + 1)\n```", chat=True)
    assert kept.method == "fenced" and kept.program == "n = int(input())\nprint(n + 1)\n"


def test_a_clean_whole_answer_is_kept_as_is() -> None:
    code = P0.prompt + "    return False\n"
    ex = extract(P0, f"```python\n{code}```", chat=True)
    assert ex.method == "fenced" and ex.program == code
