"""Assert-style tests (MBPP, user files): `assert f(x) == y` decided on the trusted side.

The asserts run here, in a fresh trusted namespace; every name they call that the
reference program defines is a proxy into the sandboxed program, so the comparison
happens on plain data the sandbox handed back. Whether a problem's asserts can be run
that way is decided once, when the problem is loaded, from the asserts and the
reference alone (`plan_asserts`); where they cannot (they build the program's own
classes, pass functions, read its variables), they run inside the sandbox next to the
program and the verdict carries `graded_in_sandbox` (counted in every summary).
"""

from __future__ import annotations

import ast
import builtins
import importlib
import sys
import warnings
from dataclasses import dataclass
from typing import Any

from execeval.dataset import Problem
from execeval.judge import Grader, Verdict, compiled, failure_verdict, wrong_answer
from execeval.sandbox import ProgramFailure, Sandbox

BUILTIN_NAMES = frozenset(dir(builtins))


@dataclass(frozen=True)
class AssertPlan:
    """How a problem's asserts are graded: proxies on the trusted side, or in the sandbox."""

    proxies: tuple[str, ...]          # program functions the asserts call
    modules: tuple[str, ...]          # stdlib modules the asserts use that the reference imports
    in_sandbox_reason: str = ""       # non-empty: fall back to grading inside the sandbox

    def as_tests(self, setup: str, asserts: list[str]) -> dict[str, Any]:
        """The JSON-able `Problem.tests` record (part of the problem's hash)."""
        return {"setup": setup, "asserts": asserts, "proxies": list(self.proxies),
                "modules": list(self.modules), "in_sandbox": self.in_sandbox_reason}


def _top_level_bindings(tree: ast.Module) -> tuple[set[str], set[str], dict[str, str]]:
    """(functions, other names, imported module aliases) bound at a module's top level."""
    functions: set[str] = set()
    others: set[str] = set()
    modules: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.add(node.name)
        elif isinstance(node, ast.ClassDef):
            others.add(node.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                modules[bound] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            others.update(alias.asname or alias.name for alias in node.names)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    others.add(sub.id)
    return functions, others, modules


def _locally_bound(tree: ast.AST) -> set[str]:
    """Names an assert binds itself (comprehension targets, walrus)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return bound


def _callables_passed(call: ast.Call, called: dict[int, ast.Call]) -> str:
    """A builtin function or type handed to the program as an argument (not plain data)."""
    for arg in call.args:
        for node in ast.walk(arg):
            if (isinstance(node, ast.Name) and id(node) not in called
                    and callable(getattr(builtins, node.id, None))):
                return node.id
    return ""


def setup_is_imports_only(setup: str) -> bool:
    try:
        tree = ast.parse(setup)
    except SyntaxError:
        return False
    return all(isinstance(n, ast.Import | ast.ImportFrom) for n in tree.body)


def plan_asserts(asserts: list[str], setup: str, reference: str) -> AssertPlan:
    """Decide, from the tests and the reference only, how these asserts are graded."""
    try:
        with warnings.catch_warnings():  # old references say "\d" in plain strings
            warnings.simplefilter("ignore")
            ref_tree = ast.parse(reference)
            test_trees = [ast.parse(a) for a in asserts]
            setup_tree = ast.parse(setup)
    except SyntaxError as e:
        return AssertPlan((), (), f"unparsable test or reference ({e.msg})")
    if not setup_is_imports_only(setup):
        return AssertPlan((), (), "the test setup code builds objects with the program's code")
    functions, others, ref_modules = _top_level_bindings(ref_tree)
    _, setup_names, setup_modules = _top_level_bindings(setup_tree)
    trusted_names = BUILTIN_NAMES | setup_names | set(setup_modules)
    proxies: set[str] = set()
    modules: set[str] = set()
    for tree in test_trees:
        if any(isinstance(n, ast.Lambda | ast.FunctionDef) for n in ast.walk(tree)):
            return AssertPlan((), (), "a test passes a function to the program")
        called = {id(n.func): n for n in ast.walk(tree)
                  if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        local = _locally_bound(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load):
                continue
            name = node.id
            if name in local or (name in trusted_names and name not in functions):
                continue
            if name in functions:
                call = called.get(id(node))
                if call is None:
                    return AssertPlan((), (), f"a test uses the function {name!r} as a value")
                if call.keywords:
                    return AssertPlan((), (), f"a test calls {name!r} with keyword arguments")
                passed = _callables_passed(call, called)
                if passed:
                    return AssertPlan((), (), f"a test passes {passed!r} to {name!r}")
                proxies.add(name)
            elif name in ref_modules and ref_modules[name] in sys.stdlib_module_names:
                modules.add(name)
            elif name in others:
                return AssertPlan((), (), f"a test uses the program's {name!r}")
            else:
                return AssertPlan((), (), f"a test uses {name!r}, which the reference "
                                          "does not define as a function")
    return AssertPlan(tuple(sorted(proxies)), tuple(sorted(modules)))


def trusted_namespace(tests: dict[str, Any]) -> dict[str, Any]:
    """The test's imports and the stdlib modules it borrows from the reference, fresh each time."""
    namespace: dict[str, Any] = {"__name__": "__trusted_test__"}
    exec(compiled(tests["setup"], "<setup>"), namespace)
    for name in tests["modules"]:
        namespace[name] = importlib.import_module(name)
    return namespace


def run_asserts_trusted(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    tests = problem.tests
    namespace = trusted_namespace(tests)
    with sandbox.start() as execution:
        try:
            execution.exec_program(program)
            for name in tests["proxies"]:
                namespace[name] = execution.function(name)
            for n, text in enumerate(tests["asserts"]):
                try:
                    exec(compiled(text, f"<test {n}>"), namespace)
                except Exception as e:  # the trusted test rejected what came back (a
                    # ProgramFailure is a BaseException: it goes on to the outer handler)
                    return wrong_answer(e, text.strip(), {"tests_passed": n})
        except ProgramFailure as f:
            return failure_verdict(f)
        if execution.failure is not None:
            return failure_verdict(execution.failure)
    return Verdict(True, "passed", extra={"tests_passed": len(tests["asserts"])})


def run_asserts_in_sandbox(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    """The flagged fallback: the tests run next to the program, in its process."""
    tests = problem.tests
    flag = {"graded_in_sandbox": True}
    test_code = "\n".join([tests["setup"], *tests["asserts"]])
    with sandbox.start() as execution:
        try:
            execution.exec_program(program)
            execution.exec_program(test_code, name="__test__")
        except ProgramFailure as f:
            v = failure_verdict(f)
            if f.status == "error" and f.detail.startswith("AssertionError"):
                return Verdict(False, "failed", f"assertion failed ({f.detail})", extra=flag)
            return Verdict(v.passed, v.status, v.detail, extra=flag)
    return Verdict(True, "passed", extra=flag)


def grade_asserts(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    if problem.tests["in_sandbox"]:
        return run_asserts_in_sandbox(problem, program, sandbox)
    return run_asserts_trusted(problem, program, sandbox)


GRADER = Grader("asserts", grade_asserts)
