"""`execeval run`: generate and grade at once, keeping every sample, resumable.

Two stages. The generation stage (`Producer`) drives the backend on a thread of its
own and commits each raw generation to the store (its own SQLite connection) the moment
it arrives, then hands it over. The grading stage (the main thread) extracts each
program, records the sample and feeds it to `grading.Grading` while generation goes
on. Generations are addressed by (model fingerprint, sampling settings but n, prompt)
and sample index, so a killed run, or the same run with a larger --n, generates only
what is missing; verdicts are reused by content as in `evaluate`.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from execeval import benchmark
from execeval.benchmark import build_prompts
from execeval.dataset import Dataset
from execeval.executor import Executor
from execeval.extract import EXTRACTION_VERSION, Extracted, extract
from execeval.grading import (
    Grading,
    Recorder,
    RunResult,
    base_config,
    grading_facts,
    run_id_of,
    verdict_key,
)
from execeval.models.base import Generation, Model, Request, Settings
from execeval.progress import progress_bars
from execeval.prompts import Prompt
from execeval.store import SampleRow, Store


@dataclass(frozen=True)
class Plan:
    """What to generate: the dataset subset, the prompts and the settings. `settings.stop`
    None means each prompt's own stops (a problem file may mix styles)."""

    dataset: Dataset
    task_ids: list[str]
    prompts: dict[str, Prompt]
    settings: Settings
    style: str
    shots: int | None

    def settings_for(self, task_id: str) -> Settings:
        """The settings one prompt is sampled with: the run's stops, else the prompt's."""
        if self.settings.stop is not None:
            return self.settings
        return replace(self.settings, stop=self.prompts[task_id].stop)


def plan(dataset: Dataset, task_ids: Sequence[str], settings: Settings, style: str,
         shots: int | None) -> Plan:
    return Plan(dataset, list(task_ids), build_prompts(dataset, task_ids, style, shots),
                settings, style, shots)


def generation_key(fingerprint: str, settings: Settings, prompt: Prompt) -> str:
    """The address of a prompt's stored samples: which weights, which settings, which prompt."""
    h = hashlib.sha256()
    for part in (fingerprint, settings.key(), prompt.key()):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def requests_for(task_id: str, prompt: Prompt, missing: Sequence[int], settings: Settings,
                 size: int) -> list[Request]:
    """Runs of consecutive missing indices, cut to at most `size` samples each (never a
    beam search: its beams are one request)."""
    if settings.beams:
        size = max(size, settings.beams)
    out: list[Request] = []
    for i in missing:
        last = out[-1] if out else None
        if last and last.first + last.count == i and last.count < size:
            out[-1] = replace(last, count=last.count + 1)
        else:
            out.append(Request(task_id, prompt, i, 1, Request.derive_seed(settings.seed, task_id, i)))
    return out


IDLE = None  # what the producer's stream yields while the backend is still working


class Producer:
    """The generation stage: one thread calls the backend (once per distinct settings, in
    practice once) and commits each generation before handing it over."""

    def __init__(self, model: Model, store_path: Path,
                 work: list[tuple[Settings, list[Request]]], gen_keys: dict[str, str]):
        self.model, self.store_path, self.work, self.gen_keys = model, store_path, work, gen_keys
        self.events: queue.Queue[Any] = queue.Queue()  # unbounded: never waits on grading
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._produce, name="execeval-generate",
                                       daemon=True)
        self.started = self.finished = 0.0

    def _produce(self) -> None:
        own = Store(self.store_path)  # SQLite connections stay in their thread
        try:
            for settings, requests in self.work:
                stream = self.model.generate(requests, settings)
                for gens in stream:
                    own.put_generations(self.gen_keys[gens[0].task_id], gens[0].task_id,
                                        [(g.index, g.record()) for g in gens])
                    self.events.put(gens)
                    if self.stopping.is_set():
                        stream.close()  # type: ignore[attr-defined]
                        return
        except BaseException as e:  # handed to the grading stage, which reports it
            self.events.put(e)
        finally:
            self.finished = time.monotonic()
            own.close()
            self.events.put(self)  # the end

    def start(self) -> None:
        self.started = time.monotonic()
        self.thread.start()

    def stream(self, poll: float = 0.05) -> Iterator[list[Generation] | None]:
        """Generations as they come; IDLE every `poll` seconds while none does."""
        while True:
            try:
                item = self.events.get(timeout=poll)
            except queue.Empty:
                yield IDLE
                continue
            if item is self:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()


@dataclass
class GenerationTally:
    """Extraction rates over every sample of the run; tokens over those generated now."""

    n: int = 0
    empty: int = 0
    unparseable: int = 0
    truncated: int = 0
    methods: Counter[str] = field(default_factory=Counter)
    fresh: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, g: Generation, extracted: Extracted, fresh: bool) -> None:
        self.n += 1
        self.empty += extracted.empty
        self.unparseable += not extracted.parseable
        self.truncated += g.finish_reason == "length" and not extracted.stopped
        self.methods[extracted.method] += 1
        if fresh:
            self.fresh += 1
            self.prompt_tokens += g.n_prompt_tokens or 0
            self.completion_tokens += g.n_tokens or 0


def sample_record(g: Generation, extracted: Extracted) -> dict[str, Any]:
    """A results row that `execeval evaluate` can read back: `completion` for completion
    prompts, else the whole program as `solution`; plus what the run knows of it (the
    raw output stays in the generations table, once)."""
    code = ({"completion": extracted.completion} if extracted.completion is not None
            else {"solution": extracted.program})
    return {"task_id": g.task_id, "sample": g.index, **code, "extraction": extracted.method,
            "finish_reason": g.finish_reason, "n_prompt_tokens": g.n_prompt_tokens,
            "n_tokens": g.n_tokens,
            "sum_logprob": None if g.logprobs is None else round(sum(g.logprobs), 6),
            "gen_seconds": g.seconds}


def run(p: Plan, model: Model, store: Store, executor: Executor, *, ks: Sequence[int],
        config: dict[str, Any] | None = None) -> RunResult:
    """Generate what is missing, grade what is new, and record the run."""
    start = time.monotonic()
    dataset, n = p.dataset, p.settings.n
    fingerprint = model.fingerprint()
    templates = sorted({pr.template for pr in p.prompts.values()})
    config = {**base_config(executor), "extraction": EXTRACTION_VERSION,
              "model": model.spec, "model_fingerprint": fingerprint,
              "settings": p.settings.as_dict(), "prompt_style": p.style,
              "template": templates[0] if len(templates) == 1 else templates, "shots": p.shots,
              **(config or {})}
    run_id = run_id_of("run", dataset, config, p.task_ids)
    recorder = Recorder(store, run_id, "run", dataset, config)
    store.put_prompts((pr.key(), pr.record()) for pr in p.prompts.values())

    bench = benchmark.of(dataset)
    hint = bench.function if bench else (lambda pr: pr.entry_point)
    position = {t: i for i, t in enumerate(p.task_ids)}
    gen_keys = {t: generation_key(fingerprint, p.settings_for(t), p.prompts[t])
                for t in p.task_ids}
    stored: list[Generation] = []
    work: dict[str, tuple[Settings, list[Request]]] = {}  # one backend call per settings
    for t in p.task_ids:
        have = store.get_generations(gen_keys[t], n)
        stored += [Generation.from_record(have[i]) for i in sorted(have)]
        missing = [i for i in range(n) if i not in have]
        if missing and p.settings.beams:  # the beams come from one search, all together
            missing = list(range(n))
        settings = p.settings_for(t)
        work.setdefault(settings.key(), (settings, []))[1].extend(
            requests_for(t, p.prompts[t], missing, settings, model.request_size))
    n_new = sum(r.count for _, reqs in work.values() for r in reqs)
    tally = GenerationTally()

    def take(gens: Sequence[Generation], fresh: bool) -> None:
        rows, jobs = [], []
        for g in gens:
            problem = dataset.problems[g.task_id]
            chat, stop = p.prompts[g.task_id].style == "chat", p.settings_for(g.task_id).stop
            if bench and bench.extract and not g.is_program:
                extracted = bench.extract(problem, g.text, chat, tuple(stop or ()))
            else:
                extracted = extract(problem, g.text, is_program=g.is_program, chat=chat,
                                    stop=tuple(stop or ()), function=hint(problem))
            key = verdict_key(problem, extracted.program, executor.limits,
                              executor.environment.hash)
            rows.append(SampleRow(position[g.task_id] * n + g.index, g.task_id, g.index, key,
                                  extracted.program, extracted.method,
                                  sample_record(g, extracted),
                                  p.prompts[g.task_id].key(), gen_keys[g.task_id]))
            jobs.append((key, problem, extracted.program))
            tally.add(g, extracted, fresh)
        recorder.samples(rows)
        grading.add(jobs)

    producer = Producer(model, store.path, [w for w in work.values() if w[1]], gen_keys)
    with progress_bars({"generating": n_new, "grading": len(p.task_ids) * n}) as bars:
        grading = Grading(executor, recorder, bars["grading"])
        try:
            for i in range(0, len(stored), 256):
                take(stored[i:i + 256], fresh=False)
                grading.collect()
            producer.start()
            for gens in producer.stream():
                if gens:
                    bars["generating"](len(gens))
                    take(gens, fresh=True)
                grading.collect()
            grading.finish()
        except BaseException:
            producer.stopping.set()
            grading.cancel()
            raise
        finally:
            if producer.started:
                producer.stop()
    end = time.monotonic()
    gen_end = producer.finished or end
    gen_seconds = gen_end - (producer.started or end)  # the backend's time
    summary = recorder.finish(ks, {
        **grading_facts(executor),
        "generation": {
            "model": model.spec, "prompt_style": p.style, "template": config["template"],
            "settings": p.settings.as_dict(), "generated": tally.fresh,
            "reused": tally.n - tally.fresh,
            "empty_rate": tally.empty / (tally.n or 1),
            "unparseable_rate": tally.unparseable / (tally.n or 1),
            "truncated_rate": tally.truncated / (tally.n or 1),
            "extraction_counts": dict(sorted(tally.methods.items())),
            "prompt_tokens": tally.prompt_tokens, "completion_tokens": tally.completion_tokens,
            "tokens_per_second": (round(tally.completion_tokens / gen_seconds, 2)
                                  if gen_seconds > 0 and tally.completion_tokens else None),
            "generation_seconds": round(gen_seconds, 3),
            # the generator never waits on grading, so what grading costs shows here
            "grading_tail_seconds": round(end - gen_end, 3),
            "wall_seconds": round(end - start, 3),
        }})
    return RunResult(run_id, not recorder.new, grading.reused, summary, store.path)
