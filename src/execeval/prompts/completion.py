"""Completion-style prompts, as the papers built them."""

from __future__ import annotations

from execeval.dataset import Dataset, Problem
from execeval.prompts import HUMANEVAL_STOP, Prompt, shot_examples

TEMPLATE = "completion-v1"


def build(dataset: Dataset, problem: Problem, shots: int | None) -> Prompt:
    """HumanEval: the prompt as is, the program is prompt + completion. Few-shot puts
    whole reference programs of other problems before it, separated by blank lines."""
    k = shots or 0
    examples = [ex.reference.rstrip() + "\n\n\n" for ex in shot_examples(dataset, problem, k)]
    template = TEMPLATE if not k else f"{TEMPLATE}-{k}shot"
    # HumanEval's stops end a function; a text prompt (APPS) is answered by a whole script
    code_prompt = bool(problem.code_prefix) and problem.code_prefix == problem.prompt
    return Prompt("completion", template, text="".join(examples) + problem.prompt,
                  stop=HUMANEVAL_STOP if code_prompt else ())
