"""Model backends behind one small interface (models.base.Model), chosen by a spec string.

    openai:MODEL[@BASE_URL]       completions endpoint of an OpenAI-compatible server
    openai-chat:MODEL[@BASE_URL]  chat endpoint
    hf:PATH_OR_ID                 transformers, local          ([hf] extra)
    vllm:PATH_OR_ID               vLLM's offline engine         ([vllm] extra)
    samples:FILE                  replay a samples file
    reference                     the problems' canonical solutions

A spec's `KIND` names a `ModelKind` registered under the entry-point group
`execeval.models` (the planted models of execeval.simulate, `fake:...`, register there
too); adding a backend is one module plus one entry point.
"""

from __future__ import annotations

import re

from execeval.dataset import Dataset
from execeval.errors import UserError
from execeval.models.base import (
    BackendOptions,
    Generation,
    Model,
    ModelKind,
    ModelSpec,
    Request,
    Settings,
)
from execeval.registry import Registry

__all__ = ["MODELS", "BackendOptions", "Generation", "Model", "ModelKind", "ModelSpec",
           "Request", "Settings", "kind_of", "load_model", "parse_spec"]

MODELS: Registry[ModelKind] = Registry("execeval.models", "model backend", ModelKind)
URL = re.compile(r"^(?P<name>.+?)@(?P<url>https?://\S+)$")


def _usage() -> str:
    return ", ".join(kind.usage for _, kind in MODELS)


def parse_spec(spec: str) -> ModelSpec:
    kind, sep, rest = spec.partition(":")
    if kind not in MODELS:
        raise UserError(f"bad model spec {spec!r} (expected one of {_usage()})")
    backend = MODELS.get(kind)
    if backend.bare:
        if sep:
            raise UserError(f"bad model spec {spec!r}: {kind} takes no name")
        return ModelSpec(kind)
    if not sep or not rest:
        raise UserError(f"bad model spec {spec!r} (expected {backend.usage})")
    if backend.url:
        m = URL.match(rest)
        if m:
            return ModelSpec(kind, m["name"], m["url"])
        if "@" in rest:
            raise UserError(f"bad model spec {spec!r}: the part after @ must be an http(s) URL")
    return ModelSpec(kind, rest)


def kind_of(spec: str) -> ModelKind:
    """The backend a spec names (nothing is loaded)."""
    return MODELS.get(parse_spec(spec).kind)


def load_model(spec: str, dataset: Dataset, options: BackendOptions | None = None) -> Model:
    """Open the backend a spec names; heavy libraries are imported only now."""
    parsed = parse_spec(spec)
    return MODELS.get(parsed.kind).load(parsed, dataset, options or BackendOptions())
