"""Helpers shared by the core tests: JSONL files, the summary line, a toy problem."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def canonical_completion(problem: Any) -> str:
    """The completion that turns a problem's prefix into its reference solution."""
    return str(problem.reference[len(problem.code_prefix):])


def last_json(stdout: str) -> dict[str, Any]:
    return json.loads(stdout.strip().splitlines()[-1])


ADD_PROBLEM = {
    "task_id": "Toy/add",
    "prompt": "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n",
    "entry_point": "add",
    "canonical_solution": "    return a + b\n",
    "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n"
            "    assert candidate(2.5, 0.5) == 3.0\n",
}


SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def real_data(*parts: str) -> Path:
    """A published benchmark file in ../shared/data. CI always has that folder beside the
    clone, so there a missing file is a failure; elsewhere the test is skipped."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing: CI has ../shared/data beside the clone")
        pytest.skip(f"{path} is not here")
    return path
