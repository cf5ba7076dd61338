"""The model interface: requests for samples in, raw generations out.

A backend only samples text. Prompts are built before it (execeval.prompts) and
programs are extracted after it (execeval.extract), so every backend is judged by
the same prompt and the same extraction.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol

from execeval.dataset import Dataset
from execeval.prompts import Prompt


@dataclass(frozen=True)
class Settings:
    """Sampling settings: all recorded in the run; all but `n` address stored generations.

    A backend always receives settings whose `stop` is resolved (a tuple).
    `n` is left out of the generation address on purpose: sample i of a problem under
    the same settings is the same draw whether 10 or 200 were asked for, so raising
    --n reuses what is stored and generates only the rest.
    """

    n: int = 1
    temperature: float = 0.0
    top_p: float = 0.95  # Chen et al. 2021 sampled with nucleus p = 0.95
    max_tokens: int = 512
    stop: tuple[str, ...] | None = None  # None: each prompt's own stops
    seed: int | None = None
    beams: int | None = None  # beam search: the n samples are the n best beams (hf, vllm)

    def as_dict(self) -> dict[str, Any]:
        """`beams` only when set, so the addresses of sampled generations stay as they were."""
        out = {**asdict(self), "stop": None if self.stop is None else list(self.stop)}
        if self.beams is None:
            del out["beams"]
        return out

    def key(self) -> str:
        fields = {k: v for k, v in self.as_dict().items() if k != "n"}
        return json.dumps(fields, sort_keys=True)


@dataclass(frozen=True)
class Request:
    """Samples `first` .. `first + count - 1` of one problem's prompt."""

    task_id: str
    prompt: Prompt
    first: int
    count: int
    seed: int | None = None  # derived per request, so that chunks of one prompt differ

    @staticmethod
    def derive_seed(seed: int | None, task_id: str, first: int) -> int | None:
        """A stable per-request seed: equal seeds on equal prompts would give equal samples."""
        if seed is None:
            return None
        return (seed + zlib.crc32(f"{task_id}\0{first}".encode())) % (2**31 - 1)


@dataclass(frozen=True)
class Generation:
    """One raw sample as the backend produced it (text is not yet a program)."""

    task_id: str
    index: int
    text: str
    is_program: bool = False  # True: already a whole program (reference, replayed `solution`)
    finish_reason: str | None = None  # "stop" | "length" | None when the backend cannot tell
    n_prompt_tokens: int | None = None
    n_tokens: int | None = None
    logprobs: list[float] | None = None  # one per generated token, under the model
    seconds: float = 0.0  # wall time of the call that produced it (shared by a batch)
    info: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Generation:
        """Tolerant of records written by other versions: unknown fields are ignored,
        missing ones take their defaults."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in record.items() if k in known})


class Model(Protocol):
    """A backend. `chat` says which prompt style it takes by default (EvalPlus's
    `is_direct_completion` inverted); `request_size` caps samples per request."""

    spec: str
    chat: bool
    request_size: int

    def fingerprint(self) -> str:
        """What identifies the weights (part of the generation address); never a secret."""
        ...

    def generate(self, requests: Iterable[Request], settings: Settings) -> Iterator[list[Generation]]:
        """Yield each request's `count` generations, in any order, as soon as they are done
        (a request that fails part-way may first yield the samples it did get, then raise)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class BackendOptions:
    """Options for the backends that use them (the rest ignore them)."""

    concurrency: int = 8      # openai: requests in flight
    timeout: float = 120.0    # openai: seconds per request
    retries: int = 6          # openai: retries per request (429, 5xx, timeouts)
    batch_size: int | None = None  # hf, vllm: sequences per batch (default 16, 256)
    seed: int | None = None   # vllm: the engine's seed


@dataclass(frozen=True)
class ModelSpec:
    """A parsed `KIND:NAME[@URL]` (or a bare `KIND`)."""

    kind: str
    name: str = ""
    base_url: str | None = None


@dataclass(frozen=True)
class ModelKind:
    """A backend as the registry knows it (entry-point group `execeval.models`, the
    name being the spec's `KIND`): how its spec is spelled, how to open it, and what it
    can do. `load` imports the backend's heavy libraries, never the module defining it."""

    usage: str                                                 # e.g. "hf:PATH", for messages
    load: Callable[[ModelSpec, Dataset, BackendOptions], Model]
    beams: bool = False    # can do beam search (--beams)
    url: bool = False      # takes NAME@URL
    bare: bool = False     # spelled without a name ("reference")


def batches(requests: Iterable[Request], batch_size: int) -> Iterator[list[Request]]:
    """Whole requests grouped so each group asks for at most `batch_size` samples
    (a request larger than that forms a group of its own)."""
    batch: list[Request] = []
    for r in requests:
        if batch and sum(b.count for b in batch) + r.count > batch_size:
            yield batch
            batch = []
        batch.append(r)
    if batch:
        yield batch


def file_fingerprint(path: str) -> str:
    """Names, sizes and mtimes of a local model folder: cheap, and changes with the weights."""
    from pathlib import Path

    p = Path(path)
    if not p.exists():
        return path  # a hub id: the name is all we know
    files = sorted(f for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file())
    h = hashlib.sha256()
    for f in files:
        info = f.stat()
        name = f.relative_to(p) if p.is_dir() else f.name
        h.update(f"{name}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return f"{p.resolve()}#{h.hexdigest()[:16]}"
