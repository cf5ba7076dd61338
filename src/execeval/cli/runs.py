"""`execeval runs`, `show` and `samples`: what the store holds, read only (a missing
store is an error, never a new file); and `regrade`, which grades a stored run again
from the store alone."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import sys
from dataclasses import asdict
from typing import Any

from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from execeval.cli import flags
from execeval.cli.command import Command, add_json, add_store, console, print_json, store_of
from execeval.cli.grade import add_grading, finish, grade, print_summary
from execeval.errors import UserError
from execeval.models.base import Settings
from execeval.options import GradingOptions
from execeval.sandbox import Limits
from execeval.store import Store
from execeval.verdict import STATUSES

RESUME = "run the same command again to resume"


def add_runs(p: argparse.ArgumentParser) -> None:
    add_store(p)
    add_json(p)


def model_of(config: dict[str, Any]) -> str:
    """The model of a `run`; for `evaluate`, the name of the samples file it graded."""
    if "model" in config:
        return str(config["model"])
    return os.path.basename(str(config.get("samples", "")))


def settings_of(config: dict[str, Any]) -> str:
    """What tells a run from others of its model: n and temperature of a `run`, then any
    sampling setting, prompt choice or sandbox limit that is not the default."""
    s = config.get("settings") or {}
    parts = [f"n={s['n']}", f"T={s['temperature']:g}"] if s else []
    defaults = Settings().as_dict()
    parts += [f"{k}={json.dumps(v)}" for k, v in s.items()
              if k not in ("n", "temperature") and v != defaults.get(k)]
    if config.get("prompt_style") not in (None, "completion"):
        parts.append(str(config["prompt_style"]))
    if config.get("shots") is not None:
        parts.append(f"shots={config['shots']}")
    limits = asdict(Limits())
    parts += [f"{k}={v:g}" for k, v in (config.get("limits") or {}).items()
              if v != limits.get(k)]
    return " ".join(parts)


def runs(args: argparse.Namespace) -> int:
    """Newest first, as the viewer lists them; a table as wide as its cells, so no id,
    model or setting is ever cut or folded (rich would squeeze it into 80 columns)."""
    store = Store(store_of(args), read_only=True)
    try:
        found = store.runs()[::-1]
    finally:
        store.close()
    if args.json:
        print_json(found)
        return 0
    table = Table("run", "kind", "model", "settings", "dataset", "graded", "status", "pass@1",
                  "created")
    for r in found:
        first = (r["summary"] or {}).get("pass_at_k", {}).get("1")
        created = datetime.datetime.fromtimestamp(r["created"]).strftime("%Y-%m-%d %H:%M")
        table.add_row(r["run_id"], r["kind"], Text(model_of(r["config"])),  # no markup
                      Text(settings_of(r["config"])), Text(r["dataset"]),
                      f"{r['n_graded']}/{r['n_samples']}", r["status"],
                      "" if first is None else f"{first:.4f}", created)
    out = console(args)  # never narrower than the cells: a narrow terminal wraps the lines
    out.width = max(out.width, Measurement.get(out, out.options.update_width(10**6),
                                               table).maximum)
    out.print(table)
    out.print(f"{len(found)} runs in {store.path}", soft_wrap=True)
    stopped = sum(r["status"] == "interrupted" for r in found)
    if stopped:
        out.print(f"note: {stopped} interrupted (the process is gone): for each, {RESUME}",
                  soft_wrap=True)
    return 0


def add_run_id(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help="run id (a unique prefix is enough)")


def add_show(p: argparse.ArgumentParser) -> None:
    add_run_id(p)
    add_store(p)
    add_json(p)


def show(args: argparse.Namespace) -> int:
    from execeval import api

    run = api.load_run(args.run, store_of(args))
    if args.json:
        print_json(run.to_json())
        return 0
    out = console(args)
    out.print(f"run {run.run_id} ({run.kind}, {run.status}) on {run.dataset} "
              f"{run.dataset_version}")
    out.print("config: " + json.dumps(run.config, indent=2, sort_keys=True), markup=False,
              soft_wrap=True)
    if run.summary:
        print_summary(out, run.summary, stored=False)
        return 0
    store = Store(run.store, read_only=True)
    try:
        n, graded = store.progress(run.run_id)
    finally:
        store.close()
    state = ("was interrupted (its process is gone): " + RESUME if run.status == "interrupted"
             else "is still going")
    out.print(f"no summary yet: {graded} of {n} samples graded; the run {state}")
    return 0


def add_samples(p: argparse.ArgumentParser) -> None:
    add_run_id(p)
    p.add_argument("--status", choices=(*STATUSES, "pending"), metavar="STATUS",
                   help=f"only samples with this status: {', '.join(STATUSES)} or pending "
                   "(not graded yet)")
    p.add_argument("--task", metavar="ID",
                   help="only this task's samples (as the dataset spells it, or its number)")
    p.add_argument("--prompts", action="store_true",
                   help="add what the model was shown as `prompt` (style, template, text, "
                   "messages, stop)")
    add_store(p)


def task_of(given: str, tasks: list[str], run_id: str) -> str:
    """The run's own spelling of a task id, taken as `run --tasks` takes them: exactly,
    else the one task whose number (the part after the last slash) it names."""
    if given in tasks:
        return given
    prefix, _, tail = given.rpartition("/")
    found = [t for t in tasks if t.rpartition("/")[2].lower() == tail.lower()
             and (not prefix or t.rpartition("/")[0].lower() == prefix.lower())]
    if len(found) == 1:
        return found[0]
    if found:
        raise UserError(f"--task {given!r} names {len(found)} tasks of run {run_id} "
                        f"({', '.join(found)}); spell it out")
    shown = ", ".join(tasks[:3]) + (", ..." if len(tasks) > 3 else "")
    raise UserError(f"run {run_id} has no task {given!r} (its {len(tasks)} tasks: "
                    f"{shown or 'none'})")


def samples(args: argparse.Namespace) -> int:
    """A run's samples as JSON lines on stdout, streamed (pipe it into jq or head)."""
    store = Store(store_of(args), read_only=True)
    prompts: dict[str, dict[str, Any] | None] = {}  # each prompt read once
    try:
        run_id = store.run(args.run)["run_id"]
        task = None if args.task is None else task_of(args.task, store.task_ids(run_id), run_id)
        for s in store.samples(run_id, status=args.status, task_id=task):
            row = s.as_dict()
            if args.prompts:
                key = s.prompt_key
                if key is not None and key not in prompts:
                    prompts[key] = store.prompt(key)
                row["prompt"] = None if key is None else prompts[key]
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    finally:
        store.close()
    sys.stdout.flush()
    return 0


def add_regrade(p: argparse.ArgumentParser) -> None:
    add_run_id(p)
    p.add_argument("--data", metavar="PATH",
                   help="only for a run recorded before runs kept their problems (store schema "
                   "4): the file its dataset came from")
    add_grading(p)


def regrade(args: argparse.Namespace) -> int:
    from execeval import api

    options = flags.build(GradingOptions, args)
    given = {f.name: getattr(options, f.name) for f in dataclasses.fields(options)
             if f.name in vars(args)}  # the rest: the run's limits, the defaults
    result = grade(args, "verdicts", lambda: api.regrade(args.run, data=args.data, **given))
    return result if isinstance(result, int) else finish(args, result)


COMMANDS = (
    Command("runs", "list the stored runs, newest first", "execeval runs --store runs.sqlite",
            add_runs, runs),
    Command("show", "print one run's settings and summary", "execeval show 1a2b3c",
            add_show, show),
    Command("samples", "print a run's samples as JSON lines",
            "execeval samples 1a2b3c --status failed --task 4 | head", add_samples, samples),
    Command("regrade", "grade a stored run's programs again, on the problems it carries",
            "execeval regrade 1a2b3c --timeout 10", add_regrade, regrade),
)
