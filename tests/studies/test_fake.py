"""The planted model: its spec, its determinism, and the quantities it plants."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from execeval.api import load_dataset
from execeval.errors import UserError
from execeval.models.base import Request, Settings
from execeval.prompts import Prompt
from execeval.simulate.planted import FakeModel, parse_planted

HE = load_dataset("humaneval")


def test_specs(tmp_path: Path) -> None:
    assert parse_planted("planted").memo == 0.3
    p = parse_planted("planted?params=1.5e+09&seed=3&distinct=0")
    assert (p.params, p.seed, p.distinct) == (1.5e9, 3, 0)
    (tmp_path / "m.toml").write_text("mu = 1.0\nmargin = 0.5\n")
    (tmp_path / "m.json").write_text('{"mu": 2}')
    assert parse_planted(f"{tmp_path / 'm.toml'}?seed=2") == parse_planted(
        "planted?mu=1&margin=0.5&seed=2")
    assert parse_planted(str(tmp_path / "m.json")).mu == 2
    for bad in ("planted?speed=1", "planted?mu=x", "planted?memo=0.9", "missing.json"):
        with pytest.raises(UserError):
            parse_planted(bad)


def _generate(model: FakeModel, settings: Settings, tasks: list[str], n: int) -> list:
    requests = [Request(t, Prompt("completion", "t", text=HE.problems[t].prompt), 0, n)
                for t in tasks]
    return [g for gens in model.generate(requests, settings) for g in gens]


def test_samples_are_deterministic_and_plant_their_margin() -> None:
    tasks = list(HE.problems)[:40]
    settings = Settings(n=20, temperature=0.8)
    model = FakeModel("planted?margin=0.2", HE)
    gens = _generate(model, settings, tasks, 20)
    again = _generate(FakeModel("planted?margin=0.2", HE), settings, tasks, 20)
    assert [g.text for g in gens] == [g.text for g in again]
    assert len({g.text for g in gens}) == len(gens)  # distinct=1: every sample differs
    means = {"correct": [], "wrong": []}
    for g in gens:
        assert g.is_program and g.n_tokens == len(g.logprobs) and max(g.logprobs) < 0
        kind = g.info["kind"]
        assert kind == model.kind(g.task_id, g.index, settings)
        if kind == "correct":
            assert g.text.startswith(HE.problems[g.task_id].reference.rstrip("\n"))
        means["correct" if kind == "correct" else "wrong"].append(
            sum(g.logprobs) / len(g.logprobs))
    gap = sum(means["correct"]) / len(means["correct"]) - sum(means["wrong"]) / len(
        means["wrong"])
    se = 0.1 * math.sqrt(1 / len(means["correct"]) + 1 / len(means["wrong"]))
    assert abs(gap - 0.2) < 4 * se
    share = len(means["correct"]) / len(gens)
    planted = sum(model.p_correct(t, 0.8) for t in tasks) / len(tasks)
    assert abs(share - planted) < 0.06
    # another seed draws other samples; the temperature moves p as planted
    other = _generate(FakeModel("planted?margin=0.2&seed=1", HE), settings, tasks, 20)
    assert [g.text for g in other] != [g.text for g in gens]
    assert model.p_correct(tasks[0], 0.2) != model.p_correct(tasks[0], 1.0)


def test_fingerprint_names_the_problems() -> None:
    """HumanEval+ shares HumanEval's prompts, not its references: generations must not mix."""
    fewer = replace(HE, problems=dict(list(HE.problems.items())[:5]))
    assert FakeModel("planted", HE).fingerprint() == FakeModel("planted", HE).fingerprint()
    assert FakeModel("planted", HE).fingerprint() != FakeModel("planted", fewer).fingerprint()
    assert FakeModel("planted", HE).fingerprint() != FakeModel("planted?mu=0", HE).fingerprint()


def test_the_cli_runs_a_study_on_the_planted_model(cli: Any) -> None:
    """`fake:` as a user types it, through the real CLI in a subprocess."""
    made = cli("run", "--dataset", "humaneval", "--model", "fake:planted?distinct=0",
               "--limit", "6", "--n", "4", "--temperature", "0.8", "--k", "1", "--json",
               check=True)
    run_id = json.loads(made.stdout.strip().splitlines()[-1])["run_id"]
    ranked = cli("study", "ranking", run_id, "--k", "1,2", "--json", check=True)
    out = json.loads(ranked.stdout.strip().splitlines()[-1])
    assert out["study"] == "ranking" and out["k"] == [1, 2]
    strategies = out["strategies"]
    assert strategies["oracle"][0] == strategies["random"][0]  # k = 1: every pick is one
    assert strategies["random"][1] <= strategies["oracle"][1]
