"""What every command module gives (`Command`) and what they share: the store and
--json flags, and the one output rule: with --json, stdout is one JSON document on one
line and nothing else; what a person reads goes to stderr."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from execeval.store import store_path


@dataclass(frozen=True)
class Command:
    """One `execeval NAME`: its help line, one example, its flags and what it does."""

    name: str
    help: str
    example: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def add_parser(sub: Any, name: str, help: str, example: str) -> argparse.ArgumentParser:
    """A command's (or a study's) parser: its one-line description, its flags as typed
    (no abbreviations: a dropped flag must not turn into a kept one), and its example."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help, description=help, allow_abbrev=False,
        epilog=f"example:\n  {example}" if example else None,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def add_store(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="PATH", type=Path,
                   help="the run store (default: $EXECEVAL_STORE or "
                   "~/.local/share/execeval/runs.sqlite)")


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true",
                   help="print one JSON document on stdout and nothing else (tables go to "
                   "stderr)")


def dataset_names() -> str:
    """The benchmarks `--dataset` takes, for its help (`file` is `--problems`'s)."""
    from execeval import benchmark

    return ", ".join(n for n in benchmark.BENCHMARKS.names() if n != "file")


def store_of(args: argparse.Namespace) -> Path:
    return store_path(getattr(args, "store", None))


def console(args: argparse.Namespace) -> Console:
    """Where tables go: stdout, or stderr when stdout is for --json."""
    return Console(stderr=bool(getattr(args, "json", False)), highlight=False)


def print_json(payload: Any) -> None:
    print(json.dumps(payload))


def interrupted(what: str, args: argparse.Namespace) -> int:
    print(f"execeval: interrupted; {what} so far are saved in {store_of(args)}; "
          "run the same command again to resume", file=sys.stderr)
    return 130


def add_listen(p: argparse.ArgumentParser, port: int) -> None:
    """Where a local server listens, and the token it then asks for."""
    from execeval.cli.flags import parse_port

    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1; another needs --token)")
    p.add_argument("--port", type=parse_port, default=port,
                   help=f"port to listen on, 0 for any free one (default: {port})")
    p.add_argument("--token", help="required when binding another address than loopback: "
                   "every request must then carry it (Authorization: Bearer TOKEN)")
