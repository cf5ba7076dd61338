"""MBPP loading (full and sanitized), splits, challenge tests and the paper's prompt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from execeval.api import load_dataset
from execeval.errors import UserError
from execeval.prompts import mbpp as mbpp_prompt

DATA = Path(__file__).parent / "data"
FULL = str(DATA / "mbpp_small.jsonl")
SANITIZED = str(DATA / "sanitized_small.json")


def test_default_split_is_the_readme_test_split() -> None:
    ds = load_dataset("mbpp", FULL)
    assert list(ds.problems) == ["Mbpp/11", "Mbpp/12", "Mbpp/13"]
    assert ds.name == "mbpp" and "split=test" in ds.version and ds.version.startswith("sha256:")


@pytest.mark.parametrize(("split", "ids"), [
    ("prompt", ["Mbpp/1", "Mbpp/2", "Mbpp/3", "Mbpp/4"]),
    ("validation", ["Mbpp/600"]),
    ("train", None),
    ("all", ["Mbpp/1", "Mbpp/2", "Mbpp/3", "Mbpp/4", "Mbpp/11", "Mbpp/12", "Mbpp/13",
             "Mbpp/600"]),
])
def test_splits(split: str, ids: list[str] | None) -> None:
    if ids is None:  # the fixture has no task in 601-974
        with pytest.raises(UserError, match="no MBPP tasks in the train split"):
            load_dataset("mbpp", FULL, split=split)
    else:
        assert list(load_dataset("mbpp", FULL, split=split).problems) == ids


def test_unknown_split_and_misplaced_options_are_user_errors() -> None:
    with pytest.raises(UserError, match="unknown MBPP split 'dev'"):
        load_dataset("mbpp", FULL, split="dev")
    with pytest.raises(UserError, match="--split does not apply to dataset 'humaneval'"):
        load_dataset("humaneval", None, split="test")
    with pytest.raises(UserError, match="sanitized MBPP has no challenge tests"):
        load_dataset("mbpp-sanitized", SANITIZED, challenge_tests=True)


def test_task_ids_resolve_from_numbers() -> None:
    ds = load_dataset("mbpp", FULL)
    assert ds.resolve(11) == ds.resolve("11") == ds.resolve("Mbpp/11") == "Mbpp/11"
    assert ds.resolve("HumanEval/11") is None


def test_challenge_tests_are_added_only_when_asked() -> None:
    plain = load_dataset("mbpp", FULL).problems["Mbpp/11"]
    hard = load_dataset("mbpp", FULL, challenge_tests=True).problems["Mbpp/11"]
    assert len(plain.tests["asserts"]) == 3
    assert hard.tests["asserts"][-1] == "assert square(10**6) == 10**12"
    assert plain.hash != hard.hash  # a different test set is a different problem
    # the prompt still shows the three asserts, as in the paper
    assert plain.metadata["tests_shown"] == hard.metadata["tests_shown"]


def test_references_keep_plain_newlines_and_setup_code() -> None:
    ds = load_dataset("mbpp", FULL)
    assert "\r" not in ds.problems["Mbpp/11"].reference
    assert ds.problems["Mbpp/12"].tests["setup"] == "head = Node(Node(Node()))"


def test_zero_shot_prompt_is_the_papers_format() -> None:
    p = load_dataset("mbpp", FULL).problems["Mbpp/11"]
    assert mbpp_prompt.prompt(p, shots=0) == (
        "You are an expert Python programmer, and here is your task: Write a python function "
        "to square a number. Your code should pass these tests:\n\n"
        "assert square(3) == 9\nassert square(-2) == 4\n"
        "assert math.isclose(square(0.5), 0.25)\n[BEGIN]\n")


def test_three_shot_prompt_uses_tasks_2_3_4_in_order() -> None:
    p = load_dataset("mbpp", FULL).problems["Mbpp/11"]
    text = mbpp_prompt.prompt(p)
    assert text == p.prompt  # the problem's prompt is the paper's 3-shot prompt
    blocks = text.split("[DONE]\n")
    assert len(blocks) == 4
    assert blocks[0].startswith("You are an expert Python programmer, and here is your task: "
                                "Write a function to find the similar elements")
    assert "[BEGIN]\ndef similar_elements(t1, t2):\n  return tuple(sorted(set(t1) & set(t2)))\n" \
        in blocks[0]
    assert "identify non-prime numbers" in blocks[1] and "heap queue" in blocks[2]
    assert blocks[3].endswith("Your code should pass these tests:\n\nassert square(3) == 9\n"
                              "assert square(-2) == 4\nassert math.isclose(square(0.5), 0.25)\n"
                              "[BEGIN]\n")


def test_sanitized_uses_its_own_texts_tests_and_imports() -> None:
    ds = load_dataset("mbpp-sanitized", SANITIZED)
    assert list(ds.problems) == ["Mbpp/14", "Mbpp/17"]
    p = ds.problems["Mbpp/14"]
    assert p.tests["setup"] == "import math"
    assert p.metadata["text"] == "Write a python function to find the volume of a sphere."
    assert "Write a function to find the shared elements" in p.prompt  # sanitized shot 2


def test_extract_program_cuts_at_done() -> None:
    assert mbpp_prompt.extract_program("def f():\n    return 1\n[DONE]\nmore") == \
        "def f():\n    return 1\n"
    assert mbpp_prompt.extract_program("[BEGIN]\nx = 1\n[DONE]") == "x = 1\n"


def test_bad_rows_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "mbpp.jsonl"
    bad.write_text(json.dumps({"text": "t", "task_id": 11, "test_list": []}) + "\n")
    with pytest.raises(UserError, match=r"mbpp.jsonl:1: field 'code' is missing"):
        load_dataset("mbpp", str(bad))
    bad.write_text("{not json\n")
    with pytest.raises(UserError, match=r"mbpp.jsonl:1: not valid JSON"):
        load_dataset("mbpp", str(bad))
