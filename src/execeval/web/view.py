"""`execeval view`: browse the run store in a local web viewer (Starlette + uvicorn).

Runs -> one run (the report's content, its counts updated every two seconds while it
runs) -> one problem -> one sample; two samples of a problem diffed; two runs side by
side. Pages are the report's templates filled from the same data (execeval.report.data
and execeval.report.render): the report package owns what a page shows, this module
only serves it.

The viewer only reads: the store is store read-only, once per request (sqlite3
connections belong to the thread that made them, and Starlette serves sync endpoints
from a thread pool), and nothing from a run is ever executed. Bound to loopback it
answers only requests addressed to a loopback name (so a web page cannot reach it
through DNS rebinding); bound elsewhere it needs a token, which every request must carry.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from execeval.errors import UserError
from execeval.report import data, render
from execeval.store import Store, store_path
from execeval.web import check_binding, is_loopback, listen, url_of
from execeval.web.guard import Guard

COOKIE = "execeval_token"
HEADERS = {
    "Content-Security-Policy": render.csp(connect="'self'", form="'self'")
    + "; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def page(template: str, status_code: int = 200, headers: Mapping[str, str] | None = None,
         **context: Any) -> HTMLResponse:
    context.setdefault("csp", None)  # sent as a header instead
    context.setdefault("live_url", None)
    return HTMLResponse(render.render(template, **context), status_code,
                        headers={**HEADERS, **(headers or {})})


def problem_link(task_id: str, run_ids: list[str]) -> str:
    return f"/problem/{quote(task_id, safe='/')}?" + urlencode([("run", r) for r in run_ids])


def side_by_side(a: str, b: str) -> list[tuple[int | None, str, int | None, str, str]]:
    """Rows (line a, text a, line b, text b, kind) of a line diff, kind being eq, chg,
    del or ins; difflib runs here so the page only shows it."""
    left, right = a.splitlines(), b.splitlines()
    rows: list[tuple[int | None, str, int | None, str, str]] = []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            has_a, has_b = i < i2, j < j2
            kind = "eq" if op == "equal" else "chg" if has_a and has_b else "del" if has_a else "ins"
            rows.append((i + 1 if has_a else None, left[i] if has_a else "",
                         j + 1 if has_b else None, right[j] if has_b else "", kind))
    return rows


class Viewer:
    """The pages, each reading the store through its own read-only connection."""

    def __init__(self, path: Path):
        self.path = path

    @contextmanager
    def store(self) -> Iterator[Store]:
        store = Store(self.path, read_only=True)
        try:
            yield store
        finally:
            store.close()

    def runs(self, request: Request) -> HTMLResponse:
        with self.store() as store:
            runs = data.list_runs(store)
        return page("view_runs.html", runs=runs, store=str(self.path))

    def run(self, request: Request) -> HTMLResponse:
        run_id = request.path_params["run_id"]
        with self.store() as store:
            run = data.run_data(store, run_id)
            context = render.content_context(
                store, [run], problem_href=lambda t: problem_link(t, [run.run_id]), live=run.live,
                q=request.query_params.get("q", ""),
                status=request.query_params.get("status", ""))
        live_url = f"/api/run/{quote(run.run_id)}/live" if run.status == "running" else None
        return page("view_run.html", **context, live_url=live_url, store=str(self.path))

    def live(self, request: Request) -> JSONResponse:
        """What changes on a run's page while it runs (the page asks every two seconds)."""
        with self.store() as store:
            run = data.run_data(store, request.path_params["run_id"])
        return JSONResponse({"status": run.status, "fields": render.live_fields(run)},
                            headers=HEADERS)

    def compare(self, request: Request) -> HTMLResponse:
        ids = request.query_params.getlist("run")
        if len(ids) < 2:
            raise UserError("tick two runs (or more) on the runs page to compare them")
        with self.store() as store:
            runs = data.runs_data(store, ids)
            full = [r.run_id for r in runs]
            context = render.content_context(store, runs,
                                             problem_href=lambda t: problem_link(t, full))
        return page("view_compare.html", **context, store=str(self.path))

    def problem(self, request: Request) -> HTMLResponse:
        task = request.path_params["task_id"]
        ids = request.query_params.getlist("run")
        if not ids:
            raise UserError(f"say which run's samples of {task} to show (?run=ID)")
        with self.store() as store:
            runs = data.runs_data(store, ids)
            payload = data.samples_payload(store, runs, task_id=task)
        status = request.query_params.get("status", "")
        return page("view_problem.html", runs=runs, task=task, store=str(self.path),
                    cells=[r.problems.get(task) for r in runs],
                    page_data={"view": "problem", "task": task, "status": status,
                               "data": payload})

    def sample(self, request: Request) -> HTMLResponse:
        idx = request.path_params["idx"]
        with self.store() as store:
            run = data.run_data(store, request.path_params["run_id"])
            payload = data.sample_payload(store, run, idx)
        task = next(iter(payload["samples"]))
        return page("view_sample.html", run=run, task=task, idx=idx, store=str(self.path),
                    page_data={"view": "sample", "data": payload})

    def diff(self, request: Request) -> HTMLResponse:
        """Two samples' programs (or raw outputs, ?field=raw) side by side."""
        field = request.query_params.get("field", "program")
        if field not in ("program", "raw"):
            raise UserError("field is program or raw")
        picked = []
        with self.store() as store:
            for name in ("a", "b"):
                run_id, _, idx = request.query_params.get(name, "").rpartition(":")
                if not run_id or not idx.isdigit():
                    raise UserError(f"{name}= names a sample as RUN:INDEX")
                run = data.run_data(store, run_id)
                picked.append((run, data.find_sample(store, run.run_id, int(idx))))
        (run_a, a), (run_b, b) = picked
        rows = side_by_side(getattr(a, field) or "", getattr(b, field) or "")
        return page("view_diff.html", a=a, b=b, run_a=run_a, run_b=run_b, rows=rows,
                    field=field, query=request.query_params, store=str(self.path),
                    problem_href=problem_link(a.task_id, list(dict.fromkeys(
                        [run_a.run_id, run_b.run_id]))))


# the heading of an error page, by status
HEADINGS = {401: "Token needed", 403: "Not answered here", 404: "Not found"}


def refusal(status: int, message: str, headers: Mapping[str, str]) -> HTMLResponse:
    """An error as a page of the viewer: a person reads it in a browser."""
    return page("view_error.html", status, headers, heading=HEADINGS[status], message=message,
                store="")


def _not_found(request: Request, exc: Exception) -> HTMLResponse:
    return refusal(404, str(exc) or "no such page", {})


def create_app(path: Path, token: str | None = None, *,
               check_host: bool = True) -> Guard:
    """The viewer as an ASGI app (tests drive it with httpx; `serve_viewer` serves it).
    Without a token, `check_host` answers only loopback names; with one, the token is the
    check."""
    viewer = Viewer(path)
    routes = [
        Route("/", viewer.runs),
        Route("/run/{run_id}", viewer.run),
        Route("/run/{run_id}/sample/{idx:int}", viewer.sample),
        Route("/api/run/{run_id}/live", viewer.live),
        Route("/problem/{task_id:path}", viewer.problem),
        Route("/compare", viewer.compare),
        Route("/diff", viewer.diff),
    ]
    handlers: dict[Any, Callable[..., Any]] = {UserError: _not_found, 404: _not_found}
    return Guard(Starlette(routes=routes, exception_handlers=handlers), token=token,
                 check_host=check_host and token is None, refuse=refusal, cookie=COOKIE,
                 host_refusal="execeval view answers only to localhost",
                 token_refusal="execeval view needs its token: send 'Authorization: Bearer "
                 "TOKEN', or open any page once with ?token=TOKEN")


def serve_viewer(store: Path | None, host: str, port: int, token: str | None) -> int:
    """Serve the viewer of `store` (None: the default store) until interrupted. Refused
    in one line (UserError) before anything listens: another address than loopback
    without a token, a missing or old store, a port that cannot be had."""
    import uvicorn

    token = token or None
    check_binding(host, token, "the viewer would be open to the network; give --token T "
                  "(every request must then carry it)")
    path = store_path(store)
    Store(path, read_only=True).close()  # a missing or old store is said now, in one line
    sock = listen(host, port)
    print(f"execeval view: {path} at {url_of(sock)}/"
          + (" (requests need the token: open it once with ?token=...)" if token else ""),
          flush=True)
    app = create_app(path, token, check_host=is_loopback(host))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    print("execeval view: stopped", file=sys.stderr)
    return 0
