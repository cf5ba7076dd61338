"""`execeval compare RUN_A RUN_B`: a paired comparison on the problems both graded."""

from __future__ import annotations

import argparse

from execeval.cli import flags
from execeval.cli.command import Command, add_json, add_store, console, print_json, store_of


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_a", metavar="RUN_A", help="a run id (a unique prefix is enough)")
    p.add_argument("run_b", metavar="RUN_B", help="the run it is compared with")
    p.add_argument("--k", type=flags.positive(int, "whole number"), default=1,
                   help="pass@k to compare (default: 1)")
    p.add_argument("--top", type=flags.positive(int, "whole number"), default=10,
                   help="problems with the largest differences to list (default: 10)")
    p.add_argument("--allow-different-datasets", action="store_true",
                   help="compare runs on different datasets (on their shared task ids)")
    add_store(p)
    add_json(p)


def run(args: argparse.Namespace) -> int:
    from execeval.compare import compare as paired
    from execeval.compare import print_comparison

    c = paired(args.run_a, args.run_b, k=args.k, store=store_of(args),
               allow_different_datasets=args.allow_different_datasets, top=args.top)
    if args.json:
        print_json(c.to_json())
    else:
        print_comparison(c, console(args))
    return 0


COMMANDS = (Command("compare", "paired comparison of two runs on their shared problems",
                    "execeval compare 1a2b3c 4d5e6f --k 1", add_arguments, run),)
