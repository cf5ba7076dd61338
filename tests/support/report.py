"""Real runs for the report and viewer tests (and the docs' screenshots), made offline:
HumanEval's own problems graded in the real sandbox, a run of each kind."""

from __future__ import annotations

import json
import re
import selectors
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import execeval
from execeval.store import SampleRow, Store
from execeval.verdict import Verdict
from support import canonical_completion

SCRIPT = "<script>window.__pwned=1</script>"
# the tests' runs: six HumanEval problems, four samples each; how many pass in A and in B
GOOD_A = [4, 2, 0, 3, 1, 4]
GOOD_B = [4, 0, 3, 3, 1, 2]


@dataclass(frozen=True)
class Runs:
    store: Path
    evaluate: str        # run A: completions graded by `evaluate`
    generated: str       # run B: raw outputs replayed through `run` (extraction and all)
    tasks: list[str]


def _evaluate_rows(problems: list, good: Sequence[int], n: int) -> list[dict[str, str]]:
    """Per problem, good[j] canonical completions, then wrong ones of three kinds; every
    text distinct (a comment with the sample's number)."""
    rows = []
    for p, g in zip(problems, good, strict=True):
        right = canonical_completion(p)
        for i in range(n):
            if i < g:
                text = right + f"# {i}\n"
            else:
                text = (f"    return None  # {SCRIPT} {i}\n",       # failed
                        f"    raise ValueError('sample {i}')\n",    # error
                        f"    return (  # {i}\n")[i % 3]            # syntax error
            rows.append({"task_id": p.task_id, "completion": text})
    return rows


def _raw_rows(problems: list, good: Sequence[int], n: int) -> list[dict[str, str]]:
    """What a chat model might answer: fenced programs, or a `<script>` and nothing else."""
    rows = []
    for p, g in zip(problems, good, strict=True):
        for i in range(n):
            if i < g:
                text = f"Here is the function:\n```python\n{p.reference}# {i}\n```\n"
            elif i % 2:
                text = f"```python\n{p.prompt}    return []  # {i}\n```"
            else:
                text = SCRIPT
            rows.append({"task_id": p.task_id, "raw": text})
    return rows


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def build_runs(store: Path, good_a: Sequence[int], good_b: Sequence[int], n: int,
               workers: int = 2) -> Runs:
    """Two graded runs on the first len(good_a) HumanEval problems, n samples each."""
    ds = execeval.load_dataset("humaneval")
    problems = list(ds.problems.values())[:len(good_a)]
    completions = store.parent / "completions.jsonl"
    _write(completions, _evaluate_rows(problems, good_a, n))
    a = execeval.evaluate(completions, ds, store=store, k=[1, n], workers=workers)
    samples = store.parent / "chat_answers.jsonl"
    _write(samples, _raw_rows(problems, good_b, n))
    tasks = [p.task_id for p in problems]
    b = execeval.run(f"samples:{samples}", ds, tasks=tasks, n=n, store=store, k=[1, n],
                     workers=workers)
    return Runs(store, a.run_id, b.run_id, tasks)


def large_run(path: Path, problems: int = 164, n: int = 100) -> str:
    """A finished `evaluate` run of n samples on each of the first HumanEval problems,
    its verdicts written to the store directly (grading 16,400 takes minutes): canonical
    completions pass, `return None` fails, each text distinct."""
    from execeval.grading import Recorder

    ds = execeval.load_dataset("humaneval")
    store = Store(path)
    recorder = Recorder(store, "large0000001", "evaluate", ds,
                        {"ks": [1, 10, 100], "samples": "large.jsonl"})
    rows, verdicts = [], []
    for j, p in enumerate(list(ds.problems.values())[:problems]):
        right = canonical_completion(p)
        for i in range(n):
            good = i < (j * 37) % (n + 1)
            text = right + f"# {i}\n" if good else f"    return None  # {i}\n"
            key = f"{p.task_id}:{i}"
            rows.append(SampleRow(j * n + i, p.task_id, i, key, p.prompt + text, "completion",
                                  {"task_id": p.task_id, "completion": text}))
            verdicts.append((key, Verdict(True, "passed", "", 0.02) if good else Verdict(
                False, "failed", f"assertion failed: assert candidate({i}) == {i + 1}", 0.02)))
    recorder.samples(rows)
    recorder.verdicts(verdicts)
    recorder.finish([1, 10, 100], {})
    store.close()
    return recorder.run_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def viewer(store: Path, *args: str) -> Iterator[str]:
    """`execeval view` as a user starts it; yields its address once it listens (it prints
    the address after binding, so the first request is answered: no sleeping)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "execeval.cli", "view", "--store", str(store), "--port",
         str(free_port()), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout=30):
                raise AssertionError("the viewer printed nothing in 30 s")
        line = proc.stdout.readline()
        found = re.search(r"http://\S+/", line)
        if found is None:
            proc.kill()
            raise AssertionError(f"the viewer did not start: {line}{proc.stderr.read()}")
        yield found.group(0)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
