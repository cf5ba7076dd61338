"""The reward shim: the same rewards in this process and from a running `execeval serve`,
and verl's two reward function signatures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_serve import ADD_STDIO, CORRECT_0, SUM_SCRIPT, WRONG_0, Running, running_server

from execeval import rewards as rw
from execeval.errors import UserError

CHAT_0 = ("Sure.\n```python\ndef has_close_elements(numbers, threshold):\n" + CORRECT_0
          + "```\n")
# (completion, target, style): a mix of passes, failures, partial stdio and an extraction
CASES = [
    (CORRECT_0, "HumanEval/0", "completion"),
    (WRONG_0, "HumanEval/0", "completion"),
    ("    return a + b\n", "HumanEval/53", "completion"),  # its arguments are x and y
    ("    return x + y\n", {"dataset": "humaneval", "task_id": "HumanEval/53"}, "completion"),
    (SUM_SCRIPT, ADD_STDIO, "solution"),
    ("print(3)", json.dumps(ADD_STDIO), "solution"),
    ("a, b = map(int, input().split())\nprint(a + b if a else 0)",
     {"inputs": ["1 2\n", "0 7\n"], "outputs": ["3\n", "7\n"]}, "solution"),
    (CHAT_0, "HumanEval/0", "response"),
    ("I cannot help with that.", "HumanEval/0", "response"),
]
EXPECTED = [1.0, 0.0, 0.0, 1.0, 1.0, 0.25, 0.5, 1.0, 0.0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running_server(tmp_path_factory.mktemp("rewards")) as s:
        yield s


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[rw.LocalGrader]:
    store = tmp_path_factory.mktemp("local") / "store.sqlite"  # not the server's: both grade
    with rw.LocalGrader(workers=2, store=store, datasets=["humaneval"]) as grader:
        yield grader


def requests() -> list[dict[str, object]]:
    out = []
    for text, target, style in CASES:
        out += rw.requests_for([text], [target], dataset=None, style=style)
    return out


def test_in_process_and_remote_agree(server: Running, local: rw.LocalGrader) -> None:
    here = local.grade(requests())
    there = rw.RemoteGrader(server.url).grade(requests())
    assert [r["reward"] for r in here] == EXPECTED == [r["reward"] for r in there]
    assert [(r["status"], r["passed"]) for r in here] == \
        [(r["status"], r["passed"]) for r in there]
    assert not any(r["cached"] for r in here)  # two stores: each side really graded


def test_rewards_function(server: Running, tmp_path: Path) -> None:
    texts = [CORRECT_0, WRONG_0]
    there = rw.rewards(texts, ["HumanEval/0"] * 2, dataset="humaneval", base_url=server.url)
    here = rw.rewards(texts, ["HumanEval/0"] * 2, dataset="humaneval",
                      store=str(tmp_path / "s.sqlite"), workers=1)
    assert there == here == [1.0, 0.0]
    inline = rw.rewards(["print(3)"], tests=[ADD_STDIO], style="solution", base_url=server.url)
    assert inline == [0.25]
    with pytest.raises(UserError, match="either task_ids or tests"):
        rw.rewards(texts)
    with pytest.raises(UserError, match="2 completions but 1"):
        rw.rewards(texts, ["HumanEval/0"], base_url=server.url)
    with pytest.raises(UserError, match=r"HTTP 404.*not loaded"):
        rw.rewards(texts[:1], ["1"], dataset="mbpp", base_url=server.url)


def test_remote_splits_batches_the_server_cannot_take(tmp_path: Path) -> None:
    with running_server(tmp_path, workers=1, queue=2) as s:
        texts = [f"print({n})" for n in range(7)]
        got = rw.RemoteGrader(s.url, batch_size=64).grade(
            rw.requests_for(texts, [ADD_STDIO] * 7, style="solution"))
        # print(n) passes the one test whose answer is n (3, 4 or 7) of the four
        assert [r["reward"] for r in got] == [0.0, 0.0, 0.0, 0.25, 0.25, 0.0, 0.0]


def test_verl_signatures(server: Running) -> None:
    """verl calls compute_score(data_source, solution_str, ground_truth, extra_info,
    **reward_kwargs); its batch manager calls compute_score_batch with lists."""
    one = rw.compute_score("humaneval", CHAT_0, "HumanEval/0", {"index": 0},
                           base_url=server.url)
    assert one == 1.0
    code_tests = json.dumps({"inputs": ["1 2\n", "2 2\n"], "outputs": ["3\n", "4\n"]})
    batch = rw.compute_score_batch(
        data_sources=["humaneval", "codecontests", "humaneval"],
        solution_strs=[CHAT_0, "```python\n" + SUM_SCRIPT + "```", "no code"],
        ground_truths=["HumanEval/0", code_tests, "HumanEval/0"],
        extra_infos=[{}, {}, {}], base_url=server.url, timeout=3.0)
    assert batch == [1.0, 1.0, 0.0]
