"""`study repair` recovers what `fake:repair` plants (the solved share after each feedback
turn, and the turn each task is solved at), stores every turn, and replays a person's
recorded feedback; the human mode is driven end to end in a real terminal (tmux)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from support import real_data

from execeval.api import load_dataset
from execeval.benchmark import build_prompt
from execeval.errors import UserError
from execeval.executor import LocalExecutor
from execeval.models import load_model
from execeval.options import RunOptions
from execeval.simulate.planted import uniform
from execeval.simulate.repair import HINT, RepairModel, feedback_turns, parse_repair
from execeval.store import Store
from execeval.studies.repair import (
    FEEDBACK,
    FeedbackFile,
    RepairOptions,
    Round,
    derived_dataset,
    dialogue_prompt,
    execution_feedback,
    repair,
)

SPEC = "fake:repair?p=0.3,0.4,0.5&seed=2"
LIMIT, TURNS = 80, 3


def counts(store: Path) -> tuple[int, int, int]:
    """Generations, verdicts and runs in the store: what running again must not add to."""
    st = Store(store)
    try:
        return tuple(st.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # type: ignore
                     for t in ("generations", "verdicts", "runs"))
    finally:
        st.close()


def run_options(store: Path, limit: int) -> RunOptions:
    """The turns' runs: the real MBPP file, the first `limit` tasks, the session's store."""
    return RunOptions().with_changes(data=real_data("mbpp", "mbpp.jsonl"), limit=limit,
                                     store=store, k=[1])


def test_planted_repair_is_recovered(store: Path, executor: LocalExecutor) -> None:
    r = repair(RepairOptions(SPEC, turns=TURNS), run_options(store, LIMIT), executor=executor)
    planted = parse_repair(SPEC.partition(":")[2])
    shares = [e.solved for e in r.turns]
    assert [e.turn for e in r.turns] == list(range(TURNS + 1))
    assert shares == sorted(shares) and len(r.runs) == TURNS + 1
    for e in r.turns:
        truth = planted.solved_by(e.turn)
        assert e.solved_ci[0] <= truth <= e.solved_ci[1], (e, truth)
    # exactly the planted draws: the first turn whose answer was the reference
    for task, at in r.solved_at.items():
        first = next((t for t in range(TURNS + 1)
                      if uniform(planted.seed, None, task, t, 0, "correct") < planted.at(t)), None)
        assert at == first, task
    assert sum(e.solved_now for e in r.turns) == sum(v is not None for v in r.solved_at.values())
    out = r.to_json()
    assert out["study"] == "repair" and out["turns"][0]["solved_ci"] == list(r.turns[0].solved_ci)
    assert json.loads(json.dumps(out)) == out
    before = counts(store)
    again = repair(RepairOptions(SPEC, turns=TURNS), run_options(store, LIMIT), executor=executor)
    assert counts(store) == before and again.runs == r.runs
    assert again.solved_at == r.solved_at


def test_execution_feedback_leaks_no_hidden_test() -> None:
    mbpp = load_dataset("mbpp", data=real_data("mbpp", "mbpp.jsonl"))
    p = mbpp.problems["Mbpp/11"]
    line = p.metadata["tests_shown"][0]
    assert execution_feedback(p, "failed", f"assertion failed: {line}") == \
        f"This test failed: {line}"
    assert "no hello" in execution_feedback(p, "error", "ValueError: no hello (program line 2)")
    he = load_dataset("humaneval").problems["HumanEval/0"]
    hidden = "assertion failed: assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True"
    said = execution_feedback(he, "failed", hidden)
    assert "candidate" not in said and "hidden tests failed" in said
    said = execution_feedback(he, "error", "KeyError: 0.3 (program line 12)")
    assert said == "Running the hidden tests raised KeyError (program line 12)."
    assert "time limit" in execution_feedback(he, "timeout", "no answer within 3s (cpu 3s)")
    # MBPP with challenge tests: only a failing assert the prompt shows is named
    challenged = load_dataset("mbpp", data=real_data("mbpp", "mbpp.jsonl"),
                              challenge_tests=True).problems["Mbpp/11"]
    extra = [a for a in challenged.tests["asserts"] if a not in challenged.metadata["tests_shown"]]
    assert extra and execution_feedback(challenged, "failed", f"assertion failed: {line}") \
        == f"This test failed: {line}"
    assert extra[0] not in execution_feedback(challenged, "failed",
                                              f"assertion failed: {extra[0]}")
    assert "no hello" not in execution_feedback(challenged, "error", "ValueError: no hello")


def test_dialogue_formats() -> None:
    mbpp = load_dataset("mbpp", data=real_data("mbpp", "mbpp.jsonl"))
    he = load_dataset("humaneval")
    rounds = [Round("def f():\n    return 1\n", "x", "fix one"),
              Round("def f():\n    return 2\n", "y", "fix two\nand more")]
    p = mbpp.problems["Mbpp/11"]
    text = dialogue_prompt(build_prompt(mbpp, p, "completion"), p, rounds).text
    assert text.count(FEEDBACK) == 2 and text.endswith("[BEGIN]\n")
    assert "return 1\n[DONE]\nFeedback on the code above:\nfix one\n" in text
    chat = dialogue_prompt(build_prompt(mbpp, p, "chat"), p, rounds)
    roles = [r for r, _ in chat.messages]
    assert roles[-4:] == ["assistant", "user", "assistant", "user"] and chat.messages[-4][1] == "x"
    assert chat.messages[-1][1].startswith(FEEDBACK) and "fix two\nand more" in chat.messages[-1][1]
    h = he.problems["HumanEval/0"]
    prog = h.prompt + "    return False\n"
    code = dialogue_prompt(build_prompt(he, h, "completion"), h,
                           [Round(prog, "    return False\n", "wrong")])
    assert code.text.endswith(h.prompt) and "# wrong\n" in code.text
    assert code.text.count(h.prompt) == 2 and code.stop == build_prompt(he, h, "completion").stop
    assert feedback_turns(code.text) == 1
    # the derived benchmark builds the same prompt through the ordinary plan
    derived = derived_dataset(he, {h.task_id: [Round(prog, "", "wrong")]}, 1)
    assert build_prompt(derived, derived.problems[h.task_id], "completion").text == code.text
    assert derived.hash != he.hash and derived.problems[h.task_id].code_prefix == h.code_prefix
    model = load_model("fake:repair?chat=1", mbpp)
    assert isinstance(model, RepairModel) and model.chat
    with pytest.raises(UserError):
        load_model("fake:repair?p=2", mbpp)


def test_chat_and_model_feedback(store: Path, executor: LocalExecutor) -> None:
    study = RepairOptions("fake:repair?p=0,0,1&chat=1", turns=2, feedback="model",
                          feedback_model="fake:repair")
    r = repair(study, run_options(store, 12), executor=executor)
    assert [e.solved for e in r.turns] == [0.0, 0.0, 1.0]
    assert r.feedback_model == "fake:repair" and r.feedback_file is None
    st = Store(store)
    try:
        s = next(st.samples(r.runs[2]))
        messages = st.prompt(s.prompt_key or "")["messages"]  # type: ignore[index]
        assert [m[0] for m in messages[-4:]] == ["assistant", "user", "assistant", "user"]
        assert HINT in messages[-1][1] and messages[-2][1].startswith("```python")
    finally:
        st.close()
    before = counts(store)
    assert repair(study, run_options(store, 12), executor=executor).runs == r.runs
    assert counts(store) == before  # the hints too are read back, not asked again


def test_human_feedback_is_recorded_and_replayed(store: Path, executor: LocalExecutor,
                                                 tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    asked: list[tuple[str, int]] = []

    def person(task: str, turn: int, shown: str) -> str | None:
        assert "Program:" in shown and ("This test failed" in shown or "raised" in shown)
        asked.append((task, turn))
        return None if task == "Mbpp/12" else f"think about {task}"

    study = RepairOptions("fake:repair?p=0,1", turns=2, feedback="human", feedback_file=path)
    run = run_options(store, 4)
    r = repair(study, run, ask=person, executor=executor)
    assert asked == [("Mbpp/11", 0), ("Mbpp/12", 0), ("Mbpp/13", 0), ("Mbpp/14", 0)]
    assert r.skipped == {"Mbpp/12": 0} and r.feedback_file == str(path)
    assert r.solved_at == {"Mbpp/11": 1, "Mbpp/12": None, "Mbpp/13": 1, "Mbpp/14": 1}
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["text"] for x in rows] == ["think about Mbpp/11", None, "think about Mbpp/13",
                                         "think about Mbpp/14"]

    def nobody(task: str, turn: int, shown: str) -> str | None:
        raise AssertionError("asked again")

    assert repair(study, run, ask=nobody, executor=executor) == r
    # a hand-written file (task_id, turn, text) stands in for the person
    hand = tmp_path / "hand.jsonl"
    hand.write_text("".join(json.dumps({"task_id": f"Mbpp/{i}", "turn": 0, "text": "hi"}) + "\n"
                            for i in (11, 12, 13, 14)))
    by_hand = repair(replace(study, feedback_file=hand), run, ask=nobody, executor=executor)
    assert by_hand.skipped == {} and all(v == 1 for v in by_hand.solved_at.values())
    assert FeedbackFile(hand).get("Mbpp/11", 0, "any") == (True, "hi")


# the human mode in a real terminal -------------------------------------------------------
def command(store: Path, feedback: Path, out: Path) -> str:
    """The study as a person runs it: `execeval study repair` in a terminal."""
    entry = [sys.executable, "-m", "execeval.cli", "study", "repair"]
    args = [*entry, "--model", "fake:repair?p=0,1", "--dataset", "mbpp",
            "--data", str(real_data("mbpp", "mbpp.jsonl")), "--limit", "3", "--turns", "2",
            "--feedback", "human", "--feedback-file", str(feedback), "--store", str(store),
            "--workers", "2", "--k", "1", "--json"]
    return (f"set -o pipefail; {shlex.join(args)} | tee {shlex.quote(str(out))}; "
            f"echo EXIT=$? > {shlex.quote(str(out))}.done; sleep 600")


class Terminal:
    """A tmux session of our own (its own server socket), read and typed into."""

    def __init__(self, socket: str, name: str = "T"):
        self.base = ["tmux", "-L", socket]
        self.name = name

    def start(self, cmd: str, cwd: Path) -> None:
        subprocess.run([*self.base, "new-session", "-d", "-s", self.name, "-x", "200", "-y",
                        "50", "-c", str(cwd), cmd], check=True)

    def screen(self) -> str:
        return subprocess.run([*self.base, "capture-pane", "-p", "-J", "-S", "-2000", "-t",
                               self.name], capture_output=True, text=True, check=True).stdout

    def wait(self, what: str, count: int = 1, timeout: float = 30.0) -> str:
        """Until `what` is shown `count` times (a handshake on the screen, bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if text.count(what) >= count:
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{what!r} not shown {count}x within {timeout}s:\n{text}")
            time.sleep(0.1)

    def type(self, *keys: str, literal: bool = False) -> None:
        subprocess.run([*self.base, "send-keys", "-t", self.name, *(["-l"] if literal else []),
                        *keys], check=True)

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True)


def wait_file(path: Path, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text().strip():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} not written within {timeout}s")
        time.sleep(0.1)
    return path.read_text()


def test_human_feedback_in_a_terminal(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tmux is missing: CI must run the terminal test (apt-get install tmux)")
        pytest.skip("tmux is not installed (apt-get install -y tmux)")
    store, feedback = tmp_path / "store.sqlite", tmp_path / "feedback.jsonl"
    term = Terminal(f"execeval-repair-{os.getpid()}")
    # the second run gets a tmux server of its own: a killed server may still be going away
    term_again = Terminal(f"execeval-repair-{os.getpid()}-again")
    transcript = []
    try:
        out = tmp_path / "out1.txt"
        term.start(command(store, feedback, out), Path.cwd())
        ask = "a blank line ends it, Ctrl-D skips"
        term.wait("=== Mbpp/11: answer of turn 0 ===")
        term.wait(ask, 1)
        term.type("compare the output with the expected tuple", literal=True)
        term.type("Enter")
        term.type("and keep the order", literal=True)
        term.type("Enter", "Enter")
        term.wait("=== Mbpp/12: answer of turn 0 ===")
        term.wait(ask, 2)
        term.type("C-d")
        term.wait("=== Mbpp/13: answer of turn 0 ===")
        term.wait(ask, 3)
        term.type("handle the empty list", literal=True)
        term.type("Enter", "Enter")
        assert wait_file(out.with_name("out1.txt.done")).strip() == "EXIT=0"
        transcript.append(term.screen())
        result = json.loads(out.read_text().strip().splitlines()[-1])
        assert result["skipped"] == {"Mbpp/12": 0}
        assert result["solved_at"] == {"Mbpp/11": 1, "Mbpp/12": None, "Mbpp/13": 1}
        assert "(skipped)" in transcript[0] and transcript[0].count("(recorded)") == 2
        rows = [json.loads(x) for x in feedback.read_text().splitlines()]
        assert [(x["task_id"], x["turn"], x["text"]) for x in rows] == [
            ("Mbpp/11", 0, "compare the output with the expected tuple\nand keep the order"),
            ("Mbpp/12", 0, None), ("Mbpp/13", 0, "handle the empty list")]
        term.close()

        # resume: run it again; the recorded answers are reused, nobody is asked
        again = tmp_path / "out2.txt"
        term_again.start(command(store, feedback, again), Path.cwd())
        assert wait_file(again.with_name("out2.txt.done")).strip() == "EXIT=0"
        transcript.append(term_again.screen())
        assert ask not in transcript[1]
        assert json.loads(again.read_text().strip().splitlines()[-1]) == result
        assert len(feedback.read_text().splitlines()) == 3
    finally:
        term.close()
        term_again.close()
        log = Path(os.environ.get("REPAIR_TRANSCRIPT", tmp_path / "transcript.txt"))
        log.write_text("\n\n---- run again ----\n\n".join(transcript))
