"""`execeval serve`: grading over HTTP, for RL trainers and SandboxFusion's clients.

    execeval serve --dataset humaneval --workers 8 --queue 256

`POST /v1/grade` and `/v1/grade/batch` grade programs on the datasets loaded at start (or
on a problem given inline); `POST /run_code` and `GET /v1/ping` are SandboxFusion's, for
Python; `POST /v1/reward/openrlhf` is OpenRLHF's remote reward. Programs run in the same
sandbox as `execeval evaluate`, at most `--workers` at once, and verdicts are shared with
the run store. docs/serve.md has every endpoint with examples.

The modules: `inputs` (requests checked, inline problems, rewards), `service`
(admission, cache, executor), `runcode` (SandboxFusion's run_code), `app` (HTTP).
Importing this package loads no web framework; `cmd_serve` and `create_app` do.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from execeval.errors import UserError
from execeval.loopback import is_loopback

if TYPE_CHECKING:
    from execeval.serve.inputs import Catalog
    from execeval.serve.service import Service

__all__ = ["cmd_serve", "listen", "load_catalog", "make_service"]


def check_binding(host: str, token: str | None) -> None:
    """Another address than loopback is reachable by others: it needs a token."""
    if not is_loopback(host) and not token:
        raise UserError(f"--host {host} is not a loopback address: give --token TOKEN too "
                        "(every request must then carry 'Authorization: Bearer TOKEN')")


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
    from execeval.benchmark import load_dataset
    from execeval.serve.inputs import Catalog

    catalog = Catalog()
    copies = parse_data(data)
    for name in dict.fromkeys([*datasets, *copies]):
        catalog.add(load_dataset(name, copies.get(name)))
    for path in problems:
        ds = load_dataset(None, problems_file=path)
        p = Path(path)
        catalog.add(ds, path, p.name, p.stem)
    return catalog


def make_service(*, workers: int, queue: int, timeout: float, memory_mb: int,
                 store: str | Path | None, executor: str = "local") -> Service:
    """The executor (the CLI's, from its spec) and the store behind one Service."""
    from execeval.executor import executor_from_spec
    from execeval.sandbox import Limits
    from execeval.serve.service import Service
    from execeval.store import default_path

    path = Path(store) if store else default_path()
    built = executor_from_spec(executor, Limits(timeout=timeout, memory_mb=memory_mb), workers)
    try:
        service = Service(built, path, queue)
        service.store.check()
    except BaseException:
        built.close()
        raise
    return service


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is loaded: a busy port fails at once."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
    except OSError as e:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port} ({e.strerror or e})") from None
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: Any, capacity: int) -> Any:
    import uvicorn

    # connections beyond this get uvicorn's 503; admission (429) refuses long before
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                          limit_concurrency=max(1024, 4 * capacity), timeout_keep_alive=30,
                          timeout_graceful_shutdown=10)


def cmd_serve(args: argparse.Namespace) -> int:
    """Check the binding, listen, load the datasets, then serve until interrupted."""
    import uvicorn

    from execeval.serve.app import create_app

    check_binding(args.host, args.token)
    sock = listen(args.host, args.port)
    try:
        catalog = load_catalog(args.dataset, args.data, args.problems)
        service = make_service(workers=args.workers, queue=args.queue, timeout=args.timeout,
                               memory_mb=args.memory, store=args.store, executor=args.executor)
    except BaseException:
        sock.close()
        raise
    app = create_app(service, catalog, token=args.token, loopback=is_loopback(args.host),
                     trust_inline_tests=bool(getattr(args, "trust_inline_tests", False)))
    host, port = sock.getsockname()[:2]
    names = ", ".join(sorted({d.name for d in catalog.datasets.values()})) or "none"
    print(f"execeval serve: http://{host}:{port} (datasets: {names}; {service.workers} "
          f"workers, queue {args.queue}; verdicts shared with {service.store_path}; "
          f"pid {os.getpid()})", file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn_config(app, service.capacity))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        service.close()
    return 0
