"""`execeval study NAME`: the papers' experiments, each a `Study` registered under the
entry-point group `execeval.studies`; its flags come from its options dataclass."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from execeval.cli import flags
from execeval.cli.command import Command, add_json, add_parser, console, print_json
from execeval.cli.grade import add_dataset, add_generation, add_grading, run_options_from
from execeval.errors import UserError
from execeval.options import GradingOptions, RunOptions

if TYPE_CHECKING:
    from execeval.studies.common import Study

OWN = {"model", "dataset"}  # OnModel's, given by `run`'s flags


def add_study(sub: Any, name: str, study: Study[Any]) -> None:
    q = add_parser(sub, name, study.help, study.example)
    if study.makes_runs:
        without = tuple(study.without | {"results"})
        add_dataset(q, without=without)
        add_generation(q, without=without)
        flags.add_fields(q, study.options, without=OWN)
        add_grading(q, without=without)
        q.set_defaults(dataset=study.options.__dataclass_fields__["dataset"].default)
    else:
        flags.add_fields(q, study.options)
        kept = {"store", "workers", "executor"} - study.without  # a stored run's grading
        flags.add_fields(q, GradingOptions, group="grading",
                         without=[f for f in GradingOptions.__dataclass_fields__
                                  if f not in kept])
        add_json(q)
    q.set_defaults(study=study)


def add_broken(sub: Any, name: str, error: UserError) -> None:
    """A study that cannot be loaded (a plugin's bug, a missing extra) keeps the other
    commands working and says why when it is asked for."""
    q = sub.add_parser(name, help=f"(cannot be loaded: {error})", add_help=False)
    q.add_argument("rest", nargs=argparse.REMAINDER)
    q.set_defaults(broken=error)


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="study_name", required=True, metavar="STUDY")
    from execeval.studies.common import STUDIES

    for name in STUDIES.names():
        try:
            study = STUDIES.get(name)
        except UserError as e:
            add_broken(sub, name, e)
            continue
        add_study(sub, name, study)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "broken", None):
        raise args.broken
    study: Study[Any] = args.study
    if study.makes_runs:
        options = run_options_from(args)
    else:
        options = RunOptions(grading=flags.build(GradingOptions, args))
    own = flags.build(study.options, args)
    result = study.main(own, options)
    result.render(console(args))
    if args.json:
        print_json(result.to_json())
    return 0


COMMANDS = (Command("study", "the papers' experiments (docs/studies.md)",
                    "execeval study temperature --model fake:planted --n 20",
                    add_arguments, run),)
