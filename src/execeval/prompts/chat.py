"""The chat template (documented in docs/generation.md; change TEMPLATE when it changes).

A system message asks for one fenced Python block; the user message carries the
problem. Code prompts (HumanEval: a signature and docstring) are shown fenced and
asked to be completed; text prompts as they are (MBPP's task text and shown tests:
execeval.prompts.mbpp). Few-shot examples are earlier user/assistant turns whose answers
are reference programs (for MBPP, the paper's three).
"""

from __future__ import annotations

from execeval.dataset import Dataset, Problem
from execeval.prompts import Prompt, shot_examples

TEMPLATE = "chat-v1"

SYSTEM = ("You are an expert Python programmer. Answer with one complete, self-contained "
          "Python program in a single ```python code block.")

CODE_TASK = ("Complete the following Python function. Keep its name and signature, include "
             "the imports it needs, and give the whole function in one ```python code block."
             "\n\n```python\n{prompt}\n```")

TEXT_TASK = "{prompt}\n\nWrite the Python code in one ```python code block."
FENCE = "```python\n{}\n```"


def user_message(problem: Problem) -> str:
    """Code prompts are the ones a program grows from (their code_prefix is the prompt)."""
    if problem.code_prefix and problem.code_prefix == problem.prompt:
        return CODE_TASK.format(prompt=problem.prompt.strip("\n"))
    return TEXT_TASK.format(prompt=problem.prompt.strip())


def conversation(examples: list[tuple[str, str]], question: str, shots: int) -> Prompt:
    """The system message, solved examples as earlier turns, then the question."""
    messages: list[tuple[str, str]] = [("system", SYSTEM)]
    for q, answer in examples:
        messages += [("user", q), ("assistant", answer)]
    messages.append(("user", question))
    template = TEMPLATE if not shots else f"{TEMPLATE}-{shots}shot"
    return Prompt("chat", template, messages=tuple(messages))


def build(dataset: Dataset, problem: Problem, shots: int | None) -> Prompt:
    k = shots or 0
    examples = [(user_message(ex), FENCE.format(ex.reference.strip("\n")))
                for ex in shot_examples(dataset, problem, k)]
    return conversation(examples, user_message(problem), k)
