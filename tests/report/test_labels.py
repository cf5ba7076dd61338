"""Default run labels: what differs between runs names them, not what they share."""

from __future__ import annotations

from typing import Any

from execeval.report.data import RunInfo, default_labels


def generated(run_id: str, model: str = "fake:planted?distinct=0", dataset: str = "humaneval",
              **settings: Any) -> RunInfo:
    """A `run` as the store records it (what labels read: the model, settings, limits)."""
    config = {"model": model, "prompt_style": "completion", "shots": None,
              "template": "completion-v1", "limits": {"timeout": 3.0, "memory_mb": 2048},
              "settings": {"n": 2, "temperature": 0.8, "top_p": 0.95, "max_tokens": 512,
                           "seed": None, "stop": None, **settings}}
    return RunInfo(run_id=run_id, kind="run", dataset=dataset, dataset_version="v1",
                   status="complete", created=0.0, config=config, summary={}, live=False,
                   n_samples=0, n_graded=0)


def test_runs_that_differ_in_temperature_are_named_by_it() -> None:
    runs = [generated(f"run{i}", temperature=t) for i, t in enumerate((0.2, 0.5, 1.0))]
    assert default_labels(runs) == ["T=0.2", "T=0.5", "T=1"]


def test_runs_of_different_models_are_named_by_the_model_and_what_else_differs() -> None:
    same_backend = [generated("a", "openai:gpt-4o@http://localhost:8000/v1"),
                    generated("b", "openai:llama")]
    assert default_labels(same_backend) == ["gpt-4o", "llama"]
    assert default_labels([generated("a", "openai:gpt-4o", n=10),
                           generated("b", "hf:/models/llama", n=1)]) == [
        "openai:gpt-4o n=10", "hf:llama n=1"]


def test_runs_that_differ_in_nothing_shown_are_named_by_their_ids() -> None:
    assert default_labels([generated("6fb40ee55421"), generated("57e3861d7e08")]) == [
        "6fb40ee55421", "57e3861d7e08"]
    # two of three alike: the label says what differs, the ids tell the two apart
    runs = [generated("aaa", temperature=0.2), generated("bbb", temperature=0.2),
            generated("ccc", temperature=0.8)]
    assert default_labels(runs) == ["T=0.2 (aaa)", "T=0.2 (bbb)", "T=0.8"]


def test_prompt_dataset_and_limits_differences_are_named_too() -> None:
    a, b = generated("a"), generated("b", dataset="mbpp", seed=7)
    b.config.update(prompt_style="chat", shots=3)
    b.config["limits"]["timeout"] = 10.0
    assert default_labels([a, b]) == [
        "seed=none prompt=completion shots=none humaneval timeout=3",
        "seed=7 prompt=chat shots=3 mbpp timeout=10"]


def test_a_graded_samples_file_is_not_named_by_the_settings_it_never_had() -> None:
    graded = RunInfo(run_id="e", kind="evaluate", dataset="humaneval", dataset_version="v1",
                     status="complete", created=0.0,
                     config={"samples": "/data/gpt4.jsonl", "limits": {"timeout": 3.0}},
                     summary={}, live=False, n_samples=0, n_graded=0)
    assert default_labels([graded, generated("g", temperature=0.2),
                           generated("h", temperature=0.4)]) == [
        "samples gpt4.jsonl", "fake:planted?distinct=0 T=0.2", "fake:planted?distinct=0 T=0.4"]
