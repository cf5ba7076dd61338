"""The backend `fake:NAME[?KEY=VALUE&...]`: the planted model that NAME names."""

from __future__ import annotations

from execeval.dataset import Dataset
from execeval.models.base import BackendOptions, ModelKind, ModelSpec
from execeval.simulate.planted import FakeModel
from execeval.simulate.prompted import PromptedModel
from execeval.simulate.repair import RepairModel

PLANTED: dict[str, type[FakeModel]] = {"prompted": PromptedModel, "repair": RepairModel}


def load(spec: ModelSpec, dataset: Dataset, options: BackendOptions) -> FakeModel:
    """`planted` (or a parameter file) is the plain planted model; `prompted` and
    `repair` the prompt- and feedback-dependent ones."""
    return PLANTED.get(spec.name.partition("?")[0], FakeModel)(spec.name, dataset)


KIND = ModelKind("fake:planted|prompted|repair[?KEY=VALUE&...]", load)
