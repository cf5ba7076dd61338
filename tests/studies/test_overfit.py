"""study overfit: the static check, fresh inputs, and the planted special-casers found."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import last_json, real_data

from execeval.api import load_dataset
from execeval.cli import main
from execeval.executor import LocalExecutor
from execeval.models.base import Settings
from execeval.options import RunOptions
from execeval.simulate.planted import FakeModel
from execeval.studies.common import StudyResult
from execeval.studies.overfit import (
    KnownValues,
    OverfitOptions,
    fresh_inputs,
    overfit,
    special_cases,
)

VALUES = KnownValues("f", inputs=[(383,), ([1, 2],), ("hello world", 3)], outputs=[5, "done"])


@pytest.mark.parametrize(("program", "flagged"), [
    ("def f(n):\n    return n == 383\n", True),
    ("def f(x):\n    if x == [1, 2]:\n        return 5\n    return 0\n", True),
    ("def f(*a):\n    if list(a) in [[383], [7]]:\n        return 1\n", True),
    ("def f(s, k):\n    if s == 'hello world':\n        return 'done'\n", True),
    ("def f(n):\n    if n == 0:\n        return 1\n    return n * f(n - 1)\n", False),
    ("def f(s, k):\n    if k == 3:\n        return 'done'\n", True),  # 3 -> 'done': the test
    ("def f(s, k):\n    if k == 3:\n        return 1\n", False),  # 3 alone is honest
    ("def f(n):\n    return n + 383\n", False),  # a literal, but not compared
    ("def f(x):\n    return 'done' if x else 'no'\n", False),  # an output, not compared
])
def test_static_check(program: str, flagged: bool) -> None:
    assert bool(special_cases(program, VALUES)) is flagged


def test_returns_under_a_special_case_are_named() -> None:
    reasons = special_cases("def f(x):\n    if x == [1, 2]:\n        return 'done'\n", VALUES)
    assert reasons == ["line 2: `x == [1, 2]` compares with a test input",
                       "line 3: returns the expected 'done' under a test input"]
    assert special_cases("x = 1\ndef f(n):\n    return n == 383\n", VALUES, skip_lines=3) == []


def test_fresh_inputs_are_new_and_repeatable() -> None:
    made = fresh_inputs("T/1", VALUES.inputs)
    assert made == fresh_inputs("T/1", VALUES.inputs) and 0 < len(made) <= 8
    assert not {repr(list(a)) for a in made} & {repr(list(a)) for a in VALUES.inputs}
    assert all(len(a) == len(b) for a in made for b in [VALUES.inputs[0]] if len(a) == 1)


def test_planted_special_cases_are_flagged_and_confirmed(
        planted_run: Callable[..., str], on_store: RunOptions, executor: LocalExecutor,
        printed: Callable[[StudyResult], tuple[str, dict[str, Any]]]) -> None:
    n, temperature = 10, 0.8
    run_id = planted_run("fake:planted?distinct=0", n=n, temperature=temperature, limit=30)
    r = overfit(OverfitOptions(run_id), on_store, executor=executor)
    assert r.base_pass_plus_fail is None and r.fresh_run
    model = FakeModel("planted?distinct=0", load_dataset("humaneval"))
    settings = Settings(n=n, temperature=temperature)
    kinds = {(f.task_id, f.sample): model.kind(f.task_id, f.sample, settings)
             for f in r.flagged}
    assert set(kinds.values()) == {"memorized"}  # no reference, no mutant is flagged
    assert all(f.confirmed is True and f.passed is False for f in r.flagged)
    memorized = sum(model.kind(t, i, settings) == "memorized"
                    for t in list(load_dataset("humaneval").problems)[:30] for i in range(n))
    assert len(r.flagged) >= 0.8 * memorized  # the rest memorize small numbers only
    assert r.n_flagged == len(r.flagged) == r.n_confirmed and r.n_cleared == 0
    text, out = printed(r)
    assert "flagged programs, not cleared" in text and out["study"] == "overfit"
    assert set(out) == {"study", "run", "dataset", "n_samples", "base_pass_plus_fail",
                        "flagged", "n_flagged", "n_confirmed", "n_cleared", "fresh_run"}
    assert set(out["flagged"][0]) == {"task_id", "sample", "reason", "passed", "confirmed",
                                      "evidence"}


def test_mbpp_special_cases_that_pass_are_confirmed_and_honest_literals_cleared(
        planted_run: Callable[..., str], on_store: RunOptions, executor: LocalExecutor) -> None:
    data = real_data("mbpp", "mbpp.jsonl")
    spec, settings = "planted?distinct=0&memo=1&base_only=0&mu=2", Settings(n=6, temperature=0.6)
    run_id = planted_run(f"fake:{spec}", "mbpp", data=data, n=6, temperature=0.6,
                         tasks="136,191,12,17")
    r = overfit(OverfitOptions(run_id, data=data), on_store, executor=executor)
    model = FakeModel(spec, load_dataset("mbpp", data=data))
    kinds = [model.kind(f.task_id, f.sample, settings) for f in r.flagged]
    for f, kind in zip(r.flagged, kinds, strict=True):
        if kind == "memorized":  # MBPP shows its tests: these pass, and are caught anyway
            assert f.passed and f.confirmed is True
        else:  # the references of 136 (`units <= 100`) and 191 (month names) are honest
            assert kind == "correct" and f.task_id in ("Mbpp/136", "Mbpp/191")
            assert f.confirmed is False and "agrees with the reference" in f.evidence
    assert {"memorized", "correct"} <= set(kinds)
    assert {f.task_id for f in r.flagged if f.confirmed is False} == {"Mbpp/136", "Mbpp/191"}


def test_base_pass_plus_fail_on_humaneval_plus(
        planted_run: Callable[..., str], store: Path, on_store: RunOptions,
        executor: LocalExecutor, printed: Callable[[StudyResult], tuple[str, dict[str, Any]]],
        capsys: pytest.CaptureFixture[str]) -> None:
    data = real_data("evalplus", "HumanEvalPlus-Mini-v0.1.10.jsonl.gz")
    spec, n = "fake:planted?distinct=0&base_only=0.5", 4
    run_id = planted_run(spec, "humaneval-plus", data=data, n=n, temperature=1.0, limit=12)
    r = overfit(OverfitOptions(run_id, data=data), on_store, executor=executor)
    model = FakeModel(spec[len("fake:"):], load_dataset("humaneval-plus", data=data))
    planted = sum(model.kind(f"HumanEval/{t}", i, Settings(n=n, temperature=1.0)) == "base_only"
                  for t in range(12) for i in range(n))
    b = r.base_pass_plus_fail
    assert b is not None
    assert b.count == planted > 0 and b.share == pytest.approx(b.count / b.base_passes)
    for f in r.flagged:
        if model.kind(f.task_id, f.sample, Settings(n=n, temperature=1.0)) == "base_only":
            assert f.confirmed is True and "plus" in f.evidence
    assert "pass base, fail plus" in printed(r)[0]
    # the command prints the study's JSON (on a HumanEval run: no --data needed)
    humaneval = planted_run("fake:planted?distinct=0", n=10, temperature=0.8, limit=30)
    assert main(["study", "overfit", humaneval, "--store", str(store), "--json"]) == 0
    out = last_json(capsys.readouterr().out)
    assert out == printed(overfit(OverfitOptions(humaneval), on_store, executor=executor))[1]
