"""User problem files (`--problems FILE`): one JSONL schema for a benchmark of your own.

Each line is one problem: `task_id`, `prompt` (what the model sees), `reference` (a
program that passes; used by `execeval validate` and the reference model), an optional
`code_prefix` (prepended to a `completion`), and tests of one `kind`:
- "call": `entry_point` and `tests`: [{"input": [args...], "output": value}, ...],
  optional `atol` for floats;
- "assert": `tests`: ["assert f(1) == 2", ...] and optional `setup` (imports), graded
  on the trusted side like MBPP;
- "stdio": `tests`: [{"input": "stdin text", "output": "expected stdout"}, ...].
Rows in HumanEval's schema (`canonical_solution` and `test` defining `check`) still
work as before. docs/benchmarks.md has an example file.
"""

from __future__ import annotations

from pathlib import Path
from types import UnionType
from typing import Any

from execeval.benchmark import Benchmark
from execeval.benchmarks import humaneval
from execeval.benchmarks.sources import file_digest
from execeval.dataset import Dataset, Problem, by_task_id
from execeval.errors import UserError, where
from execeval.jsonl import read_rows
from execeval.judge.asserts import plan_asserts

KINDS = ("call", "assert", "stdio")


def _need(path: Path, line: int, row: dict[str, Any], name: str,
          kind: type | UnionType | tuple[type, ...], what: str) -> Any:
    value = row.get(name)
    if not isinstance(value, kind):
        state = "missing" if name not in row else f"not {what}"
        raise UserError(f"{where(path, line)}: field '{name}' is {state}")
    return value


def _cases(path: Path, line: int, tests: list[Any], kind: str) -> list[dict[str, Any]]:
    for n, case in enumerate(tests):
        location = f"{where(path, line)}: tests[{n}]"
        if not isinstance(case, dict) or "input" not in case or "output" not in case:
            raise UserError(f"{location}: expected an object with 'input' and 'output'")
        if kind == "call" and not isinstance(case["input"], list):
            raise UserError(f"{location}: 'input' must be a list of arguments")
        if kind == "stdio" and not (isinstance(case["input"], str)
                                    and isinstance(case["output"], str)):
            raise UserError(f"{location}: stdio 'input' and 'output' must be strings")
    return [{"input": c["input"], "output": c["output"]} for c in tests]


def problem_from_row(path: Path, line: int, row: dict[str, Any]) -> Problem:
    if "test" in row and "canonical_solution" in row and "kind" not in row:
        missing = [k for k in humaneval.REQUIRED if not isinstance(row.get(k), str)]
        if missing:
            raise UserError(f"{where(path, line)}: missing or non-string field '{missing[0]}'")
        return humaneval.problem_from_row(row)
    task_id = str(_need(path, line, row, "task_id", str | int, "a string"))
    kind = _need(path, line, row, "kind", str, "a string")
    if kind not in KINDS:
        raise UserError(f"{where(path, line)}: field 'kind' is {kind!r}, not one of "
                        f"{', '.join(KINDS)}")
    prompt = _need(path, line, row, "prompt", str, "a string")
    reference = row.get("reference", "")
    if not isinstance(reference, str):
        raise UserError(f"{where(path, line)}: field 'reference' is not a string")
    tests = _need(path, line, row, "tests", list, "a list")
    if not tests:
        raise UserError(f"{where(path, line)}: field 'tests' is empty")
    prefix = row.get("code_prefix", "")
    if not isinstance(prefix, str):
        raise UserError(f"{where(path, line)}: field 'code_prefix' is not a string")
    entry_point = row.get("entry_point")
    if kind == "assert":
        if not all(isinstance(t, str) for t in tests):
            raise UserError(f"{where(path, line)}: assert tests must be strings")
        setup = row.get("setup", "")
        if not isinstance(setup, str):
            raise UserError(f"{where(path, line)}: field 'setup' is not a string")
        plan = plan_asserts(list(tests), setup, reference)
        return Problem(task_id, prompt, entry_point, "asserts", plan.as_tests(setup, list(tests)),
                       reference, prefix)
    if kind == "call":
        entry_point = _need(path, line, row, "entry_point", str, "a string")
    atol = row.get("atol", 0)
    if isinstance(atol, bool) or not isinstance(atol, int | float) or atol < 0:
        raise UserError(f"{where(path, line)}: field 'atol' must be a number >= 0")
    return Problem(task_id, prompt, entry_point, "io",
                   {"kind": kind, "cases": _cases(path, line, tests, kind), "atol": float(atol)},
                   reference, prefix)


def load(path: Path) -> Dataset:
    problems = by_task_id(((where(path, line), problem_from_row(path, line, row))
                           for line, row in read_rows(path)), str(path))
    return Dataset(name=f"file:{path.name}", version=f"sha256:{file_digest(path)}",
                   problems=problems, source=str(path))


def function_of(problem: Problem) -> str | None:
    """The function a program must define: the entry point, or the one the asserts call."""
    proxies = problem.tests.get("proxies") if isinstance(problem.tests, dict) else None
    return problem.entry_point or (proxies[0] if proxies else None)


def _load(data: Path | None, options: object) -> Dataset:
    if data is None:
        raise UserError("a problem file is needed: --problems FILE")
    return load(data)


FILE = Benchmark(
    "file", "your own problems (--problems FILE): HumanEval's schema or execeval's",
    _load, function=function_of)
