"""Errors that are the user's to fix: the CLI prints them as one line and exits 2."""

from __future__ import annotations

from os import PathLike


class UserError(Exception):
    """Bad input (file, line, field, name); the message names where."""


def where(path: str | PathLike[str], line: int | None = None) -> str:
    """`path:line` prefix for messages that point into a file."""
    return f"{path}:{line}" if line is not None else str(path)
