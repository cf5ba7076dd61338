"""Model specs, settings, prompts and the vLLM mapping (no GPU or vLLM needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import real_data

from execeval.api import load_dataset
from execeval.benchmark import build_prompt
from execeval.config import api_key
from execeval.errors import UserError
from execeval.models import Settings, parse_spec
from execeval.models.vllm_offline import sampled_logprobs, sampling_kwargs
from execeval.pipeline import requests_for
from execeval.prompts import HUMANEVAL_STOP

HE = load_dataset("humaneval")


@pytest.mark.parametrize(("spec", "kind", "name", "url"), [
    ("openai-chat:gpt-4o-mini", "openai-chat", "gpt-4o-mini", None),
    ("openai:qwen-coder@http://localhost:8000/v1", "openai", "qwen-coder", "http://localhost:8000/v1"),
    ("openai:org/model@name@https://h.example/v1", "openai", "org/model@name", "https://h.example/v1"),
    ("hf:/models/tiny", "hf", "/models/tiny", None),
    ("vllm:Qwen/Qwen2.5-Coder-7B", "vllm", "Qwen/Qwen2.5-Coder-7B", None),
    ("samples:out.jsonl", "samples", "out.jsonl", None),
    ("reference", "reference", "", None),
])
def test_parse_spec(spec: str, kind: str, name: str, url: str | None) -> None:
    s = parse_spec(spec)
    assert (s.kind, s.name, s.base_url) == (kind, name, url)


@pytest.mark.parametrize("spec", ["", "gpt-4", "openai:", "hf", "tgi:x", "reference:x"])
def test_bad_specs(spec: str) -> None:
    with pytest.raises(UserError):
        parse_spec(spec)


def test_settings_key_leaves_out_n_only() -> None:
    a, b = Settings(n=1, temperature=0.8), Settings(n=200, temperature=0.8)
    assert a.key() == b.key()
    for other in (Settings(temperature=0.2), Settings(top_p=0.9), Settings(max_tokens=9),
                  Settings(stop=("\n",)), Settings(seed=1)):
        assert other.key() != Settings().key()


def test_vllm_sampling_params_mapping() -> None:
    s = Settings(n=10, temperature=0.8, top_p=0.95, max_tokens=300, stop=HUMANEVAL_STOP, seed=3)
    assert sampling_kwargs(s, 4, 99) == {
        "n": 4, "temperature": 0.8, "top_p": 0.95, "max_tokens": 300,
        "stop": list(HUMANEVAL_STOP), "logprobs": 0, "seed": 99}
    greedy = sampling_kwargs(Settings(), 1, None)
    assert greedy["temperature"] == 0.0 and greedy["top_p"] == 1.0 and "seed" not in greedy
    assert sampling_kwargs(Settings(), 3, None)["n"] == 1  # vLLM refuses n > 1 when greedy

    class Lp:
        def __init__(self, v: float):
            self.logprob = v
    assert sampled_logprobs([5, 7], [{5: Lp(-0.5)}, {7: Lp(-1.0), 8: Lp(-2.0)}]) == [-0.5, -1.0]
    assert sampled_logprobs([5], None) is None


def test_requests_cover_missing_indices_in_chunks_with_distinct_seeds() -> None:
    prompt = build_prompt(HE, HE.problems["HumanEval/0"], "completion")
    reqs = requests_for("HumanEval/0", prompt, [0, 1, 2, 5, 6, 7, 8], Settings(seed=1), 3)
    assert [(r.first, r.count) for r in reqs] == [(0, 3), (5, 3), (8, 1)]
    assert len({r.seed for r in reqs}) == 3
    assert all(r.seed is None for r in requests_for("t", prompt, [0, 1], Settings(), 1))


def test_completion_prompt_is_humaneval_as_is_and_few_shot_prepends_references() -> None:
    p = HE.problems["HumanEval/3"]
    zero = build_prompt(HE, p, "completion")
    assert zero.text == p.prompt and zero.stop == HUMANEVAL_STOP
    two = build_prompt(HE, p, "completion", shots=2)
    assert two.text.endswith(p.prompt) and HE.problems["HumanEval/0"].reference.strip() in two.text
    assert two.template != zero.template and two.key() != zero.key()


def test_chat_template() -> None:
    p = HE.problems["HumanEval/3"]
    chat = build_prompt(HE, p, "chat", shots=1)
    roles = [r for r, _ in chat.messages]
    assert roles == ["system", "user", "assistant", "user"]
    assert p.prompt.strip("\n") in chat.messages[-1][1] and "```python" in chat.messages[-1][1]
    assert chat.messages[2][1].startswith("```python\n") and chat.stop == ()


def test_keys_come_from_env_or_config_and_openai_keys_stay_with_openai(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[openai]\napi_key = "sk-cfg"\n[keys]\n"http://h:1/v1" = "tok-h"\n')
    monkeypatch.setenv("EXECEVAL_CONFIG", str(cfg))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("EXECEVAL_API_KEY", raising=False)
    assert api_key(None) == "sk-cfg"
    assert api_key("http://h:1/v1") == "tok-h"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    assert api_key(None) == "sk-env"
    assert api_key("http://other:2/v1") == "EMPTY"  # never OpenAI's key to another server
    cfg.write_text("")
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(UserError, match="OPENAI_API_KEY"):
        api_key(None)


def test_mbpp_prompts_follow_the_paper() -> None:
    mbpp = load_dataset("mbpp", str(real_data("mbpp", "mbpp.jsonl")))
    p = next(iter(mbpp.problems.values()))
    paper = build_prompt(mbpp, p, "completion")  # the paper's setting: 3 shots
    assert paper.template == "mbpp-paper-3shot" and paper.stop == ("[DONE]",)
    assert paper.text.count("[BEGIN]") == 4 and paper.text.endswith("[BEGIN]\n")
    zero = build_prompt(mbpp, p, "completion", shots=0)
    assert zero.text.count("[BEGIN]") == 1
    chat = build_prompt(mbpp, p, "chat", shots=3)
    assert [r for r, _ in chat.messages] == ["system"] + ["user", "assistant"] * 3 + ["user"]
    assert "[BEGIN]" not in chat.messages[-1][1] and p.metadata["text"] in chat.messages[-1][1]


def test_script_prompts_get_no_function_stops() -> None:
    apps = load_dataset("apps", str(real_data("apps", "apps_test_10.jsonl")))
    p = next(iter(apps.problems.values()))
    assert build_prompt(apps, p, "completion").stop == ()
    assert build_prompt(HE, HE.problems["HumanEval/0"], "completion").stop == HUMANEVAL_STOP
