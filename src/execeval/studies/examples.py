"""The tests a prompt shows: HumanEval's docstring examples, MBPP's shown asserts.

Chen et al. (2021) pick one of k samples by keeping those that pass the examples in the
docstring; the MBPP paper shows three asserts in every prompt. Both are the *visible*
tests: a model (or a selection rule) may use them, and a program may special-case them.
This module only reads text (ast, never exec): `shown_examples` parses the examples into
calls with literal arguments and expected values, and `examples_problem` turns the shown
tests into a Problem graded by the trusted `asserts` judge, so that running them goes
through an Executor like any other grading.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, replace
from typing import Any

from execeval.dataset import Problem
from execeval.judge.asserts import plan_asserts
from execeval.prompts.mbpp import tested_function

# what separates a call from its result in HumanEval's prose examples
SEPARATOR = re.compile(r"^\s*(?:#\s*)?(?:==>|=>|->|➞|==|=|should return|returns)\s*(.*)$")


@dataclass(frozen=True)
class Example:
    """One shown test: `function(*args)` should give `expected` (all literal values)."""

    function: str
    args: tuple[Any, ...]
    expected: Any

    def call_text(self) -> str:
        return f"{self.function}({', '.join(repr(a) for a in self.args)})"


def literal(node: ast.AST) -> tuple[bool, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def round_trips(value: Any) -> bool:
    """Whether repr(value) reads back as an equal literal: what a generated program or a
    generated assert can spell (no nan, no set())."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            back = ast.literal_eval(repr(value))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return bool(back == value) and type(back) is type(value)


def literal_call(node: ast.AST, names: set[str]) -> tuple[str, tuple[Any, ...]] | None:
    """(function, args) when `node` calls one of `names` with literal positional args only."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in names and not node.keywords):
        return None
    args = []
    for a in node.args:
        is_literal, value = literal(a)
        if not is_literal:
            return None
        args.append(value)
    return node.func.id, tuple(args)


def _parse_expr(text: str) -> ast.AST | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def _value(text: str) -> tuple[bool, Any]:
    """A result as the prose writes it: a literal, maybe followed by a comment or a full
    stop, or a lower-case true/false."""
    text = re.split(r"\s#", text, maxsplit=1)[0].strip().rstrip(".").strip()
    text = {"true": "True", "false": "False"}.get(text, text)
    node = _parse_expr(text) if text else None
    return literal(node) if node is not None else (False, None)


def _call_end(text: str, start: int) -> int:
    """Index just past the parenthesis that closes the one at `start` (-1: none)."""
    depth, quote = 0, ""
    i = start
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def docstring_examples(prompt: str, entry_point: str) -> list[Example]:
    """The examples in the entry point's docstring: doctests (`>>> f(x)` then the result
    on the next lines) and prose (`f(x) == y`, `f(x) ➞ y`, `f(x) returns y`, ...)."""
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return []
    definition = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
               and n.name == entry_point), None)
    doc = ast.get_docstring(definition) if definition else None
    if not doc:
        return []
    found: list[Example] = []
    lines = doc.splitlines()
    prose: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line.startswith(">>>"):
            prose.append(lines[i])
            i += 1
            continue
        call = literal_call(_parse_expr(line[3:]) or ast.Pass(), {entry_point})
        out: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() and not lines[i].strip().startswith(">>>"):
            out.append(lines[i].strip())
            i += 1
        parsed, expected = _value(" ".join(out)) if out else (False, None)
        if call and parsed:
            found.append(Example(call[0], call[1], expected))
    for line in prose:
        for m in re.finditer(rf"(?<![\w.]){re.escape(entry_point)}\(", line):
            end = _call_end(line, m.end() - 1)
            call = literal_call(_parse_expr(line[m.start():end]) or ast.Pass(), {entry_point}) \
                if end > 0 else None
            sep = SEPARATOR.match(line[end:]) if call else None
            parsed, expected = _value(sep.group(1)) if sep else (False, None)
            if call and parsed:
                found.append(Example(call[0], call[1], expected))
    return [e for e in found if round_trips(e.expected) and all(map(round_trips, e.args))]


def assert_examples(asserts: list[str], names: set[str]) -> list[Example | None]:
    """Each `assert f(args) == y` (or `y == f(args)`, `assert f(args)`, `assert not
    f(args)`) as an Example; None where an assert has another shape."""
    out: list[Example | None] = []
    for text in asserts:
        node = _parse_stmt(text)
        test = node.test if isinstance(node, ast.Assert) else None
        example = None
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            for call_node, other in ((test.left, test.comparators[0]),
                                     (test.comparators[0], test.left)):
                call = literal_call(call_node, names)
                is_literal, expected = literal(other)
                if call and is_literal:
                    example = Example(call[0], call[1], expected)
                    break
        elif test is not None:
            negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
            call = literal_call(test.operand if negated else test, names)  # type: ignore[attr-defined]
            if call:
                example = Example(call[0], call[1], not negated)
        keep = example is not None and round_trips(example.expected) \
            and all(map(round_trips, example.args))
        out.append(example if keep else None)
    return out


def _parse_stmt(text: str) -> ast.stmt | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            body = ast.parse(text.strip()).body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    return body[0] if len(body) == 1 else None


def prompt_asserts(prompt: str) -> list[str]:
    """MBPP+'s prompts show their test as an `assert` line inside the docstring."""
    return [line.strip() for line in prompt.splitlines() if line.strip().startswith("assert ")]


def tested_names(problem: Problem) -> set[str]:
    """The functions a problem's tests call: its entry point, or MBPP's proxies."""
    if problem.entry_point:
        return {problem.entry_point}
    if isinstance(problem.tests, dict):
        return set(problem.tests.get("proxies") or ())
    return set()


def shown_asserts(problem: Problem) -> tuple[list[str], str] | None:
    """(asserts, setup) a prompt shows, or None for a benchmark that shows none we read.

    MBPP: the shown `test_list`; MBPP+: the prompt's assert line; HumanEval and
    HumanEval+: the docstring examples written as asserts (floats within 1e-6)."""
    flavour = problem.tests.get("flavour") if isinstance(problem.tests, dict) else None
    if problem.grader == "asserts" and "tests_shown" in problem.metadata:
        return list(problem.metadata["tests_shown"]), problem.tests["setup"]
    if problem.grader == "evalplus" and flavour == "mbpp":
        return prompt_asserts(problem.prompt), ""
    if problem.entry_point and (problem.grader == "check" or flavour == "humaneval"):
        return [as_assert(e) for e in docstring_examples(problem.prompt, problem.entry_point)], ""
    return None


def as_assert(e: Example) -> str:
    if isinstance(e.expected, float):
        return f"assert abs({e.call_text()} - {e.expected!r}) <= 1e-6"
    return f"assert {e.call_text()} == {e.expected!r}"


def shown_examples(problem: Problem) -> list[Example]:
    """The shown tests that are plain calls with literal values (what a program could
    special-case)."""
    if problem.entry_point and (problem.grader == "check" or (
            isinstance(problem.tests, dict) and problem.tests.get("flavour") == "humaneval")):
        return docstring_examples(problem.prompt, problem.entry_point)
    shown = shown_asserts(problem)
    if shown is None:
        return []
    with warnings.catch_warnings():  # MBPP's asserts say "\d" in plain strings
        warnings.simplefilter("ignore")
        names = tested_names(problem) or {tested_function(problem) or ""}
    return [e for e in assert_examples(shown[0], names) if e is not None]


def examples_problem(problem: Problem) -> Problem | None:
    """The problem with its shown tests as its only tests (graded by `asserts`), or None
    when the prompt shows none. MBPP's shown tests are its tests, so its derived problem
    hashes like the original and reuses the original's verdicts."""
    shown = shown_asserts(problem)
    if not shown or not shown[0]:
        return None
    asserts, setup = shown
    if problem.grader == "asserts":
        plan = plan_asserts(asserts, setup, problem.reference)
        if problem.tests.get("in_sandbox") and not plan.in_sandbox_reason:
            plan = replace(plan, proxies=(), modules=(),
                           in_sandbox_reason=problem.tests["in_sandbox"])
        return replace(problem, tests=plan.as_tests(setup, asserts))
    plan = plan_asserts(asserts, setup, problem.reference)
    return Problem(task_id=problem.task_id, prompt=problem.prompt, entry_point=None,
                   grader="asserts", tests=plan.as_tests(setup, asserts),
                   reference=problem.reference, code_prefix=problem.code_prefix,
                   metadata={"tests_shown": asserts})
