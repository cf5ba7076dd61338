"""Fixtures for the grader tests (the real sandbox, `sandbox`, comes from tests/conftest.py)."""

from __future__ import annotations

from collections import OrderedDict

import pytest


@pytest.fixture(autouse=True)
def oracle_cache(tmp_path_factory: pytest.TempPathFactory,
                 monkeypatch: pytest.MonkeyPatch) -> None:
    """EvalPlus oracles go to a fresh cache, never the user's, and are computed afresh."""
    from execeval.judge import oracle

    monkeypatch.setenv("EXECEVAL_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setattr(oracle, "_memory", OrderedDict())
