"""APPS: loading, APPS's output comparison, per-test results and the paper's metrics."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import pytest

from execeval.api import load_dataset
from execeval.environment import CLASSIC
from execeval.errors import UserError
from execeval.executor import default_factory
from execeval.judge import grade
from execeval.judge.apps import call_result_matches, stdout_matches
from execeval.sandbox import Limits, Sandbox
from execeval.summary import summarize

ROWS = [
    {"problem_id": 1, "difficulty": "introductory", "question": "Print a+b.", "starter_code": "",
     "input_output": json.dumps({"inputs": ["1 2\n", "5 5\n", "0 0\n", "-1 1\n"],
                                 "outputs": ["3\n", "10\n", "0\n", "0\n"]}),
     "solutions": json.dumps(["a, b = map(int, input().split())\nprint(a + b)\n"])},
    {"problem_id": 2, "difficulty": "interview", "question": "Return the sum of a list.",
     "starter_code": "def total(xs):\n", "input_output": json.dumps(
         {"fn_name": "total", "inputs": [[[1, 2]], [[]]], "outputs": [[3], [0]]})},
    {"problem_id": 3, "difficulty": "competition", "question": "LeetCode style.",
     "starter_code": "class Solution:\n    def twice(self, x):\n",
     "input_output": json.dumps({"fn_name": "twice", "inputs": [[2], [5]], "outputs": [[4], [10]]})},
    {"problem_id": 4, "difficulty": "interview", "question": "No tests (train split style).",
     "starter_code": "", "input_output": ""},
]


@pytest.fixture
def apps(tmp_path: Path) -> str:
    path = tmp_path / "apps.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return str(path)


def test_loader_reads_both_kinds_and_skips_rows_without_tests(apps: str) -> None:
    ds = load_dataset("apps", apps)
    assert list(ds.problems) == ["APPS/1", "APPS/2", "APPS/3"]
    p1, p2 = ds.problems["APPS/1"], ds.problems["APPS/2"]
    assert p1.tests["fn_name"] is None and p2.tests["fn_name"] == "total"
    assert p1.reference.startswith("a, b = map") and p2.reference == ""
    assert p1.prompt == "\nQUESTION:\nPrint a+b.\nUse Standard Input format\nANSWER:\n"
    assert p2.prompt == ("\nQUESTION:\nReturn the sum of a list.\ndef total(xs):\n\n"
                         "Use Call-Based format\nANSWER:\n")
    assert p2.metadata["difficulty"] == "interview"


def test_stdout_comparison_follows_apps() -> None:
    assert stdout_matches("3\n", "3\n") and stdout_matches("  3  \n\n", "3")
    assert stdout_matches("1 2\n3\n", "1 2\n3\n")
    assert stdout_matches("1.0000001\n", "1.0\n")             # numbers within allclose
    assert stdout_matches("2 1\n", "1 2\n")                  # APPS: tokens of a line as a set
    assert stdout_matches("b\na\n", "a\nb\n")                # ... and lines as a set
    assert stdout_matches("0.3330\n", "0.333\n")
    assert not stdout_matches("4\n", "3\n") and not stdout_matches("", "3\n")
    assert not stdout_matches("1 2 3\n", "1 2\n")


def test_call_comparison_follows_apps() -> None:
    assert call_result_matches(3, [3]) and call_result_matches((1, 2), [[1, 2]])
    assert call_result_matches([(1, 2)], [[[1, 2]]]) and call_result_matches([3], [3])
    assert not call_result_matches(4, [3])


def test_grading_keeps_every_test_result(apps: str, sandbox: Sandbox) -> None:
    ds = load_dataset("apps", apps)
    add = ds.problems["APPS/1"]
    v = grade(add, add.reference, sandbox)
    assert v.passed and v.extra == {"tests_passed": 4, "tests_total": 4,
                                    "per_test": ["pass"] * 4}
    half = grade(add, "a, b = map(int, input().split())\nprint(a + b if a >= 0 else 1)\n", sandbox)
    assert (half.passed, half.status) == (False, "failed")
    assert half.extra["per_test"] == ["pass", "pass", "pass", "fail"]
    err = grade(add, "a, b = map(int, input().split())\nprint(10 // (a + b))\n", sandbox)
    assert err.extra["per_test"] == ["pass", "fail", "error", "error"]
    syn = grade(add, "print(\n", sandbox)
    assert syn.status == "syntax_error" and syn.extra["tests_total"] == 4
    guarded = "def main():\n    print(sum(map(int, input().split())))\n" \
              "if __name__ == '__main__':\n    main()\n"
    assert grade(add, guarded, sandbox).passed  # scripts run as __main__


def test_call_based_and_class_solution(apps: str, sandbox: Sandbox) -> None:
    ds = load_dataset("apps", apps)
    assert grade(ds.problems["APPS/2"], "def total(xs):\n    return sum(xs)\n", sandbox).passed
    assert grade(ds.problems["APPS/2"], "def total(xs):\n    return fsum(xs)\n", sandbox).passed \
        is False  # math's fsum is not in APPS's header (only a few names are)
    leet = "class Solution:\n    def twice(self, x):\n        return 2 * x\n"
    assert grade(ds.problems["APPS/3"], leet, sandbox).passed
    assert grade(ds.problems["APPS/3"], "def twice(x):\n    return sqrt(x)\n", sandbox) \
        .extra["per_test"] == ["fail", "fail"]  # sqrt: from APPS's import header


def test_a_timeout_counts_the_problems_real_number_of_tests(apps: str) -> None:
    add = load_dataset("apps", apps).problems["APPS/1"]
    loop = "a, b = map(int, input().split())\nwhile a == 5:\n    pass\nprint(a + b)\n"
    with closing(default_factory(CLASSIC)(Limits(timeout=1.0))) as box:
        v = grade(add, loop, box)
    assert v.status == "timeout"
    assert v.extra == {"tests_passed": 1, "tests_total": 4,
                       "per_test": ["pass", "timeout", "not_run", "not_run"]}


def test_summary_strict_accuracy_and_test_case_average(apps: str, sandbox: Sandbox) -> None:
    ds = load_dataset("apps", apps)
    add, total = ds.problems["APPS/1"], ds.problems["APPS/2"]
    graded = [(add, add.reference),
              (add, "a, b = map(int, input().split())\nprint(a + b if a >= 0 else 1)\n"),
              (total, "def total(xs):\n    return 0\n"), (total, "def total(xs:\n")]
    verdicts = [grade(p, prog, sandbox) for p, prog in graded]
    s = summarize(ds, zip([p.task_id for p, _ in graded], verdicts, strict=True), [1])
    # problem 1: strict (1 + 0) / 2, tests (1 + 3/4) / 2; problem 2: strict 0, tests
    # (1/2 + 0) / 2, and one of its two samples does not parse
    assert s["strict_accuracy"] == pytest.approx(0.25)
    assert s["test_case_average"] == pytest.approx((0.875 + 0.25) / 2)
    assert s["syntax_error_rate"] == 0.25
    plain = {level: {k: v for k, v in m.items() if not k.endswith("_ci")}
             for level, m in s["by_difficulty"].items()}
    assert plain == {
        "introductory": {"n_problems": 1, "strict_accuracy": 0.5, "test_case_average": 0.875,
                         "syntax_error_rate": 0.0},
        "interview": {"n_problems": 1, "strict_accuracy": 0.0, "test_case_average": 0.25,
                      "syntax_error_rate": 0.5}}
    # one problem per level says nothing about the level: its interval is all of [0, 1]
    assert s["by_difficulty"]["interview"]["strict_accuracy_ci"] == [0.0, 1.0]
    lo, hi = s["strict_accuracy_ci"]
    assert lo <= s["strict_accuracy"] <= hi


def test_malformed_input_output_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "apps.jsonl"
    path.write_text(json.dumps({**ROWS[0], "input_output": "{not json"}) + "\n")
    with pytest.raises(UserError, match=r"apps.jsonl:1: field 'input_output' is not valid JSON"):
        load_dataset("apps", str(path))
