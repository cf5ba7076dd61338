"""Planted models: backends whose truth is known, so that every study can be checked.

`fake:planted?...` (planted), `fake:prompted?...` (prompted: success depends on the MBPP
prompt) and `fake:repair?...` (repair: success depends on feedback) write real programs
for real problems with stated probabilities; the studies must recover what was planted
(docs/studies.md). They sit above the studies, whose prompt formats and constants they
read, and register under `execeval.models` as the backend `fake`, like any other.
"""
