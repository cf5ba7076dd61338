"""Shared fixtures: the real CLI in a subprocess with a private run store, and the real
sandbox with the standard limits."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from execeval.environment import CACHE_VARIABLE, CLASSIC
from execeval.executor import default_factory
from execeval.sandbox import Limits, Sandbox

# Grading environments are built once per checkout (not once per test's home folder): the
# first test that grades builds `classic` (a venv plus NumPy from the package index).
os.environ.setdefault(CACHE_VARIABLE, str(Path(__file__).resolve().parents[1] / ".cache"))


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `execeval ARGS` as a user would, with a run store private to the test."""
    env = dict(os.environ, EXECEVAL_STORE=str(tmp_path / "store.sqlite"))

    def run(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "execeval.cli", *args], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=600)
        if check and proc.returncode != 0:
            raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """The default (zygote) sandbox with the standard limits, `Limits()`; one per test
    module, so no module sees another's zygote. Tests that need other limits ask for them
    explicitly: `execeval.sandbox.with_limits(sandbox, limits)`."""
    # as runs build it: the classic environment, every benchmark's answers hidden
    box = default_factory(CLASSIC)(Limits())
    try:
        yield box
    finally:
        box.close()
