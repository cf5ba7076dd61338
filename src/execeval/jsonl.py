"""JSON lines in and out: every bad line is reported by file and line; and the one rule
for every file a command writes (results, reports, exports): its folder must exist, it
is written whole or not at all, with the mode the user's umask gives."""

from __future__ import annotations

import gzip
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from execeval.errors import UserError, where


def read_rows(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a .jsonl or .jsonl.gz file."""
    return list(iter_rows(path))


def iter_rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """`read_rows`, one row at a time: a file of any size reads in flat memory."""
    path = Path(path)
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
            for n, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise UserError(f"{where(path, n)}: not UTF-8 (byte {e.start})") from None
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise UserError(f"{where(path, n)}: not valid JSON ({e.msg}, "
                                    f"column {e.colno})") from None
                if not isinstance(row, dict):
                    raise UserError(f"{where(path, n)}: expected a JSON object, "
                                    f"got {type(row).__name__}")
                yield n, row
    except (OSError, EOFError) as e:  # gzip reports a truncated file as EOFError
        raise UserError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") from None


def output_path(path: str | Path) -> Path:
    """An output file's path, checked before any work is done: a folder that is not
    there is refused, never created (a mistyped folder is the user's to see)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a directory; name the file to write")
    if not path.parent.is_dir():
        raise UserError(f"{path}: cannot write: no directory {path.parent}")
    return path


@contextmanager
def write_whole(path: str | Path, *, newline: str | None = None,
                errors: str = "strict") -> Iterator[IO[str]]:
    """A text file written into a temporary file beside it and renamed over it at the
    end, so it is complete or untouched; created as `open` creates files, so its mode
    is the one the user's umask gives (0644 under umask 022)."""
    path = output_path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise UserError(f"{path}: cannot write ({e.strerror or e})") from None
    try:
        with open(descriptor, "w", encoding="utf-8", newline=newline, errors=errors) as f:
            yield f
        os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):  # a full disk, a folder gone: the user's to fix
            raise UserError(f"{path}: cannot write ({e.strerror or e})") from None
        raise


def write_rows(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    """One JSON object a line, written whole or not at all (`write_whole`)."""
    with write_whole(path) as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
