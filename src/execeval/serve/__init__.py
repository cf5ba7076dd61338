"""`execeval serve`: grading over HTTP, for RL trainers and SandboxFusion's clients.

    execeval serve --dataset humaneval --workers 8 --queue 256

`POST /v1/grade` and `/v1/grade/batch` grade programs on the datasets loaded at start (or
on a problem given inline); `POST /run_code` and `GET /v1/ping` are SandboxFusion's, for
Python; `POST /v1/reward/openrlhf` is OpenRLHF's remote reward. Programs run in the same
sandbox as `execeval evaluate`, at most `--workers` at once, and verdicts are shared with
the run store. docs/serve.md has every endpoint with examples.

The modules: `inputs` (requests checked, inline problems, rewards), `service`
(admission, cache, executor), `runcode` (SandboxFusion's run_code), `app` (HTTP).
`run_service(ServeOptions(...))` serves until interrupted; where it may listen and the
request guard are execeval.web's, shared with the viewer. Importing this package loads no
web framework; `run_service` and `create_app` do.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from execeval.errors import UserError
from execeval.options import GradingOptions
from execeval.web import check_binding, is_loopback, listen, url_of

if TYPE_CHECKING:
    from execeval.serve.inputs import Catalog
    from execeval.serve.service import Service

__all__ = ["ServeOptions", "load_catalog", "make_service", "run_service"]


@dataclass(frozen=True)
class ServeOptions:
    """What `execeval serve` is started with (its flags, as a typed record)."""

    datasets: tuple[str, ...] = ()      # benchmarks loaded at start
    data: tuple[str, ...] = ()          # NAME=PATH: a local copy of a dataset's file
    problems: tuple[str, ...] = ()      # problem files loaded at start
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None            # required on any other address than loopback
    queue: int = 256                    # requests waiting beyond the workers before 429
    trust_inline_tests: bool = False
    # limits, workers, the store whose verdicts it shares, the executor: as every command's
    grading: GradingOptions = field(default_factory=GradingOptions)


def parse_data(pairs: Sequence[str]) -> dict[str, str]:
    data: dict[str, str] = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise UserError(f"--data takes NAME=PATH (e.g. mbpp=data/mbpp.jsonl), not {pair!r}")
        data[name.strip()] = path.strip()
    return data


def load_catalog(datasets: Sequence[str] = (), data: Sequence[str] = (),
                 problems: Sequence[str] = ()) -> Catalog:
    """The datasets named at start, each once: `--dataset NAME` (with its `--data NAME=PATH`
    copy, a `--data` alone loads its dataset too) and `--problems FILE` (also called by
    its path and its file name, with and without extension)."""
    from execeval.api import load_dataset
    from execeval.serve.inputs import Catalog

    catalog = Catalog()
    copies = parse_data(data)
    for name in dict.fromkeys([*datasets, *copies]):
        catalog.add(load_dataset(name, copies.get(name)))
    for path in problems:
        file = Path(path)
        catalog.add(load_dataset(None, problems_file=path), path, file.name, file.stem)
    return catalog


def make_service(grading: GradingOptions, queue: int) -> Service:
    """The executor (from its spec) and the store behind one Service."""
    from execeval.executor import executor_from_spec
    from execeval.serve.service import Service
    from execeval.store import store_path

    path = store_path(grading.store)
    built = executor_from_spec(grading.executor, grading.limits(), grading.workers, grading.env)
    try:
        service = Service(built, path, queue)
        service.store.check()
    except BaseException:
        built.close()
        raise
    return service


def uvicorn_config(app: Any, capacity: int) -> Any:
    import uvicorn

    # connections beyond this get uvicorn's 503; admission (429) refuses long before
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                          limit_concurrency=max(1024, 4 * capacity), timeout_keep_alive=30,
                          timeout_graceful_shutdown=10)


def run_service(options: ServeOptions) -> int:
    """Check the binding, listen, load the datasets, then serve until interrupted."""
    import uvicorn

    from execeval.serve.app import create_app

    token = options.token or None
    check_binding(options.host, token, "give --token TOKEN too (every request must then "
                  "carry 'Authorization: Bearer TOKEN')")
    sock = listen(options.host, options.port)
    try:
        catalog = load_catalog(options.datasets, options.data, options.problems)
        service = make_service(options.grading, options.queue)
    except BaseException:
        sock.close()
        raise
    app = create_app(service, catalog, token=token, loopback=is_loopback(options.host),
                     trust_inline_tests=options.trust_inline_tests)
    names = ", ".join(sorted({d.name for d in catalog.datasets.values()})) or "none"
    print(f"execeval serve: {url_of(sock)} (datasets: {names}; {service.workers} "
          f"workers, queue {options.queue}; verdicts shared with {service.store_path}; "
          f"pid {os.getpid()})", file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn_config(app, service.capacity))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        service.close()
    return 0

