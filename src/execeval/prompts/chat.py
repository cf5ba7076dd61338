"""The chat template (documented in docs/generation.md; change TEMPLATE when it changes).

A system message asks for one fenced Python block; the user message carries the
problem. Code prompts (HumanEval: a signature and docstring) are shown fenced and
asked to be completed; text prompts (MBPP) are shown as they are. Few-shot examples
are earlier user/assistant turns whose answers are the reference programs.
"""

from __future__ import annotations

from execeval.problems.model import Dataset, Problem
from execeval.prompts import Prompt, shot_examples

TEMPLATE = "chat-v1"

SYSTEM = ("You are an expert Python programmer. Answer with one complete, self-contained "
          "Python program in a single ```python code block.")

CODE_TASK = ("Complete the following Python function. Keep its name and signature, include "
             "the imports it needs, and give the whole function in one ```python code block."
             "\n\n```python\n{prompt}\n```")

TEXT_TASK = "{prompt}\n\nWrite the Python code in one ```python code block."


def user_message(problem: Problem) -> str:
    """Code prompts are the ones a program grows from (their code_prefix is the prompt)."""
    if problem.code_prefix and problem.code_prefix == problem.prompt:
        return CODE_TASK.format(prompt=problem.prompt.strip("\n"))
    return TEXT_TASK.format(prompt=problem.prompt.strip())


def assistant_answer(problem: Problem) -> str:
    return f"```python\n{problem.reference.strip(chr(10))}\n```"


def build(dataset: Dataset, problem: Problem, shots: int) -> Prompt:
    messages: list[tuple[str, str]] = [("system", SYSTEM)]
    for ex in shot_examples(dataset, problem, shots):
        messages += [("user", user_message(ex)), ("assistant", assistant_answer(ex))]
    messages.append(("user", user_message(problem)))
    template = TEMPLATE if not shots else f"{TEMPLATE}-{shots}shot"
    return Prompt("chat", template, messages=tuple(messages))
