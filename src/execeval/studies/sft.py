"""Fine-tuning data from runs (Codex-S, Chen et al. 2021 section 6) and from MBPP's train split.

`sft_records`: the problems of stored runs with their verified-correct programs (those
the Executor passed), deduplicated by their syntax tree (comments and layout do not make
a new program), at most `per_problem` each, as completion pairs (the prompt the model
saw, the code it wrote) or chat messages. A problem of a benchmark's evaluation split is
refused unless `allow_eval_split`: training on it would contaminate every later score on
it. The guard (EVAL_SPLITS): HumanEval and HumanEval+ (all 164: there is no train split),
MBPP and sanitized MBPP tasks 11-510 (the test split, whatever split the run loaded),
MBPP+ (all: every task is one of its evaluation items), APPS (the loader reads the test
split), CRUXEval (all 800) and MathQA-Python (a user's copy may be the test file).
Problems from a user's problem file are allowed.

`mbpp_train_records`: MBPP's training split (tasks 601-974) in the paper's prompt format
for synthesis fine-tuning, zero-shot by default (the task, its tests, an open [BEGIN];
the reference code closed by [DONE]), plus execution-prediction pairs (a program and a
call, `assert f(args) == ` -> the value), whose outputs come from running the reference
in the sandbox through an Executor (the "outputs" grader below; a run of kind
"export-mbpp-train", so asking again costs nothing).
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from execeval.dataset import Dataset, Problem
from execeval.errors import UserError
from execeval.executor import Executor
from execeval.jsonl import output_path, write_rows
from execeval.judge import Grader, Verdict
from execeval.judge.session import Session
from execeval.prompts import mbpp as mbpp_prompt
from execeval.sandbox import Execution, ProgramFailure, Sandbox, codec
from execeval.studies import common
from execeval.studies.examples import Example, assert_examples, tested_names


def _mbpp_test(task_id: str) -> bool:
    number = task_id.rpartition("/")[2]
    return number.isdigit() and 11 <= int(number) <= 510


EVAL_SPLITS: dict[str, Callable[[str], bool]] = {
    "humaneval": lambda t: True,
    "humaneval-plus": lambda t: True,
    "mbpp": _mbpp_test,
    "mbpp-sanitized": _mbpp_test,
    "mbpp-plus": lambda t: True,
    "apps": lambda t: True,
    "cruxeval": lambda t: True,
    "cruxeval-o": lambda t: True,
    "cruxeval-i": lambda t: True,
    "mathqa-python": lambda t: True,
}


def in_eval_split(dataset: str, task_id: str) -> bool:
    """Whether a problem belongs to a benchmark's evaluation split (the contamination guard)."""
    guard = EVAL_SPLITS.get(dataset)
    return bool(guard and guard(task_id))


def dedup_key(program: str) -> str:
    """Equal for programs that differ only in comments and layout."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.unparse(ast.parse(program))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return program.strip()


def _terminated(code: str, stops: Sequence[str]) -> str:
    """A completion ends the way the prompt's format closes it ([DONE] for MBPP's); stops
    that are the start of the next statement (HumanEval's) are not part of it."""
    marker = next((s for s in stops if s.strip() and not s.startswith("\n")), None)
    return f"{code.rstrip()}\n{marker}" if marker else code


def _record(fmt: str, prompt: dict[str, Any], program: str, completion: str | None
            ) -> dict[str, Any]:
    text = prompt["text"]
    if fmt == "chat":
        messages = [{"role": r, "content": c} for r, c in prompt["messages"]] or \
            [{"role": "user", "content": text}]
        return {"messages": [*messages, {"role": "assistant",
                                         "content": f"```python\n{program.strip()}\n```"}]}
    if completion is None:
        completion = program[len(text):] if text and program.startswith(text) else program
    return {"prompt": text, "completion": _terminated(completion, prompt.get("stop") or ())}


def sft_records(runs: Sequence[str], *, store: common.StoreArg = None,
                fmt: str = "completion", per_problem: int | None = None,
                allow_eval_split: bool = False) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(records, report): each problem's verified-correct, deduplicated programs."""
    if fmt not in ("completion", "chat"):
        raise UserError(f"--format {fmt!r}: completion or chat")
    if per_problem is not None and per_problem < 1:
        raise UserError("--per-problem must be at least 1")
    records: list[dict[str, Any]] = []
    kept: dict[str, set[str]] = {}
    refused: set[str] = set()
    duplicates = 0
    with ExitStack() as stack:
        database = common.open_store(stack, store, read_only=True)  # export: only reads
        for run_id in runs:
            run = database.run(run_id)
            dataset: Dataset | None = None
            for s in database.samples(run["run_id"], status="passed"):
                key = f"{run['dataset']}/{s.task_id}"
                if not allow_eval_split and in_eval_split(run["dataset"], s.task_id):
                    refused.add(key)
                    continue
                prompt = database.prompt(s.prompt_key) if s.prompt_key else None
                if prompt is None:  # an evaluated samples file: the problem's own prompt
                    dataset = dataset or common.dataset_of_run(database, run)
                    prompt = {"text": dataset.problems[s.task_id].prompt, "messages": [],
                              "stop": []}
                seen = kept.setdefault(key, set())
                program = s.program or ""
                if dedup_key(program) in seen:
                    duplicates += 1
                    continue
                if per_problem is not None and len(seen) >= per_problem:
                    continue
                seen.add(dedup_key(program))
                records.append({"task_id": s.task_id, "dataset": run["dataset"],
                                "source_run": run["run_id"], "sample": s.sample,
                                **_record(fmt, prompt, program, s.record.get("completion"))})
    report = {"records": len(records), "problems": sum(1 for v in kept.values() if v),
              "duplicates_dropped": duplicates, "refused_problems": len(refused),
              "refused_examples": sorted(refused)[:5]}
    return records, report


# --- MBPP's train split: synthesis and execution pairs -----------------------------------

def grade_outputs(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    """Not a judgement: what the program returns on each input (plain data, in `extra`)."""
    name, inputs = problem.tests["function"], [codec.from_plain(a)
                                               for a in problem.tests["inputs"]]

    def setup(ex: Execution) -> None:
        ex.exec_program(program)

    outputs: list[Any] = []
    with Session(sandbox, setup) as session:
        for args in inputs:
            def call(ex: Execution, a: Any = args) -> Any:
                return ex.call(name, tuple(a))

            try:
                value = session.run(call, sandbox.limits.timeout)
                outputs.append({"value": codec.to_plain(value)})
            except ProgramFailure as f:
                outputs.append({"failure": f"{f.status}: {f.detail}"})
    return Verdict(True, "passed", extra={"outputs": outputs})


OUTPUTS = Grader("outputs", grade_outputs, self_timed=True)


def _calls(problem: Problem) -> list[Example]:
    """The calls a train task's tests make with literal arguments."""
    names = tested_names(problem) or {mbpp_prompt.tested_function(problem) or ""}
    found = [e for e in assert_examples(problem.tests["asserts"], names) if e is not None]
    return [e for e in found if e.function == found[0].function]


def mbpp_train_records(data: str | Path | None = None, *, shots: int = 0,
                       limit: int | None = None, store: common.StoreArg = None,
                       executor: Executor | str | None = None, workers: int | None = None,
                       ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(records, report): synthesis pairs, then execution-prediction pairs, for the train
    split's tasks (the first `limit`)."""
    from execeval.api import load_dataset
    from execeval.sandbox import Limits

    dataset = load_dataset("mbpp", data=data, split="train")
    problems = list(dataset.problems.values())[:limit]
    records = [{"task_id": p.task_id, "kind": "synthesis",
                "prompt": mbpp_prompt.prompt(p, shots),
                "completion": f"{p.reference.strip()}\n{mbpp_prompt.DONE}"}
               for p in problems]
    jobs, calls = [], []
    for p in problems:
        examples = _calls(p)
        if not examples:
            continue
        derived = Problem(task_id=p.task_id, prompt=p.prompt, entry_point=examples[0].function,
                          grader="outputs",
                          tests={"function": examples[0].function,
                                 "inputs": [codec.to_plain(list(e.args)) for e in examples]},
                          reference=p.reference)
        jobs.append(common.Job(derived, p.reference, {"role": "reference"}))
        calls.append((p, examples))
    with ExitStack() as stack:
        database = common.open_store(stack, store)  # the derived run is stored
        grader = common.open_executor(stack, executor, Limits(), workers)
        run_id, verdicts = common.grade_jobs("export-mbpp-train", dataset.version, jobs,
                                             database, grader, {"outputs_of": "reference"})
    failed = 0
    for (p, examples), v in zip(calls, verdicts, strict=True):
        for e, out in zip(examples, v.extra.get("outputs", []), strict=False):
            if "value" not in out:
                failed += 1
                continue
            value = codec.from_plain(out["value"])
            records.append({"task_id": p.task_id, "kind": "execution",
                            "prompt": f"{p.reference.strip()}\n\nassert {e.call_text()} == ",
                            "completion": repr(value), "program": p.reference,
                            "input": e.call_text(), "output": repr(value)})
    report = {"tasks": len(problems),
              "synthesis": sum(r["kind"] == "synthesis" for r in records),
              "execution": sum(r["kind"] == "execution" for r in records),
              "reference_failures": failed, "outputs_run": run_id}
    return records, report


def export_sft(runs: Sequence[str], out: Path, *, fmt: str = "completion",
               per_problem: int | None = None, allow_eval_split: bool = False,
               store: common.StoreArg = None) -> str:
    """`execeval export sft RUN [RUN ...] --out FILE [--format completion|chat]
    [--per-problem K] [--allow-eval-split]`: the records written to `out`; what to tell
    the user."""
    if not runs:
        raise UserError("export sft: name one or more runs")
    output_path(out)  # a missing folder is said before the runs are read
    records, report = sft_records(runs, store=store, fmt=fmt, per_problem=per_problem,
                                  allow_eval_split=allow_eval_split)
    if not records:
        hint = (f"; {report['refused_problems']} problems are in an evaluation split "
                "(--allow-eval-split to take them anyway)" if report["refused_problems"] else "")
        raise UserError(f"no verified-correct programs to export{hint}")
    write_rows(out, records)
    return (f"wrote {report['records']} records for {report['problems']} problems to {out} "
            f"({report['duplicates_dropped']} duplicates dropped, {report['refused_problems']} "
            "problems refused as evaluation data)")


def export_mbpp_train(out: Path, *, data: Path | None = None, store: common.StoreArg = None,
                      executor: Executor | str | None = None,
                      workers: int | None = None) -> str:
    """`execeval export mbpp-train --out FILE [--data mbpp.jsonl]`: the records written to
    `out`; what to tell the user."""
    output_path(out)  # a missing folder is said before the train split is graded
    records, report = mbpp_train_records(data, store=store, executor=executor,
                                         workers=workers)
    write_rows(out, records)
    return (f"wrote {report['synthesis']} synthesis and {report['execution']} execution pairs "
            f"for {report['tasks']} MBPP train tasks to {out} (outputs from the reference, "
            f"run {report['outputs_run']})")
