"""The command line, assembled from the command modules: parse, call, print, and turn
a user's mistake into one line and exit status 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from execeval.cli import compare, env, export, grade, power, report, runs, sandbox, serve, study
from execeval.cli.command import Command, add_parser
from execeval.errors import UserError
from execeval.version import __version__

COMMANDS: tuple[Command, ...] = (*grade.COMMANDS, *runs.COMMANDS, *compare.COMMANDS,
                                 *power.COMMANDS, *report.COMMANDS, *export.COMMANDS,
                                 *study.COMMANDS, *serve.COMMANDS, *sandbox.COMMANDS,
                                 *env.COMMANDS)

DESCRIPTION = """\
execeval: how well does a language model write code? It runs what the model writes in
a sandbox and reports pass@k (HumanEval, MBPP, APPS, EvalPlus, CRUXEval, your own files).
"""

EXAMPLES = """\
examples:
  execeval run --dataset humaneval --model reference        # the canonical solutions
  execeval evaluate --dataset humaneval --samples s.jsonl   # grade a samples file
  execeval runs                                             # what the store holds
"""


class Parser(argparse.ArgumentParser):
    """Usage mistakes are one line too, like every other error of the user's."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser; with `only`, the flags of that command alone (the others
    are listed with their help), so a command does not load what another needs (the
    studies, for one)."""
    parser = Parser(prog="execeval", description=DESCRIPTION, epilog=EXAMPLES,
                    allow_abbrev=False,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"execeval {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                help="`execeval COMMAND --help`: its flags and an example")
    for command in COMMANDS:
        p = add_parser(sub, command.name, command.help, command.example)
        if only is None or only == command.name:
            command.add_arguments(p)
        p.set_defaults(handler=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            given = list(sys.argv[1:] if argv is None else argv)
            command = next((a for a in given if not a.startswith("-")), None)
            args = build_parser(only=command).parse_args(given)
        except SystemExit as done:  # --help, --version, a usage error: said already
            return done.code if isinstance(done.code, int) else 2
        return int(args.handler(args))
    except UserError as e:
        print(f"execeval: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 141
