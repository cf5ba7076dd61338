"""The harness version, recorded in every run (a leaf: the sandbox child imports it)."""

__version__ = "0.2.0"
