"""`execeval export`: a run's results in another tool's layout, or fine-tuning data."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from execeval.cli import flags
from execeval.cli.command import Command, add_store, store_of
from execeval.errors import UserError


def add_arguments(p: argparse.ArgumentParser) -> None:
    from execeval.export import FORMATS

    p.add_argument("target", nargs="+", metavar="RUN | sft RUN [RUN ...] | mbpp-train",
                   help="a run (with --format), or `sft RUN...` (fine-tuning data from correct "
                   "samples), or `mbpp-train` (MBPP's train split, references checked)")
    p.add_argument("--format", choices=(*FORMATS, "completion", "chat"),
                   help="for a run: evalplus, humaneval or csv (required); for sft: "
                   "completion or chat")
    p.add_argument("--out", metavar="FILE", type=Path,
                   help="where to write (default: stdout; sft and mbpp-train need it)")
    p.add_argument("--per-problem", type=flags.positive(int, "whole number"), metavar="K",
                   help="sft: at most K programs per problem")
    p.add_argument("--allow-eval-split", action="store_true",
                   help="sft: also export problems of a benchmark's evaluation split")
    p.add_argument("--data", metavar="PATH", type=Path, help="mbpp-train: local mbpp.jsonl")
    p.add_argument("--workers", type=flags.positive(int, "whole number"),
                   default=os.cpu_count() or 1, metavar="N",
                   help="programs graded at once (default: this machine's cores)")
    add_store(p)


def run(args: argparse.Namespace) -> int:
    from execeval.export import FORMATS, export

    what, rest = args.target[0], args.target[1:]
    if what in ("sft", "mbpp-train"):
        return fine_tuning(args, what, rest)
    if rest or args.format not in FORMATS:
        raise UserError(f"export RUN --format {'|'.join(FORMATS)} (or export sft RUN..., "
                        "export mbpp-train)")
    done = export(what, args.format, args.out, store_of(args))
    if done.pending:
        print(f"execeval: note: {done.pending} samples of run {done.run_id} are not graded "
              "yet and were left out; run its command again to finish it", file=sys.stderr)
    if done.out is not None:
        noun = "problems" if done.fmt == "csv" else "samples"
        print(f"wrote {done.rows} {noun} of run {done.run_id} to {done.out}", file=sys.stderr)
    return 0


def fine_tuning(args: argparse.Namespace, what: str, runs: list[str]) -> int:
    from execeval.studies import sft

    if what == "mbpp-train":
        if runs:
            raise UserError("export mbpp-train takes no run")
        if args.out is None:
            raise UserError("export mbpp-train: give --out FILE")
        said = sft.export_mbpp_train(args.out, data=args.data, store=store_of(args),
                                     workers=args.workers)
    else:
        if not runs or args.out is None:
            raise UserError("export sft: name one or more runs and give --out FILE")
        if args.format not in (None, "completion", "chat"):
            raise UserError("export sft --format completion|chat")
        said = sft.export_sft(runs, args.out, fmt=args.format or "completion",
                              per_problem=args.per_problem,
                              allow_eval_split=args.allow_eval_split, store=store_of(args))
    print(said, file=sys.stderr)
    return 0


COMMANDS = (Command("export", "a run's results in another tool's layout (RUN --format "
                    "evalplus|humaneval|csv), or fine-tuning data (sft RUN..., mbpp-train)",
                    "execeval export 1a2b3c --format evalplus --out results.json",
                    add_arguments, run),)
