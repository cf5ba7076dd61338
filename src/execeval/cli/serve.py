"""`execeval serve`: the HTTP grading service (RL rewards, SandboxFusion's API)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from execeval.cli import flags
from execeval.cli.command import Command


def add_arguments(p: argparse.ArgumentParser) -> None:
    whole = flags.positive(int, "whole number")
    p.add_argument("--dataset", action="append", default=[], metavar="NAME",
                   help="benchmark to load at start (repeatable)")
    p.add_argument("--data", action="append", default=[], metavar="NAME=PATH",
                   help="local copy of a dataset's published file (repeatable)")
    p.add_argument("--problems", action="append", default=[], metavar="FILE",
                   help="a problem file to load at start (repeatable)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1; another needs --token)")
    p.add_argument("--port", type=flags.parse_port, default=8080,
                   help="port to listen on, 0 for any free one (default: 8080)")
    p.add_argument("--token", help="bearer token; required when binding another address "
                   "than loopback")
    p.add_argument("--workers", type=whole, default=os.cpu_count() or 1,
                   help="sandbox slots: programs graded at once (default: this machine's "
                   "cores)")
    p.add_argument("--queue", type=whole, default=256,
                   help="requests waiting beyond the slots before 429 (default: 256)")
    p.add_argument("--timeout", type=flags.positive(float, "number"), default=3.0,
                   help="wall seconds per program (default: 3)")
    p.add_argument("--memory", type=whole, default=2048,
                   help="memory limit per program in MiB (default: 2048)")
    p.add_argument("--store", metavar="PATH", type=Path,
                   help="verdict cache shared with the run store (default: the run store)")
    p.add_argument("--executor", default="local", metavar="SPEC",
                   help="where programs are graded: local or ray[:ADDRESS] (default: local)")


def run(args: argparse.Namespace) -> int:
    from execeval.serve import ServeOptions, run_service

    return run_service(ServeOptions(
        datasets=tuple(args.dataset), data=tuple(args.data), problems=tuple(args.problems),
        host=args.host, port=args.port, token=args.token, workers=args.workers,
        queue=args.queue, timeout=args.timeout, memory_mb=args.memory, store=args.store,
        executor=args.executor))


COMMANDS = (Command("serve", "an HTTP grading service (RL rewards, SandboxFusion's API)",
                    "execeval serve --dataset humaneval --workers 8", add_arguments, run),)
