"""study ranking: the closed form against brute force, its identities, the planted gain
recovered, and a real samples file without log-probabilities."""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable, Hashable, Sequence
from fractions import Fraction
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from support import last_json, write_jsonl

from execeval import api
from execeval.cli import main
from execeval.errors import UserError
from execeval.executor import LocalExecutor
from execeval.metrics import pass_at_k
from execeval.models.base import Settings
from execeval.options import RunOptions
from execeval.simulate.planted import FakeModel
from execeval.stats import pass_at_k_matrix
from execeval.store import Store
from execeval.studies.common import StudyResult
from execeval.studies.ranking import RankingOptions, pick_probabilities, ranking, strategy_value

ROOT = Path(__file__).resolve().parents[2]


def brute_force(scores: Sequence[Hashable], passed: Sequence[bool], k: int) -> Fraction:
    """Every k-subset; the best score wins; a tie is a uniform draw among the tied."""
    subsets = list(combinations(range(len(scores)), k))
    total = Fraction(0)
    for subset in subsets:
        best = max(scores[i] for i in subset)  # type: ignore[type-var]
        top = [i for i in subset if scores[i] == best]
        total += Fraction(sum(passed[i] for i in top), len(top))
    return total / len(subsets)


def test_closed_form_is_exact_over_all_subsets() -> None:
    rng = random.Random(7)
    for _ in range(60):
        n = rng.randint(1, 7)
        scores = [rng.choice((0.1, 0.2, 0.3, 0.5)) for _ in range(n)]  # many ties
        passed = [rng.random() < 0.5 for _ in range(n)]
        for k in range(1, n + 1):
            exact = brute_force(scores, passed, k)
            assert strategy_value(scores, passed, k) == pytest.approx(float(exact), abs=1e-15)
            assert sum(pick_probabilities(scores, k)) == 1


def test_random_is_pass_at_1_and_oracle_is_pass_at_k() -> None:
    for n in range(1, 9):
        for c in range(n + 1):
            passed = [i < c for i in range(n)]
            for k in range(1, n + 1):
                assert strategy_value([0] * n, passed, k) == pytest.approx(c / n)
                assert strategy_value(passed, passed, k) == pytest.approx(pass_at_k(n, c, k))


def test_planted_ranking_gain_is_recovered(
        planted_run: Callable[..., str], store: Path, on_store: RunOptions,
        executor: LocalExecutor,
        printed: Callable[[StudyResult], tuple[str, dict[str, Any]]]) -> None:
    n, temperature = 10, 0.8
    run_id = planted_run("fake:planted?distinct=0", n=n, temperature=temperature, limit=30)
    r = ranking(RankingOptions(run_id), on_store, executor=executor)
    assert r.k == [1, 2, 5, 10] and r.left_out == {}
    assert set(r.strategies) == {"random", "mean_logprob", "sum_logprob", "example_tests",
                                    "oracle"}
    st = Store(store)
    counts = st.task_counts(run_id)
    samples = list(st.samples(run_id))
    st.close()
    per_problem = pass_at_k_matrix([n] * len(counts), [c for _, c in counts.values()], r.k)
    for j in range(len(r.k)):
        assert r.strategies["oracle"][j] == pytest.approx(per_problem[:, j].mean(), abs=1e-12)
        assert r.strategies["random"][j] == pytest.approx(per_problem[:, 0].mean(), abs=1e-12)
        if 1 < r.k[j] < n:  # at k = n there is one subset: a tie with the oracle may be
            assert r.strategies["random"][j] < r.strategies["example_tests"][j] \
                < r.strategies["oracle"][j]
    assert r.strategies["random"][-1] < r.strategies["example_tests"][-1] \
        <= r.strategies["oracle"][-1]
    # every strategy's value, by brute force over all C(10, k) subsets of every problem
    tasks: dict[str, list] = {}
    for s in samples:
        tasks.setdefault(s.task_id, []).append(s)
    scores = {"mean_logprob": lambda s: s.mean_logprob, "sum_logprob": lambda s: s.sum_logprob}
    for name, score in scores.items():
        for j, k in enumerate(r.k):
            exact = sum(brute_force([score(s) for s in ss], [bool(s.passed) for s in ss], k)
                        for ss in tasks.values()) / len(tasks)
            assert r.strategies[name][j] == pytest.approx(float(exact), abs=1e-12)
    # the planted truth: mean log-probability ranks a correct sample first with a known
    # chance; the study's interval (and its paired interval for the gain) hold it
    from execeval.api import load_dataset

    model = FakeModel("planted?distinct=0", load_dataset("humaneval"))
    p = [model.pass_probability(t, temperature) for t in tasks]
    for j, k in enumerate(r.k):
        planted = sum(model.expected_ranked(q, k) for q in p) / len(p)
        low, high = r.intervals["mean_logprob"][j]
        assert low <= planted <= high
        gain = r.gain_over_random["mean_logprob"][j]
        assert gain["low"] <= planted - sum(p) / len(p) <= gain["high"]
    assert r.gain_over_random["mean_logprob"][-1]["low"] > 0  # a real gain at k=10
    # the shown tests ran in the sandbox as a stored run; asking again grades nothing
    assert r.examples["problems_with_examples"] > 20
    st = Store(store)
    before = st.db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]
    assert st.run(r.examples["run"])["kind"] == "study-examples"
    st.close()
    assert ranking(RankingOptions(run_id), on_store, executor=executor).strategies \
        == r.strategies
    st = Store(store)
    assert st.db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0] == before
    st.close()
    # the planted kinds: special-cased samples pass the examples and fail the tests
    kinds = {(s.task_id, s.sample): model.kind(s.task_id, s.sample,
                                              Settings(n=n, temperature=temperature))
             for s in samples}
    assert {bool(s.passed) for s in samples if kinds[s.task_id, s.sample] == "correct"} == {True}
    assert not any(s.passed for s in samples if kinds[s.task_id, s.sample] != "correct")
    text, out = printed(r)
    assert "choosing 1 of k samples" in text and "example tests:" in text
    assert out["study"] == "ranking" and out["strategies"] == r.strategies
    assert set(out) == {"study", "run", "dataset", "n_problems", "n_min", "k", "strategies",
                        "intervals", "gain_over_random", "left_out", "examples", "notes"}
    # a k above n is left out and named; no k left is refused
    wide = ranking(RankingOptions(run_id, k=(1, 20)), on_store, executor=executor)
    assert wide.k == [1] and "left out: [20]" in wide.notes[0]
    for wrong in ((20,), (0, 1)):
        with pytest.raises(UserError, match="--k"):
            ranking(RankingOptions(run_id, k=wrong), on_store, executor=executor)


def _mutants() -> list[dict]:
    spec = importlib.util.spec_from_file_location("mutants", ROOT / "benchmarks" / "mutants.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.mutant_samples(per_problem=8, specials=0)


def test_ranking_on_real_samples_without_logprobs(
        tmp_path: Path, store: Path, on_store: RunOptions, executor: LocalExecutor,
        printed: Callable[[StudyResult], tuple[str, dict[str, Any]]],
        capsys: pytest.CaptureFixture[str]) -> None:
    tasks = [f"HumanEval/{i}" for i in range(12)]
    rows = [r for r in _mutants() if r["task_id"] in tasks and r["kind"] != "slow_canonical"]
    n = min(sum(r["task_id"] == t for r in rows) for t in tasks)
    path = write_jsonl(tmp_path / "mutants.jsonl", rows)
    run = api.run(f"samples:{path}", "humaneval", tasks=tasks, n=n, store=store,
                  executor=executor, k=[1])
    r = ranking(RankingOptions(run.run_id), on_store, executor=executor)
    assert set(r.strategies) == {"random", "example_tests", "oracle"}
    assert set(r.left_out) == {"mean_logprob", "sum_logprob"}
    assert r.k == [k for k in (1, 2, 5) if k <= n]
    for j, k in enumerate(r.k):
        if k > 1:
            assert r.strategies["random"][j] < r.strategies["example_tests"][j] \
                < r.strategies["oracle"][j]
    assert "mean_logprob left out" in printed(r)[0]
    # the command: the same study, its JSON as the last line
    assert main(["study", "ranking", run.run_id, "--store", str(store), "--json"]) == 0
    assert last_json(capsys.readouterr().out) == printed(r)[1]
