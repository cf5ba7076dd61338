"""From a model's raw output to the program that will be graded.

Runs on the trusted side but only parses text (ast), never executes it. Each step
that fires is named in `Extracted.method`, so a run can say how its programs were
obtained, and rules are documented in docs/generation.md.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass

from execeval.dataset import Problem

EXTRACTION_VERSION = "1"  # recorded in runs: bump when a rule changes

THINKING = re.compile(r"<(think|thinking|reasoning)>.*?</\1>\s*", re.DOTALL | re.IGNORECASE)
UNCLOSED_THINKING = re.compile(r"<(think|thinking|reasoning)>.*\Z", re.DOTALL | re.IGNORECASE)
FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+.-]*)[^\n]*\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)
OPEN_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+.-]*)[^\n]*\n(.*)\Z", re.DOTALL | re.MULTILINE)
PYTHON_TAGS = {"", "python", "py", "python3", "py3"}
CODE_START = re.compile(r"^(def |async def |class |import |from \S+ import |@)", re.MULTILINE)


@dataclass(frozen=True)
class Extracted:
    program: str
    method: str  # "+"-joined steps, e.g. "fenced+sanitized", "completion+stop"
    completion: str | None = None  # completion style: program == problem.code_prefix + this
    empty: bool = False  # the model gave no code at all
    parseable: bool = True
    stopped: bool = False  # a stop sequence cut the output


def parses(code: str) -> bool:
    try:
        with warnings.catch_warnings():  # old code says "\d" in plain strings: not our concern
            warnings.simplefilter("ignore")
            ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def strip_thinking(text: str) -> tuple[str, bool]:
    """Reasoning sections are not answers; an unclosed one (cut by max tokens) is all reasoning."""
    stripped = THINKING.sub("", text)
    stripped = UNCLOSED_THINKING.sub("", stripped)
    return stripped, stripped != text


def truncate_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """Cut at the earliest stop sequence, which is not kept (as the OpenAI API does)."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def extract(problem: Problem, text: str, *, is_program: bool = False, chat: bool = False,
            stop: tuple[str, ...] = (), function: str | None = None) -> Extracted:
    """The program for one raw output; never raises on any text. `function` is the
    benchmark's hint of the function the program must define (default: the entry point)."""
    if is_program:
        return Extracted(text, "program", empty=not text.strip(), parseable=parses(text))
    steps: list[str] = []
    body, thought = strip_thinking(text)
    if thought:
        steps.append("thinking")
    if chat:
        return from_chat(problem, body, stop, steps, function or problem.entry_point)
    completion, stopped = truncate_at_stop(body, stop)
    steps.insert(0, "completion")
    if stopped:
        steps.append("stop")
    program = problem.program_from_completion(completion)
    return Extracted(program, "+".join(steps), completion, empty=not completion.strip(),
                     parseable=parses(program), stopped=stopped)


def from_chat(problem: Problem, text: str, stop: tuple[str, ...], steps: list[str],
              entry: str | None) -> Extracted:
    text, stopped = truncate_at_stop(text, stop)
    if stopped:
        steps.append("stop")
    code, how = find_code(text, entry)
    steps.insert(0, how)
    if not code.strip():
        return Extracted("", "+".join(steps), empty=True, parseable=True, stopped=stopped)
    # a script (APPS) has no function to follow: it is kept whole
    if entry and not defines(code, entry) and code[:1] in " \t" and problem.code_prefix:
        # the model answered with the function body only: continue the prompt with it
        steps.append("body")
        program = problem.program_from_completion(code)
        return Extracted(program, "+".join(steps), empty=False, parseable=parses(program),
                         stopped=stopped)
    if entry and parses(code) and defines(code, entry):
        kept = keep_entry_point(code, entry)
        if kept is not None:
            steps.append("sanitized")
            code = kept
        context = prompt_context(problem, code)
        if context:
            steps.append("context")
            code = context + code
    return Extracted(code, "+".join(steps), empty=False, parseable=parses(code), stopped=stopped)


def find_code(text: str, entry_point: str | None) -> tuple[str, str]:
    """The fenced block that defines the entry point, else the longest Python block; an
    unfenced answer loses its prose preamble and tail."""
    blocks = [(lang.lower(), body) for lang, body in FENCE.findall(text)]
    rest = FENCE.sub("", text)
    tail = OPEN_FENCE.search(rest)
    unclosed = tail is not None and (lang := tail.group(1).lower()) in PYTHON_TAGS
    if tail is not None and unclosed:
        blocks.append((lang, tail.group(2)))
    if blocks:
        python = [b for lang, b in blocks if lang in PYTHON_TAGS] or [b for _, b in blocks]
        defining = [b for b in python if entry_point and defines_loosely(b, entry_point)]
        code = defining[0] if defining else max(python, key=len)
        return code, "fenced+unclosed" if unclosed and code is blocks[-1][1] else "fenced"
    if not text.strip():
        return "", "none"
    if parses(text):
        return text, "raw"
    start = CODE_START.search(text)
    if start is None:
        return ("", "none") if not text.startswith((" ", "\t")) else (text, "raw")
    lines = text[start.start():].splitlines(keepends=True)
    while lines and not parses("".join(lines)):
        lines.pop()  # prose after the code
    code = "".join(lines) if lines else text[start.start():]
    return code, "unfenced"


def defines_loosely(code: str, name: str) -> bool:
    return re.search(rf"^\s*(async\s+)?def\s+{re.escape(name)}\s*\(", code, re.MULTILINE) is not None


def defines(code: str, name: str) -> bool:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return defines_loosely(code, name)
    return name in top_level_names(tree)


def top_level_names(tree: ast.Module) -> dict[str, ast.stmt]:
    names: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        names[n.id] = node
    return names


def keep_entry_point(code: str, entry: str) -> str | None:
    """Imports, the entry point and the top-level definitions it reaches; tests, prints and
    `if __name__ == "__main__":` blocks go. None when nothing would go (code kept as is)."""
    tree = ast.parse(code)
    names = top_level_names(tree)
    needed: set[int] = set()
    todo = [names[entry]]
    while todo:
        node = todo.pop()
        if id(node) in needed:
            continue
        needed.add(id(node))
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id in names and id(names[n.id]) not in needed:
                todo.append(names[n.id])
    keep = [node for node in tree.body
            if isinstance(node, ast.Import | ast.ImportFrom) or id(node) in needed]
    if len(keep) == len(tree.body):
        return None
    parts = dict.fromkeys(source_of(code, node) for node in keep)  # one line, two statements
    return "\n\n".join(parts) + "\n"


def prompt_context(problem: Problem, code: str) -> str:
    """Imports and helper definitions of a code prompt that the answer left out
    (HumanEval/38's `encode_cyclic`, `from typing import List`)."""
    prefix = problem.code_prefix
    if not prefix or not parses(prefix) or not parses(code):
        return ""
    tree = ast.parse(prefix)
    answer = ast.parse(code)
    have = top_level_names(answer)
    imported = {ast.dump(n) for n in answer.body if isinstance(n, ast.Import | ast.ImportFrom)}
    parts = []
    for node in tree.body:
        helper = (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                  and node.name != problem.entry_point and node.name not in have)
        missing_import = (isinstance(node, ast.Import | ast.ImportFrom)
                          and ast.dump(node) not in imported)
        if helper or missing_import:
            parts.append(node)
    if not parts:
        return ""
    return "\n\n".join(source_of(prefix, n) for n in parts) + "\n\n\n"


def source_of(code: str, node: ast.stmt) -> str:
    """The statement's own lines, decorators and inner comments included."""
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])
    lines = code.splitlines()[first - 1:node.end_lineno]
    return "\n".join(lines).rstrip()
