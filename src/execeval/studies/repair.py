"""`execeval study repair`: how many more problems does a model solve when told what went wrong?

Austin et al. (2021, section 7) let a person talk to the model: after a wrong program
the model was given feedback and answered again, and a few rounds of dialogue solved
many more of MBPP's tasks. This study runs that dialogue per problem. Turn 0 is an
ordinary run (n=1). For each problem still unsolved after turn t, the feedback on its
answer (`execution`: the test result as a tool reports it; `human`: what a person types;
`model`: a hint another model writes) is appended to its dialogue, and turn t+1 is an
ordinary stored run on a derived dataset holding only those problems, each with its
dialogue as its prompt. Every turn is a stored run, addressed by its dialogues, so
running the study again regenerates and regrades nothing.

The dialogue's formats (the template is `<base template>+repair-v1`):

* chat: the benchmark's messages, then per round the assistant's answer (as it wrote it)
  and a user message `FEEDBACK`, the feedback, and `ASK_CHAT`;
* completion, MBPP's paper format (the prompt ends in `[BEGIN]`): per round the code,
  `[DONE]`, `FEEDBACK`, the feedback, `ASK`, and a new `[BEGIN]` (the model's answer
  ends at `[DONE]`, as before);
* completion, code prompts (HumanEval: the prompt is the program's start): per round the
  completion, the feedback as `# ` comments under `# FEEDBACK`, then the function's
  prompt again (so the answer is again its completion);
* completion, other text prompts: the program, then the feedback as comments.

Execution feedback never shows a test the prompt does not show (see `execution_feedback`).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from rich.console import Console

from execeval import api, benchmark
from execeval.dataset import Dataset, Problem
from execeval.errors import UserError
from execeval.executor import Executor
from execeval.options import DatasetOptions, RunOptions, about
from execeval.prompts import Prompt
from execeval.stats import ci_mean
from execeval.store import Store, StoredSample, store_path
from execeval.studies import common

TEMPLATE = "repair-v1"
FEEDBACK = "Feedback on the code above:"
ASK = "Write the code again, corrected."
ASK_CHAT = "Write the corrected program in one ```python code block."
CRITIC = "Review the program above."
KINDS = ("execution", "human", "model")
SKIPPED = "(skipped)"

# Callable a person answers through: (task id, turn, what to show) -> text, or None (skip)
Ask = Callable[[str, int, str], "str | None"]


# the dialogue as a prompt ----------------------------------------------------------------
@dataclass(frozen=True)
class Round:
    """One wrong answer and the feedback on it."""

    program: str          # what ran
    raw: str              # what the model wrote (chat: kept as it was said)
    feedback: str

    def record(self) -> dict[str, str]:
        return {"program": self.program, "raw": self.raw, "feedback": self.feedback}


def _comment(text: str) -> str:
    return "".join(f"# {line}".rstrip() + "\n" for line in text.splitlines() or [""])


def dialogue_prompt(base: Prompt, problem: Problem, rounds: Sequence[Round]) -> Prompt:
    """The benchmark's prompt for `problem` with the rounds of dialogue appended."""
    template = f"{base.template}+{TEMPLATE}"
    if base.style == "chat":
        messages = list(base.messages)
        for r in rounds:
            answer = r.raw.strip() or f"```python\n{r.program.strip()}\n```"
            messages += [("assistant", answer),
                         ("user", f"{FEEDBACK}\n{r.feedback.strip()}\n\n{ASK_CHAT}")]
        return replace(base, template=template, messages=tuple(messages))
    text = base.text
    code_prompt = bool(problem.code_prefix) and problem.code_prefix == problem.prompt
    for r in rounds:
        if text.endswith("[BEGIN]\n"):
            text += (f"{r.program.strip()}\n[DONE]\n{FEEDBACK}\n{r.feedback.strip()}\n{ASK}\n"
                     "[BEGIN]\n")
        elif code_prompt:
            body = (r.program[len(problem.code_prefix):]
                    if r.program.startswith(problem.code_prefix) else "\n" + r.program)
            text += (f"{body.rstrip()}\n\n\n{_comment(FEEDBACK)}{_comment(r.feedback.strip())}"
                     f"{_comment(ASK)}\n\n{problem.prompt}")
        else:
            text += (f"\n{r.program.rstrip()}\n\n{_comment(FEEDBACK)}"
                     f"{_comment(r.feedback.strip())}{_comment(ASK)}\n")
    return replace(base, template=template, text=text)


def _repair_prompt(dataset: Dataset, problem: Problem, style: str,
                   shots: int | None) -> Prompt:
    """The derived benchmark's prompt builder: the base benchmark's prompt for the original
    problem, then the dialogue kept in the problem's metadata."""
    from execeval.benchmark import build_prompt

    meta = problem.metadata["repair"]
    original = replace(problem, prompt=meta["prompt"])
    base_ds = replace(dataset, benchmark=meta["benchmark"])
    rounds = [Round(**r) for r in meta["rounds"]]
    return dialogue_prompt(build_prompt(base_ds, original, style, shots), original, rounds)


def _refuse(data: Path | None, options: Any) -> Dataset:
    raise UserError("a repair dataset is made by `execeval study repair`, not loaded by name")


def repair_benchmark(base: str) -> str:
    """The name of the derived benchmark (registered once per process): the base one's
    extraction, tally and rows, with the dialogue as the prompt."""
    name = f"{base or 'file'}+repair"
    if name not in benchmark.BENCHMARKS:
        b = benchmark.get(base) if base else None
        derived = (replace(b, name=name, load=_refuse, prompt=_repair_prompt) if b else
                   benchmark.Benchmark(name, "repair dialogue", _refuse, prompt=_repair_prompt))
        benchmark.register(derived)
    return name


def derived_dataset(ds: Dataset, dialogues: dict[str, list[Round]], turn: int) -> Dataset:
    """The problems still in the dialogue at `turn`, each prompting with its dialogue. The
    problem's `prompt` spells the dialogue out, so each turn's problems (and so its run
    and verdicts) have their own content hash."""
    problems = {}
    for task_id, rounds in dialogues.items():
        p = ds.problems[task_id]
        record = [r.record() for r in rounds]
        spelled = p.prompt + "".join(f"\n# answer {i}\n{r.program}\n# feedback {i}\n"
                                     f"{r.feedback}\n" for i, r in enumerate(rounds))
        meta = {**p.metadata, "repair": {"prompt": p.prompt, "benchmark": ds.benchmark,
                                         "rounds": record}}
        problems[task_id] = replace(p, prompt=spelled, metadata=meta)
    return replace(ds, problems=problems, benchmark=repair_benchmark(ds.benchmark),
                   version=f"{ds.version} repair-turn={turn}")


# feedback ------------------------------------------------------------------------------
def tests_shown(problem: Problem) -> bool:
    """Whether every test that grades the problem is shown in its prompt (MBPP as published:
    its three asserts are both)."""
    shown = problem.metadata.get("tests_shown") or []
    return problem.grader == "asserts" and bool(shown) \
        and set(problem.tests.get("asserts", [])) <= set(shown)


def execution_feedback(problem: Problem, status: str, detail: str) -> str:
    """The test result as a tool reports it, without leaking a hidden test.

    Where every test is shown in the prompt (MBPP), the verdict's detail as it is: the
    failing assert, or the error with its message. Otherwise (HumanEval, MBPP with
    --challenge-tests, APPS, ...): a failing assert is named only if the prompt shows it;
    an error gives its type and the program line, not its message (a message can hold a
    hidden input); a timeout, memory or crash says only that.
    """
    if status == "syntax_error":
        return f"The program does not parse: {detail}"
    if tests_shown(problem):
        if status == "failed":
            return f"This test failed: {detail.removeprefix('assertion failed: ')}"
        if status == "error":
            return f"Running the tests raised {detail}"
        if status == "timeout":
            return "The program did not finish within the time limit on the tests."
    shown = set(problem.metadata.get("tests_shown") or [])
    if status == "failed":
        line = detail.removeprefix("assertion failed: ").strip()
        if line in shown:
            return f"This test failed: {line}"
        return "The program returned a wrong answer: an assertion in the hidden tests failed."
    if status == "error":
        kind = detail.split(":", 1)[0].strip() or "an exception"
        where = detail[detail.rfind("(program line"):] if "(program line" in detail else ""
        return f"Running the hidden tests raised {kind} {where}".rstrip() + "."
    if status == "timeout":
        return "The program did not finish within the time limit on the hidden tests."
    if status == "memory":
        return "The program ran out of memory on the tests."
    if status == "crash":
        return "The program crashed or exited while being tested."
    return f"The program did not pass the tests ({status})."


def task_text(problem: Problem) -> str:
    """What the task asks, as a person or a critic reads it."""
    meta = problem.metadata
    if "text" in meta and meta.get("tests_shown"):
        return f"{meta['text']}\n" + "\n".join(meta["tests_shown"])
    return problem.prompt


def critic_prompt(problem: Problem, program: str, result: str, chat: bool) -> Prompt:
    """What the feedback model is asked: the task, the program, its result, a short hint."""
    body = (f"Task:\n{task_text(problem).strip()}\n\nProgram:\n```python\n{program.strip()}\n```"
            f"\n\nTest result: {result}\n\n{CRITIC} In at most two sentences, say what is "
            "wrong with it and how to fix it. Do not write code.")
    if chat:
        return Prompt("chat", "repair-critic-v1", messages=(("user", body),))
    return Prompt("completion", "repair-critic-v1", text=_comment(body) + "# Hint:", stop=("\n\n",))


class FeedbackFile:
    """Feedback recorded as JSONL lines {task_id, turn, text, ...}: a person's answers (text
    None: skipped), kept so that the study replays and resumes without asking again. A
    line with `program_sha` is about that program only; one without (written by hand)
    stands for any program at that task and turn."""

    def __init__(self, path: Path):
        self.path = path
        self.exact: dict[tuple[str, int, str], str | None] = {}
        self.loose: dict[tuple[str, int], str | None] = {}
        if path.exists():
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    key = (str(row["task_id"]), int(row["turn"]))
                    text = row.get("text")
                except (ValueError, KeyError, TypeError) as e:
                    raise UserError(f"{path}:{n}: not a feedback line ({e})") from None
                if row.get("program_sha"):
                    self.exact[(*key, row["program_sha"])] = text
                else:
                    self.loose[key] = text

    def get(self, task_id: str, turn: int, sha: str) -> tuple[bool, str | None]:
        """(found, text) for this answer."""
        if (task_id, turn, sha) in self.exact:
            return True, self.exact[task_id, turn, sha]
        if (task_id, turn) in self.loose:
            return True, self.loose[task_id, turn]
        return False, None

    def add(self, task_id: str, turn: int, sha: str, text: str | None, **extra: Any) -> None:
        self.exact[task_id, turn, sha] = text
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as f:  # one line per answer, at once: an interrupt keeps it
            f.write(json.dumps({"task_id": task_id, "turn": turn, "text": text,
                                "program_sha": sha, **extra}) + "\n")


def sha(program: str) -> str:
    return hashlib.sha256(program.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def read_lines(stream: TextIO) -> str | None:
    """Lines up to a blank one; None when the stream ends first (Ctrl-D: skip)."""
    lines: list[str] = []
    while True:
        line = stream.readline()
        if not line:
            return None
        if not line.strip():
            return "\n".join(lines).strip() if lines else None
        lines.append(line.rstrip("\n"))


def terminal_ask(task_id: str, turn: int, shown: str) -> str | None:
    """Ask the person at the terminal (stderr shows, stdin answers)."""
    out = sys.stderr
    out.write(f"\n=== {task_id}: answer of turn {turn} ===\n{shown}\n"
              "Type feedback for the model; a blank line ends it, Ctrl-D skips this problem.\n"
              "> ")
    out.flush()
    text = read_lines(sys.stdin)
    out.write("(skipped)\n" if text is None else "(recorded)\n")
    out.flush()
    return text


class FeedbackModel:
    """Hints from a model, each stored as a generation addressed by (model, settings,
    prompt), so asking again reads the store."""

    def __init__(self, spec: str, ds: Dataset, store: Store, stack: ExitStack):
        from execeval.models import Settings, load_model

        self.model = load_model(spec, ds)
        stack.callback(self.model.close)
        self.store = store
        self.settings = Settings(n=1, temperature=0.0, max_tokens=160, stop=None)

    def hint(self, problem: Problem, program: str, result: str) -> str:
        from execeval.models.base import Generation, Request
        from execeval.pipeline import generation_key

        prompt = critic_prompt(problem, program, result, bool(self.model.chat))
        settings = replace(self.settings, stop=prompt.stop)
        key = generation_key(self.model.fingerprint(), settings, prompt)
        have = self.store.get_generations(key, 1)
        if 0 not in have:
            self.store.put_prompts([(prompt.key(), prompt.record())])
            request = Request(problem.task_id, prompt, 0, 1, settings.seed)
            for gens in self.model.generate([request], settings):
                self.store.put_generations(key, problem.task_id, [(g.index, g.record())
                                                                  for g in gens])
            have = self.store.get_generations(key, 1)
        text = Generation.from_record(have[0]).text.strip()
        return text[:800] or result


# the study -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RepairOptions(common.OnModel):
    """`execeval study repair`: how many rounds, and who gives the feedback (turn 0 is a
    run with n=1, greedy unless --temperature)."""

    dataset: str = field(default="mbpp", metadata=about("the benchmark"))
    turns: int = field(default=4, metadata=about("rounds of feedback after turn 0"))
    feedback: str = field(default="execution", metadata=about(
        "who says what went wrong: the test result, a person, or a model", choices=KINDS))
    feedback_file: Path | None = field(default=None, metadata=about(
        "human feedback, recorded and replayed (default: beside the store)",
        metavar="F.jsonl"))
    feedback_model: str | None = field(default=None, metadata=about(
        "the model that writes hints for --feedback model (default --model)",
        metavar="SPEC"))


@dataclass(frozen=True)
class Turn:
    """One turn: its run (None: nobody was left to ask), the problems asked and solved at
    it, and the cumulative solved share over all the study's problems."""

    turn: int
    run: str | None
    asked: int
    solved_now: int
    solved: float
    solved_ci: tuple[float, float]

    def to_json(self) -> dict[str, Any]:
        return {"turn": self.turn, "run": self.run, "asked": self.asked,
                "solved_now": self.solved_now, "solved": self.solved,
                "solved_ci": list(self.solved_ci)}


@dataclass(frozen=True)
class RepairResult:
    """The turns; per problem the turn it was solved at (None: never) and the turn a person
    skipped it at."""

    model: str
    dataset: str
    feedback: str
    feedback_model: str | None  # --feedback model: who wrote the hints
    feedback_file: str | None   # --feedback human: where the answers are recorded
    n_tasks: int
    turns: tuple[Turn, ...]
    solved_at: dict[str, int | None]
    skipped: dict[str, int]
    runs: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"study": "repair", "model": self.model, "dataset": self.dataset,
                "feedback": self.feedback, "feedback_model": self.feedback_model,
                "feedback_file": self.feedback_file, "n_tasks": self.n_tasks,
                "turns": [t.to_json() for t in self.turns], "solved_at": dict(self.solved_at),
                "skipped": dict(self.skipped), "runs": list(self.runs)}

    def render(self, console: Console) -> None:
        rows = [[str(e.turn), str(e.asked), str(e.solved_now),
                 common.fmt_ci(e.solved, e.solved_ci), e.run or ""] for e in self.turns]
        never = sum(v is None for v in self.solved_at.values())
        notes = [f"{never} of {self.n_tasks} never solved"
                 + (f", {len(self.skipped)} skipped by the person" if self.skipped else "")]
        if self.feedback_file:
            notes.append(f"feedback recorded in {self.feedback_file}")
        common.table(console, f"repair with {self.feedback} feedback: {self.model} on "
                     f"{self.dataset} ({self.n_tasks} tasks, n=1)",
                     ["turn", "asked", "solved now", "solved (cumulative)", "run"], rows, notes)


def default_feedback_file(store: Path) -> Path:
    return store.with_name(f"{store.stem}.repair-feedback.jsonl")


def repair(options: RepairOptions, run: RunOptions | None = None, *, ask: Ask | None = None,
           executor: Executor | None = None) -> RepairResult:
    """Turn 0, then up to `options.turns` rounds of feedback on the problems still
    unsolved; the cumulative solved share per turn and the turn each problem was solved at.
    `run`: `execeval run`'s options (one answer per problem: n is 1); `ask`: who answers
    for --feedback human (default: the person at the terminal); `executor`: an open one
    to grade on."""
    run = run or RunOptions()
    if options.feedback not in KINDS:
        raise UserError(f"--feedback: one of {', '.join(KINDS)}, not {options.feedback!r}")
    if options.turns < 0:
        raise UserError("--turns: give 0 or more")
    model, d = options.model, run.dataset
    dataset = api.load_dataset(options.dataset, d.data, problems_file=d.problems_file,
                               **d.benchmark_options())
    chosen = api.select_tasks(dataset, d.tasks, d.limit)
    if not chosen:
        raise UserError("no tasks")
    store_file = store_path(run.grading.store)
    turn_options = replace(run, dataset=DatasetOptions(),
                           generation=replace(run.generation, n=1),
                           grading=replace(run.grading, store=store_file))
    fb_path = options.feedback_file or default_feedback_file(store_file)

    with ExitStack() as stack:
        store = common.open_store(stack, store_file)
        recorded = FeedbackFile(fb_path)
        critic = (FeedbackModel(options.feedback_model or model, dataset, store, stack)
                  if options.feedback == "model" else None)
        person = ask or terminal_ask
        if options.feedback == "human" and ask is None and not sys.stdin.isatty():
            person = _no_terminal
        solved_at: dict[str, int | None] = dict.fromkeys(chosen)
        skipped: dict[str, int] = {}
        dialogues: dict[str, list[Round]] = {t: [] for t in chosen}
        asked_at: list[tuple[int, str | None, int, int]] = []  # turn, run, asked, solved now
        runs: list[str] = []
        current = dataset
        for turn in range(options.turns + 1):
            asked = list(dialogues)
            if not asked:
                break
            if turn:
                current = derived_dataset(dataset, dialogues, turn)
            result = api.run(model, current, turn_options.with_changes(tasks=tuple(asked)),
                             executor=executor)
            runs.append(result.run_id)
            answers = {s.task_id: s for s in store.samples(result.run_id) if s.sample == 0}
            for t in asked:
                if answers.get(t) is not None and answers[t].passed:
                    solved_at[t] = turn
            still = [t for t in asked if solved_at[t] is None]
            asked_at.append((turn, result.run_id, len(asked), len(asked) - len(still)))
            if turn == options.turns:
                break
            next_dialogues: dict[str, list[Round]] = {}
            for t in still:
                s = answers.get(t)
                if s is None or s.status is None:
                    raise UserError(f"run {result.run_id}: {t} was not graded")
                text = _feedback(options.feedback, dataset.problems[t], s, turn, recorded, critic,
                                 person, model)
                if text is None:
                    skipped[t] = turn
                    continue
                next_dialogues[t] = [*dialogues[t], Round(s.program or "", s.raw or "", text)]
            dialogues = next_dialogues

    # the turns after every problem was solved or skipped ask nobody
    last = asked_at[-1][0] if asked_at else 0
    asked_at += [(turn, None, 0, 0) for turn in range(last + 1, options.turns + 1)]
    turns = []
    for turn, run_id, asked_n, solved_now in asked_at:
        solved = ci_mean(np.array([float(v is not None and v <= turn)
                                   for v in solved_at.values()]))
        turns.append(Turn(turn, run_id, asked_n, solved_now, solved.estimate,
                          (solved.low, solved.high)))
    return RepairResult(
        model=model, dataset=dataset.name, feedback=options.feedback,
        feedback_model=(options.feedback_model or model) if options.feedback == "model"
        else None,
        feedback_file=str(fb_path) if options.feedback == "human" else None,
        n_tasks=len(chosen), turns=tuple(turns), solved_at=solved_at, skipped=skipped,
        runs=tuple(runs))


def _no_terminal(task_id: str, turn: int, shown: str) -> str | None:
    raise UserError(f"--feedback human: no answer recorded for {task_id} at turn {turn}, and "
                    "stdin is not a terminal (run it in one, or give --feedback-file)")


def _feedback(kind: str, problem: Problem, s: StoredSample, turn: int, recorded: FeedbackFile,
              critic: FeedbackModel | None, person: Ask, model: str) -> str | None:
    result = execution_feedback(problem, s.status or "", s.detail or "")
    if kind == "execution":
        return result
    if kind == "model":
        assert critic is not None
        return critic.hint(problem, s.program or "", result)
    program = s.program or ""
    found, text = recorded.get(problem.task_id, turn, sha(program))
    if not found:
        shown = (f"Task:\n{task_text(problem).strip()}\n\nProgram:\n{program.rstrip()}\n\n"
                 f"Result: {result}")
        text = person(problem.task_id, turn, shown)
        text = text.strip() if text and text.strip() else None
        recorded.add(problem.task_id, turn, sha(program), text, model=model)
    return text


STUDY = common.Study(
    help="a dialogue per problem: feedback after a wrong program, up to --turns rounds; the "
         "solved share per turn",
    options=RepairOptions, main=repair,
    example="execeval study repair --model 'fake:repair?p=0.3,0.4' --limit 20 --turns 2",
    without=frozenset({"results", "n"}))
