"""`study execution` recovers a planted answerer's accuracy on CRUXEval and MBPP."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from support import real_data

from execeval.api import load_dataset
from execeval.errors import UserError
from execeval.executor import LocalExecutor
from execeval.options import RunOptions
from execeval.studies.execution import ExecutionOptions, execution


def planted_answers(path: Path, answers: dict[str, tuple[str, str]], p: float, seed: int) -> Path:
    """Each task answered right (its true answer) with probability p, else wrongly."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        for task, (right, wrong) in answers.items():
            answer = right if rng.random() < p else wrong
            f.write(json.dumps({"task_id": task, "raw": f"[ANSWER] {answer} [/ANSWER]"}) + "\n")
    return path


def test_cruxeval_accuracy_is_recovered(tmp_path: Path, store: Path,
                                        executor: LocalExecutor) -> None:
    data = real_data("cruxeval", "cruxeval.jsonl")
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    answers = planted_answers(tmp_path / "o.jsonl", {r["id"]: (r["output"], "None")
                                                     for r in rows}, 0.35, seed=1)
    r = execution(ExecutionOptions(model=f"samples:{answers}"),
                  RunOptions().with_changes(data=data, prompt_style="chat", limit=400,
                                            store=store), executor=executor)
    assert r.dataset == "cruxeval-o" and r.n_problems == 400
    low, high = r.accuracy_ci
    assert low < 0.35 < high and high - low < 0.1
    assert r.pass_at_k["1"] == r.accuracy  # one sample per problem
    assert r.to_json()["study"] == "execution" and list(r.to_json()["pass_at_k"]) == ["1"]
    for wrong in (ExecutionOptions(model="reference", dataset="mbpp", mode="input"),
                  ExecutionOptions(model="reference", examples=2)):
        with pytest.raises(UserError):
            execution(wrong, executor=executor)


def test_mbpp_examples_effect_is_recovered(tmp_path: Path, store: Path,
                                           executor: LocalExecutor) -> None:
    """The paper's finding planted: 21% without example pairs, 27% with two."""
    data = real_data("mbpp", "mbpp.jsonl")
    results = {}
    for examples, p in ((0, 0.21), (2, 0.27)):
        ds = load_dataset("mbpp-execution", data, examples=examples)
        truth = {t: (q.reference, "None") for t, q in ds.problems.items()}
        answers = planted_answers(tmp_path / f"m{examples}.jsonl", truth, p, seed=examples)
        results[examples] = execution(
            ExecutionOptions(model=f"samples:{answers}", dataset="mbpp", examples=examples),
            RunOptions().with_changes(data=data, prompt_style="chat", limit=250, store=store),
            executor=executor)
        low, high = results[examples].accuracy_ci
        assert low < p < high
        assert results[examples].n_problems == 250
