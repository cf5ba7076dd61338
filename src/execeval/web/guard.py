"""The request guard of both local servers: pure ASGI in front of every route.

Bound to loopback, only requests addressed to a loopback name are answered (a web page
cannot reach the server through DNS rebinding); with a token, every request carries it.
What differs between the servers is a parameter: how the token may come (the viewer's
browser keeps it in a cookie) and how a refusal reads (HTML pages or JSON errors).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from execeval.web import LOOPBACK_NAMES

# a refusal as the server shows it: (status, one-line message, headers) -> response
Refuse = Callable[[int, str, Mapping[str, str]], Response]


def host_name(host: str) -> str:
    """The name a Host header addresses, less its port ('[::1]:80' -> '[::1]')."""
    return (host if host.endswith("]") else host.rsplit(":", 1)[0]).lower()


class Guard:
    """The Host check (when `check_host`), then the token (when there is one): an
    `Authorization: Bearer` header or ?token=T. With `cookie`, the cookie of that name is
    taken too, and a good ?token=T is swapped for it (out of the address bar: redirected
    to the same page without it). `host_refusal` may name the Host sent as {host!r}."""

    def __init__(self, app: ASGIApp, *, token: str | None, check_host: bool, refuse: Refuse,
                 host_refusal: str, token_refusal: str, cookie: str | None = None):
        self.app, self.token, self.check_host, self.cookie = app, token, check_host, cookie
        self.refuse, self.host_refusal, self.token_refusal = refuse, host_refusal, token_refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            answer = self.answer(Request(scope))
            if answer is not None:
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def answer(self, request: Request) -> Response | None:
        """A refusal or the cookie swap; None lets the request through."""
        host = request.headers.get("host", "")
        if self.check_host and host_name(host) not in LOOPBACK_NAMES:
            return self.refuse(403, self.host_refusal.format(host=host), {})
        if self.token is None:
            return None
        if not any(hmac.compare_digest(given.encode(), self.token.encode())
                   for given in self.given(request)):
            return self.refuse(401, self.token_refusal, {"WWW-Authenticate": "Bearer"})
        if self.cookie is not None and "token" in request.query_params:
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            response = RedirectResponse(request.url.path + ("?" + urlencode(rest) if rest else ""),
                                        303)
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="strict")
            return response
        return None

    def given(self, request: Request) -> list[str]:
        """Every token the request carries, in whatever way it may."""
        auth = request.headers.get("authorization", "")
        found = [auth[7:].strip()] if auth[:7].lower() == "bearer " else []
        found += request.query_params.getlist("token")
        if self.cookie is not None and self.cookie in request.cookies:
            found.append(request.cookies[self.cookie])
        return found
