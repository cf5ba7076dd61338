"""Completion-style prompts, as the papers built them."""

from __future__ import annotations

from execeval.errors import UserError
from execeval.problems.model import Dataset, Problem
from execeval.prompts import HUMANEVAL_STOP, Prompt, has_mbpp_fields, is_mbpp, mbpp, shot_examples

TEMPLATE = "completion-v1"


def mbpp_paper(problem: Problem, shots: int | None) -> Prompt:
    """MBPP's paper prompt (execeval.prompts.mbpp); the paper's setting is 3 shots."""
    k = 3 if shots is None else shots
    try:
        text = mbpp.prompt(problem, k)
    except (ValueError, KeyError) as e:
        raise UserError(f"{problem.task_id}: no MBPP paper prompt with {k} shots ({e})") from None
    return Prompt("completion", f"mbpp-paper-{k}shot", text=text, stop=tuple(mbpp.STOP))


def build(dataset: Dataset, problem: Problem, shots: int | None) -> Prompt:
    """HumanEval: the prompt as is, the program is prompt + completion. Few-shot puts
    whole reference programs of other problems before it, separated by blank lines.
    MBPP problems that carry the paper's fields get the paper's prompt; others (MBPP+)
    their own prompt."""
    if is_mbpp(dataset) and has_mbpp_fields(problem):
        return mbpp_paper(problem, shots)
    k = shots or 0
    examples = [ex.reference.rstrip() + "\n\n\n" for ex in shot_examples(dataset, problem, k)]
    template = TEMPLATE if not k else f"{TEMPLATE}-{k}shot"
    # HumanEval's stops end a function; a text prompt (APPS) is answered by a whole script
    code_prompt = bool(problem.code_prefix) and problem.code_prefix == problem.prompt
    return Prompt("completion", template, text="".join(examples) + problem.prompt,
                  stop=HUMANEVAL_STOP if code_prompt else ())
