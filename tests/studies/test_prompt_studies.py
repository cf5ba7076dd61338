"""The prompt studies recover what `fake:prompted` plants: exemplar, shown-assert and
buggy-example effects, each within the study's own interval."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from support import real_data

from execeval.api import load_dataset, select_tasks
from execeval.errors import UserError
from execeval.executor import LocalExecutor
from execeval.models import load_model
from execeval.options import RunOptions
from execeval.simulate.prompted import PromptedModel, parse_prompt
from execeval.studies import tests_in_prompt as tip
from execeval.studies.misalignment import MisalignmentOptions, misalignment, mutants, parse_sizes
from execeval.studies.prompts import PromptsOptions, exemplar, prompts, variant

SPEC = "fake:prompted"
N, LIMIT, T = 4, 50, 0.8


def planted(data: Path, examples: list[dict], shown: int | None = None) -> np.ndarray:
    """The planted probability per target task for one prompt variant."""
    ds = load_dataset("mbpp", data=data)
    tasks = select_tasks(ds, None, LIMIT)
    v = variant(ds, tasks, examples, shown)
    model = load_model(SPEC, v)
    assert isinstance(model, PromptedModel)
    return np.array([model.p_prompt(t, v.problems[t].prompt, T) for t in tasks])


def inside(value: float, ci: Sequence[float]) -> bool:
    return ci[0] <= value <= ci[1]


def options(store: Path, **changes: object) -> RunOptions:
    """`execeval run`'s options for the studies' runs: the real MBPP file, the first
    LIMIT target tasks, N samples each, into the session's store."""
    return RunOptions().with_changes(data=real_data("mbpp", "mbpp.jsonl"), limit=LIMIT, n=N,
                                     store=store, k=[1], **changes)


def test_prompted_model_reads_the_prompt() -> None:
    data = real_data("mbpp", "mbpp.jsonl")
    ds = load_dataset("mbpp", data=data)
    p = ds.problems["Mbpp/11"]
    shown = parse_prompt(p.prompt)
    assert [t for t, _ in shown.exemplars] == [s["text"] for s in p.metadata["mbpp_shots"]]
    assert shown.target_text == p.metadata["text"] and shown.target_asserts == 3
    model = load_model(SPEC, ds)
    assert isinstance(model, PromptedModel)
    assert not any(model.is_buggy(t, c) for t, c in shown.exemplars)
    assert model.is_buggy(shown.exemplars[0][0], "def f():\n    return 1\n")
    with pytest.raises(UserError):
        load_model("fake:prompted?nope=1", ds)


def test_mutants_change_one_site() -> None:
    out = mutants("def f(a, b):\n    return a + b if a < 2 else max(a, b)\n")
    assert "def f(a, b):\n    return a - b if a < 2 else max(a, b)\n" in out
    assert any("a <= 2" in m for m in out) and any("min(a, b)" in m for m in out)
    assert any("a < 3" in m for m in out) and len(set(out)) == len(out)
    assert parse_sizes(["fake:prompted?params=1e8=1e8"]) == {"fake:prompted?params=1e8": 1e8}
    assert tip.shown_counts((3, 0, 1, 1)) == [0, 1, 3]
    with pytest.raises(UserError):
        tip.shown_counts((1, -1))
    with pytest.raises(UserError):
        parse_sizes(["fake:prompted"])


def test_prompts_recover_planted(store: Path, executor: LocalExecutor) -> None:
    data = real_data("mbpp", "mbpp.jsonl")
    study = PromptsOptions(SPEC, prompts=5, from_train=True)
    run = options(store, shots=3, seed=3)
    r = prompts(study, run, executor=executor)
    assert r.to_json()["study"] == "prompts" and len(r.prompts) == 5 and r.n_tasks == LIMIT
    ds = load_dataset("mbpp", data=data, split="all")
    solved, p1, missed = [], [], 1.0
    for e in r.prompts:
        p = planted(data, [exemplar(ds.problems[t]) for t in e.exemplars])
        solved.append(float(np.mean(1 - (1 - p) ** N)))
        p1.append(float(p.mean()))
        missed = missed * (1 - p) ** N
        assert inside(solved[-1], e.scores.solved_ci)
        assert inside(p1[-1], e.scores.pass_at_1_ci)
    assert any(int(t[5:]) > 600 for e in r.prompts for t in e.exemplars)
    assert inside(float(np.mean(1 - missed)), r.ensemble_solved_ci)
    assert r.ensemble_solved >= max(e.scores.solved for e in r.prompts)
    # the planted best and worst prompts differ, and the study sees a real spread
    assert max(p1) - min(p1) > 0.1 and r.best_minus_worst.ci[0] > 0
    again = prompts(study, run, executor=executor)
    assert [e.run for e in again.prompts] == [e.run for e in r.prompts]
    assert again.to_json() == r.to_json() and r.to_json()["prompts"][0]["exemplars"] == list(
        r.prompts[0].exemplars)


def test_tests_in_prompt_recovers_planted(store: Path, executor: LocalExecutor) -> None:
    data = real_data("mbpp", "mbpp.jsonl")
    r = tip.tests_in_prompt(tip.AssertsShownOptions(SPEC, shown=(0, 1, 3)), options(store),
                            executor=executor)
    assert r.to_json()["study"] == "tests-in-prompt" and set(r.results) == {"0", "1", "3"}
    shots = load_dataset("mbpp", data=data).problems["Mbpp/11"].metadata["mbpp_shots"]
    p = {m: planted(data, shots, m) for m in (0, 1, 3)}
    for m in (0, 1, 3):
        assert inside(float(p[m].mean()), r.results[str(m)].pass_at_1_ci)
        assert inside(float(np.mean(1 - (1 - p[m]) ** N)), r.results[str(m)].solved_ci)
    for m in (1, 3):
        d = r.differences[f"{m}-0"]
        assert inside(float((p[m] - p[0]).mean()), d.ci) and d.ci[0] > 0


def test_misalignment_recovers_planted_gap(store: Path, executor: LocalExecutor) -> None:
    data = real_data("mbpp", "mbpp.jsonl")
    sizes = tuple(f"{SPEC}?params={s:g}&bug_slope=0.6={s:g}" for s in (1e8, 1e10))
    r = misalignment(MisalignmentOptions(SPEC, sizes=sizes), options(store, shots=3),
                     executor=executor)
    out = r.to_json()
    assert out["study"] == "misalignment" and len(r.examples) == 3
    assert set(out["results"]) == {"none", "correct", "buggy"}
    assert out["gap"] == r.models[0].gap.to_json()
    ds = load_dataset("mbpp", data=data, split="all")
    for x in r.examples:  # checked: runs, passes the shown asserts, fails another
        assert 0 in x.asserts_shown and len(x.asserts_shown) < x.asserts
    gaps = []
    for m in r.models:
        model = PromptedModel(m.model[5:], ds)
        assert model.prompted.params == m.params
        tasks = select_tasks(load_dataset("mbpp", data=data), None, LIMIT)
        base = load_dataset("mbpp", data=data)
        ex = {c: [exemplar(ds.problems[x.task], x.buggy_code if c == "buggy" else None,
                           [ds.problems[x.task].metadata["tests_shown"][i]
                            for i in x.asserts_shown]) for x in r.examples]
              for c in ("correct", "buggy")}
        p = {}
        for c, examples in ex.items():
            v = variant(base, tasks, examples)
            model = PromptedModel(m.model[5:], v)
            p[c] = np.array([model.p_prompt(t, v.problems[t].prompt, T) for t in tasks])
        gap = float((p["correct"] - p["buggy"]).mean())
        gaps.append(gap)
        assert inside(gap, m.gap.ci) and m.gap.ci[0] > 0
    assert gaps[1] > gaps[0]  # planted: misalignment grows with size
    assert r.gap_vs_size is not None and r.gap_vs_size.slope > 0
