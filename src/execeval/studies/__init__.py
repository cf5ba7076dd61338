"""The papers' experiments as commands (`execeval study NAME`), one module each.

ranking (Chen et al. 2021, choosing one of k samples), temperature (the best sampling
temperature per k), scaling (metrics against log10 parameters, Austin et al. 2021),
overfit (programs that pass the tests they were shown and little else), edited (MBPP's
original against its edited descriptions), and sft (Codex-S style fine-tuning data).
Each one stores what it generates and grades, so running it again costs nothing; each
is checked against the planted model of execeval.simulate.planted (docs/studies.md).
"""
