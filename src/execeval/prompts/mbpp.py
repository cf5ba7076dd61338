"""MBPP's prompt as Austin et al. (2021) wrote it, zero-shot or with the paper's 3 shots.

The format is the one of the MBPP README: the task text, then "Your code should pass
these tests:", a blank line, the asserts one per line, and the code between [BEGIN] and
[DONE]. The paper's 3-shot prompt shows tasks 2, 3 and 4 solved this way, then the
task with an open [BEGIN]; a model's answer ends at [DONE].
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

from execeval.dataset import Dataset, Problem
from execeval.errors import UserError
from execeval.prompts import Prompt, chat

BEGIN, DONE = "[BEGIN]", "[DONE]"
STOP = (DONE,)
SHOT_IDS = (2, 3, 4)


def task_block(text: str, tests: Sequence[str]) -> str:
    """The paper's description of one task: text and its tests (no code)."""
    return (f"You are an expert Python programmer, and here is your task: {text} "
            f"Your code should pass these tests:\n\n" + "\n".join(tests) + "\n")


def example_block(text: str, tests: Sequence[str], code: str) -> str:
    """A solved task, as shown in the few-shot prompt."""
    return task_block(text, tests) + f"{BEGIN}\n{code}\n{DONE}\n"


def build(text: str, tests: Sequence[str], examples: Sequence[dict[str, Any]]) -> str:
    """Solved `examples` ({text, tests, code}), then the task with an open [BEGIN]."""
    parts = [example_block(e["text"], e["tests"], e["code"]) for e in examples]
    parts.append(task_block(text, tests) + f"{BEGIN}\n")
    return "".join(parts)


def paper_examples(problem: Problem, shots: int) -> list[dict[str, Any]]:
    """The first `shots` of the paper's solved examples (tasks 2, 3, 4) the problem carries."""
    examples: list[dict[str, Any]] = list(problem.metadata.get("mbpp_shots", []))[:shots]
    if len(examples) < shots:
        raise UserError(f"{problem.task_id}: only {len(examples)} few-shot examples available")
    return examples


def prompt(problem: Problem, shots: int = 3) -> str:
    """The prompt for one MBPP problem: `shots` solved examples (0-3), then the open task."""
    meta = problem.metadata
    return build(meta["text"], meta["tests_shown"], paper_examples(problem, shots))


def chat_task(text: str, tests: Sequence[str]) -> str:
    """The chat template's user message for an MBPP task: its text and shown tests."""
    task = f"{text.strip()}\nYour code should pass these tests:\n\n" + "\n".join(tests)
    return chat.TEXT_TASK.format(prompt=task)


def build_prompt(dataset: Dataset, problem: Problem, style: str, shots: int | None) -> Prompt:
    """MBPP's prompt: the paper's format in completion style, the chat template with the
    same task text, shown tests and solved examples in chat style; 3 shots by default."""
    k = 3 if shots is None else shots
    if style == "chat":
        meta = problem.metadata
        pairs = [(chat_task(e["text"], e["tests"]), chat.FENCE.format(e["code"].strip("\n")))
                 for e in paper_examples(problem, k)]
        return chat.conversation(pairs, chat_task(meta["text"], meta["tests_shown"]), k)
    return Prompt("completion", f"mbpp-paper-{k}shot", text=prompt(problem, k), stop=STOP)


def tested_function(problem: Problem) -> str | None:
    """The function a problem's shown asserts call (MBPP names no entry point): the first
    name called in the first `assert`."""
    tests = problem.metadata.get("tests_shown") or []
    try:
        tree = ast.parse(tests[0]) if tests and isinstance(tests[0], str) else None
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return node.func.id
    return None


def extract_program(generation: str) -> str:
    """The code a model wrote: after a [BEGIN] it may have repeated, up to the first [DONE]."""
    text = generation
    if BEGIN in text:
        text = text.split(BEGIN, 1)[1]
    return text.split(DONE, 1)[0].strip("\n") + "\n"
