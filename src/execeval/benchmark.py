"""One object per benchmark, and the registry that finds them.

A `Benchmark` carries everything execeval knows about a benchmark: how to load it,
how to prompt for each problem (each prompt with its own stops), which function a
program must define (an extraction hint) or its own extraction where answers are not
programs, the extra summary keys it reports and the rows it shows. Its problems name
their grader (`execeval.judge`).

Adding a benchmark is one module that defines a `Benchmark` plus one entry point in the
group `execeval.benchmarks` (execeval's own are in its pyproject.toml, a package of your
own lists its own; docs/architecture.md has a worked example). Nothing else names
benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from execeval.dataset import Dataset, Problem
from execeval.errors import UserError
from execeval.judge import grader_of
from execeval.prompts import STYLES, Prompt, chat, completion
from execeval.registry import Registry

if TYPE_CHECKING:
    from execeval.extract import Extracted
    from execeval.verdict import Verdict

Loader = Callable[[Path | None, Mapping[str, Any]], Dataset]
# (problem, raw output, chat, stops) -> the program: for answers that are not programs
Extractor = Callable[[Problem, str, bool, tuple[str, ...]], "Extracted"]
PromptBuilder = Callable[[Dataset, Problem, str, "int | None"], "Prompt"]
Rows = list[tuple[str, str]]


class Tally(Protocol):
    """A fold over a run's verdicts that adds summary keys; it keeps counts, never rows,
    so that a summary of 500,000 samples costs what it costs for 500."""

    def add(self, problem: Problem, verdict: Verdict) -> None: ...
    def result(self, ks: Sequence[int]) -> dict[str, Any]: ...


def standard_prompt(dataset: Dataset, problem: Problem, style: str,
                    shots: int | None) -> Prompt:
    """The prompt of a benchmark that defines none of its own: the problem's prompt as is
    (completion), or wrapped in the chat template."""
    if style == "chat":
        return chat.build(dataset, problem, shots)
    return completion.build(dataset, problem, shots)


def entry_point_of(problem: Problem) -> str | None:
    return problem.entry_point


def no_rows(summary: Mapping[str, Any]) -> Rows:
    return []


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    load: Loader                                    # (--data path or None, options)
    options: frozenset[str] = frozenset()           # loader options it takes (split, ...)
    prompt: PromptBuilder = standard_prompt         # (dataset, problem, style, shots)
    function: Callable[[Problem], str | None] = entry_point_of  # extraction hint
    extract: Extractor | None = None                # None: execeval.extract for programs
    tally: Callable[[], Tally] | None = None        # its extra summary keys
    display: Callable[[Mapping[str, Any]], Rows] = no_rows  # its rows of the summary table
    hidden_packages: tuple[str, ...] = ()           # installed packages holding its answers
    environment: str = "classic"                    # its grading environment (execeval env)
    extra: dict[str, Any] = field(default_factory=dict)


BENCHMARKS: Registry[Benchmark] = Registry("execeval.benchmarks", "dataset", Benchmark)


def get(name: str) -> Benchmark:
    if name not in BENCHMARKS:
        known = ", ".join(n for n in BENCHMARKS.names() if n != "file")
        raise UserError(f"unknown dataset {name!r} (known: {known}; or --problems FILE)")
    return BENCHMARKS.get(name)


def register(b: Benchmark) -> Benchmark:
    """Add a benchmark from code (a notebook, a test); packages use the entry point."""
    return BENCHMARKS.register(b.name, b)


def of(dataset: Dataset) -> Benchmark | None:
    """The benchmark a dataset came from (None for one built in code, e.g. a study's)."""
    return get(dataset.benchmark) if dataset.benchmark else None


def environment_of(dataset: Dataset) -> str:
    """The grading environment a dataset's benchmark declares (the default for others)."""
    b = of(dataset)
    return b.environment if b else "classic"


def hidden_packages() -> tuple[str, ...]:
    """What the sandbox hides from every program: any benchmark's answers, whichever runs."""
    return tuple(sorted({p for _, b in BENCHMARKS for p in b.hidden_packages}))


def build_prompt(dataset: Dataset, problem: Problem, style: str,
                 shots: int | None = None) -> Prompt:
    """The benchmark's prompt for one problem; `shots=None` is the benchmark's standard
    (MBPP's paper prompt has 3, others none)."""
    if style not in STYLES:
        raise UserError(f"unknown prompt style {style!r} (known: {', '.join(STYLES)})")
    if shots is not None and shots < 0:
        raise UserError("--shots must be 0 or more")
    b = of(dataset)
    return (b.prompt if b else standard_prompt)(dataset, problem, style, shots)


def build_prompts(dataset: Dataset, task_ids: Sequence[str], style: str,
                  shots: int | None = None) -> dict[str, Prompt]:
    return {t: build_prompt(dataset, dataset.problems[t], style, shots) for t in task_ids}


def load(name: str | None, data: str | Path | None = None,
         problems_file: str | Path | None = None, **options: Any) -> Dataset:
    """A named benchmark (optionally from a local copy), or a user problem file.

    Options a benchmark does not take are refused, naming the option; options left at
    None are not passed."""
    if problems_file:
        name, data = "file", problems_file
    if not name:
        raise UserError("name a dataset (e.g. humaneval) or give --problems FILE")
    b = get(name)
    given = {k: v for k, v in options.items() if v not in (None, False)}
    for option in given:
        if option not in b.options:
            flag = "--" + option.replace("_", "-")
            raise UserError(f"{flag} does not apply to dataset {name!r}")
    dataset = b.load(Path(data) if data else None, given)
    for grader in sorted({p.grader for p in dataset.problems.values()}):
        grader_of(grader)  # an unknown grader is the loader's error, said now
    return replace(dataset, benchmark=b.name)
