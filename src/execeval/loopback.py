"""Loopback addresses: the local servers (`execeval view`, `execeval serve`) bind there by
default, answer only requests addressed there, and need a token anywhere else."""

from __future__ import annotations

import ipaddress

# what a Host header may name on loopback (a bracketed IPv6 literal as sent, or bare)
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps a server on this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
