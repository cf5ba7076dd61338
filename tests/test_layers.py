"""The layers hold: no import cycle (imports inside functions count), the CLI on top,
the model layer free of the studies, every extension registered by an entry point, and
no two-letter local names. docs/architecture.md draws the layers; import-linter
(`make lint`, in `make test`) checks the contracts of pyproject.toml."""

from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path

from support.imports import cycles, graph, modules

SRC = Path(__file__).resolve().parents[1] / "src" / "execeval"
GRAPH = graph(SRC, "execeval")
KINDS = {"Benchmark": "benchmarks", "ModelKind": "models", "ExecutorKind": "executors",
         "Study": "studies", "Grader": "graders", "EnvironmentSpec": "environments"}


def test_there_is_no_import_cycle() -> None:
    assert cycles(GRAPH) == []


def test_the_cycle_finder_finds_one_through_a_function_level_import(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import p.b\n")
    (tmp_path / "b.py").write_text("def f():\n    from p import a\n")
    (tmp_path / "c.py").write_text("from typing import TYPE_CHECKING\n"
                                   "if TYPE_CHECKING:\n    from p import a\n")
    edges = graph(tmp_path, "p")
    assert cycles(edges) == [["p.a", "p.b"]]
    assert edges["p.c"] == set()  # TYPE_CHECKING imports never run


def test_nothing_below_the_cli_imports_it() -> None:
    offenders = {m for m, targets in GRAPH.items() if not m.startswith("execeval.cli")
                 and any(t == "execeval.cli" or t.startswith("execeval.cli.") for t in targets)}
    assert offenders == set()


def test_the_model_layer_knows_no_study() -> None:
    offenders = {m for m, targets in GRAPH.items() if m.startswith("execeval.models")
                 and any(t.startswith(("execeval.studies", "execeval.simulate"))
                         for t in targets)}
    assert offenders == set()


def test_every_extension_object_is_registered_by_an_entry_point() -> None:
    """A module-level Benchmark, ModelKind, ExecutorKind, Study or Grader that no entry
    point names would be dead or found some other way: both are bugs."""
    registered = {(ep.value, group) for group in set(KINDS.values())
                  for ep in entry_points(group=f"execeval.{group}")}
    declared = set()
    for name, path in modules(SRC, "execeval").items():
        for node in ast.parse(path.read_text()).body:
            if not (isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
                    and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Name)
                    and node.value.func.id in KINDS):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    declared.add((f"{name}:{target.id}", KINDS[node.value.func.id]))
    assert declared - registered == set()


def _bound_names(function: ast.AST) -> list[tuple[int, str]]:
    """Names a function binds by assignment or `with ... as`: not loop indices, not
    comprehension variables, not parameters."""
    out = []
    for node in ast.walk(function):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
            targets = [node.target]
        elif isinstance(node, ast.With | ast.AsyncWith):
            targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name):
                    out.append((leaf.lineno, leaf.id))
    return out


def test_no_two_letter_local_names() -> None:
    """`ex` was an executor in one module and an extraction in another: locals say what
    they hold (one-letter names stay for the obvious: indices, a file, an error)."""
    short = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                short += [f"{path.relative_to(SRC)}:{line} {name}"
                          for line, name in _bound_names(node) if len(name) == 2]
    assert sorted(set(short)) == []
