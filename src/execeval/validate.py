"""`execeval validate DATASET`: every reference solution through the grader.

A benchmark whose own solutions fail its tests is a broken benchmark; this lists where,
and why, so docs/benchmarks.md can name the known-broken problems and a grader change
that breaks a good problem shows up at once.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from execeval.errors import UserError
from execeval.evaluate import grade_all
from execeval.judge import Verdict
from execeval.problems.model import Dataset


def validate(dataset: Dataset, sandbox: Any, workers: int) -> dict[str, Any]:
    """Grade each problem's reference; report the failures and the sandbox-graded ones."""
    jobs = {p.task_id: (p, p.reference) for p in dataset.problems.values() if p.reference}
    verdicts: dict[str, Verdict] = {}
    grade_all(jobs, sandbox, workers, verdicts.__setitem__, label="validating")
    failing = [{"task_id": t, "status": v.status, "detail": v.detail}
               for t, v in verdicts.items() if not v.passed]
    failing.sort(key=lambda r: list(dataset.problems).index(r["task_id"]))
    in_sandbox = [{"task_id": p.task_id, "reason": p.tests.get("in_sandbox")}
                  for p in dataset.problems.values()
                  if isinstance(p.tests, dict) and p.tests.get("in_sandbox")]
    return {
        "dataset": dataset.name, "dataset_version": dataset.version,
        "dataset_hash": dataset.hash, "n_problems": len(dataset.problems),
        "n_with_reference": len(jobs), "n_passed": len(jobs) - len(failing),
        "failing": failing,
        "no_reference": [t for t, p in dataset.problems.items() if not p.reference],
        "graded_in_sandbox": in_sandbox,
    }


def print_report(report: dict[str, Any]) -> None:
    console = Console(highlight=False)
    console.print(f"{report['dataset']} ({report['dataset_version']}): {report['n_passed']} of "
                  f"{report['n_with_reference']} reference solutions pass")
    if report["no_reference"]:
        console.print(f"{len(report['no_reference'])} problems have no reference solution")
    if report["failing"]:
        table = Table("task", "status", "why", title="failing reference solutions")
        for row in report["failing"]:
            table.add_row(row["task_id"], row["status"], row["detail"])
        console.print(table)
    if report["graded_in_sandbox"]:
        table = Table("task", "why", title="problems whose tests run inside the sandbox")
        for row in report["graded_in_sandbox"]:
            table.add_row(row["task_id"], row["reason"])
        console.print(table)


def cmd_validate(args: argparse.Namespace) -> int:
    from execeval.problems import load_dataset
    from execeval.sandbox import Limits, default_sandbox

    if not args.name and not args.problems:
        raise UserError("validate: name a dataset (e.g. mbpp) or give --problems FILE")
    dataset = load_dataset(args.name, args.data, args.problems, split=args.split,
                           challenge_tests=args.challenge_tests)
    sandbox = default_sandbox(Limits(timeout=args.timeout, memory_mb=args.memory))
    try:
        report = validate(dataset, sandbox, args.workers)
    finally:
        sandbox.close()
    print_report(report)
    if args.json:
        print(json.dumps(report))
    return 0
