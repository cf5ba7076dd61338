"""`execeval compare` on real runs graded in a private store: the exact paired
difference, win counts, the exact sign-flip p-value, and the one-line refusals."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import canonical_completion, write_jsonl

import execeval
from execeval.compare import Comparison, compare, per_problem_pass_at_k
from execeval.errors import UserError
from execeval.store import SampleRow, Store
from execeval.verdict import Verdict

WRONG = "    return None\n"


@dataclass(frozen=True)
class Runs:
    store: Path
    a: str        # tasks 0-11, two canonical samples each
    b: str        # task 0 right twice, task 1 right once, tasks 2-11 wrong
    a2: str       # A's samples in another order: another run, the same per-problem values
    c: str        # tasks 12-13 only: nothing shared with A
    p: str        # problem file dir1/p.jsonl (tasks 0-1)
    p_other: str  # dir2/p.jsonl: same name, one test changed (another dataset hash)
    q: str        # q.jsonl: dir1/p.jsonl's content under another name
    tasks: list[str]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("compare")
    store = root / "store.sqlite"
    ds = execeval.load_dataset("humaneval")
    problems = list(ds.problems.values())[:14]
    tasks = [p.task_id for p in problems[:12]]

    def evaluate(rows: list[dict], problems_file: Path | None = None) -> str:
        dataset = "humaneval" if problems_file else ds
        return execeval.evaluate(rows, dataset, problems_file=problems_file, store=store,
                                 k=[1, 2]).run_id

    good = [{"task_id": p.task_id, "completion": canonical_completion(p)} for p in problems[:12]
            for _ in range(2)]
    b_rows = []
    for i, p in enumerate(problems[:12]):
        first = canonical_completion(p) if i <= 1 else WRONG
        second = canonical_completion(p) if i == 0 else WRONG
        b_rows += [{"task_id": p.task_id, "completion": c} for c in (first, second)]
    c_rows = [{"task_id": p.task_id, "completion": canonical_completion(p)} for p in problems[12:]]

    def as_file(path: Path, extra_test: str = "") -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_jsonl(path, [{"task_id": p.task_id, "prompt": p.prompt,
                                   "entry_point": p.entry_point,
                                   "canonical_solution": canonical_completion(p),
                                   "test": p.tests + extra_test} for p in problems[:2]])

    two = [{"task_id": p.task_id, "completion": canonical_completion(p)} for p in problems[:2]]
    return Runs(
        store=store, a=evaluate(good), b=evaluate(b_rows), a2=evaluate(good[::-1]),
        c=evaluate(c_rows),
        p=evaluate(two, as_file(root / "dir1" / "p.jsonl")),
        p_other=evaluate(two, as_file(root / "dir2" / "p.jsonl", "\n# changed\n")),
        # other rows than p's: the same rows on the same content would be p's run again
        q=evaluate(two[::-1], as_file(root / "q.jsonl")),
        tasks=tasks)


def test_large_gap_exact_difference_counts_and_p_value(runs: Runs) -> None:
    c = compare(runs.a[:6], runs.b[:6], store=runs.store, top=20)
    assert isinstance(c, Comparison)
    assert (c.run_a, c.run_b, c.k, c.n_shared) == (runs.a, runs.b, 1, 12)
    assert c.pass_a == 1.0 and c.pass_b == pytest.approx(1.5 / 12)
    assert c.difference == pytest.approx(1.0 - 1.5 / 12)
    assert (c.a_better, c.b_better, c.tied) == (11, 0, 1)
    # 11 non-zero differences (0.5 and ten 1s): only the all-plus and all-minus sign
    # patterns reach |sum| = 10.5, so the exact p-value is 2 / 2**11
    assert c.p_value == pytest.approx(2 / 2**11) and c.method == "sign-flip"
    assert 0 < c.ci[0] < c.difference < c.ci[1] <= 1
    # the largest |difference| first, then run order; ties (task 0) never listed
    assert [r["task_id"] for r in c.largest] == [*runs.tasks[2:12], runs.tasks[1]]
    assert c.largest[0] == {"task_id": runs.tasks[2], "a": 1.0, "b": 0.0, "difference": 1.0}
    assert c.largest[-1]["difference"] == 0.5
    assert len(compare(runs.a, runs.b, store=runs.store).largest) == 10  # --top default
    assert len(compare(runs.a, runs.b, store=runs.store, top=3).largest) == 3


def test_pass_at_2_uses_the_unbiased_estimate(runs: Runs) -> None:
    c = compare(runs.a, runs.b, k=2, store=runs.store)
    # task 1 of B (n=2, c=1) has pass@2 = 1: tied with A there
    assert c.pass_b == pytest.approx(2 / 12) and (c.a_better, c.tied) == (10, 2)
    assert per_problem_pass_at_k(runs.store, runs.b[:5], 2) == {
        t: (1.0 if i <= 1 else 0.0) for i, t in enumerate(runs.tasks)}
    assert per_problem_pass_at_k(runs.store, runs.b, 1, tasks=runs.tasks[1:3]) == {
        runs.tasks[1]: 0.5, runs.tasks[2]: 0.0}
    with pytest.raises(UserError, match="--k 3 exceeds"):
        compare(runs.a, runs.b, k=3, store=runs.store)


def test_identical_runs_have_p_value_one(runs: Runs) -> None:
    c = compare(runs.a, runs.a2, store=runs.store)
    assert runs.a != runs.a2
    assert (c.difference, c.ci, c.p_value) == (0.0, [0.0, 0.0], 1.0)
    assert (c.a_better, c.b_better, c.tied, c.largest) == (0, 0, 12, [])


def test_cli_json_and_table(cli, runs: Runs) -> None:
    proc = cli("compare", runs.a, runs.b[:7], "--store", str(runs.store), "--json", check=True)
    out = json.loads(proc.stdout)
    assert {"run_a", "run_b", "k", "n_shared", "pass_a", "pass_b", "difference", "ci",
            "p_value", "method", "a_better", "b_better", "tied", "largest"} <= set(out)
    assert out == json.loads(json.dumps(compare(runs.a, runs.b, store=runs.store).to_json()))
    table = cli("compare", runs.a, runs.b, "--store", str(runs.store), "--top", "2",
                check=True).stdout
    for text in ("pass@1 A", "1.0000", "0.1250", "+0.8750", "0.0009766", "11 / 0 / 1",
                 "largest differences (2)", runs.tasks[2]):
        assert text in table, text


@pytest.mark.parametrize(("pair", "message"), [
    (("a", "c"), "share no graded problems"),
    (("a", "p"), "different datasets (humaneval vs file:p.jsonl)"),
    (("p", "q"), "different datasets (file:p.jsonl vs file:q.jsonl)"),
    (("p", "p_other"), "both on file:p.jsonl but its problems differ"),
])
def test_refusals_are_one_line_exit_2(cli, runs: Runs, pair: tuple[str, str],
                                      message: str) -> None:
    a, b = (getattr(runs, name) for name in pair)
    proc = cli("compare", a, b, "--store", str(runs.store))
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr


def test_cli_k_too_large_and_unknown_run(cli, runs: Runs) -> None:
    for args, message in (((runs.a, runs.b, "--k", "3"), "--k 3 exceeds"),
                          ((runs.a, "nosuchrun"), "no run 'nosuchrun'")):
        proc = cli("compare", *args, "--store", str(runs.store))
        assert proc.returncode == 2 and message in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_allowed_different_datasets_compare_shared_task_ids(runs: Runs) -> None:
    c = compare(runs.p, runs.p_other, store=runs.store, allow_different_datasets=True)
    assert c.n_shared == 2 and c.difference == 0.0 and c.notes
    c = compare(runs.a, runs.q, store=runs.store, allow_different_datasets=True)
    assert (c.n_shared, c.n_only_a, c.n_only_b, c.p_value) == (2, 10, 0, 1.0)
    assert c.dataset_b == "file:q.jsonl" and "different datasets" in c.notes[0]


def test_few_shared_problems_are_said_to_be_unreliable(runs: Runs) -> None:
    assert not any("unreliable" in n for n in compare(runs.a, runs.b, store=runs.store).notes)
    c = compare(runs.p, runs.p_other, store=runs.store, allow_different_datasets=True)
    assert ("only 2 shared problems: the interval and p-value are unreliable below 12 "
            "(docs/statistics.md)") in c.notes


def test_a_run_still_going_is_compared_on_what_is_graded_and_said_so(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    for run_id in ("done11112222", "live11112222"):
        store.begin_run(run_id, "evaluate", ("d", "v", "h"), {})
        store.put_samples(run_id, [SampleRow(i, f"T/{i}", 0, f"{run_id}{i}", "x = 1\n",
                                             "solution", {}) for i in range(3)])
    store.put_verdicts([(f"done11112222{i}", Verdict(True, "passed")) for i in range(3)])
    store.put_verdicts([(f"live11112222{i}", Verdict(i == 0, "passed" if i == 0 else "failed"))
                        for i in range(2)])
    store.finish_run("done11112222", {})
    c = compare("done", "live", store=store)
    assert c.n_shared == 2 and c.notes[0] == (
        "run B (live11112222) is still running: 2 of 3 samples graded, compared on those")
    assert not any("run A" in n for n in c.notes)
    store.close()
