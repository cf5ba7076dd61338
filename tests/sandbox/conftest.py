"""Fixtures for the sandbox suite: one real zygote sandbox per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_helpers import FAST

from execeval.sandbox.warm import ZygoteSandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ZygoteSandbox]:
    with ZygoteSandbox(FAST) as sb:
        yield sb
