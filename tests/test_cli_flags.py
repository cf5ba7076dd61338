"""Flags built from the typed options: what a user types becomes the same typed options
the Python API takes (cli/flags.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from execeval.cli.grade import run_options_from
from execeval.cli.main import build_parser
from execeval.options import DEFAULT_KS, GenerationOptions, GradingOptions


def parse(*argv: str) -> argparse.Namespace:
    return build_parser(only="run").parse_args(["run", "--model", "reference", *argv])


def test_unset_flags_keep_the_dataclass_defaults() -> None:
    options = run_options_from(parse())
    assert options.generation == GenerationOptions()
    assert options.grading == GradingOptions() and options.grading.k == DEFAULT_KS


def test_each_flag_lands_in_its_typed_field() -> None:
    options = run_options_from(parse(
        "--n", "5", "--temperature", "0.4", "--k", "1,5", "--memory", "512",
        "--stop", "a,b", "--stop", "\nc", "--tasks", "HumanEval/1,2", "--limit", "3"))
    assert (options.generation.n, options.generation.temperature) == (5, 0.4)
    assert options.grading.k == (1, 5) and options.grading.memory_mb == 512
    # repeatable, and a stop sequence may hold a comma
    assert options.generation.stop == ("a,b", "\nc")
    assert options.dataset.tasks == ("HumanEval/1", "2") and options.dataset.limit == 3
    assert run_options_from(parse("--no-stop")).generation.stop == ()


def test_problems_names_a_file_or_else_task_ids(tmp_path: Path) -> None:
    options = run_options_from(parse("--problems", "4,5"))
    assert options.dataset.problems_file is None and options.dataset.tasks == ("4", "5")
    problems = tmp_path / "p.jsonl"
    problems.write_text("")
    assert run_options_from(parse("--problems", str(problems))).dataset.problems_file == problems


@pytest.mark.parametrize("argv", [("--n", "0"), ("--k", "1,0"), ("--timeout", "-1"),
                                  ("--limit", "x")])
def test_a_bad_value_is_a_usage_error(argv: tuple[str, ...],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        parse(*argv)
    assert done.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
