"""One object per benchmark, and the registry that finds them.

A `Benchmark` carries everything execeval knows about a benchmark: how to load it,
how to prompt for each problem (each prompt with its own stops), which function a
program must define (an extraction hint) or its own extraction where answers are not
programs, the extra summary keys it reports and the rows it shows. Its problems name their grader (`execeval.judge`).

Adding a benchmark is one module: a module of `execeval.problems` that defines
`BENCHMARKS = (Benchmark(...),)` is found by its presence (docs/architecture.md has a
worked example); a package of your own registers under the entry-point group
`execeval.benchmarks`. Nothing else names benchmarks.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from execeval.errors import UserError
from execeval.problems.model import Dataset, Problem

if TYPE_CHECKING:
    from execeval.extract import Extracted
    from execeval.prompts import Prompt
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
    """The prompt every benchmark gets unless it says otherwise (execeval.prompts)."""
    from execeval.prompts import standard

    return standard(dataset, problem, style, shots)


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
    extra: dict[str, Any] = field(default_factory=dict)


_registry: dict[str, Benchmark] = {}
_lock = threading.Lock()


def _discover() -> dict[str, Benchmark]:
    import execeval.problems as package

    found: dict[str, Benchmark] = {}
    modules = [f"execeval.problems.{m.name}" for m in pkgutil.iter_modules(package.__path__)]
    for name in modules:
        for b in getattr(importlib.import_module(name), "BENCHMARKS", ()):
            found[b.name] = b
    from importlib.metadata import entry_points

    for ep in entry_points(group="execeval.benchmarks"):
        for b in ep.load():
            found[b.name] = b
    return found


def registry() -> dict[str, Benchmark]:
    """Every benchmark by name (found once per process)."""
    with _lock:
        if not _registry:
            _registry.update(_discover())
        return _registry


def register(b: Benchmark) -> Benchmark:
    """Add a benchmark from code (a notebook, a test); modules and entry points need not."""
    registry()[b.name] = b
    return b


def get(name: str) -> Benchmark:
    benchmarks = registry()
    if name not in benchmarks:
        known = ", ".join(sorted(n for n in benchmarks if n != "file"))
        raise UserError(f"unknown dataset {name!r} (known: {known}; or --problems FILE)")
    return benchmarks[name]


def of(dataset: Dataset) -> Benchmark:
    return get(dataset.benchmark)


def hidden_packages() -> tuple[str, ...]:
    """What the sandbox hides from every program: any benchmark's answers, whichever runs."""
    return tuple(sorted({p for b in registry().values() for p in b.hidden_packages}))


def load_dataset(name: str | None, data: str | Path | None = None,
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
        from execeval.judge import grader_of

        grader_of(grader)  # an unknown grader is the loader's error, said now
    return replace(dataset, benchmark=b.name)
