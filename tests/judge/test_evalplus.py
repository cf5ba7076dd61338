"""EvalPlus grading: trusted oracle, base and plus graded apart, EvalPlus's comparisons."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from execeval.api import load_dataset
from execeval.benchmarks.evalplus import typed_inputs
from execeval.errors import UserError
from execeval.judge import grade, oracle
from execeval.judge.evalplus import batches, output_matches
from execeval.sandbox import Sandbox
from execeval.summary import summarize

HUMANEVAL_PLUS = [
    {"task_id": "HumanEval/0", "prompt": "def add(a, b):\n    \"\"\"Add.\"\"\"\n",
     "entry_point": "add", "canonical_solution": "    return a + b\n",
     "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n",
     "contract": "\n    assert isinstance(a, int)  # $_CONTRACT_$\n",
     "base_input": [[1, 2], [0, 0]], "plus_input": [[10**20, 1], [-5, 5], [7, -9]], "atol": 0},
    {"task_id": "HumanEval/1", "prompt": "def half(x):\n", "entry_point": "half",
     "canonical_solution": "    return x / 2\n", "test": "", "contract": "",
     "base_input": [[1], [3]], "plus_input": [[1e-9], [10]], "atol": 0},
]
MBPP_PLUS = [
    {"task_id": "Mbpp/2", "prompt": "\"\"\"\nWrite a function.\n\"\"\"\n",
     "entry_point": "similar_elements",
     "canonical_solution": "\ndef similar_elements(a, b):\n    return tuple(set(a) & set(b))\n",
     "base_input": [[[3, 4, 5, 6], [5, 7, 4, 10]]], "plus_input": [[[1, 2], [2, 3]]],
     "atol": 0, "contract": "", "assertion": ""},
    {"task_id": "Mbpp/737", "prompt": "", "entry_point": "check_str",
     "canonical_solution": "import re\ndef check_str(s):\n    return re.search('^[aeiou]', s)\n",
     "base_input": [["apple"], ["dog"]], "plus_input": [["egg"]], "atol": 0, "contract": "",
     "assertion": ""},
    {"task_id": "Mbpp/255", "prompt": "", "entry_point": "combos",
     "canonical_solution": "from itertools import product\n"
                           "def combos(n):\n    return list(product(range(10), repeat=n))\n",
     "base_input": [[1]], "plus_input": [[6]], "atol": 0, "contract": "", "assertion": ""},
]


def write(path: Path, rows: list[dict[str, object]]) -> str:
    with gzip.open(path, "wt") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    return str(path)


@pytest.fixture
def humaneval_plus(tmp_path: Path) -> str:
    return write(tmp_path / "HumanEvalPlus.jsonl.gz", HUMANEVAL_PLUS)


def test_loader_keeps_inputs_contract_and_prompt(humaneval_plus: str) -> None:
    ds = load_dataset("humaneval-plus", humaneval_plus)
    p = ds.problems["HumanEval/0"]
    assert (p.grader, p.entry_point, p.code_prefix) == ("evalplus", "add", p.prompt)
    assert p.reference == p.prompt + "    return a + b\n"
    assert len(p.tests["base_input"]) == 2 and len(p.tests["plus_input"]) == 3
    assert "$_CONTRACT_$" in p.metadata["contract"]
    assert ds.version.startswith("sha256:")


def test_mbpp_plus_inputs_get_their_python_types() -> None:
    assert typed_inputs("Mbpp/2", [[[1, 2], [3]]]) == [[(1, 2), (3,)]]
    assert typed_inputs("Mbpp/124", [["1.5", "(1+2j)"]]) == [[1.5, 1 + 2j]]
    assert typed_inputs("Mbpp/580", [[[1, [2, 3]]]]) == [[(1, (2, 3))]]
    assert typed_inputs("Mbpp/793", {}) == []  # MBPP+ 793 publishes plus_input as {}
    assert typed_inputs("HumanEval/2", [[[1, 2]]]) == [[[1, 2]]]


def test_base_and_plus_are_graded_apart(humaneval_plus: str, sandbox: Sandbox) -> None:
    ds = load_dataset("humaneval-plus", humaneval_plus)
    add = ds.problems["HumanEval/0"]
    good = grade(add, add.reference, sandbox)
    assert good.passed and good.extra == {"base_passed": True, "plus_passed": True}
    # right on the original tests, wrong on a plus input (big integers)
    clipped = add.prompt + "    return min(a + b, 2**63)\n"
    v = grade(add, clipped, sandbox)
    assert (v.passed, v.status, v.extra["base_passed"]) == (False, "failed", True)
    assert v.detail.startswith("plus input 0:")
    wrong = grade(add, add.prompt + "    return a - b\n", sandbox)
    assert not wrong.extra["base_passed"] and wrong.detail.startswith("base input 0:")
    crash = grade(add, add.prompt + "    raise KeyError(a)\n", sandbox)
    assert crash.status == "error" and crash.detail.startswith("base:")


def test_summary_reports_base_plus_and_the_gap(humaneval_plus: str, sandbox: Sandbox) -> None:
    ds = load_dataset("humaneval-plus", humaneval_plus)
    add, half = ds.problems["HumanEval/0"], ds.problems["HumanEval/1"]
    programs = [(add, add.reference), (add, add.prompt + "    return min(a + b, 2**63)\n"),
                (half, half.reference), (half, half.prompt + "    return x // 2\n")]
    verdicts = [grade(p, prog, sandbox) for p, prog in programs]
    s = summarize(ds, zip([p.task_id for p, _ in programs], verdicts, strict=True), [1])
    assert s["pass_at_k"] == {"1": 0.5}            # plus: 1 of 2 on each problem
    assert s["base_pass_at_k"] == {"1": 0.75}      # base: add 2/2, half 1/2
    assert s["n_pass_base_fail_plus"] == 1
    assert s["fraction_base_passers_failing_plus"] == pytest.approx(1 / 3)


def test_floats_get_evalplus_tolerance(humaneval_plus: str, sandbox: Sandbox) -> None:
    half = load_dataset("humaneval-plus", humaneval_plus).problems["HumanEval/1"]
    assert grade(half, half.prompt + "    return x * 0.5 + 1e-9\n", sandbox).passed
    assert not grade(half, half.prompt + "    return x * 0.5 + 1e-3\n", sandbox).passed


def test_oracle_is_computed_once_and_cached_on_disk(humaneval_plus: str, sandbox: Sandbox) -> None:
    add = load_dataset("humaneval-plus", humaneval_plus).problems["HumanEval/0"]
    assert grade(add, add.reference, sandbox).passed
    files = list((oracle.cache_dir() / "oracle").glob(f"{add.hash}-*.json.gz"))
    assert len(files) == 1
    with gzip.open(files[0], "rt") as f:
        cached = json.load(f)
    assert cached["base"] == [3, 0] and len(cached["plus_time"]) == 3


def test_mbpp_plus_special_oracles_and_big_outputs(tmp_path: Path, sandbox: Sandbox) -> None:
    ds = load_dataset("mbpp-plus", write(tmp_path / "MbppPlus.jsonl.gz", MBPP_PLUS))
    similar = ds.problems["Mbpp/2"]
    # a list in another order passes: similar_elements is compared as a set, as EvalPlus does
    assert grade(similar, "def similar_elements(a, b):\n    return sorted(set(a) & set(b), "
                 "reverse=True)\n", sandbox).passed
    # check_str returns a match object: EvalPlus only asks whether it is None
    check = ds.problems["Mbpp/737"]
    assert grade(check, check.reference, sandbox).passed
    assert grade(check, "def check_str(s):\n    return s[0] in 'aeiou'\n", sandbox).passed
    assert not grade(check, "def check_str(s):\n    return 0\n", sandbox).passed
    combos = ds.problems["Mbpp/255"]
    assert isinstance(oracle_outputs(combos)[1][0], oracle.Digest)  # 10**6 tuples: a digest
    assert grade(combos, combos.reference, sandbox).passed
    reversed_when_big = ("from itertools import product\ndef combos(n):\n"
                         "    out = list(product(range(10), repeat=n))\n"
                         "    return out if n < 3 else out[::-1]\n")
    v = grade(combos, reversed_when_big, sandbox)
    assert not v.passed and "wrong (large) output" in v.detail


def oracle_outputs(problem: object) -> tuple[list[object], list[object]]:
    from execeval.judge.evalplus import oracle_of

    o = oracle_of(problem)  # type: ignore[arg-type]
    return o.base, o.plus


def test_output_comparison_rules() -> None:
    assert output_matches(0.1 + 0.2, 0.3, [], 0.0, "humaneval", "f")       # atol 1e-6 for floats
    assert not output_matches([1, 2], (1, 2), [], 0.0, "humaneval", "f")   # type matters
    assert output_matches(2.0001, 2.0, [], 1e-3, "mbpp", "f")
    assert not output_matches("2.0", 2.0, [], 1e-3, "mbpp", "f")
    assert output_matches(object(), True, [], 0.0, "mbpp", "check_str")    # "not None" oracle
    assert output_matches(0, 5, [], 0.0, "mbpp", "sum_div")               # always-zero accepted
    assert output_matches(1.0, None, [[-1.0, 1.0]], 1e-6, "humaneval", "find_zero")
    assert not output_matches(3.0, None, [[-1.0, 1.0]], 1e-6, "humaneval", "find_zero")


def test_batches_cut_by_count_time_and_digest() -> None:
    assert batches([0.0] * 300, [False] * 300) == [range(0, 128), range(128, 256),
                                                     range(256, 300)]
    assert batches([0.2, 0.2, 0.01], [False] * 3) == [range(0, 2), range(2, 3)]
    assert batches([0.0] * 4, [False, False, True, False]) == [range(0, 2), range(2, 3),
                                                                range(3, 4)]


def test_malformed_rows_are_user_errors(tmp_path: Path) -> None:
    row = dict(HUMANEVAL_PLUS[0])
    del row["entry_point"]
    with pytest.raises(UserError, match="field 'entry_point' is missing"):
        load_dataset("humaneval-plus", write(tmp_path / "x.jsonl.gz", [row]))


def test_batches_are_cut_before_their_answers_outgrow_a_reply() -> None:
    from execeval.judge.evalplus import BATCH_REPLY_BYTES

    big = BATCH_REPLY_BYTES // 2
    assert batches([0.0] * 5, [False] * 5, [big, big, big, 10, 10]) == [
        range(0, 2), range(2, 5)]
