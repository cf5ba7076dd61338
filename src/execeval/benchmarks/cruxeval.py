"""CRUXEval (Gu et al. 2024): execution prediction on 800 short Python functions.

Each row is a function `f` (`code`), an argument text (`input`) and the literal that
`f(input)` returns (`output`), all strings. CRUXEval-O (`cruxeval`, `cruxeval-o`) asks
for the output given the input; CRUXEval-I (`cruxeval-i`) for an input giving the
output, as a call `f(...)`. Upstream grades a prediction `g` by running
`code + "\\nassert " + output + " == " + g`. A prediction is model-written code, so here it
is evaluated only in the sandbox, after `code`, and handed back as plain data; the
comparison with the expected value happens on the trusted side (docs/benchmarks.md says
where this differs from upstream: never for an honest prediction).

This module is the whole benchmark: loader, prompts, answer extraction and grader.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from execeval.benchmark import Benchmark
from execeval.benchmarks.sources import field, local_or_hub, place
from execeval.dataset import Dataset, Problem, by_task_id
from execeval.extract import Extracted, strip_thinking, truncate_at_stop
from execeval.judge import Grader, failure_verdict
from execeval.prompts import Prompt, chat, shot_examples
from execeval.sandbox import ProgramFailure, Sandbox
from execeval.verdict import Verdict

HUB = "cruxeval-org/cruxeval"
GRADER_NAME = "cruxeval"
VALUE_FN = "__execeval_value__"
ANSWER = re.compile(r"\[ANSWER\](.*?)(?:\[/ANSWER\]|\Z)", re.DOTALL)
FENCED = re.compile(r"```[\w+.-]*[^\n]*\n(.*?)```", re.DOTALL)

# ---- loading ---------------------------------------------------------------------------


def problem_from_row(row: dict[str, Any], mode: str, source: object,
                     line: int | None) -> Problem:
    code, given, output = (field(source, line, row, name, str)
                           for name in ("code", "input", "output"))
    task_id = str(field(source, line, row, "id", str))
    if mode == "output":  # the model continues `assert f(input) ==` with the literal
        prompt, prefix, reference = f"{code}\nassert f({given}) ==", "", output
    else:  # ... or `assert output == f(` with the arguments and `)`
        prompt, prefix, reference = f"{code}\nassert {output} == f(", "f(", f"f({given})"
    return Problem(task_id=task_id, prompt=prompt, entry_point=None, grader=GRADER_NAME,
                   tests={"mode": mode, "code": code, "input": given, "output": output,
                          "fn": "f", "call": f"f({given})"},
                   reference=reference, code_prefix=prefix, metadata={"mode": mode})


def load(name: str, mode: str, data: Path | None) -> Dataset:
    rows, source, version = local_or_hub(data, name, HUB)
    problems = by_task_id(((place(source, line), problem_from_row(row, mode, source, line))
                           for line, row in rows), source)
    return Dataset(name=name, version=version, problems=problems, source=source)


# ---- prompts ---------------------------------------------------------------------------

INSTRUCTION = {
    "output": "# Complete the assertion with the literal value that f returns.\n",
    "input": "# Complete the assertion with arguments for which f returns the given value.\n",
}
QUESTION = {
    "output": ("What does `{call}` return for this Python function? Give the value as a "
               "Python literal between [ANSWER] and [/ANSWER], for example "
               "[ANSWER] [1, 'a'] [/ANSWER].\n\n```python\n{code}\n```"),
    "input": ("Find arguments for which this Python function returns `{output}`. Give the "
              "call between [ANSWER] and [/ANSWER], for example [ANSWER] f(1, 'a') [/ANSWER]."
              "\n\n```python\n{code}\n```"),
}


def solved(p: Problem) -> str:
    """A problem with its answer in place: the few-shot example of completion prompts."""
    t = p.tests
    return f"{t['code']}\nassert {t['call']} == {t['output']}\n" if t["mode"] == "output" \
        else f"{t['code']}\nassert {t['output']} == {t['call']}\n"


def build_prompt(dataset: Dataset, problem: Problem, style: str, shots: int | None) -> Prompt:
    """Completion: the instruction, `shots` solved problems, then the open assertion (one
    line is one answer: stop at the newline). Chat: the question, with solved examples as
    earlier turns."""
    mode, k = problem.tests["mode"], shots or 0
    examples = shot_examples(dataset, problem, k)
    if style == "chat":
        pairs = [(QUESTION[mode].format(**e.tests), f"[ANSWER] {e.reference} [/ANSWER]")
                 for e in examples]
        return chat.conversation(pairs, QUESTION[mode].format(**problem.tests), k)
    text = INSTRUCTION[mode] + "".join(solved(e) + "\n" for e in examples) + problem.prompt
    return Prompt("completion", f"cruxeval-{mode}-v1" + (f"-{k}shot" if k else ""),
                  text=text, stop=("\n",))


# ---- extraction: the prediction is an expression, not a program -------------------------


def expression_of(text: str, mode: str, fn: str = "f") -> str:
    """The prediction in an answer: the [ANSWER] span, else the last fenced block, else the
    text; a repeated `assert ... == ...` is reduced to the side being predicted."""
    text = text.strip()
    if (found := ANSWER.findall(text)) or (found := FENCED.findall(text)):
        text = found[-1].strip()
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return text
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Assert):
        test = tree.body[0].test
        if isinstance(test, ast.Compare) and len(test.comparators) == 1:
            left, right = ast.get_source_segment(text, test.left), \
                ast.get_source_segment(text, test.comparators[0])
            calls_f = f"{fn}(" in (left or "")
            if mode == "output":
                return (right if calls_f else left) or text
            return (left if calls_f else right) or text
    return text


def extract_answer(problem: Problem, text: str, is_chat: bool,
                   stop: tuple[str, ...]) -> Extracted:
    body, thought = strip_thinking(text)
    steps = ["thinking"] if thought else []
    if is_chat:
        expression = expression_of(body, problem.tests["mode"], problem.tests["fn"])
        steps.insert(0, "answer")
    else:  # the completion continues the prompt's open assertion
        completion, stopped = truncate_at_stop(body, stop)
        steps.insert(0, "completion" + ("+stop" if stopped else ""))
        expression = problem.code_prefix + completion.strip()
    return Extracted(expression.strip(), "+".join(steps), empty=not expression.strip(),
                     parseable=parses_as_expression(expression.strip()))


def parses_as_expression(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


# ---- grading ---------------------------------------------------------------------------


def value_in_sandbox(code: str, expression: str, sandbox: Sandbox) -> Any:
    """`expression` evaluated after `code`, in the sandbox; back as plain data."""
    with sandbox.start() as execution:
        execution.exec_program(code)
        execution.exec_program(f"def {VALUE_FN}():\n    return (\n{expression}\n)\n",
                               name="__program__")
        return execution.call(VALUE_FN, ())


def expected_value(problem: Problem, sandbox: Sandbox) -> Any:
    """The output literal, read here; an output that is not a literal (CRUXEval's few
    `float('inf')`, or the call itself where the real output is wanted) is evaluated in the
    sandbox after the code, like a prediction (the benchmark's text, but still code)."""
    try:
        return ast.literal_eval(problem.tests["output"])
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return value_in_sandbox(problem.tests["code"], problem.tests["output"], sandbox)


def grade_prediction(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    t, prediction = problem.tests, program.strip()
    if not parses_as_expression(prediction):
        return Verdict(False, "syntax_error", "the prediction is not one Python expression")
    if t["mode"] == "input" and f"{t['fn']}(" not in prediction:  # upstream's rules
        return Verdict(False, "failed", f"the prediction does not call {t['fn']}")
    if t["mode"] == "output" and t["call"] in prediction:
        return Verdict(False, "failed", f"the prediction calls {t['fn']} on the input")
    try:
        if t.get("literal_answers"):  # MBPP's setting: the answer is a value, never run
            try:
                got = ast.literal_eval(prediction)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return Verdict(False, "failed", "the answer is not a Python literal")
        else:
            got = value_in_sandbox(t["code"], prediction, sandbox)
        want = expected_value(problem, sandbox)
    except ProgramFailure as f:
        return failure_verdict(f)
    if got == want:  # upstream's `==`, on plain values only
        return Verdict(True, "passed")
    shown = repr(got) if len(repr(got)) <= 80 else repr(got)[:77] + "..."
    expected = repr(want) if len(repr(want)) <= 80 else repr(want)[:77] + "..."
    return Verdict(False, "failed", f"predicted {shown}, {t['fn']} gives {expected}")


GRADER = Grader(GRADER_NAME, grade_prediction)


def _loader(name: str, mode: str) -> Callable[[Path | None, Mapping[str, Any]], Dataset]:
    def load_named(data: Path | None, options: Mapping[str, Any]) -> Dataset:
        return load(name, mode, data)

    return load_named


CRUXEVAL, CRUXEVAL_O, CRUXEVAL_I = (
    Benchmark(name, description, _loader(name, mode), prompt=build_prompt,
              extract=extract_answer)
    for name, mode, description in (
        ("cruxeval", "output", "CRUXEval-O (Gu et al. 2024): predict what f(input) returns"),
        ("cruxeval-o", "output", "CRUXEval-O: predict what f(input) returns"),
        ("cruxeval-i", "input", "CRUXEval-I: predict an input f maps to the output")))
