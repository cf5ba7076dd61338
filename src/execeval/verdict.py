"""The verdict record: plain data that the judge hands to the store, the summary and reports.

Kept free of imports so that the store (and anything that only reads runs) loads without
the sandbox or the graders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("passed", "failed", "error", "syntax_error", "timeout", "memory", "crash",
            "harness_error")


@dataclass(frozen=True)
class Verdict:
    """The outcome of one program on one problem.

    status: passed | failed (a wrong answer) | error (the program raised) | timeout |
    memory | crash (it died or exited) | syntax_error | harness_error (a bug of ours).
    """

    passed: bool
    status: str
    detail: str = ""
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
