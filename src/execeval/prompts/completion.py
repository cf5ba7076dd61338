"""Completion-style prompts, as the papers built them."""

from __future__ import annotations

from typing import Any

from execeval.problems.model import Dataset, Problem
from execeval.prompts import HUMANEVAL_STOP, Prompt, is_mbpp, shot_examples

TEMPLATE = "completion-v1"


def mbpp_prompt(problem: Problem, shots: int) -> Prompt | None:
    """MBPP's paper prompt from prompts/mbpp.py (the Benchmarks side), when it exists."""
    try:
        from execeval.prompts import mbpp  # type: ignore[attr-defined]
    except ImportError:
        return None
    build: Any = getattr(mbpp, "paper_prompt", None)
    if build is None:
        return None
    text = build(problem, shots)
    stop = tuple(getattr(mbpp, "STOP", ()))
    return Prompt("completion", f"mbpp-paper-{shots}shot", text=text, stop=stop)


def build(dataset: Dataset, problem: Problem, shots: int) -> Prompt:
    """HumanEval: the prompt as is, the program is prompt + completion. Few-shot puts
    whole reference programs of other problems before it, separated by blank lines."""
    if is_mbpp(dataset):
        paper = mbpp_prompt(problem, shots)
        if paper is not None:
            return paper
    examples = [ex.reference.rstrip() + "\n\n\n" for ex in shot_examples(dataset, problem, shots)]
    template = TEMPLATE if not shots else f"{TEMPLATE}-{shots}shot"
    return Prompt("completion", template, text="".join(examples) + problem.prompt,
                  stop=HUMANEVAL_STOP)
