"""The transformers backend end to end: a tiny random GPT-2 with a character-level
tokenizer of our own, saved with save_pretrained, run through `execeval run`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from support.tiny_model import build_tiny_model, with_chat_template  # noqa: E402

from execeval.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    build_tiny_model(folder)
    return folder


def test_tiny_random_model_end_to_end_with_logprobs(
        tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "runs.sqlite"
    args = ["run", "--dataset", "humaneval", "--model", f"hf:{tiny}", "--n", "3", "--limit", "2",
            "--temperature", "0", "--max-tokens", "24", "--batch-size", "4", "--store",
            str(store), "--results", str(tmp_path / "r.jsonl"), "--json", "--k", "1"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    rows = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and summary["n_samples"] == 6
    g = summary["generation"]
    assert g["generated"] == 6 and g["prompt_style"] == "completion"
    assert g["completion_tokens"] == sum(r["n_tokens"] for r in rows) > 0
    assert set(summary["status_counts"]) <= {"passed", "failed", "error", "syntax_error",
                                              "timeout", "memory", "crash"}

    # log-probabilities are the model's own: recompute them with a forward pass
    db = sqlite3.connect(store)
    records = [json.loads(r) for (r,) in db.execute("SELECT record FROM generations")]
    assert len(records) == 6
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny)
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny).eval()
    from execeval.api import load_dataset

    problems = load_dataset("humaneval").problems
    for rec in records:
        prompt_ids = tokenizer(problems[rec["task_id"]].prompt, add_special_tokens=False).input_ids
        new_ids = tokenizer(rec["text"], add_special_tokens=False).input_ids
        assert rec["n_prompt_tokens"] == len(prompt_ids)
        assert len(rec["logprobs"]) == rec["n_tokens"] == len(new_ids)
        ids = torch.tensor([prompt_ids + new_ids])
        with torch.no_grad():
            logits = model(ids).logits[0, len(prompt_ids) - 1:-1]
        expected = torch.log_softmax(logits.float(), -1)
        want = expected.gather(-1, torch.tensor(new_ids)[:, None])[:, 0]
        assert torch.allclose(torch.tensor(rec["logprobs"]), want, atol=1e-4)
        # greedy: every token was the most likely one
        assert (expected.argmax(-1) == torch.tensor(new_ids)).all()

    # the same command again generates nothing
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["generation"]["generated"] == 0 and again["generation"]["reused"] == 6
    assert again["pass_at_k"] == summary["pass_at_k"]


def test_sampling_with_stop_strings_and_chat_needs_a_template(
        tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", "--dataset", "humaneval", "--model", f"hf:{tiny}", "--n", "4", "--limit", "1",
            "--temperature", "1.0", "--seed", "7", "--max-tokens", "40", "--stop", "e",
            "--store", str(tmp_path / "s.sqlite"), "--results", str(tmp_path / "r.jsonl")]
    assert main(args) == 0
    rows = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(rows) == 4
    for r in rows:  # a stop string ends a sample early; the completion never contains it
        assert "e" not in r["completion"]
        assert r["finish_reason"] in ("stop", "length")
        if r["finish_reason"] == "length":
            assert r["n_tokens"] == 40
    capsys.readouterr()
    chat = [*args[:-4], "--prompt-style", "chat", "--store", str(tmp_path / "c.sqlite")]
    assert main(chat) == 2
    assert "no chat template" in capsys.readouterr().err


def test_a_tokenizer_with_a_chat_template_gets_chat_prompts(
        tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "chatty"
    tokenizer = with_chat_template(tiny, folder)
    store = tmp_path / "s.sqlite"
    assert main(["run", "--dataset", "humaneval", "--model", f"hf:{folder}", "--limit", "1",
                 "--max-tokens", "8", "--store", str(store), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["generation"]["prompt_style"] == "chat"
    assert summary["generation"]["settings"]["stop"] is None  # each prompt's own stops ...
    (prompt,) = [json.loads(r) for (r,) in sqlite3.connect(store).execute(
        "SELECT record FROM prompts")]
    assert prompt["style"] == "chat" and prompt["stop"] == []  # ... chat: EOS only
    (record,) = [json.loads(r) for (r,) in sqlite3.connect(store).execute(
        "SELECT record FROM generations")]
    from execeval.api import load_dataset
    from execeval.benchmark import build_prompt

    he = load_dataset("humaneval")
    messages = build_prompt(he, he.problems["HumanEval/0"], "chat").chat_messages()
    rendered = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert rendered.startswith("system: You are an expert Python programmer")
    assert record["n_prompt_tokens"] == len(rendered)  # one token per character


def test_beam_search_returns_the_best_beams_as_samples(
        tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--beams 3: the three best beams of one search are the three samples, best first, with
    the model's own log-probability for each chosen token; recorded in the settings."""
    store = tmp_path / "runs.sqlite"
    args = ["run", "--dataset", "humaneval", "--model", f"hf:{tiny}", "--beams", "3",
            "--limit", "1", "--max-tokens", "10", "--store", str(store), "--json", "--k", "1"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["n_samples"] == 3 and summary["generation"]["settings"]["beams"] == 3
    records = sorted((json.loads(r) for (r,) in sqlite3.connect(store).execute(
        "SELECT record FROM generations")), key=lambda r: r["index"])
    assert [r["info"]["beam"] for r in records] == [0, 1, 2]
    assert len({r["text"] for r in records}) == 3  # three different beams
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny)
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny).eval()
    from execeval.api import load_dataset

    prompt = load_dataset("humaneval").problems["HumanEval/0"].prompt
    prompt_ids = tokenizer(prompt, add_special_tokens=False).input_ids
    scores = []
    for rec in records:
        new_ids = tokenizer(rec["text"], add_special_tokens=False).input_ids
        with torch.no_grad():
            logits = model(torch.tensor([prompt_ids + new_ids])).logits[0, len(prompt_ids) - 1:-1]
        want = torch.log_softmax(logits.float(), -1).gather(-1, torch.tensor(new_ids)[:, None])
        assert torch.allclose(torch.tensor(rec["logprobs"]), want[:, 0], atol=1e-4)
        scores.append(sum(rec["logprobs"]) / len(rec["logprobs"]))  # HF's length-normalised
    assert scores == sorted(scores, reverse=True)
    assert main([*args, "--n", "4"]) == 2  # --n must agree with --beams
    assert "--n 4 differs" in capsys.readouterr().err
