"""study scaling: the least-squares fit, and the planted slope recovered within its interval."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import last_json, real_data

from execeval.api import load_dataset, select_tasks
from execeval.cli import main
from execeval.errors import UserError
from execeval.options import RunOptions
from execeval.simulate.planted import FakeModel
from execeval.studies.common import StudyResult
from execeval.studies.scaling import ScalingOptions, fit_line, scaling

SIZES = (1e8, 1e9, 1e10, 1e11, 1e12)


def test_fit_line() -> None:
    exact = fit_line([8, 9, 10, 11], [2 + 3 * x for x in (8, 9, 10, 11)])
    assert exact.slope == pytest.approx(3) and exact.r2 == pytest.approx(1)
    assert exact.slope_ci == pytest.approx([3, 3])
    rng = np.random.default_rng(0)
    x = np.arange(5.0)
    y = 0.5 + 0.1 * x + rng.normal(0, 0.02, 5)
    f = fit_line(list(x), list(y))
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - intercept - slope * x
    half = 3.182446305284263 * math.sqrt(residual @ residual / 3 / ((x - x.mean()) ** 2).sum())
    assert f.slope == pytest.approx(slope) and f.intercept == pytest.approx(intercept)
    assert f.slope_ci == pytest.approx([slope - half, slope + half])
    assert fit_line([1, 2], [0.1, 0.3]).slope_ci is None
    with pytest.raises(UserError):
        fit_line([1, 1], [0.1, 0.3])


def test_planted_slope_is_recovered(
        planted_run: Callable[..., str], store: Path, on_store: RunOptions,
        printed: Callable[[StudyResult], tuple[str, dict[str, Any]]],
        capsys: pytest.CaptureFixture[str]) -> None:
    data = real_data("mbpp", "mbpp.jsonl")
    n, limit, temperature = 5, 40, 0.8
    runs = [planted_run(f"fake:planted?distinct=0&memo=0&params={p:g}", "mbpp", data=data,
                        n=n, limit=limit, temperature=temperature, params=p) for p in SIZES]
    r = scaling(ScalingOptions(tuple(runs)), on_store)  # sizes: the runs' recorded --params
    assert [p.params for p in r.points] == list(SIZES)
    ds = load_dataset("mbpp", data=data)
    tasks = select_tasks(ds, None, limit)
    expected: dict[str, list[float]] = {"solved_by_any": [], "fraction_correct": []}
    for size in SIZES:
        model = FakeModel(f"planted?distinct=0&memo=0&params={size:g}", ds)
        q = [model.pass_probability(t, temperature) for t in tasks]
        expected["fraction_correct"].append(float(np.mean(q)))
        expected["solved_by_any"].append(float(np.mean([1 - (1 - p) ** n for p in q])))
    x = [math.log10(s) for s in SIZES]
    for metric, values in expected.items():
        planted = fit_line(x, values).slope
        fit = r.fits[metric]
        assert fit.slope_ci is not None and fit.r2 is not None
        assert fit.slope_ci[0] <= planted <= fit.slope_ci[1]
        assert fit.slope_ci[0] > 0 and 0 <= fit.r2 <= 1
    text, as_json = printed(r)
    assert "least-squares fit" in text and as_json["study"] == "scaling"
    assert set(as_json["points"][0]) == {"run", "params", "log10_params", "solved_by_any",
                                         "fraction_correct", "n_samples"}
    with pytest.raises(UserError, match="two"):
        scaling(ScalingOptions(tuple(runs[:1])), on_store)
    # RUN=PARAMS overrides what a run recorded; the command prints and ends in JSON
    points = [f"{run}={size * 2:g}" for run, size in zip(runs, SIZES, strict=True)]
    assert main(["study", "scaling", *points, "--store", str(store), "--json"]) == 0
    out = last_json(capsys.readouterr().out)
    assert out["fits"]["fraction_correct"]["slope"] == pytest.approx(
        r.fits["fraction_correct"].slope)
    assert out["points"][0]["params"] == 2e8
    assert set(out["fits"]["solved_by_any"]) >= {"slope", "slope_ci", "r2"}
