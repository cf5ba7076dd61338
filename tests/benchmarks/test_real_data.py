"""The loaders on the real published files in ../shared/data (skipped where absent, but
never in CI, where a missing file fails)."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import pytest
from support import SHARED_DATA, real_data

from execeval.api import load_dataset
from execeval.dataset import Dataset
from execeval.environment import CLASSIC
from execeval.executor import default_factory
from execeval.judge import grade
from execeval.prompts import mbpp as mbpp_prompt
from execeval.sandbox import Limits, Sandbox


@pytest.fixture(autouse=True)
def shared_data() -> None:
    """Every test here reads ../shared/data: skipped without it, failed in CI without it."""
    real_data()


SHARED = SHARED_DATA


def test_mbpp_full_and_splits() -> None:
    path = str(SHARED / "mbpp" / "mbpp.jsonl")
    assert len(load_dataset("mbpp", path, split="all").problems) == 974
    test = load_dataset("mbpp", path)
    assert len(test.problems) == 500
    assert (next(iter(test.problems)), list(test.problems)[-1]) == ("Mbpp/11", "Mbpp/510")
    assert len(load_dataset("mbpp", path, split="train").problems) == 374
    p = test.problems["Mbpp/11"]
    assert p.prompt.count("[DONE]") == 3 and p.prompt.endswith("[BEGIN]\n")
    assert "Write a function to find the similar elements from the given two tuple lists." \
        in mbpp_prompt.prompt(p, shots=3)


def test_mbpp_sanitized_and_plus_and_humaneval_plus() -> None:
    assert len(load_dataset("mbpp-sanitized", str(SHARED / "mbpp" / "sanitized-mbpp.json"),
                            split="all").problems) == 427
    mbpp_plus = load_dataset("mbpp-plus", str(SHARED / "evalplus" / "MbppPlus-v0.2.0.jsonl.gz"))
    assert len(mbpp_plus.problems) == 378
    he_plus = load_dataset("humaneval-plus",
                           str(SHARED / "evalplus" / "HumanEvalPlus-v0.1.10.jsonl.gz"))
    assert len(he_plus.problems) == 164
    assert sum(len(p.tests["plus_input"]) for p in he_plus.problems.values()) == 122_683


def test_apps_slice_and_a_few_mbpp_references_pass() -> None:
    apps = load_dataset("apps", str(SHARED / "apps" / "apps_test_10.jsonl"))
    assert len(apps.problems) == 10
    levels = sorted(p.metadata["difficulty"] for p in apps.problems.values())
    assert levels.count("introductory") == 3 and levels.count("competition") == 2
    with closing(default_factory(CLASSIC)(Limits())) as box:
        check_apps_and_mbpp(apps, box)


def check_apps_and_mbpp(apps: Dataset, box: Sandbox) -> None:
    add = apps.problems["APPS/4245"]
    program = ("a, b = map(int, input().split())\nn, k = 1, 0\nwhile n < b:\n"
               "    n, k = n + a - 1, k + 1\nprint(k)\n")
    v = grade(add, program, box)
    assert v.passed and v.extra["tests_total"] == 14
    mbpp = load_dataset("mbpp", str(SHARED / "mbpp" / "mbpp.jsonl"))
    for task in ("Mbpp/11", "Mbpp/12", "Mbpp/17"):
        assert grade(mbpp.problems[task], mbpp.problems[task].reference, box).passed


# Correct programs we wrote for four problems of the APPS slice.
APPS_SOLUTIONS = {
    "APPS/4655": "q = int(input())\nfor _ in range(q):\n    a, b, c = map(int, input().split())\n"
                 "    print((a + b + c) // 2)\n",
    "APPS/4245": "a, b = map(int, input().split())\nn, k = 1, 0\nwhile n < b:\n"
                 "    n, k = n + a - 1, k + 1\nprint(k)\n",
    "APPS/1079": "n = int(input(), 2)\nprint(bin(n ^ (3 * n)).count('1'))\n",  # NAF weight
    "APPS/203": "from collections import deque\nn = int(input())\ns = input().strip()\n"
                "d = deque(i for i, c in enumerate(s) if c == 'D')\n"
                "r = deque(i for i, c in enumerate(s) if c == 'R')\n"
                "while d and r:\n    a, b = d.popleft(), r.popleft()\n"
                "    if a < b:\n        d.append(a + n)\n    else:\n        r.append(b + n)\n"
                "print('D' if d else 'R')\n",
}


def test_apps_slice_right_and_wrong_programs(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from execeval.cli import main

    data = str(SHARED / "apps" / "apps_test_10.jsonl")
    ids = list(load_dataset("apps", data).problems)
    right = tmp_path / "right.jsonl"
    right.write_text("".join(json.dumps({"task_id": t, "solution": p}) + "\n"
                             for t, p in APPS_SOLUTIONS.items()))
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text("".join(json.dumps({"task_id": t, "solution": "print(42)\n"}) + "\n"
                             for t in ids))
    summaries = []
    for samples in (right, wrong):
        assert main(["evaluate", "--dataset", "apps", "--data", data, "--samples", str(samples),
                     "--store", str(tmp_path / "s.sqlite"), "--json"]) == 0
        summaries.append(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    good, bad = summaries
    assert (good["n_problems"], good["strict_accuracy"], good["test_case_average"]) == (4, 1.0, 1.0)
    assert (bad["n_problems"], bad["strict_accuracy"], bad["test_case_average"]) == (10, 0.0, 0.0)
    assert set(bad["by_difficulty"]) == {"introductory", "interview", "competition"}
