"""MathQA-Python (Austin et al. 2021): word problems answered by a straight-line program.

Published rows: `task_id`, `text` (the question), `code` (a program that leaves its
result in `answer`), `answer` (the gold number), and `dsl_code`/`reasoning` (kept as
metadata). No copy ships with execeval and there is no hub mirror it relies on: pass
the published JSON (an array) or JSON lines with --data.
"""

from __future__ import annotations

import math
from pathlib import Path

from execeval.errors import UserError
from execeval.problems.model import Dataset, Problem
from execeval.problems.sources import field, file_digest, read_file_rows


def load(name: str, data: Path | None) -> Dataset:
    if data is None:
        raise UserError("dataset 'mathqa-python': pass --data PATH (the published MathQA-Python "
                        "JSON file: rows with task_id, text, code, answer)")
    problems: dict[str, Problem] = {}
    for line, row in read_file_rows(data):
        text = field(data, line, row, "text", str)
        code = field(data, line, row, "code", str)
        answer = field(data, line, row, "answer", int | float)
        if isinstance(answer, bool) or not math.isfinite(answer):
            raise UserError(f"{data}: task {row.get('task_id')!r}: answer is not a finite number")
        if "task_id" not in row:
            raise UserError(f"{data}" + (f":{line}" if line else "") + ": field 'task_id' is missing")
        task_id = f"MathQA/{row['task_id']}"
        if task_id in problems:
            raise UserError(f"{data}: duplicate task_id {row['task_id']!r}")
        problems[task_id] = Problem(
            task_id=task_id, prompt=text, entry_point=None, grader="mathqa",
            tests={"answer": float(answer)}, reference=code,
            metadata={"dsl_code": row.get("dsl_code", ""), "reasoning": row.get("reasoning", "")})
    if not problems:
        raise UserError(f"{data}: no problems in file")
    return Dataset(name=name, version=f"sha256:{file_digest(data)}", problems=problems,
                   source=str(data))
