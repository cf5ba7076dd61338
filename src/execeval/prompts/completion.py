"""Completion-style prompts, as the papers built them."""

from __future__ import annotations

from execeval.errors import UserError
from execeval.problems.model import Dataset, Problem
from execeval.prompts import HUMANEVAL_STOP, Prompt, is_mbpp, shot_examples

TEMPLATE = "completion-v1"


def mbpp_prompt(problem: Problem, shots: int) -> Prompt | None:
    """MBPP's paper prompt from prompts/mbpp.py (the Benchmarks side) for problems that
    carry the paper's fields; others (e.g. MBPP+ rows) fall back to Problem.prompt."""
    try:
        from execeval.prompts import mbpp
    except ImportError:
        return None
    if "text" not in problem.metadata:
        return None
    try:
        text = mbpp.prompt(problem, shots)
    except (ValueError, KeyError) as e:
        raise UserError(f"{problem.task_id}: no MBPP paper prompt with {shots} shots ({e})") from None
    return Prompt("completion", f"mbpp-paper-{shots}shot", text=text, stop=tuple(mbpp.STOP))


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
