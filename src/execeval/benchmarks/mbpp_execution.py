"""MBPP execution prediction (Austin et al. 2021): given a program and an input, predict
the output. Each MBPP task gives a problem: its reference program and the call of its
first test whose assert has the form `assert fn(args) == expected`; the answer is a
Python literal, compared with the real output of running the call in the sandbox
(graded like CRUXEval-O, execeval.benchmarks.cruxeval). With the loader option
`examples=2` the prompt also shows two other input/output pairs of the same program, as
the paper's "with example input/output pairs" setting does. An answer is read with
`ast.literal_eval` on the trusted side, never run: a literal or nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from execeval.benchmark import Benchmark
from execeval.benchmarks import cruxeval, mbpp
from execeval.dataset import Dataset, Problem
from execeval.errors import UserError
from execeval.prompts import Prompt, chat


def call_and_value(assertion: str) -> tuple[str, str, str] | None:
    """(function, call, expected) of `assert fn(args) == expected` (either side), else None."""
    try:
        tree = ast.parse(assertion)
    except (SyntaxError, ValueError):
        return None
    test = tree.body[0].test if len(tree.body) == 1 and isinstance(tree.body[0], ast.Assert) \
        else None
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)):
        return None
    for call, value in ((test.left, test.comparators[0]), (test.comparators[0], test.left)):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and not any(
                isinstance(n, ast.Call) for n in ast.walk(value)):
            call_src, value_src = (ast.get_source_segment(assertion, call),
                                   ast.get_source_segment(assertion, value))
            if call_src and value_src:
                return call.func.id, call_src, value_src
    return None


def problem_of(task: Problem, examples: int) -> Problem | None:
    found = [c for c in map(call_and_value, task.metadata["tests_shown"]) if c is not None]
    if not found or len(found) < 1 + examples:
        return None
    (function, call, value), shown = found[0], found[1:1 + examples]
    setup = task.tests.get("setup", "") if isinstance(task.tests, dict) else ""
    # the test's own setup after the program: it may build objects with its classes
    code = task.reference.rstrip("\n") + ("\n" + setup.rstrip("\n") if setup.strip() else "")
    pairs = "".join(f"assert {c} == {v}\n" for _, c, v in shown)
    prompt = f"{code}\n{pairs}assert {call} =="
    return Problem(
        task_id=task.task_id, prompt=prompt, entry_point=None, grader=cruxeval.GRADER_NAME,
        # `output` is the call itself: the expected value is what running it gives
        tests={"mode": "output", "code": code, "input": call[len(function) + 1:-1], "output": call,
               "fn": function, "call": call, "shown": [[c, v] for _, c, v in shown],
               "literal_answers": True},
        reference=value, metadata={"examples": examples, "split": task.metadata.get("split")})


def load(data: Path | None, options: Mapping[str, Any]) -> Dataset:
    examples = int(options.get("examples", 0))
    if examples not in (0, 2):
        raise UserError(f"MBPP execution prediction shows 0 or 2 examples, not {examples}")
    source = mbpp.load("mbpp", data, split=options.get("split", "test"))
    problems = {p.task_id: p for t in source.problems.values()
                if (p := problem_of(t, examples)) is not None}
    return Dataset("mbpp-execution", f"{source.version} examples={examples}", problems,
                   source.source)


def build_prompt(dataset: Dataset, problem: Problem, style: str, shots: int | None) -> Prompt:
    t = problem.tests
    if style == "chat":
        shown = "".join(f"\n`{c}` returns `{v}`." for c, v in t["shown"])
        question = (f"Here is a Python program.{shown and ' For example:'}{shown}\n\nWhat does "
                    f"`{t['call']}` return? Give the value as a Python literal between "
                    f"[ANSWER] and [/ANSWER].\n\n```python\n{t['code']}\n```")
        return chat.conversation([], question, 0)
    text = f"# Complete the last assertion with the value that {t['fn']} returns.\n"
    return Prompt("completion", f"mbpp-execution-v1-{len(t['shown'])}ex",
                  text=text + problem.prompt, stop=("\n",))


MBPP_EXECUTION = Benchmark(
    "mbpp-execution", "MBPP execution prediction: a program and an input, predict the output",
    load, options=frozenset({"split", "examples"}), prompt=build_prompt,
    extract=cruxeval.extract_answer, hidden_packages=("datasets",))
