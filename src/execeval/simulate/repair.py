"""`fake:repair[?KEY=VALUE&...]`: a planted model whose success depends on the feedback it got.

`study repair` (studies/repair.py) asks how much a model gains when, after a wrong
program, it is told what went wrong and answers again. No real model's gain is known,
so this backend plants one: it counts the feedback turns in the dialogue it is given
(each feedback block starts with `studies.repair.FEEDBACK`, in a completion text or
in chat messages) and, at turn t (t blocks), writes the task's reference solution with
probability

    p(t) = p[t]        (`p=0.3,0.25,0.2,...`; the last value holds for later turns)

else a wrong program: with probability `errors` one that raises (an `error` verdict),
else a function that returns None (a `failed` verdict). Every draw hashes (seed, run
--seed, task, t, sample index), so a turn's answer does not depend on the feedback's
wording and is the same every time the study runs. A problem still unsolved after turn
t was solved at turn t + 1 with probability p[t + 1], independently: the planted
cumulative solved share is 1 - prod_{s <= t} (1 - p[s]), what the study must recover.

Asked for a hint (`study repair --feedback model`: a prompt containing
`studies.repair.CRITIC`), it writes a fixed short hint.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from typing import Any

from execeval.dataset import Dataset
from execeval.errors import UserError
from execeval.models.base import Generation, Request, Settings
from execeval.simulate.planted import FakeModel, _query, uniform

VERSION = "1"
HINT = "Hint: the program does not compute what the task asks; check it against the tests."


@dataclass(frozen=True)
class Repair:
    """The planted per-turn success probabilities and the kind of wrong answers."""

    seed: int = 0
    p: tuple[float, ...] = (0.3, 0.25, 0.2, 0.15)  # P(correct at turn t), last one repeats
    errors: float = 0.3   # share of wrong programs that raise (the rest return None)
    chat: int = 0         # 1: a chat backend (the dialogue as messages)
    distinct: int = 0     # 1: a comment naming the sample and turn makes programs differ

    def at(self, turn: int) -> float:
        return self.p[min(turn, len(self.p) - 1)]

    def solved_by(self, turn: int) -> float:
        """The planted cumulative share solved after `turn`: 1 - prod (1 - p[s])."""
        left = 1.0
        for s in range(turn + 1):
            left *= 1 - self.at(s)
        return 1 - left


def parse_repair(name: str) -> Repair:
    """`repair?p=0.3,0.2&errors=0.3&seed=0&chat=0&distinct=0`."""
    base, _, query = name.partition("?")
    if base != "repair":
        raise UserError(f"fake:{name}: expected `repair[?key=value&...]`")
    values: dict[str, Any] = _query(query)
    known = [f.name for f in fields(Repair)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise UserError(f"fake:{name}: unknown parameter {unknown[0]!r} (known: "
                        f"{', '.join(known)})")
    try:
        out: dict[str, Any] = {k: int(float(v)) for k, v in values.items()
                               if k in ("seed", "chat", "distinct")}
        if "errors" in values:
            out["errors"] = float(values["errors"])
        if "p" in values:
            out["p"] = tuple(float(v) for v in values["p"].split(",") if v.strip())
    except ValueError as e:
        raise UserError(f"fake:{name}: {e}") from None
    planted = Repair(**out)
    if not planted.p or not all(0 <= v <= 1 for v in planted.p) \
            or not 0 <= planted.errors <= 1:
        raise UserError(f"fake:{name}: p needs one or more values in [0, 1], errors in [0, 1]")
    return planted


def feedback_turns(prompt_text: str) -> int:
    """How many feedback blocks a dialogue holds: the turn being answered."""
    from execeval.studies.repair import FEEDBACK

    return prompt_text.count(FEEDBACK)


class RepairModel(FakeModel):
    """The planted repair model as a backend: whole programs, completion or chat."""

    def __init__(self, name: str, dataset: Dataset):
        super().__init__("planted?memo=0&base_only=0", dataset)
        self.spec = f"fake:{name}"
        self.repair = parse_repair(name)
        self.chat = bool(self.repair.chat)

    def fingerprint(self) -> str:
        return (f"fake-repair:v{VERSION}:{self.dataset.hash[:16]}:"
                + json.dumps(asdict(self.repair), sort_keys=True))

    def p_turn(self, turn: int) -> float:
        """The planted probability that an answer at this turn is the reference."""
        return self.repair.at(turn)

    def _raiser(self, task_id: str) -> str:
        head = self._head(self.dataset.problems[task_id])
        return (head[0] if head else "def solution(*args):\n") \
            + "    raise ValueError('not implemented')\n"

    def generate(self, requests: Iterable[Request], settings: Settings) -> Iterator[list[Generation]]:
        for r in requests:
            yield self._answer(r, settings)

    def _answer(self, r: Request, settings: Settings) -> list[Generation]:
        from execeval.studies.repair import CRITIC

        text = r.prompt.text or "\n".join(c for _, c in r.prompt.messages)
        turn = feedback_turns(text)
        out = []
        for i in range(r.first, r.first + r.count):
            if CRITIC in text:
                out.append(Generation(r.task_id, i, HINT, is_program=False, finish_reason="stop",
                                      n_prompt_tokens=max(1, len(text) // 4), n_tokens=20))
                continue
            draw = (self.repair.seed, settings.seed, r.task_id, turn, i)
            if uniform(*draw, "correct") < self.p_turn(turn):
                kind, program = "correct", self._text(r.task_id, "correct") or ""
            elif uniform(*draw, "kind") < self.repair.errors:
                kind, program = "raises", self._raiser(r.task_id)
            else:
                kind, program = "mutant", self._text(r.task_id, "mutant") or ""
            if self.repair.distinct:
                program = program.rstrip("\n") + f"\n\n# sample {i}, turn {turn}\n"
            answer = f"```python\n{program.rstrip()}\n```" if self.chat else program
            n = max(1, round(len(program) / 4))
            out.append(Generation(r.task_id, i, answer, is_program=not self.chat,
                                  finish_reason="stop", n_prompt_tokens=max(1, len(text) // 4),
                                  n_tokens=n, logprobs=[-0.4] * n,
                                  info={"kind": kind, "turn": turn, "p": self.p_turn(turn)}))
        return out
