"""HumanEval+ and MBPP+ (Liu et al. 2023, EvalPlus): the original tests plus many more inputs.

A row holds inputs only (`base_input`: the original benchmark's, `plus_input`: the
added ones); expected outputs come from running `canonical_solution` (see
`execeval.judge.oracle`). `contract` is the inputs' precondition, kept as metadata: it
says which inputs are valid and is not part of grading a candidate. JSON cannot say
"tuple", "set" or "complex", so for some MBPP+ tasks EvalPlus rebuilds those types
from lists when it loads the file; `MBPP_INPUT_TYPES` does the same, task by task.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from execeval import metrics, summary
from execeval.benchmark import Benchmark, Loader
from execeval.benchmarks.sources import field, local_or_hub, place
from execeval.dataset import Dataset, Problem, by_task_id
from execeval.errors import UserError
from execeval.sandbox import codec
from execeval.verdict import Verdict

HUB = {"humaneval-plus": "evalplus/humanevalplus", "mbpp-plus": "evalplus/mbppplus"}
FLAVOUR = {"humaneval-plus": "humaneval", "mbpp-plus": "mbpp"}

Args = list[Any]


def _tuples_deep(x: Any) -> Any:
    return tuple(_tuples_deep(v) for v in x) if isinstance(x, list) else x


def _each_arg_tuple(a: Args) -> Args:
    return [tuple(v) for v in a]


def _each_arg_items_tuple(a: Args) -> Args:
    return [[tuple(v) for v in arg] for arg in a]


def _first_items_tuple(a: Args) -> Args:
    return [[tuple(v) for v in a[0]], a[1]]


def _first_tuple(a: Args) -> Args:
    return [tuple(a[0]), a[1]]


def _second_tuple(a: Args) -> Args:
    return [a[0], tuple(a[1])]


def _each_arg_tuple_of_tuples(a: Args) -> Args:
    return [tuple(tuple(v) for v in arg) for arg in a]


def _sets_or_empty_dict(a: Args) -> Args:
    # EvalPlus's own rule: an empty list becomes `{}` (an empty dict), as in its loader
    return [[set(v) if isinstance(v, list) and v else {} for v in a[0]]]


def _task_278(a: Args) -> Args:
    return [tuple(tuple(v) if isinstance(v, list) else v for v in a[0])]


def _task_307(a: Args) -> Args:
    return [tuple(a[0]), a[1], a[2]]


def _task_722(a: Args) -> Args:
    return [{k: tuple(v) for k, v in a[0].items()}, *a[1:]]


def _groups(ids: tuple[int, ...], fn: Callable[[Args], Args]) -> dict[int, Callable[[Args], Args]]:
    return dict.fromkeys(ids, fn)


# MBPP+ task number -> how its JSON arguments become the Python values the task takes
MBPP_INPUT_TYPES: dict[int, Callable[[Args], Args]] = {
    **_groups((2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596,
               616, 630, 726, 740, 744, 809), _each_arg_tuple),
    **_groups((63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780),
              _each_arg_items_tuple),
    **_groups((75, 413, 444, 753), _first_items_tuple),
    **_groups((106, 750), _second_tuple),
    **_groups((250, 405, 446, 617, 720, 763, 808), _first_tuple),
    **_groups((259, 401, 445), _each_arg_tuple_of_tuples),
    **_groups((580, 615, 791), lambda a: list(_tuples_deep(a))),
    115: _sets_or_empty_dict,
    124: lambda a: [float(a[0]), complex(a[1])],
    252: lambda a: [complex(a[0])],
    278: _task_278,
    307: _task_307,
    722: _task_722,
}


def typed_inputs(task_id: str, inputs: Any) -> list[Args]:
    """The published inputs as argument lists of the right Python types."""
    rows = list(inputs) if isinstance(inputs, list) else []  # Mbpp/793 has plus_input {}
    if not task_id.startswith("Mbpp/"):
        return rows
    convert = MBPP_INPUT_TYPES.get(int(task_id.rpartition("/")[2]))
    return [convert(list(a)) for a in rows] if convert else rows


def problem_from_row(row: dict[str, Any], flavour: str, source: object,
                     line: int | None) -> Problem:
    task_id = field(source, line, row, "task_id", str)
    prompt = field(source, line, row, "prompt", str)
    entry_point = field(source, line, row, "entry_point", str)
    canonical = field(source, line, row, "canonical_solution", str)
    for name in ("base_input", "plus_input"):
        if not isinstance(row.get(name), list | dict):
            raise UserError(f"{source} (task {task_id}): field '{name}' is missing or not a list")
    try:
        atol = float(row.get("atol") or 0)
        base = typed_inputs(task_id, row["base_input"])
        plus = typed_inputs(task_id, row["plus_input"])
    except (TypeError, ValueError, IndexError, AttributeError) as e:
        raise UserError(f"{source} (task {task_id}): malformed inputs ({e})") from None
    tests = {"flavour": flavour, "atol": atol,
             "base_input": [codec.to_plain(a) for a in base],
             "plus_input": [codec.to_plain(a) for a in plus]}
    metadata = {"contract": row.get("contract", ""), "assertion": row.get("assertion", ""),
                "base_test": row.get("test", "")}
    return Problem(task_id=task_id, prompt=prompt, entry_point=entry_point, grader="evalplus",
                   tests=tests, reference=prompt + canonical, code_prefix=prompt,
                   metadata=metadata)


def load(name: str, data: Path | None) -> Dataset:
    """HumanEval+ ("humaneval-plus") or MBPP+ ("mbpp-plus"): EvalPlus .jsonl(.gz) or the hub."""
    rows, source, version = local_or_hub(data, name, HUB[name])
    problems = by_task_id(((place(source, line), problem_from_row(row, FLAVOUR[name], source, line))
                           for line, row in rows), source)
    return Dataset(name=name, version=version, problems=problems, source=source)


class EvalPlusTally:
    """base pass@k beside the plus one (the run's `pass_at_k`), and how many samples pass
    base but not plus."""

    def __init__(self) -> None:
        self.base: dict[str, list[int]] = {}  # task -> [samples, passing base]
        self.base_only = 0

    def add(self, problem: Problem, verdict: Verdict) -> None:
        if problem.grader != "evalplus":
            return
        passed_base = bool(verdict.extra.get("base_passed"))
        counts = self.base.setdefault(problem.task_id, [0, 0])
        counts[0] += 1
        counts[1] += passed_base
        self.base_only += passed_base and not verdict.passed

    def result(self, ks: Sequence[int]) -> dict[str, Any]:
        counts = [(n, c) for n, c in self.base.values()]
        n_base = sum(c for _, c in counts)
        return {
            "base_pass_at_k": {str(k): x for k, x in metrics.mean_pass_at_k(counts, ks).items()},
            **(summary.intervals(counts, ks, prefix="base_") if counts else {}),
            "n_pass_base_fail_plus": self.base_only,
            "fraction_base_passers_failing_plus": self.base_only / n_base if n_base else 0.0,
        }


def display(s: Mapping[str, Any]) -> list[tuple[str, str]]:
    """`pass_at_k` above is plus; base beside it."""
    cis = s.get("base_pass_at_k_ci", {})
    rows = [(f"base pass@{k}", summary.with_ci(v, cis.get(k)))
            for k, v in s.get("base_pass_at_k", {}).items()]
    if "n_pass_base_fail_plus" in s:
        rows.append(("pass base, fail plus", str(s["n_pass_base_fail_plus"])))
    return rows


def _loader(name: str) -> Loader:
    return lambda data, options: load(name, data)


HUMANEVAL_PLUS, MBPP_PLUS = (
    Benchmark(name, description, _loader(name),
              tally=EvalPlusTally, display=display, hidden_packages=("evalplus", "datasets"))
    for name, description in (
        ("humaneval-plus", "HumanEval+ (EvalPlus): HumanEval with 80x more test inputs"),
        ("mbpp-plus", "MBPP+ (EvalPlus): sanitized MBPP tasks with more test inputs")))
