"""The rules every command keeps, checked on every command: --json is one JSON line on
stdout and nothing else; an output file's folder must exist, and the file is written
whole with the user's umask; a port is checked like any other input; and every
command's --help has a description, an example and help for each option."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import ADD_PROBLEM, canonical_completion, real_data, write_jsonl

import execeval
from execeval.benchmark import BENCHMARKS
from execeval.cli.main import build_parser
from execeval.errors import UserError
from execeval.jsonl import write_rows
from execeval.studies.common import STUDIES


def execeval_cli(*args: str, store: Path, timeout: float = 600,
                 ) -> subprocess.CompletedProcess[str]:
    """`execeval ARGS` in a subprocess, as a user runs it, on `store`."""
    env = dict(os.environ, EXECEVAL_STORE=str(store))
    return subprocess.run([sys.executable, "-m", "execeval.cli", *args], capture_output=True,
                          text=True, env=env, cwd=store.parent, timeout=timeout)


@dataclass(frozen=True)
class Stored:
    """A store holding an `evaluate` run and a `run` run on the same two problems."""

    store: Path
    samples: Path
    evaluated: str
    generated: str


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Stored:
    root = tmp_path_factory.mktemp("rules")
    store = root / "store.sqlite"
    ds = execeval.load_dataset("humaneval")
    samples = write_jsonl(root / "s.jsonl", [
        {"task_id": p.task_id, "completion": canonical_completion(p)}
        for p in list(ds.problems.values())[:2] for _ in range(2)])
    evaluated = execeval.evaluate(samples, ds, store=store).run_id
    generated = execeval.run("fake:planted?distinct=0", ds, store=store, n=2, limit=2).run_id
    return Stored(store, samples, evaluated, generated)


# --- --json: one JSON document on one line, on stdout; what a person reads on stderr ---

MBPP = ["--dataset", "mbpp", "--data", "{mbpp}", "--limit", "3"]
# (arguments, what the human output on stderr says; None: the command prints none)
JSON_COMMANDS: dict[str, tuple[list[str], str | None]] = {
    "evaluate": (["evaluate", "--samples", "{samples}"], "samples on 2 of 164 problems"),
    "run": (["run", "--model", "fake:planted?distinct=0", "--limit", "2"],
            "samples on 2 of 164 problems"),
    "validate": (["validate", "--problems", "{problems}"], "1 of 1 reference solutions pass"),
    "runs": (["runs"], None),
    "show": (["show", "{generated}"], None),
    "compare": (["compare", "{generated}", "{evaluated}"], None),
    "regrade": (["regrade", "{generated}"], "samples on 2 of 164 problems"),
    "env": (["env", "show", "classic"], "requires: numpy==1.26.4"),
    "power": (["power", "--problems", "164", "--n", "20", "--difference", "0.03"],
              "problems for 80%"),
    "study overfit": (["study", "overfit", "{generated}"], ""),
    "study ranking": (["study", "ranking", "{generated}"], ""),
    "study scaling": (["study", "scaling", "{generated}=1e9", "{evaluated}=1e10"], ""),
    "study temperature": (["study", "temperature", "--model", "fake:planted?distinct=0",
                           "--limit", "2", "--n", "2", "--temperatures", "0.2,1.0"], ""),
    "study edited": (["study", "edited", "--model", "fake:planted", *MBPP,
                      "--sanitized-data", "{sanitized}"], ""),
    "study execution": (["study", "execution", "--model", "fake:planted", "--dataset",
                         "cruxeval", "--data", "{cruxeval}", "--limit", "3"], ""),
    "study misalignment": (["study", "misalignment", "--model", "fake:prompted", *MBPP], ""),
    "study prompts": (["study", "prompts", "--model", "fake:prompted", *MBPP,
                       "--prompts", "2"], ""),
    "study tests-in-prompt": (["study", "tests-in-prompt", "--model", "fake:prompted",
                               *MBPP], ""),
    "study repair": (["study", "repair", "--model", "fake:repair?p=0,1", *MBPP,
                      "--turns", "1"], ""),
}


def test_every_command_with_json_is_checked() -> None:
    parser_commands = {name for name, p in parsers() if has_flag(p, "--json")}
    assert {f"execeval {c}" for c in JSON_COMMANDS} == parser_commands
    assert {f"study {s}" for s in STUDIES.names()} <= set(JSON_COMMANDS)


@pytest.mark.parametrize("command", list(JSON_COMMANDS))
def test_json_is_one_line_on_stdout_and_nothing_else(command: str, stored: Stored,
                                                     tmp_path: Path) -> None:
    args, human = JSON_COMMANDS[command]
    places = {"samples": stored.samples, "evaluated": stored.evaluated,
              "generated": stored.generated,
              "problems": write_jsonl(tmp_path / "p.jsonl", [ADD_PROBLEM])}
    if any("{mbpp}" in a or "{sanitized}" in a for a in args):
        places.update(mbpp=real_data("mbpp", "mbpp.jsonl"),
                      sanitized=real_data("mbpp", "sanitized-mbpp.json"))
    if any("{cruxeval}" in a for a in args):
        places["cruxeval"] = real_data("cruxeval", "cruxeval.jsonl")
    proc = execeval_cli(*(a.format(**places) for a in args), "--json", store=stored.store)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1 and proc.stdout.endswith("\n"), proc.stdout[:500]
    json.loads(proc.stdout)
    if human is not None:  # the table a person reads went to stderr
        assert proc.stderr.strip() and human in proc.stderr


# --- output files: the folder must exist; written whole, with the user's umask ---

@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, whatever the test runner was started with (subprocesses inherit)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def output_commands(stored: Stored, out: Path) -> dict[str, list[str]]:
    return {
        "evaluate --results": ["evaluate", "--samples", str(stored.samples), "--results",
                               str(out)],
        "report -o": ["report", stored.generated, "-o", str(out)],
        "export --out": ["export", stored.generated, "--format", "csv", "--out", str(out)],
        "regrade --results": ["regrade", stored.evaluated, "--results", str(out)],
        "export sft --out": ["export", "sft", stored.evaluated, "--allow-eval-split", "--out",
                             str(out)],
    }


@pytest.mark.usefixtures("umask_022")
def test_every_output_file_follows_one_rule(stored: Stored, tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    commands = output_commands(stored, missing / "out")
    commands["export mbpp-train --out"] = ["export", "mbpp-train", "--out", str(missing / "out")]
    for what, args in commands.items():
        proc = execeval_cli(*args, store=stored.store)
        assert proc.returncode == 2, (what, proc.stderr)
        assert proc.stderr.splitlines() == [
            f"execeval: error: {missing / 'out'}: cannot write: no directory {missing}"], what
        assert not missing.exists(), what  # nothing created
    for what, args in output_commands(stored, tmp_path / "out").items():
        proc = execeval_cli(*args, store=stored.store)
        assert proc.returncode == 0, (what, proc.stderr)
        assert (tmp_path / "out").stat().st_mode & 0o777 == 0o644, what
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], what  # no temporaries
        (tmp_path / "out").unlink()


def test_the_python_api_refuses_an_output_before_any_work(tmp_path: Path) -> None:
    """The rule holds below the CLI too: a results file whose folder is missing is
    refused before a store is opened or a program graded."""
    rows = [{"task_id": "HumanEval/0", "completion": "    return True\n"}]
    store, missing = tmp_path / "s.sqlite", tmp_path / "nope" / "r.jsonl"
    for call in (lambda: execeval.evaluate(rows, "humaneval", store=store, results=missing),
                 lambda: execeval.run("reference", "humaneval", tasks=["0"], store=store,
                                      results=missing)):
        with pytest.raises(UserError, match="cannot write: no directory"):
            call()
        assert not store.exists() and not missing.parent.exists()


def test_an_output_is_whole_or_untouched(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text("kept\n")

    def rows() -> Iterator[dict[str, int]]:
        yield {"a": 1}
        raise RuntimeError("the grading broke half-way")

    with pytest.raises(RuntimeError):
        write_rows(path, rows())
    assert path.read_text() == "kept\n" and os.listdir(tmp_path) == ["r.jsonl"]
    old = os.umask(0o027)
    try:
        write_rows(tmp_path / "private.jsonl", [{"a": 1}])
    finally:
        os.umask(old)
    assert (tmp_path / "private.jsonl").stat().st_mode & 0o777 == 0o640
    with pytest.raises(UserError, match="is a directory"):
        write_rows(tmp_path, [])


# --- ports are checked like every other input ---

@pytest.mark.parametrize("command", ["serve", "view"])
def test_a_port_out_of_range_is_one_line(command: str, tmp_path: Path) -> None:
    proc = execeval_cli(command, "--port", "99999", store=tmp_path / "store.sqlite", timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"execeval {command}: error: argument --port: a port is 0-65535, not 99999 "
        f"(see execeval {command} --help)"]


# --- help: a description, an example, and help for every option, on every command ---

def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """argparse has no public way to list subparsers; its one action that holds them."""
    return next((dict(a.choices) for a in parser._actions
                 if isinstance(a, argparse._SubParsersAction)), {})


def parsers() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    top = build_parser()
    yield "execeval", top
    for name, p in subcommands(top).items():
        yield f"execeval {name}", p
        for inner, q in subcommands(p).items():
            yield f"execeval {name} {inner}", q


def has_flag(parser: argparse.ArgumentParser, flag: str) -> bool:
    return any(flag in a.option_strings for a in parser._actions)


def options(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    skip = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)
    return (a for a in parser._actions if not isinstance(a, skip))


@pytest.mark.parametrize("name", [name for name, _ in parsers()])
def test_every_help_has_a_description_an_example_and_option_help(name: str) -> None:
    parser = dict(parsers())[name]
    assert parser.description and parser.description.strip(), name
    assert parser.epilog and "example" in parser.epilog and "execeval " in parser.epilog, name
    for action in options(parser):
        flag = "/".join(action.option_strings) or action.metavar or action.dest
        assert action.help and action.help.strip(), f"{name} {flag}: no help"
        shown = action.default not in (None, False, argparse.SUPPRESS, [], ())
        assert not shown or "default" in action.help, f"{name} {flag}: default not shown"
    parser.format_help()  # renders


def test_help_says_what_a_user_needs() -> None:
    found = dict(parsers())
    top = found["execeval"].format_help()
    assert "pass@k" in top and "examples:" in top
    assert all(name.split()[1] in top for name in found if name.count(" ") == 1)
    benchmarks = [n for n in BENCHMARKS.names() if n != "file"]
    for command in ("run", "evaluate", "serve"):
        dataset = next(a for a in found[f"execeval {command}"]._actions
                       if "--dataset" in a.option_strings)
        assert all(n in str(dataset.help) for n in benchmarks), command
    study = found["execeval study temperature"]
    assert not has_flag(study, "--temperature") and not has_flag(study, "--results")
    export_format = next(a for a in found["execeval export"]._actions
                         if "--format" in a.option_strings)
    assert "required" in str(export_format.help)
