"""The chat template (documented in docs/generation.md; change TEMPLATE when it changes).

A system message asks for one fenced Python block; the user message carries the
problem. Code prompts (HumanEval: a signature and docstring) are shown fenced and
asked to be completed; MBPP's task text and shown tests are shown as they are. Few-shot
examples are earlier user/assistant turns whose answers are reference programs (for
MBPP, the paper's three).
"""

from __future__ import annotations

from execeval.errors import UserError
from execeval.problems.model import Dataset, Problem
from execeval.prompts import Prompt, has_mbpp_fields, shot_examples

TEMPLATE = "chat-v1"

SYSTEM = ("You are an expert Python programmer. Answer with one complete, self-contained "
          "Python program in a single ```python code block.")

CODE_TASK = ("Complete the following Python function. Keep its name and signature, include "
             "the imports it needs, and give the whole function in one ```python code block."
             "\n\n```python\n{prompt}\n```")

TEXT_TASK = "{prompt}\n\nWrite the Python code in one ```python code block."


def user_message(problem: Problem) -> str:
    """Code prompts are the ones a program grows from (their code_prefix is the prompt);
    MBPP's are its task text and shown tests, without the completion format's [BEGIN]."""
    if problem.code_prefix and problem.code_prefix == problem.prompt:
        return CODE_TASK.format(prompt=problem.prompt.strip("\n"))
    if has_mbpp_fields(problem):
        meta = problem.metadata
        return TEXT_TASK.format(prompt=mbpp_task(meta["text"], meta["tests_shown"]))
    return TEXT_TASK.format(prompt=problem.prompt.strip())


def mbpp_task(text: str, tests: list[str]) -> str:
    return f"{text.strip()}\nYour code should pass these tests:\n\n" + "\n".join(tests)


def examples(dataset: Dataset, problem: Problem, shots: int) -> list[tuple[str, str]]:
    """(question, answer) pairs; MBPP's are the paper's (tasks 2, 3 and 4)."""
    fence = "```python\n{}\n```"
    if has_mbpp_fields(problem):
        shown = list(problem.metadata.get("mbpp_shots", []))
        if len(shown) < shots:
            raise UserError(f"{problem.task_id}: only {len(shown)} few-shot examples available")
        return [(TEXT_TASK.format(prompt=mbpp_task(e["text"], e["tests"])),
                 fence.format(e["code"].strip("\n"))) for e in shown[:shots]]
    return [(user_message(ex), fence.format(ex.reference.strip("\n")))
            for ex in shot_examples(dataset, problem, shots)]


def build(dataset: Dataset, problem: Problem, shots: int | None) -> Prompt:
    k = shots or 0
    messages: list[tuple[str, str]] = [("system", SYSTEM)]
    for question, answer in examples(dataset, problem, k):
        messages += [("user", question), ("assistant", answer)]
    messages.append(("user", user_message(problem)))
    template = TEMPLATE if not k else f"{TEMPLATE}-{k}shot"
    return Prompt("chat", template, messages=tuple(messages))
