"""Fine-tuning exports: verified, deduplicated, guarded against evaluation data; MBPP train."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from support import read_jsonl, real_data

from execeval.errors import UserError
from execeval.executor import LocalExecutor
from execeval.store import Store
from execeval.studies.examples import assert_examples
from execeval.studies.sft import (
    dedup_key,
    export_mbpp_train,
    export_sft,
    in_eval_split,
    mbpp_train_records,
    sft_records,
)


def test_contamination_guard() -> None:
    assert in_eval_split("humaneval", "HumanEval/0") and in_eval_split("mbpp-plus", "Mbpp/602")
    assert in_eval_split("mbpp", "Mbpp/11") and in_eval_split("mbpp-sanitized", "Mbpp/510")
    assert not in_eval_split("mbpp", "Mbpp/10") and not in_eval_split("mbpp", "Mbpp/601")
    assert not in_eval_split("file:mine.jsonl", "x/1")
    assert dedup_key("def f():\n    return 1  # one\n") == dedup_key("def f():\n  return 1\n")


def test_sft_export(planted_run: Callable[..., str], store: Path, tmp_path: Path) -> None:
    run_id = planted_run("fake:planted", n=4, temperature=0.8, limit=10)  # distinct samples
    with pytest.raises(UserError, match="evaluation split"):
        export_sft([run_id], tmp_path / "x.jsonl", store=store)
    with pytest.raises(UserError, match="one or more runs"):
        export_sft([], tmp_path / "x.jsonl", store=store)
    records, report = sft_records([run_id], store=store, allow_eval_split=True)
    st = Store(store)
    passed = [s for s in st.samples(run_id) if s.passed]
    st.close()
    assert {r["task_id"] for r in records} == {s.task_id for s in passed}
    assert len(records) == report["problems"]  # correct samples differ by a comment only
    assert report["duplicates_dropped"] == len(passed) - len(records)
    for r in records:
        ast.parse(r["prompt"] + r["completion"])  # HumanEval: the prompt, then the body
        assert not r["completion"].startswith(r["prompt"][:20])
    chat, _ = sft_records([run_id], store=store, allow_eval_split=True, fmt="chat")
    assert chat[0]["messages"][-1]["role"] == "assistant"
    assert chat[0]["messages"][-1]["content"].startswith("```python\n")
    out = tmp_path / "sft.jsonl"
    said = export_sft([run_id], out, fmt="completion", per_problem=1, allow_eval_split=True,
                      store=store)
    assert read_jsonl(out) == records
    assert said.startswith(f"wrote {len(records)} records for {report['problems']} problems")


def test_mbpp_train_pairs(store: Path, executor: LocalExecutor, tmp_path: Path) -> None:
    data = real_data("mbpp", "mbpp.jsonl")
    records, report = mbpp_train_records(data, limit=8, store=store, executor=executor)
    synthesis = [r for r in records if r["kind"] == "synthesis"]
    execution = [r for r in records if r["kind"] == "execution"]
    assert [r["task_id"] for r in synthesis] == [f"Mbpp/{i}" for i in range(601, 609)]
    assert synthesis[0]["prompt"].startswith("You are an expert Python programmer")
    assert synthesis[0]["prompt"].endswith("[BEGIN]\n")
    assert synthesis[0]["completion"].endswith("\n[DONE]")
    assert report["execution"] == len(execution) > 8 and report["reference_failures"] == 0
    st = Store(store)
    assert st.run(report["outputs_run"])["kind"] == "export-mbpp-train"
    st.close()
    # outputs come from running the reference; on its own tests they are the asserted values
    from execeval.api import load_dataset

    expected = {}
    for p in load_dataset("mbpp", data=data, split="train").problems.values():
        for e in assert_examples(p.tests["asserts"], set(p.tests["proxies"])):
            if e is not None:
                expected[p.task_id, e.call_text()] = e.expected
    assert {(r["task_id"], r["input"]) for r in execution} <= set(expected)
    for r in execution:
        assert ast.literal_eval(r["completion"]) == expected[r["task_id"], r["input"]]
        assert r["prompt"].endswith(f"assert {r['input']} == ")
    out = tmp_path / "train.jsonl"
    said = export_mbpp_train(out, data=data, store=store, executor=executor)
    assert len(read_jsonl(out)) == len(load_dataset("mbpp", data=data, split="train").problems) \
        + sum(1 for r in read_jsonl(out) if r["kind"] == "execution")
    assert said.startswith("wrote ") and str(out) in said
