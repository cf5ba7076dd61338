"""Model backends behind one small interface (models.base.Model), chosen by a spec string.

    openai:MODEL[@BASE_URL]       completions endpoint of an OpenAI-compatible server
    openai-chat:MODEL[@BASE_URL]  chat endpoint
    hf:PATH_OR_ID                 transformers, local          ([hf] extra)
    vllm:PATH_OR_ID               vLLM's offline engine         ([vllm] extra)
    samples:FILE                  replay a samples file
    fake:planted[?KEY=VALUE&...]  a planted model whose truth is known (docs/studies.md)
    reference                     the problems' canonical solutions
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from execeval.errors import UserError
from execeval.models.base import Generation, Model, Request, Settings
from execeval.problems.model import Dataset

__all__ = ["Backend", "Generation", "Model", "Request", "Settings", "Spec", "load_model",
           "parse_spec"]

KINDS = ("openai", "openai-chat", "hf", "vllm", "samples", "reference", "fake")
URL = re.compile(r"^(?P<name>.+?)@(?P<url>https?://\S+)$")


@dataclass(frozen=True)
class Spec:
    kind: str
    name: str = ""
    base_url: str | None = None


@dataclass(frozen=True)
class Backend:
    """Options for the backends that use them (the rest ignore them)."""

    concurrency: int = 8      # openai: requests in flight
    timeout: float = 120.0    # openai: seconds per request
    retries: int = 6          # openai: retries per request (429, 5xx, timeouts)
    batch_size: int | None = None  # hf, vllm: sequences per batch (default 16, 256)
    seed: int | None = None   # vllm: the engine's seed


def parse_spec(spec: str) -> Spec:
    if spec == "reference":
        return Spec("reference")
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in KINDS or kind == "reference" or not rest:
        raise UserError(f"bad model spec {spec!r} (expected one of openai:MODEL[@URL], "
                        "openai-chat:MODEL[@URL], hf:PATH, vllm:PATH, samples:FILE, "
                        "fake:planted[?KEY=VALUE&...], reference)")
    if kind.startswith("openai"):
        m = URL.match(rest)
        if m:
            return Spec(kind, m["name"], m["url"])
        if "@" in rest:
            raise UserError(f"bad model spec {spec!r}: the part after @ must be an http(s) URL")
    return Spec(kind, rest)


def load_model(spec: str, dataset: Dataset, backend: Backend | None = None) -> Model:
    """Heavy backends are imported here, only when asked for."""
    s = parse_spec(spec)
    b = backend or Backend()
    if s.kind == "reference":
        from execeval.models.reference import ReferenceModel

        return ReferenceModel(dataset)
    if s.kind == "samples":
        from execeval.models.replay import ReplayModel

        return ReplayModel(s.name, dataset)
    if s.kind == "fake":
        from execeval.models.fake import FakeModel

        return FakeModel(s.name, dataset)
    if s.kind in ("openai", "openai-chat"):
        from execeval.models.openai_api import OpenAIModel

        return OpenAIModel(s.name, s.base_url, s.kind == "openai-chat",
                           concurrency=b.concurrency, timeout=b.timeout, retries=b.retries)
    if s.kind == "hf":
        from execeval.models.hf import HFModel

        return HFModel(s.name, batch_size=b.batch_size)
    from execeval.models.vllm_offline import VLLMModel

    return VLLMModel(s.name, batch_size=b.batch_size, seed=b.seed)
