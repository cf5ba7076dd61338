"""execeval: evaluate code-writing language models by running what they write.

The Python API (`evaluate`, `run`, `load_run`, `load_dataset`; `validate` in the module) lives in
`execeval.api` and is loaded on first use: this package stays import-free so that the
sandbox child, which imports it, starts fast.
"""

from __future__ import annotations

from typing import Any

from execeval.version import __version__

__all__ = ["__version__"]
API = ("evaluate", "run", "load_run", "load_dataset", "Run", "RunResult")  # validate: api


def __getattr__(name: str) -> Any:
    if name in API:
        from execeval import api

        return getattr(api, name)
    raise AttributeError(f"module 'execeval' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *API])
