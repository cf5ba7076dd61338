"""JSON lines in and out: every bad line is reported by file and line, writes are atomic."""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
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
        f: IO[bytes]
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


def write_rows(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    """Atomic: the file is complete or untouched, never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
