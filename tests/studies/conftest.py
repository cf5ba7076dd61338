"""Fixtures for the studies: a private store and executor, and planted runs to study."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import execeval
from execeval.executor import LocalExecutor
from execeval.sandbox import Limits

HE_SPEC = "fake:planted?distinct=0"  # equal programs stay equal: fewer to grade


@pytest.fixture(autouse=True)
def oracle_cache(monkeypatch: pytest.MonkeyPatch,
                 tmp_path_factory: pytest.TempPathFactory) -> None:
    """EvalPlus oracles go to a private cache."""
    monkeypatch.setenv("EXECEVAL_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("studies") / "store.sqlite"


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
            made[key] = execeval.run(spec, dataset, store=store, executor=executor,
                                     **options).run_id
        return made[key]

    return make
