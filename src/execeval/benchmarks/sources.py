"""Where a benchmark's rows come from: a local copy of its published file, or the HF hub.

Loaders never depend on the network: `--data PATH` reads the published file; without
it the rows come from the Hugging Face hub through the optional `datasets` package
(`pip install execeval[hub]`), and when that cannot work the user gets one clear line.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from types import UnionType
from typing import Any

from execeval.errors import UserError, where
from execeval.jsonl import read_rows

Row = tuple[int | None, dict[str, Any]]  # (line number where known, row)


def file_digest(path: Path) -> str:
    """Short content digest of a data file, for the dataset's version string."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e.strerror or e})") from None


def read_file_rows(path: Path) -> list[Row]:
    """Rows of a JSON array (.json) or JSON lines (.jsonl, .jsonl.gz) file."""
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.suffix == ".json":
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except json.JSONDecodeError as e:
            raise UserError(f"{where(path, e.lineno)}: not valid JSON ({e.msg})") from None
        except (OSError, UnicodeDecodeError) as e:
            raise UserError(f"{path}: cannot read ({e})") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise UserError(f"{path}: expected a JSON array of objects")
        return [(None, r) for r in data]
    return [(n, r) for n, r in read_rows(path)]


def local_or_hub(data: Path | None, name: str, repo: str,
                 data_file: str | None = None) -> tuple[list[Row], str, str]:
    """(rows, source, version): the local copy when given, else the hub's test split."""
    if data is not None:
        return read_file_rows(data), str(data), f"sha256:{file_digest(data)}"
    rows, version = hub_rows(repo, None, ("test",), name, data_file=data_file)
    return rows, version, version


def place(source: object, line: int | None) -> str:
    """Where a row sits, for messages: `file:line` when the line is known."""
    return where(str(source), line) if line else str(source)


def field(path: object, line: int | None, row: dict[str, Any], name: str,
          kind: type | UnionType | tuple[type, ...]) -> Any:
    """A required field of the expected type, or a one-line error naming file, line, field."""
    value = row.get(name)
    if not isinstance(value, kind):
        state = "missing" if name not in row else f"not a {getattr(kind, '__name__', kind)}"
        label = where(str(path), line) if line else f"{path} (task {row.get('task_id')!r})"
        raise UserError(f"{label}: field '{name}' is {state}")
    return value


def hub_rows(repo: str, config: str | None, splits: Sequence[str],
             dataset: str, data_file: str | None = None) -> tuple[list[Row], str]:
    """All rows of the named splits from the Hugging Face hub, and a version string.

    `data_file`: read that JSON lines file of the repository instead of its loading
    script (codeparrot/apps ships one, which recent `datasets` versions refuse to run)."""
    try:
        import datasets  # optional: pip install execeval[hub]
    except ImportError:
        raise UserError(f"dataset {dataset!r}: pass --data PATH (a local copy of its published "
                        f"file), or install the hub extra (pip install 'execeval[hub]') to "
                        f"fetch {repo} from the Hugging Face hub") from None
    rows: list[Row] = []
    revision = ""
    # the hub client logs every network retry; the failure is reported below in one line
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
    try:
        for split in splits:
            loaded = (datasets.load_dataset("json",
                                            data_files=f"hf://datasets/{repo}/{data_file}",
                                            split="train")
                      if data_file else datasets.load_dataset(repo, config, split=split))
            revision = revision or str(getattr(loaded.info, "version", "") or "")
            rows.extend((None, dict(r)) for r in loaded)
    except Exception as e:  # offline, unknown repo, hub error: all the user's to fix
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"dataset {dataset!r}: cannot load {repo} from the Hugging Face hub "
                        f"({first[:200]}); pass --data PATH to use a local copy") from None
    where = f"/{data_file}" if data_file else (f"/{config}" if config else "")
    return rows, f"hf:{repo}{where}{'@' + revision if revision else ''}"
