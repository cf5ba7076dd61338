"""The real sandbox (the default zygote) for grader tests."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

import pytest

from execeval.sandbox import Limits, Sandbox, default_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = default_sandbox(Limits(timeout=3.0))
    yield box
    box.close()


@pytest.fixture(autouse=True)
def oracle_cache(tmp_path_factory: pytest.TempPathFactory,
                 monkeypatch: pytest.MonkeyPatch) -> None:
    """EvalPlus oracles go to a fresh cache, never the user's, and are computed afresh."""
    from execeval.judge import oracle

    monkeypatch.setenv("EXECEVAL_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setattr(oracle, "_memory", OrderedDict())
