"""The `execeval` command: the top layer. One module per command (family), each giving
its `COMMANDS` (flags and what to call); nothing below imports this package."""

from execeval.cli.main import main

__all__ = ["main"]
