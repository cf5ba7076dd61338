"""study edited: the planted effect of MBPP's edited descriptions is recovered, paired."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import last_json, real_data

from execeval.api import load_dataset
from execeval.cli import main
from execeval.models.fake import FakeModel
from execeval.store import Store


def test_planted_edit_effect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mbpp, sanitized = real_data("mbpp", "mbpp.jsonl"), real_data("mbpp", "sanitized-mbpp.json")
    spec, n, temperature = "planted?distinct=0&memo=0&edit=1.5", 5, 0.8
    store = tmp_path / "s.sqlite"
    args = ["study", "edited", "--model", f"fake:{spec}", "--dataset", "mbpp", "--data",
            str(mbpp), "--sanitized-data", str(sanitized), "--limit", "40", "--n", str(n),
            "--temperature", str(temperature), "--store", str(store), "--workers", "2", "--json"]
    assert main(args) == 0
    out = capsys.readouterr().out
    r = last_json(out)
    assert r["study"] == "edited" and r["n_tasks"] == 40 and "original vs edited" in out
    assert 0 < r["n_text_changed"] <= 40
    original, edited = load_dataset("mbpp", data=mbpp), load_dataset("mbpp-sanitized",
                                                                     data=sanitized)
    tasks = [t for t in edited.problems if t in original.problems][:40]
    st = Store(store)
    assert list(st.task_counts(r["runs"]["edited"])) == tasks
    st.close()
    q_orig, q_edit = (np.array([m.pass_probability(t, temperature) for t in tasks])
                      for m in (FakeModel(spec, original), FakeModel(spec, edited)))
    planted = {"pass_at_1": np.mean(q_edit - q_orig),
               "solved_by_any": np.mean((1 - q_orig) ** n - (1 - q_edit) ** n)}
    for metric, value in planted.items():
        m = r["metrics"][metric]
        assert m["ci"][0] <= value <= m["ci"][1]
        assert m["difference"] == pytest.approx(m["edited"] - m["original"])
    assert r["metrics"]["pass_at_1"]["ci"][0] > 0  # a planted gain this large is seen
