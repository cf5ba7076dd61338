"""`execeval power`: before two runs, how likely their paired comparison is to find a gap,
and how many problems or samples 80% would take (execeval.stats.paired_power)."""

from __future__ import annotations

import argparse

from execeval.cli import flags
from execeval.cli.command import Command, add_json, console, print_json
from execeval.errors import UserError

# below this many problems the sign-flip test is coarser than the approximation assumes
# (docs/statistics.md): the figure is then too high
FEW_PROBLEMS = 12


def add_arguments(p: argparse.ArgumentParser) -> None:
    whole, number = flags.positive(int, "whole number"), flags.positive(float, "number")
    p.add_argument("--problems", type=whole, required=True, metavar="N",
                   help="problems both runs will be graded on")
    p.add_argument("--n", type=whole, required=True, metavar="K",
                   help="samples per problem in each run")
    p.add_argument("--difference", type=number, required=True, metavar="D",
                   help="the gap in pass@1 to detect, e.g. 0.05")
    p.add_argument("--pass-rate", type=number, default=0.5, metavar="P",
                   help="pass@1 of the weaker run (default: 0.5)")
    p.add_argument("--concentration", type=number, default=1.0, metavar="C",
                   help="how alike the problems are: their success rates follow "
                   "Beta(P c, (1-P) c); 1 (default) is U-shaped, most problems nearly "
                   "always or nearly never solved")
    p.add_argument("--alpha", type=number, default=0.05,
                   help="significance level of the test (default: 0.05)")
    p.add_argument("--target", type=number, default=0.8,
                   help="the power to find problems and samples for (default: 0.8)")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    from rich.table import Table

    from execeval.stats import paired_power

    try:
        found = paired_power(args.problems, args.n, args.difference, pass_rate=args.pass_rate,
                             concentration=args.concentration, alpha=args.alpha,
                             target=args.target)
    except ValueError as e:
        raise UserError(str(e)) from None
    notes = []
    if found.problems < FEW_PROBLEMS:
        notes.append(f"below {FEW_PROBLEMS} problems the sign-flip test is coarser than this "
                     "approximation: the real power is lower (docs/statistics.md)")
    if found.samples_needed is None:
        notes.append(f"no number of samples reaches {found.target:.0%} on {found.problems} "
                     "problems: the spread between problems alone is too large")
    table = Table(title=f"paired comparison, pass@1 gap {found.difference:g}, "
                  f"p < {found.alpha:g}", show_header=False)
    table.add_row("power", f"{found.power:.3f}")
    table.add_row(f"problems for {found.target:.0%} (n = {found.n})", str(found.problems_needed))
    table.add_row(f"samples per problem for {found.target:.0%} ({found.problems} problems)",
                  "unreachable" if found.samples_needed is None else str(found.samples_needed))
    table.add_row("sd of one problem's difference", f"{found.sd_difference:.4f}")
    out = console(args)
    out.print(table)
    for note in notes:
        out.print(f"note: {note}")
    if args.json:
        print_json({**found.as_dict(), "notes": notes})
    return 0


COMMANDS = (Command("power", "before two runs: the chance their paired comparison finds a "
                    "pass@1 gap, and the problems or samples that --target needs",
                    "execeval power --problems 164 --n 20 --difference 0.03",
                    add_arguments, run),)
