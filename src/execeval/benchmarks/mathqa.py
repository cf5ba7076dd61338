"""MathQA-Python (Austin et al. 2021): word problems answered by a straight-line program.

Published rows: `task_id`, `text` (the question), `code` (a program that leaves its
result in `answer`), `answer` (the gold number), and `dsl_code`/`reasoning` (kept as
metadata). No copy ships with execeval and there is no hub mirror it relies on: pass
the published JSON (an array) or JSON lines with --data.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from execeval.benchmark import Benchmark
from execeval.benchmarks.sources import field, file_digest, place, read_file_rows
from execeval.dataset import Dataset, Problem, by_task_id
from execeval.errors import UserError


def load(name: str, data: Path | None) -> Dataset:
    if data is None:
        raise UserError("dataset 'mathqa-python': pass --data PATH (the published MathQA-Python "
                        "JSON file: rows with task_id, text, code, answer)")
    problems = by_task_id(((place(data, line), problem_from_row(data, line, row))
                           for line, row in read_file_rows(data)), str(data))
    return Dataset(name=name, version=f"sha256:{file_digest(data)}", problems=problems,
                   source=str(data))


def problem_from_row(data: Path, line: int | None, row: dict[str, Any]) -> Problem:
    """One MathQA-Python row: `code` computes `answer`."""
    text = field(data, line, row, "text", str)
    code = field(data, line, row, "code", str)
    answer = field(data, line, row, "answer", int | float)
    if isinstance(answer, bool) or not math.isfinite(answer):
        raise UserError(f"{data}: task {row.get('task_id')!r}: answer is not a finite number")
    if "task_id" not in row:
        raise UserError(f"{place(data, line)}: field 'task_id' is missing")
    task_id = f"MathQA/{row['task_id']}"
    return Problem(
        task_id=task_id, prompt=text, entry_point=None, grader="mathqa",
        tests={"answer": float(answer)}, reference=code,
        metadata={"dsl_code": row.get("dsl_code", ""), "reasoning": row.get("reasoning", "")})


MATHQA_PYTHON = Benchmark(
    "mathqa-python", "MathQA-Python (Austin et al. 2021): programs that compute an answer",
    lambda data, options: load("mathqa-python", data))
