"""`execeval serve`: the HTTP grading service (RL rewards, SandboxFusion's API)."""

from __future__ import annotations

import argparse

from execeval.cli import flags
from execeval.cli.command import Command, add_listen, dataset_names
from execeval.options import GradingOptions


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", action="append", default=[], metavar="NAME",
                   help=f"benchmark to load at start, repeatable: {dataset_names()}")
    p.add_argument("--data", action="append", default=[], metavar="NAME=PATH",
                   help="local copy of a dataset's published file (repeatable)")
    p.add_argument("--problems", action="append", default=[], metavar="FILE",
                   help="a problem file to load at start (repeatable)")
    add_listen(p, 8080)
    p.add_argument("--queue", type=flags.positive(int, "whole number"), default=256,
                   metavar="N", help="requests waiting beyond the workers (sandbox slots) "
                   "before 429 (default: 256)")
    # the limits, the workers, the store whose verdicts it shares: as every command's
    flags.add_fields(p, GradingOptions, without=("k", "results"), group="grading")


def run(args: argparse.Namespace) -> int:
    from execeval.serve import ServeOptions, run_service

    return run_service(ServeOptions(
        datasets=tuple(args.dataset), data=tuple(args.data), problems=tuple(args.problems),
        host=args.host, port=args.port, token=args.token, queue=args.queue,
        grading=flags.build(GradingOptions, args)))


COMMANDS = (Command("serve", "an HTTP grading service (RL rewards, SandboxFusion's API)",
                    "execeval serve --dataset humaneval --workers 8", add_arguments, run),)
