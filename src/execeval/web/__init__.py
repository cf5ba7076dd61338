"""What the two local servers share: `execeval view` (`web.view`) and `execeval serve`
(`execeval.serve`). Where they may listen, and the socket they listen on, are here; the
request guard that enforces the same rule per request is `web.guard`.

The rule: loopback by default, answering only requests addressed to a loopback name (so
a web page elsewhere cannot reach a server by pointing a DNS name of its own at
127.0.0.1); any other address is reachable by others, so it needs a token. Importing
this package loads no web framework.
"""

from __future__ import annotations

import ipaddress
import socket

from execeval.errors import UserError

__all__ = ["LOOPBACK_NAMES", "check_binding", "is_loopback", "listen", "parse_port", "url_of"]

# what a Host header may name on loopback (a bracketed IPv6 literal as sent, or bare)
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")
# connections waiting to be accepted: a trainer's clients open many at once (the kernel
# caps it at net.core.somaxconn anyway)
BACKLOG = 2048


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps a server on this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None, what: str) -> None:
    """Another address than loopback is reachable by others: `what` (e.g. "the viewer
    would be open to the network") needs a token then, said in one line."""
    if not is_loopback(host) and not token:
        raise UserError(f"--host {host} is not loopback: {what}")


def parse_port(text: str) -> int:
    """A port number as typed: a ValueError saying why for anything but 0-65535 (0: any
    free port), instead of a traceback from bind(). As an argparse `type=`, re-raise its
    text as ArgumentTypeError: argparse shows a ValueError only as "invalid ... value"."""
    try:
        port = int(text)
    except ValueError:
        raise ValueError(f"a port is a whole number 0-65535, not {text!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"a port is 0-65535, not {port}")
    return port


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the server starts (and before anything slow is
    loaded): a busy port fails at once, and the address printed after it is a promise
    that connections are accepted."""
    if not 0 <= port <= 65535:
        raise UserError(f"--port must be 0-65535, not {port}")
    bare = host.strip("[]")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            bare, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except OSError as e:
        raise UserError(f"cannot listen on {host}:{port} ({e.strerror or e})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as e:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port} ({e.strerror or e})") from None
    return sock


def url_of(sock: socket.socket) -> str:
    """http://HOST:PORT of a listening socket (an IPv6 address in brackets), to print."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
