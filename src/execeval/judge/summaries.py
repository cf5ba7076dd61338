"""Registers each benchmark's extra summary keys with `evaluate.SUMMARIZERS`.

Imported at the end of `execeval.evaluate`, so the registry exists before anything
is added to it and every summary sees every extension.
"""

from __future__ import annotations

from execeval.evaluate import SUMMARIZERS
from execeval.judge.apps import summarize_apps
from execeval.judge.evalplus import summarize_evalplus

SUMMARIZERS["evalplus"] = summarize_evalplus
SUMMARIZERS["apps"] = summarize_apps
