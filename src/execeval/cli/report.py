"""`execeval report` (one self-contained HTML file) and `execeval view` (a local viewer)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from execeval.cli.command import Command, add_listen, add_store, store_of


def add_report(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", metavar="RUN", nargs="+", help="run ids (unique prefixes are enough)")
    p.add_argument("-o", "--out", required=True, metavar="report.html", type=Path,
                   help="the HTML file to write")
    p.add_argument("--label", dest="labels", action="append", metavar="TEXT",
                   help="what the legend and headings call a run: once per run, in the "
                   "runs' order (default: what differs between the runs, e.g. T=0.2)")
    add_store(p)


def report(args: argparse.Namespace) -> int:
    from execeval.report import write_report

    size = write_report(store_of(args), args.runs, args.out, labels=args.labels)
    print(f"report on {len(args.runs)} run{'s' if len(args.runs) > 1 else ''} written to "
          f"{args.out} ({size / 1e6:.1f} MB)", file=sys.stderr)
    return 0


def add_view(p: argparse.ArgumentParser) -> None:
    add_store(p)
    add_listen(p, 8765)


def view(args: argparse.Namespace) -> int:
    from execeval.web.view import serve_viewer

    return serve_viewer(args.store, args.host, args.port, args.token)


COMMANDS = (
    Command("report", "write a self-contained HTML report of runs",
            "execeval report 1a2b3c 4d5e6f -o report.html", add_report, report),
    Command("view", "browse the run store in a local web viewer",
            "execeval view --port 8765", add_view, view),
)
