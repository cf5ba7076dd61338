"""MBPP (Austin et al. 2021): the full 974 tasks and the hand-checked 427 (sanitized).

Task ids are spelled "Mbpp/11", as EvalPlus spells them, so that MBPP and MBPP+ results
line up; samples may say 11, "11" or "Mbpp/11" (`Dataset.resolve`). Splits are those of
the MBPP README (test 11-510 by default); the sanitized subset inherits them. The three
few-shot examples (tasks 2, 3, 4) come from the same file, whatever the split.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from execeval.benchmark import Benchmark
from execeval.benchmarks.sources import Row, field, file_digest, hub_rows, read_file_rows
from execeval.dataset import Dataset, Problem
from execeval.errors import UserError
from execeval.judge.asserts import plan_asserts
from execeval.prompts import mbpp as mbpp_prompt

SPLITS: dict[str, range] = {
    "test": range(11, 511),
    "prompt": range(1, 11),
    "validation": range(511, 601),
    "train": range(601, 975),
    "all": range(1, 975),
}
HUB = {"mbpp": ("google-research-datasets/mbpp", "full"),
       "mbpp-sanitized": ("google-research-datasets/mbpp", "sanitized")}
HUB_SPLITS = ("train", "test", "validation", "prompt")

# Tasks whose reference returns something that is not plain data (a regex match object,
# a `map`, an instance of its own class...), so a proxy cannot bring the value back: their
# asserts run in the sandbox. Found by `execeval validate`; see docs/benchmarks.md.
NON_PLAIN_RETURNS: dict[str, frozenset[int]] = {
    "mbpp": frozenset(),
    "mbpp-sanitized": frozenset({737, 787, 794}),  # re.Match objects
}


def task_number(value: object, where: str) -> int:
    try:
        return int(str(value).rpartition("/")[2])
    except ValueError:
        raise UserError(f"{where}: task_id {value!r} is not an MBPP task number") from None


def normalise(code: str) -> str:
    """MBPP's files use CRLF line ends; the programs and prompts use plain newlines."""
    return code.replace("\r\n", "\n")


def read_task(source: object, line: int | None, row: dict[str, Any],
              sanitized: bool) -> dict[str, Any]:
    """The fields of one published row, checked, under one naming for both files."""
    text = field(source, line, row, "prompt" if sanitized else "text", str)
    code = field(source, line, row, "code", str)
    tests = field(source, line, row, "test_list", list)
    if not all(isinstance(t, str) for t in tests):
        raise UserError(f"{source}: task {row.get('task_id')!r}: test_list holds a non-string")
    if sanitized:
        imports = row.get("test_imports") or []
        setup = "\n".join(imports) if isinstance(imports, list) else str(imports)
        challenge: list[str] = []
    else:
        setup = normalise(str(row.get("test_setup_code") or ""))
        challenge = list(row.get("challenge_test_list") or [])
    number = task_number(row.get("task_id"), f"{source}" + (f":{line}" if line else ""))
    return {"number": number, "text": text, "code": normalise(code), "tests": tests,
            "setup": setup, "challenge": challenge}


def problem_from_task(task: dict[str, Any], shots: list[dict[str, Any]], split: str,
                      challenge_tests: bool, non_plain: frozenset[int]) -> Problem:
    asserts = list(task["tests"]) + (list(task["challenge"]) if challenge_tests else [])
    plan = plan_asserts(asserts, task["setup"], task["code"])
    if task["number"] in non_plain and not plan.in_sandbox_reason:
        plan = type(plan)((), (), "the reference returns a value that is not plain data")
    return Problem(
        task_id=f"Mbpp/{task['number']}",
        prompt=mbpp_prompt.build(task["text"], task["tests"], shots),  # the paper's 3-shot
        entry_point=None,
        grader="asserts",
        tests=plan.as_tests(task["setup"], asserts),
        reference=task["code"],
        metadata={"text": task["text"], "tests_shown": list(task["tests"]),
                  "mbpp_shots": shots, "split": split},
    )


def load(name: str, data: Path | None, *, split: str = "test",
         challenge_tests: bool = False) -> Dataset:
    """MBPP full (`name` "mbpp") or sanitized ("mbpp-sanitized"), from --data or the hub."""
    if split not in SPLITS:
        raise UserError(f"unknown MBPP split {split!r} (known: {', '.join(SPLITS)})")
    sanitized = name == "mbpp-sanitized"
    if challenge_tests and sanitized:
        raise UserError("--challenge-tests: sanitized MBPP has no challenge tests (use mbpp)")
    rows: list[Row]
    if data is not None:
        rows, source, version = read_file_rows(data), str(data), f"sha256:{file_digest(data)}"
    else:
        repo, config = HUB[name]
        rows, version = hub_rows(repo, config, HUB_SPLITS, name)
        source = version
    tasks = [read_task(source, line, row, sanitized) for line, row in rows]
    by_number: dict[int, dict[str, Any]] = {}
    for t in tasks:
        if t["number"] in by_number:
            raise UserError(f"{source}: duplicate task_id {t['number']}")
        by_number[t["number"]] = t
    shots = [{"text": by_number[i]["text"], "tests": by_number[i]["tests"],
              "code": by_number[i]["code"]} for i in mbpp_prompt.SHOT_IDS if i in by_number]
    wanted = SPLITS[split]
    problems = {}
    for number in sorted(by_number):
        if number in wanted:
            p = problem_from_task(by_number[number], shots, split, challenge_tests,
                                  NON_PLAIN_RETURNS[name])
            problems[p.task_id] = p
    if not problems:
        raise UserError(f"{source}: no MBPP tasks in the {split} split")
    options = f" split={split}" + (" +challenge" if challenge_tests else "")
    return Dataset(name=name, version=version + options, problems=problems, source=source)


def _loader(name: str) -> Callable[[Path | None, Mapping[str, Any]], Dataset]:
    def load_named(data: Path | None, options: Mapping[str, Any]) -> Dataset:
        return load(name, data, split=options.get("split", "test"),
                    challenge_tests=bool(options.get("challenge_tests")))

    return load_named


MBPP, MBPP_SANITIZED = (
    Benchmark(name, description, _loader(name), options=frozenset({"split", "challenge_tests"}),
              prompt=mbpp_prompt.build_prompt, function=mbpp_prompt.tested_function,
              hidden_packages=("datasets",))
    for name, description in (
        ("mbpp", "MBPP (Austin et al. 2021), full: 974 tasks, test split 11-510 by default"),
        ("mbpp-sanitized", "MBPP, the hand-checked 427 tasks (sanitized)")))
