"""`execeval env list|show|build`: the grading environments, what they hold, building one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from execeval.cli.command import Command, add_json, console, print_json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("list", "show", "build"),
                   help="list: every registered environment; show NAME: its spec and, once "
                   "built, exactly what it holds; build NAME: build it now (else on first use)")
    p.add_argument("name", nargs="?", metavar="NAME|FILE",
                   help="a registered environment or a spec file (TOML or JSON)")
    p.add_argument("--wheels", metavar="DIR", type=Path,
                   help="build: install offline from this folder of wheels "
                   "(default: $EXECEVAL_WHEELS, else the package index)")
    p.add_argument("--rebuild", action="store_true", help="build: remove it first")
    add_json(p)


def _row(spec: Any) -> dict[str, Any]:
    from execeval import environment

    built = environment.built(spec)
    return {"name": spec.name, "version": spec.version, "requires": list(spec.packages),
            "description": spec.description, "built": built is not None,
            "folder": str(environment.folder(spec)),
            **({"identity": built.identity()} if built else {})}


def run(args: argparse.Namespace) -> int:
    from rich.table import Table

    from execeval import environment
    from execeval.errors import UserError

    out = console(args)
    if args.action == "list":
        rows = [_row(spec) for _, spec in environment.ENVIRONMENTS]
        if args.json:
            print_json({"environments": rows})
        table = Table("name", "version", "requires", "built", "description")
        for r in rows:
            table.add_row(r["name"], r["version"], ", ".join(r["requires"]) or "-",
                          r["identity"]["hash"] if r["built"] else "no", r["description"])
        out.print(table)
        return 0
    if not args.name:
        raise UserError(f"env {args.action} needs an environment: a name (execeval env list) "
                        "or a spec file")
    spec = environment.resolve(args.name)
    if args.action == "build":
        if args.rebuild:
            environment.remove(spec)
        environment.ensure(spec, wheels=args.wheels)
    row = _row(spec)
    if args.json:
        print_json(row)
    out.print(f"{spec.name} {spec.version}: {spec.description or '(no description)'}")
    out.print(f"requires: {', '.join(spec.packages) or 'nothing but the standard library'}")
    built = environment.built(spec)
    if built is None:
        out.print(f"not built yet (execeval env build {args.name}); it will be in {row['folder']}")
    else:
        out.print(f"built in {built.prefix}")
        out.print(f"identity: {environment.describe(built)}")
    return 0


COMMANDS = (Command("env", "grading environments: what a graded program may import "
                    "(list, show NAME, build NAME)", "execeval env show classic",
                    add_arguments, run),)
