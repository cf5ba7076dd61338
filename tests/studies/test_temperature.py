"""study temperature: the planted best temperature per k is recovered; runs are reused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import last_json

from execeval.api import load_dataset, select_tasks
from execeval.cli import main
from execeval.errors import UserError
from execeval.executor import LocalExecutor
from execeval.options import RunOptions
from execeval.simulate.planted import FakeModel
from execeval.studies.common import StudyResult
from execeval.studies.temperature import TemperatureOptions, temperature

TEMPERATURES = (0.2, 0.4, 0.6, 0.8, 1.0)
PLANTED = TemperatureOptions(model="fake:planted?distinct=0", dataset="humaneval",
                             temperatures=TEMPERATURES)


def test_planted_best_temperature_per_k(
        store: Path, executor: LocalExecutor,
        printed: Callable[[StudyResult], tuple[str, dict[str, Any]]]) -> None:
    n, limit = 10, 40
    run = RunOptions().with_changes(n=n, limit=limit, store=store, k=[1])
    r = temperature(PLANTED, run, executor=executor)
    assert list(r.runs) == [str(t) for t in TEMPERATURES]
    assert set(r.pass_at_k["0.2"]) == {str(k) for k in range(1, n + 1)}
    ds = load_dataset("humaneval")
    model = FakeModel("planted?distinct=0", ds)
    tasks = select_tasks(ds, None, limit)
    for k in range(1, n + 1):
        expected = [np.mean([1 - (1 - model.pass_probability(t, temp)) ** k for t in tasks])
                    for temp in TEMPERATURES]
        planted_best = TEMPERATURES[int(np.argmax(expected))]
        assert planted_best in r.not_worse[str(k)]
        assert r.best_temperature[str(k)] in r.not_worse[str(k)]
    # the planted optimum moves from cold to hot, and the study sees it move
    assert r.best_temperature["1"] == 0.2
    assert r.best_temperature[str(n)] >= 0.6
    assert 1.0 not in r.not_worse["1"] and 0.2 not in r.not_worse[str(n)]
    # the same command again makes no new run
    again = temperature(PLANTED, run, executor=executor)
    assert again.runs == r.runs and again.pass_at_k == r.pass_at_k
    text, out = printed(r)
    assert "pass@k by temperature" in text
    assert out["study"] == "temperature" and out["best_temperature"] == r.best_temperature
    assert set(out) == {"study", "model", "dataset", "n", "n_problems", "runs", "pass_at_k",
                        "intervals", "best_temperature", "not_worse"}


def test_temperatures_are_checked() -> None:
    for wrong in ((), (0.2, -0.1)):
        with pytest.raises(UserError, match="--temperatures"):
            temperature(TemperatureOptions(model="fake:planted", temperatures=wrong))


def test_temperature_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "s.sqlite"
    args = ["study", "temperature", "--model", "fake:planted?distinct=0", "--dataset",
            "humaneval", "--limit", "3", "--n", "2", "--temperatures", "0.2,1.0", "--store",
            str(store), "--workers", "2", "--json"]
    assert main(args) == 0
    printed = capsys.readouterr()
    r = last_json(printed.out)
    assert set(r["pass_at_k"]) == {"0.2", "1.0"} and set(r["best_temperature"]) == {"1", "2"}
    assert "pass@k by temperature" in printed.err  # stdout is the JSON's alone
    assert main([*args[:-1], "--temperature", "0.5"]) == 2  # not offered: --temperatures
    assert "--temperature" in capsys.readouterr().err
