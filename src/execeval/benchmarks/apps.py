"""APPS (Hendrycks et al. 2021): competitive-programming problems with many tests each.

Rows as published (codeparrot/apps, or JSONL with the same fields): `problem_id`,
`difficulty`, `question`, `starter_code`, `input_output` (a JSON string with `inputs`,
`outputs` and, for call-based problems, `fn_name`), and optionally `solutions` (a JSON
string list: the first one is the reference). The prompt is the APPS paper's
("QUESTION:", the question, the starter code, the format, "ANSWER:").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from execeval.benchmark import Benchmark
from execeval.benchmarks.sources import field, local_or_hub, place
from execeval.dataset import Dataset, Problem, by_task_id
from execeval.errors import UserError
from execeval.verdict import Verdict

HUB = "codeparrot/apps"
DIFFICULTIES = ("introductory", "interview", "competition")


def _json_field(row: dict[str, Any], name: str, where: str) -> Any:
    value = row.get(name)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError as e:
            raise UserError(f"{where}: field '{name}' is not valid JSON ({e.msg})") from None
    return value


def apps_prompt(question: str, starter: str, call_based: bool) -> str:
    """The APPS paper's prompt for one problem."""
    text = "\nQUESTION:\n" + question
    if starter:
        text += "\n" + starter
    text += "\nUse Call-Based format" if call_based else "\nUse Standard Input format"
    return text + "\nANSWER:\n"


def problem_from_row(row: dict[str, Any], source: object, line: int | None) -> Problem | None:
    """A Problem, or None for a row without tests (APPS's training split has some)."""
    where = f"{source}:{line}" if line else f"{source} (problem {row.get('problem_id')!r})"
    if "problem_id" not in row:
        raise UserError(f"{where}: field 'problem_id' is missing")
    question = field(source, line, row, "question", str)
    cases = _json_field(row, "input_output", where)
    if cases is None:
        return None
    if not isinstance(cases, dict) or not isinstance(cases.get("inputs"), list) \
            or not isinstance(cases.get("outputs"), list):
        raise UserError(f"{where}: input_output needs lists 'inputs' and 'outputs'")
    if len(cases["inputs"]) != len(cases["outputs"]):
        raise UserError(f"{where}: input_output has {len(cases['inputs'])} inputs but "
                        f"{len(cases['outputs'])} outputs")
    fn_name = cases.get("fn_name") or None
    starter = row.get("starter_code") or ""
    solutions = _json_field(row, "solutions", where) or []
    reference = solutions[0] if isinstance(solutions, list) and solutions else ""
    return Problem(
        task_id=f"APPS/{row['problem_id']}",
        prompt=apps_prompt(question, starter, fn_name is not None),
        entry_point=fn_name,
        grader="apps",
        tests={"fn_name": fn_name, "inputs": cases["inputs"], "outputs": cases["outputs"]},
        reference=reference,
        metadata={"difficulty": row.get("difficulty") or "unknown", "starter_code": starter,
                  "n_tests": len(cases["inputs"])},
    )


def load(name: str, data: Path | None) -> Dataset:
    """APPS test problems from --data (JSONL rows) or the hub's test split."""
    rows, source, version = local_or_hub(data, name, HUB, data_file="test.jsonl")
    problems = by_task_id(((place(source, line), p) for line, row in rows
                           if (p := problem_from_row(row, source, line)) is not None), source)
    return Dataset(name=name, version=version, problems=problems, source=source)


class AppsTally:
    """Strict accuracy and test-case average, overall and per difficulty. With n samples
    a problem counts the mean over its samples (for one sample per problem, exactly the
    paper's definitions)."""

    def __init__(self) -> None:
        self.per_task: dict[str, list[float]] = {}  # task -> [samples, passed, test share,
        #                                                       syntax errors]
        self.level: dict[str, str] = {}

    def add(self, problem: Problem, verdict: Verdict) -> None:
        sums = self.per_task.setdefault(problem.task_id, [0, 0.0, 0.0, 0])
        total = verdict.extra.get("tests_total")
        sums[0] += 1
        sums[1] += verdict.passed
        sums[2] += (verdict.extra.get("tests_passed", 0) / total if total
                    else float(verdict.passed))
        sums[3] += verdict.status == "syntax_error"
        self.level[problem.task_id] = str(problem.metadata.get("difficulty"))

    def _metrics(self, tasks: list[str]) -> dict[str, Any]:
        from execeval import stats

        strict = [self.per_task[t][1] / self.per_task[t][0] for t in tasks]
        average = [self.per_task[t][2] / self.per_task[t][0] for t in tasks]
        samples = sum(self.per_task[t][0] for t in tasks)
        out: dict[str, Any] = {"n_problems": len(tasks),
                               "strict_accuracy": sum(strict) / len(tasks) if tasks else 0.0,
                               "test_case_average": sum(average) / len(tasks) if tasks else 0.0,
                               "syntax_error_rate": (sum(self.per_task[t][3] for t in tasks)
                                                     / samples if samples else 0.0)}
        if tasks:  # problems are the unit of resampling, as for pass@k
            for name, iv in stats.per_problem_intervals(
                    {"strict_accuracy": strict, "test_case_average": average}).items():
                out[f"{name}_ci"] = iv.as_list()
        return out

    def result(self, ks: Sequence[int]) -> dict[str, Any]:
        overall = self._metrics(list(self.per_task))
        for key in ("n_problems", "syntax_error_rate"):  # the run's own keys say these
            overall.pop(key)
        levels = sorted(set(self.level.values()), key=lambda d: (*DIFFICULTIES, d).index(d))
        by_difficulty = {lv: self._metrics([t for t, x in self.level.items() if x == lv])
                         for lv in levels}
        return {**overall, "by_difficulty": by_difficulty}


def display(s: Mapping[str, Any]) -> list[tuple[str, str]]:
    if "strict_accuracy" not in s:
        return []
    from execeval.summary import with_ci

    rows = [("strict accuracy", with_ci(s["strict_accuracy"], s.get("strict_accuracy_ci"))),
            ("test case average", with_ci(s["test_case_average"], s.get("test_case_average_ci")))]
    for level, m in s.get("by_difficulty", {}).items():
        rows.append((f"  {level} ({m['n_problems']})", f"strict {m['strict_accuracy']:.4f}, "
                     f"tests {m['test_case_average']:.4f}, "
                     f"syntax errors {m['syntax_error_rate']:.4f}"))
    return rows


APPS = Benchmark(
    "apps", "APPS test split (Hendrycks et al. 2021): strict accuracy, test-case average",
    lambda data, options: load("apps", data), tally=AppsTally, display=display,
    hidden_packages=("apps", "datasets"))
