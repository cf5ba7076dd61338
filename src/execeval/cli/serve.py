"""`execeval serve`: the HTTP grading service (RL rewards, SandboxFusion's API)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from execeval.cli import flags
from execeval.cli.command import Command, add_listen, dataset_names


def add_arguments(p: argparse.ArgumentParser) -> None:
    whole = flags.positive(int, "whole number")
    p.add_argument("--dataset", action="append", default=[], metavar="NAME",
                   help=f"benchmark to load at start, repeatable: {dataset_names()}")
    p.add_argument("--data", action="append", default=[], metavar="NAME=PATH",
                   help="local copy of a dataset's published file (repeatable)")
    p.add_argument("--problems", action="append", default=[], metavar="FILE",
                   help="a problem file to load at start (repeatable)")
    add_listen(p, 8080)
    p.add_argument("--workers", type=whole, default=os.cpu_count() or 1, metavar="N",
                   help="sandbox slots: programs graded at once (default: this machine's "
                   "cores)")
    p.add_argument("--queue", type=whole, default=256, metavar="N",
                   help="requests waiting beyond the slots before 429 (default: 256)")
    p.add_argument("--timeout", type=flags.positive(float, "number"), default=3.0,
                   metavar="SECONDS",
                   help="wall seconds per program (default: 3)")
    p.add_argument("--memory", type=whole, default=2048, metavar="MIB",
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
