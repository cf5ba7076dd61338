"""Model backends behind one small interface, chosen by a spec string."""

from __future__ import annotations

from execeval.errors import UserError
from execeval.models.base import Generation, Model
from execeval.models.reference import ReferenceModel

__all__ = ["Generation", "Model", "load_model"]


def load_model(spec: str) -> Model:
    """`reference` (canonical solutions); more backends register here."""
    if spec == "reference":
        return ReferenceModel()
    raise UserError(f"unknown model spec {spec!r} (known: reference)")
