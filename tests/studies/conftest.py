"""Fixtures for the studies: a private store and executor, planted runs to study, and a
study's result as the CLI prints it."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from execeval import api
from execeval.executor import LocalExecutor
from execeval.options import RunOptions
from execeval.sandbox import Limits
from execeval.studies.common import StudyResult


@pytest.fixture(autouse=True)
def oracle_cache(monkeypatch: pytest.MonkeyPatch,
                 tmp_path_factory: pytest.TempPathFactory) -> None:
    """EvalPlus oracles go to a private cache."""
    monkeypatch.setenv("EXECEVAL_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("studies") / "store.sqlite"


@pytest.fixture(scope="session")
def on_store(store: Path) -> RunOptions:
    """The run options a study of stored runs is given: the session's store."""
    return RunOptions().with_changes(store=store)


@pytest.fixture(scope="session")
def executor() -> Iterator[LocalExecutor]:
    ex = LocalExecutor(Limits(), workers=2)
    try:
        yield ex
    finally:
        ex.close()


@pytest.fixture(scope="session")
def planted_run(store: Path, executor: LocalExecutor) -> Callable[..., str]:
    """A fake run by its arguments (made once per session, then reused from the store)."""
    made: dict[str, str] = {}

    def make(spec: str, dataset: str = "humaneval", **options: Any) -> str:
        key = repr((spec, dataset, sorted(options.items())))
        if key not in made:
            options.setdefault("k", [1])
            made[key] = api.run(spec, dataset, store=store, executor=executor,
                                **options).run_id
        return made[key]

    return make


@pytest.fixture(scope="session")
def printed() -> Callable[[StudyResult], tuple[str, dict[str, Any]]]:
    """A study's result as `execeval study` prints it: its tables, and its `--json` line
    read back."""

    def show(result: StudyResult) -> tuple[str, dict[str, Any]]:
        out = io.StringIO()
        result.render(Console(file=out, width=200))
        return out.getvalue(), json.loads(json.dumps(result.to_json()))

    return show
