"""`execeval sandbox check`: which protections are active on this machine."""

from __future__ import annotations

import argparse

from execeval.cli import flags
from execeval.cli.command import Command


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("check",), help="check: report the protections")
    p.add_argument("--timeout", type=flags.positive(float, "number"), default=3.0,
                   metavar="SECONDS",
                   help="wall seconds per program (default: 3)")
    p.add_argument("--memory", type=flags.positive(int, "whole number"), default=2048,
                   metavar="MIB",
                   help="memory limit per program in MiB (default: 2048)")
    p.add_argument("--env", default=None, metavar="NAME|FILE",
                   help="the grading environment to check (default: classic)")


def run(args: argparse.Namespace) -> int:
    from execeval import environment
    from execeval.benchmark import hidden_packages
    from execeval.sandbox import Limits
    from execeval.sandbox.jail import Packages
    from execeval.sandbox.probe import print_check

    env = environment.ensure(environment.resolve(args.env))
    return print_check(Limits(timeout=args.timeout, memory_mb=args.memory), hidden_packages(),
                       Packages(env.prefix, env.site), environment.undeclared(env),
                       environment.describe(env))


COMMANDS = (Command("sandbox", "the sandbox that runs programs: `sandbox check` reports "
                    "which protections are active here", "execeval sandbox check",
                    add_arguments, run),)
