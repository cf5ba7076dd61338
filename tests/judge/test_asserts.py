"""Assert-style grading (MBPP, user files): decided on the trusted side, or flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from execeval.api import load_dataset
from execeval.judge import grade
from execeval.judge.asserts import plan_asserts
from execeval.sandbox import Sandbox

DATA = Path(__file__).parent.parent / "benchmarks" / "data"
FULL = str(DATA / "mbpp_small.jsonl")


def test_plan_proxies_the_functions_the_reference_defines() -> None:
    plan = plan_asserts(["assert f(1) == sorted([2, 1])", "assert all(f(x) for x in [1])"],
                        "", "import math\ndef f(x):\n    return x\n")
    assert plan.proxies == ("f",) and not plan.in_sandbox_reason


@pytest.mark.parametrize(("asserts", "setup", "reason"), [
    (["assert f(Pair(1, 2)) == 1"], "", "the program's 'Pair'"),
    (["assert f(lambda x: x) == 1"], "", "passes a function"),
    (["assert f(1, key=2) == 1"], "", "keyword arguments"),
    (["assert f(int) == 1"], "", "passes 'int'"),
    (["assert f(g) == 1"], "", "uses the function 'g' as a value"),
    (["assert f(head) == 1"], "head = Pair(1, 2)", "setup code builds objects"),
    (["assert f(1) == LIMIT"], "", "the program's 'LIMIT'"),
])
def test_plan_falls_back_to_the_sandbox(asserts: list[str], setup: str, reason: str) -> None:
    reference = "LIMIT = 3\nclass Pair:\n    pass\ndef f(x, key=0):\n    return 1\ndef g(x):\n" \
                "    return x\n"
    assert reason in plan_asserts(asserts, setup, reference).in_sandbox_reason


def test_stdlib_modules_the_reference_imports_are_supplied_trusted_side() -> None:
    plan = plan_asserts(["assert math.isclose(f(1), 1.0)"], "", "import math\ndef f(x): return x")
    assert plan.modules == ("math",) and plan.proxies == ("f",)


def test_references_pass_and_wrong_programs_fail(sandbox: Sandbox) -> None:
    ds = load_dataset("mbpp", FULL, split="all")
    square = ds.problems["Mbpp/11"]
    assert grade(square, square.reference, sandbox).passed
    v = grade(square, "def square(x):\n    return x + x\n", sandbox)
    assert (v.passed, v.status) == (False, "failed")
    assert v.detail == "assertion failed: assert square(3) == 9"
    assert grade(square, "def square(x):\n    raise ValueError('no')\n", sandbox).status == "error"
    assert grade(square, "def square(x) return 1\n", sandbox).status == "syntax_error"
    assert grade(square, "def nothing():\n    pass\n", sandbox).status == "error"


def test_a_forged_equality_cannot_pass(sandbox: Sandbox) -> None:
    """An object whose __eq__ always says yes never reaches the trusted comparison."""
    square = load_dataset("mbpp", FULL).problems["Mbpp/11"]
    forged = ("class Yes:\n    def __eq__(self, other):\n        return True\n"
              "def square(x):\n    return Yes()\n")
    v = grade(square, forged, sandbox)
    assert not v.passed and "not plain data" in v.detail


def test_a_timeout_is_a_timeout(sandbox: Sandbox) -> None:
    square = load_dataset("mbpp", FULL).problems["Mbpp/11"]
    v = grade(square, "def square(x):\n    while True:\n        pass\n", sandbox)
    assert v.status == "timeout"


def test_sandbox_fallback_is_flagged_and_still_decides(sandbox: Sandbox) -> None:
    nodes = load_dataset("mbpp", FULL).problems["Mbpp/12"]
    assert nodes.tests["in_sandbox"]
    good = grade(nodes, nodes.reference, sandbox)
    assert good.passed and good.extra["graded_in_sandbox"] is True
    bad = grade(nodes, nodes.reference.replace("n + 1", "n + 2"), sandbox)
    assert (bad.passed, bad.status, bad.extra["graded_in_sandbox"]) == (False, "failed", True)


def test_match_objects_come_back_as_not_plain_data(sandbox: Sandbox) -> None:
    """Why sanitized MBPP's regex tasks are graded in the sandbox (see NON_PLAIN_RETURNS)."""
    regex = load_dataset("mbpp-sanitized", str(DATA / "sanitized_small.json")).problems["Mbpp/17"]
    v = grade(regex, regex.reference, sandbox)
    assert v.status == "error" and "re.Match is not plain data" in v.detail
