"""EvalPlus grading: trusted oracle, base and plus graded apart, EvalPlus's comparisons and
time limits."""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from support.sandbox import FAST, one_cpu, pin_zygote, start_hogs, stop_hogs

from execeval.api import load_dataset
from execeval.benchmarks.evalplus import typed_inputs
from execeval.cli.grade import run_options_from
from execeval.cli.main import build_parser
from execeval.dataset import Problem
from execeval.errors import UserError
from execeval.judge import evalplus, grade, oracle
from execeval.judge.evalplus import (
    StageClock,
    batches,
    input_limits,
    output_matches,
    stage_limit,
)
from execeval.options import GradingOptions
from execeval.sandbox import Limits, Sandbox, with_limits
from execeval.sandbox.warm import ZygoteSandbox
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
    assert batches([1.0] * 300, [0.0] * 300, [False] * 300) == [
        range(0, 128), range(128, 256), range(256, 300)]
    # at most 1/16 of the smallest limit among them: 0.04 + 0.02 fits 1 s / 16, 0.07 not
    assert batches([1.0] * 4, [0.04, 0.02, 0.01, 0.0], [False] * 4) == [
        range(0, 2), range(2, 4)]
    # an input whose own limit is small cuts the batch it would join
    assert batches([1.0, 1.0, 0.08], [0.0, 0.005, 0.005], [False] * 3) == [
        range(0, 2), range(2, 3)]
    assert batches([1.0] * 4, [0.0] * 4, [False, False, True, False]) == [
        range(0, 2), range(2, 3), range(3, 4)]


def test_malformed_rows_are_user_errors(tmp_path: Path) -> None:
    row = dict(HUMANEVAL_PLUS[0])
    del row["entry_point"]
    with pytest.raises(UserError, match="field 'entry_point' is missing"):
        load_dataset("humaneval-plus", write(tmp_path / "x.jsonl.gz", [row]))


def test_batches_are_cut_before_their_answers_outgrow_a_reply() -> None:
    from execeval.judge.evalplus import BATCH_REPLY_BYTES

    big = BATCH_REPLY_BYTES // 2
    assert batches([1.0] * 5, [0.0] * 5, [False] * 5, [big, big, big, 10, 10]) == [
        range(0, 2), range(2, 5)]


def test_limits_are_evalplus_s() -> None:
    """eval.untrusted_check: max(min_time_limit, factor x reference) per input, and
    min(60, their sum) + 1 s per stage, which its parent waits 1 s more for."""
    assert input_limits([0.001, 0.5], Limits()) == [1.0, 2.0]
    assert input_limits([0.001, 0.5], Limits(min_time_limit=0.1, time_factor=2.0)) == [0.1, 1.0]
    assert stage_limit([1.0, 2.0]) == 5.0
    assert stage_limit([1.0] * 500) == 62.0


def test_evalplus_s_flags_reach_the_limits_and_the_verdict_key() -> None:
    """`--min-time-limit` and `--gt-time-limit-factor`, as EvalPlus's flags."""
    args = build_parser(only="run").parse_args(
        ["run", "--model", "reference", "--min-time-limit", "2", "--gt-time-limit-factor", "8"])
    limits = run_options_from(args).grading.limits()
    assert (limits.min_time_limit, limits.time_factor) == (2.0, 8.0)
    assert GradingOptions().limits() == Limits()
    assert limits.key() != Limits().key()  # verdicts under other limits are never reused


# The reference's time is measured as CPU time, so a reference made slow busy-loops for a
# fixed CPU time. A candidate made slow sleeps where it can: a sleep takes the same wall time
# however loaded the machine is, so the margins below hold on a busy machine too.
BUSY = ("import time\n"
        "def busy(seconds):\n"
        "    end = time.process_time() + seconds\n"
        "    while time.process_time() < end:\n"
        "        pass\n")


def timed_problem(tmp_path: Path, reference: str, plus: list[list[int]]) -> Problem:
    """A HumanEval+ problem `f(i)` whose reference is `reference` (after BUSY)."""
    row = {"task_id": "HumanEval/96", "prompt": "", "entry_point": "f",
           "canonical_solution": BUSY + reference, "test": "", "contract": "",
           "base_input": [[-1]], "plus_input": plus, "atol": 0}
    return load_dataset("humaneval-plus", write(tmp_path / "p.jsonl.gz", [row])).problems[
        "HumanEval/96"]


def sleeping(body: str) -> str:
    return f"import time\ndef f(i):\n{body}    return i\n"


def test_many_moderately_slow_inputs_pass(tmp_path: Path, sandbox: Sandbox) -> None:
    """HumanEval/96 as GPT-4 wrote it (trial division): far slower than the reference on
    every input, 0.05 s, but far under EvalPlus's 1 s per input; 2 s over its 40 inputs,
    twice what a batch of them may take (and twice the old per-batch --timeout)."""
    problem = timed_problem(tmp_path, "def f(i):\n    return i\n", [[i] for i in range(40)])
    v = grade(problem, sleeping("    time.sleep(0.05)\n"), with_limits(sandbox, FAST))
    assert v.passed, v.detail


def test_many_moderately_slow_inputs_pass_on_a_shared_cpu(tmp_path: Path) -> None:
    """The same with CPU work (0.05 s of CPU per input), on one CPU with three endless
    loops: each input waits for the CPU about three times as long as it runs, and that
    waiting is not counted against it."""
    problem = timed_problem(tmp_path, "def f(i):\n    return i\n", [[i] for i in range(20)])
    cpu = one_cpu()
    hogs = start_hogs(3, cpu)
    try:
        with ZygoteSandbox(FAST) as sb:
            pin_zygote(sb, cpu)
            v = grade(problem, BUSY + "def f(i):\n    busy(0.05)\n    return i\n", sb)
    finally:
        stop_hogs(hogs)
    assert v.passed, v.detail


def test_over_the_factor_on_one_input_times_out(tmp_path: Path, sandbox: Sandbox) -> None:
    """The reference needs 0.3 s on input 3: that input's limit is 4 x that, 1.2 s. Twice
    the reference's time passes (above the 0.25 s floor); eight times it (2.4 s) times
    out there, whatever the limits of the other inputs add up to; so does more than the
    floor on an input where the reference is fast."""
    problem = timed_problem(tmp_path, "def f(i):\n    if i == 3:\n        busy(0.3)\n"
                            "    return i\n", [[i] for i in range(30)])
    limits = with_limits(sandbox, replace(FAST, min_time_limit=0.25))
    twice = grade(problem, sleeping("    if i == 3:\n        time.sleep(0.6)\n"), limits)
    assert twice.passed, twice.detail
    v = grade(problem, sleeping("    if i == 3:\n        time.sleep(2.4)\n"), limits)
    assert (v.passed, v.status, v.extra["base_passed"]) == (False, "timeout", True)
    assert v.detail.startswith("plus: input 3: no answer within 1.2"), v.detail
    # input 7's limit is the floor: 0.6 s there times out, in a batch of fast inputs
    v = grade(problem, sleeping("    if i == 7:\n        time.sleep(0.6)\n"), limits)
    assert v.detail.startswith("plus: input 7: no answer within 0.25"), v.detail


def test_a_stage_may_take_min_60s_and_its_limits_sum_plus_2s(
        tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """EvalPlus's ceiling, lowered from 60 s to 1 s: the plus stage may take 1 + 2 s in all.
    60 inputs of 0.1 s each (6 s) are each well within 1 s, and over that in all."""
    monkeypatch.setattr(evalplus, "TASK_CAP", 1.0)
    problem = timed_problem(tmp_path, "def f(i):\n    return i\n", [[i] for i in range(60)])
    v = grade(problem, sleeping("    time.sleep(0.1)\n"), with_limits(sandbox, FAST))
    assert (v.passed, v.status, v.extra["base_passed"]) == (False, "timeout", True)
    assert "over 3s for the stage's inputs in all" in v.detail, v.detail


def test_the_top_level_runs_on_the_stage_s_clock(tmp_path: Path, sandbox: Sandbox) -> None:
    """As in EvalPlus, the program's top level counts against its stage, not against a
    --timeout of its own: 1.5 s of it fits the base stage (one input: 1 + 2 s) though
    --timeout is 1 s; 4 s of it does not."""
    problem = timed_problem(tmp_path, "def f(i):\n    return i\n", [[1], [2]])
    limits = with_limits(sandbox, FAST)
    program = "import time\ntime.sleep({})\ndef f(i):\n    return i\n"
    v = grade(problem, program.format(1.5), limits)
    assert v.passed, v.detail
    v = grade(problem, program.format(4), limits)
    assert (v.status, v.extra["base_passed"]) == ("timeout", False), v.detail
    assert v.detail.startswith("base: no answer within 3s"), v.detail


def test_a_batch_out_of_time_is_graded_again_from_the_stage_start(
        tmp_path: Path, sandbox: Sandbox) -> None:
    """A program whose answers depend on the calls before (here: how many there were) is
    graded as EvalPlus does, in one process per stage, even when a batch runs out of time
    halfway: the stage starts again, and the history is the same."""
    counting = ("import time\ncalls = []\ndef f(i):\n    calls.append(i)\n{slow}"
                "    return len(calls)\n")
    # the reference's 0.1 s on input 5 puts that input in a batch of its own
    problem = timed_problem(tmp_path, counting.format(slow="    if i == 5:\n        busy(0.1)\n"),
                            [[i] for i in range(30)])
    late = counting.format(slow="    if i > 5:\n        time.sleep(0.05)\n")
    v = grade(problem, late, with_limits(sandbox, replace(FAST, min_time_limit=0.5)))
    assert v.passed, v.detail


class FakeProcess:
    """A process that has waited `waited` seconds for a CPU, as the sandbox reads it."""

    def __init__(self) -> None:
        self.waited = 0.0

    def usage(self) -> tuple[float, float]:
        return 0.0, self.waited


def test_the_stage_clock_leaves_out_cpu_waits_up_to_half() -> None:
    process = FakeProcess()
    ex = SimpleNamespace(process=process)
    clock = StageClock(3.0)
    process.waited = 0.25
    clock.spend(ex, time.monotonic() - 1.0, 0.0)  # type: ignore[arg-type]
    assert clock.used == pytest.approx(0.75, abs=0.05)
    process.waited = 2.0  # 1.75 s of waiting in 1 s: not the clock's to believe
    clock.spend(ex, time.monotonic() - 1.0, 0.25)  # type: ignore[arg-type]
    assert clock.used == pytest.approx(1.25, abs=0.05)
    assert clock.left() == pytest.approx(1.75, abs=0.05)
