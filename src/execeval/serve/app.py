"""The HTTP surface of `execeval serve` (Starlette): routes, guards, and one-line errors.

Every refusal is a 4xx whose JSON body is `{"error": "<one line>"}`: a body that is not
JSON (400), too large (413), not sent as application/json (415), a field of the wrong
type (400), an unknown dataset or task (404), a path that is not an endpoint (404) or a
method it does not take (405, with Allow), a full queue (429 with Retry-After). A
client's mistake never stops the server. Bound to loopback, the server answers only
requests addressed to a loopback name (a web page cannot reach it through DNS
rebinding), and only JSON bodies (a page's form cannot post to it without a CORS
preflight, which it never grants); with `--token`, every request carries the token
(execeval.web.guard, shared with the viewer).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from execeval.serve import runcode
from execeval.serve.inputs import (
    BadRequest,
    Catalog,
    GradeItem,
    label_fields,
    parse_item,
    reward_of,
    verdict_json,
)
from execeval.serve.service import Overloaded, Service
from execeval.web.guard import Guard

log = logging.getLogger("execeval.serve")
MAX_BODY = 16 * 2**20   # bytes of one request body (SandboxFusion's files travel in it)
MAX_BATCH = 10_000      # items of one batch, before any admission
SPECIAL_TAIL = re.compile(r"(\s*(<\|[^|<>]{1,40}\|>|</s>|<eos>|<end_of_turn>))+\s*\Z")
Endpoint = Callable[[Request], Awaitable[Response]]


def error(status: int, message: str,
          headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": " ".join(message.split())}, status, headers=dict(headers or {}))


async def no_route(request: Request, exc: HTTPException) -> Response:
    """Starlette's own refusals (a path that is no endpoint, a method the endpoint does
    not take) as JSON errors like every other, their headers (Allow) kept."""
    path, allowed = request.url.path, (exc.headers or {}).get("Allow", "")
    message = {404: f"no endpoint {path} (docs/serve.md lists them)",
               405: f"{request.method} is not allowed on {path} (allowed: {allowed})",
               }.get(exc.status_code, exc.detail)
    return error(exc.status_code, message, exc.headers)


async def read_json(request: Request, max_body: int) -> Any:
    """The body as JSON, or a BadRequest: wrong type 415, too large 413, malformed 400."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise BadRequest("send the body as JSON with 'Content-Type: application/json' (got "
                         f"{ctype or 'none'!r})", 415)
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > max_body):
        raise BadRequest(f"body of {length} bytes is over the limit of {max_body} bytes", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            raise BadRequest(f"body is over the limit of {max_body} bytes", 413)
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except json.JSONDecodeError as e:
        raise BadRequest(f"malformed JSON: {e.msg} at line {e.lineno} column {e.colno}") \
            from None
    except (UnicodeDecodeError, RecursionError) as e:
        raise BadRequest(f"malformed JSON: {type(e).__name__}") from None


def completion_of(query: str, prompt: str) -> str:
    """OpenRLHF sends the whole decoded sequence: the part after the prompt, less the
    special tokens that close it."""
    if prompt:
        start = query.find(prompt)
        if start >= 0:
            query = query[start + len(prompt):]
    return SPECIAL_TAIL.sub("", query)


class Api:
    """The endpoints, over one Service and the datasets loaded at start."""

    def __init__(self, service: Service, catalog: Catalog, *, max_body: int = MAX_BODY,
                 trust_inline_tests: bool = False):
        self.service, self.catalog = service, catalog
        self.max_body = max_body
        self.trust = trust_inline_tests

    def item(self, body: Any, defaults: dict[str, Any] | None = None) -> GradeItem:
        return parse_item(body, self.catalog, self.service.limits, trust_tests=self.trust,
                          defaults=defaults)

    async def ping(self, request: Request) -> Response:
        return JSONResponse("pong")

    async def stats(self, request: Request) -> Response:
        return JSONResponse({**self.service.snapshot(), "datasets": self.catalog.names(),
                             "store": str(self.service.store_path)})

    async def grade(self, request: Request) -> Response:
        start = time.monotonic()
        item = self.item(await read_json(request, self.max_body))
        [(verdict, cached)] = await self.service.grade([item])
        return JSONResponse({**verdict_json(item, verdict, cached),
                             "wall_seconds": round(time.monotonic() - start, 4)})

    async def batch(self, request: Request) -> Response:
        """A JSON list of grade requests, or {"items": [...]} whose other fields (dataset,
        timeout) are the items' defaults; answered as a list in the same order."""
        body = await read_json(request, self.max_body)
        defaults: dict[str, Any] = {}
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            defaults = {k: v for k, v in body.items() if k in ("dataset", "timeout")}
            body = body["items"]
        if not isinstance(body, list):
            raise BadRequest("expected a JSON list of grade requests (or {\"items\": [...]})")
        if len(body) > MAX_BATCH:
            raise BadRequest(f"batch of {len(body)} items; at most {MAX_BATCH}", 413)
        items = []
        for n, entry in enumerate(body):
            try:
                items.append(self.item(entry, defaults))
            except BadRequest as e:
                raise BadRequest(f"items[{n}]: {e}", e.status) from None
        graded = await self.service.grade(items)
        return JSONResponse([verdict_json(i, v, c)
                             for i, (v, c) in zip(items, graded, strict=True)])

    async def run_code(self, request: Request) -> Response:
        """SandboxFusion's /run_code (Python only); its RunCodeResponse shape."""
        body = await read_json(request, self.max_body)
        try:
            req = runcode.parse_request(body)
        except runcode.BadRunCode as e:
            message = " ".join(str(e).split())
            return JSONResponse({"error": message, "status": "SandboxError", "message": message,
                                 "compile_result": None, "run_result": None,
                                 "executor_pod_name": None, "files": {}}, 400)
        memory = min(req.memory_mb or self.service.limits.memory_mb,
                     self.service.limits.memory_mb)
        from dataclasses import replace

        limits = replace(self.service.limits, timeout=req.run_timeout, memory_mb=memory)
        verdict = await self.service.run(runcode.as_problem(req), req.code, limits)
        return JSONResponse(runcode.response(verdict))

    async def openrlhf(self, request: Request) -> Response:
        """OpenRLHF's remote reward: {"query", "prompts", "labels"} -> {"rewards", ...};
        each label names the task (see docs/serve.md)."""
        body = await read_json(request, self.max_body)
        if not isinstance(body, dict) or not isinstance(body.get("query"), list):
            raise BadRequest("expected {\"query\": [...], \"prompts\": [...], \"labels\": [...]}")
        queries = body["query"]
        prompts = body.get("prompts") or [""] * len(queries)
        labels = body.get("labels")
        if not isinstance(labels, list) or not isinstance(prompts, list):
            raise BadRequest("'labels' (one per query: the task) and 'prompts' must be lists")
        if not len(queries) == len(prompts) == len(labels):
            raise BadRequest(f"{len(queries)} queries, {len(prompts)} prompts and "
                             f"{len(labels)} labels: one of each per sample")
        if len(queries) > MAX_BATCH:
            raise BadRequest(f"batch of {len(queries)} queries; at most {MAX_BATCH}", 413)
        items = []
        for n, (query, prompt, label) in enumerate(zip(queries, prompts, labels, strict=True)):
            try:
                if not isinstance(query, str) or not isinstance(prompt, str):
                    raise BadRequest("query and prompt must be strings")
                fields = label_fields(label)
                style = fields.pop("style", "response")
                if style not in ("completion", "solution", "response"):
                    raise BadRequest(f"label 'style' {style!r} is not completion, solution "
                                     "or response")
                items.append(self.item({**fields, style: completion_of(query, prompt)}))
            except BadRequest as e:
                raise BadRequest(f"sample {n}: {e}", e.status) from None
        graded = await self.service.grade(items)
        rewards = [reward_of(i.problem, v.passed, v.extra)
                   for i, (v, _) in zip(items, graded, strict=True)]
        return JSONResponse({"rewards": rewards, "scores": rewards,
                             "extra_logs": {"passed": [float(v.passed) for v, _ in graded]}})


def guarded(endpoint: Endpoint) -> Endpoint:
    """Client mistakes and a full queue as one-line 4xx; our own bugs as a one-line 500."""

    async def run(request: Request) -> Response:
        try:
            return await endpoint(request)
        except BadRequest as e:
            return error(e.status, str(e))
        except Overloaded as e:
            return error(429, str(e), {"Retry-After": str(e.retry_after)})
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        except Exception as e:
            log.exception("internal error on %s", request.url.path)
            return error(500, f"internal error: {type(e).__name__}: {e}")

    return run


def create_app(service: Service, catalog: Catalog, *, token: str | None = None,
               loopback: bool = True, max_body: int = MAX_BODY,
               trust_inline_tests: bool = False) -> ASGIApp:
    """The ASGI app over a service (which the caller closes, after the server stops)."""
    api = Api(service, catalog, max_body=max_body, trust_inline_tests=trust_inline_tests)

    routes = [
        Route("/v1/ping", guarded(api.ping), methods=["GET"]),
        Route("/v1/stats", guarded(api.stats), methods=["GET"]),
        Route("/v1/grade", guarded(api.grade), methods=["POST"]),
        Route("/v1/grade/batch", guarded(api.batch), methods=["POST"]),
        Route("/run_code", guarded(api.run_code), methods=["POST"]),
        Route("/v1/reward/openrlhf", guarded(api.openrlhf), methods=["POST"]),
    ]
    handlers: dict[Any, Callable[..., Any]] = {HTTPException: no_route}
    app = Starlette(routes=routes, exception_handlers=handlers)
    return Guard(app, token=token, check_host=loopback, refuse=error,
                 host_refusal="this server listens on loopback and answers only requests "
                 "addressed to 127.0.0.1 or localhost (Host: {host!r})",
                 token_refusal="missing or wrong token: send 'Authorization: Bearer TOKEN' "
                 "(or ?token=TOKEN for clients that cannot set headers)")
