"""study edited: the planted effect of MBPP's edited descriptions is recovered, paired."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import last_json, real_data

from execeval.api import load_dataset
from execeval.cli import main
from execeval.errors import UserError
from execeval.executor import LocalExecutor
from execeval.options import RunOptions
from execeval.simulate.planted import FakeModel
from execeval.store import Store
from execeval.studies.common import StudyResult
from execeval.studies.edited import EditedOptions, edited


def test_planted_edit_effect(tmp_path: Path, executor: LocalExecutor,
                             printed: Callable[[StudyResult], tuple[str, dict[str, Any]]],
                             capsys: pytest.CaptureFixture[str]) -> None:
    mbpp, sanitized = real_data("mbpp", "mbpp.jsonl"), real_data("mbpp", "sanitized-mbpp.json")
    spec, n, temperature = "planted?distinct=0&memo=0&edit=1.5", 5, 0.8
    store = tmp_path / "s.sqlite"
    options = EditedOptions(model=f"fake:{spec}", sanitized_data=sanitized)
    run = RunOptions().with_changes(data=mbpp, limit=40, n=n, temperature=temperature,
                                    store=store)
    r = edited(options, run, executor=executor)
    assert r.n == n and r.n_tasks == 40 and 0 < r.n_text_changed <= 40
    original, edited_ds = load_dataset("mbpp", data=mbpp), load_dataset("mbpp-sanitized",
                                                                        data=sanitized)
    tasks = [t for t in edited_ds.problems if t in original.problems][:40]
    st = Store(store)
    assert list(st.task_counts(r.runs["edited"])) == tasks
    st.close()
    q_orig, q_edit = (np.array([m.pass_probability(t, temperature) for t in tasks])
                      for m in (FakeModel(spec, original), FakeModel(spec, edited_ds)))
    planted = {"pass_at_1": np.mean(q_edit - q_orig),
               "solved_by_any": np.mean((1 - q_orig) ** n - (1 - q_edit) ** n)}
    for metric, value in planted.items():
        m = r.metrics[metric]
        assert m.ci[0] <= value <= m.ci[1]
        assert m.difference == pytest.approx(m.edited - m.original)
    assert r.metrics["pass_at_1"].ci[0] > 0  # a planted gain this large is seen
    text, out = printed(r)
    assert "original vs edited" in text and out["study"] == "edited"
    assert set(out["metrics"]["pass_at_1"]) == {"original", "edited", "difference", "ci",
                                                "p_value", "edited_better", "original_better",
                                                "tied"}
    with pytest.raises(UserError, match="challenge"):
        edited(options, run.with_changes(challenge_tests=True), executor=executor)
    # the command: the same runs, reused from the store, and the same JSON
    args = ["study", "edited", "--model", f"fake:{spec}", "--dataset", "mbpp", "--data",
            str(mbpp), "--sanitized-data", str(sanitized), "--limit", "40", "--n", str(n),
            "--temperature", str(temperature), "--store", str(store), "--workers", "2", "--json"]
    assert main(args) == 0
    assert last_json(capsys.readouterr().out) == out
