"""Prompts: what a model is shown for a problem, in completion or chat style.

Completion style is what the papers did: HumanEval's prompt as is (Chen et al. 2021),
MBPP's paper format (execeval.prompts.mbpp). Each benchmark chooses its builder
(`Benchmark.prompt`); `execeval.benchmark.standard_prompt` serves those that need nothing
special. Chat style wraps the same material in the documented template of
execeval.prompts.chat. The template name and version go into every stored generation's
address.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from execeval.dataset import Dataset, Problem
from execeval.errors import UserError

STYLES = ("completion", "chat")

# Chen et al. 2021 (Codex), section 2.3: stop at a new top-level statement.
HUMANEVAL_STOP = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")


@dataclass(frozen=True)
class Prompt:
    """Completion style has `text`; chat style has `messages` as (role, content) pairs."""

    style: str
    template: str
    text: str = ""
    messages: tuple[tuple[str, str], ...] = ()
    stop: tuple[str, ...] = ()  # this prompt's own stops (used when the run gives none)

    def key(self) -> str:
        """Its address (stops are left out: they address generations through the settings)."""
        blob = json.dumps([self.style, self.template, self.text, self.messages], ensure_ascii=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def record(self) -> dict[str, Any]:
        return {"style": self.style, "template": self.template, "text": self.text,
                "messages": [list(m) for m in self.messages], "stop": list(self.stop)}

    def chat_messages(self) -> list[dict[str, str]]:
        return [{"role": r, "content": c} for r, c in self.messages]


def shot_examples(dataset: Dataset, problem: Problem, shots: int) -> list[Problem]:
    """The first `shots` problems of the dataset other than this one (HumanEval has no
    standard few-shot set; MBPP's paper set lives in prompts/mbpp.py)."""
    if shots < 0:
        raise UserError("--shots must be 0 or more")
    others = [p for p in dataset.problems.values() if p.task_id != problem.task_id]
    return others[:shots]
