"""One progress bar with an ETA, on stderr, for every long loop."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def _advancer(bar: Progress, task: TaskID) -> Callable[[int], None]:
    """`advance(steps=1)` for one task of `bar`."""
    def advance(steps: int = 1) -> None:
        bar.advance(task, steps)
    return advance


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yields `advance(steps=1)`; draws nothing when stderr is not a terminal."""
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal or total == 0,
                  transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield _advancer(bar, task)


@contextmanager
def progress_bars(totals: dict[str, int]) -> Iterator[dict[str, Callable[[int], None]]]:
    """Several stages on one display (rich allows one live display at a time), each
    with its own bar and ETA; yields label -> `advance(steps)`."""
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False,
                  disable=not console.is_terminal or not any(totals.values())) as bar:
        tasks = {label: bar.add_task(label, total=total) for label, total in totals.items()}
        yield {label: _advancer(bar, t) for label, t in tasks.items()}
