"""The grading service behind the HTTP endpoints: admission, the verdict cache, the executor.

Every program goes through one `Executor` (the CLI's), so at most `--workers` run at
once in the same sandbox as `execeval evaluate`. At most `--workers + --queue` distinct
programs are admitted at a time; a request that would go past that is refused at once
(`Overloaded`, HTTP 429 with Retry-After) rather than queued without bound. Verdicts are
keyed as the CLI keys them (`verdict_key`): one already in the run store, or graded
moments ago (a small in-memory LRU), is answered without running anything, and a program
already running is not submitted twice. All bookkeeping happens on the event loop's
thread; the store has a thread of its own (SQLite connections belong to one thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from execeval.dataset import Problem
from execeval.executor import Executor
from execeval.grading import verdict_key
from execeval.sandbox import Limits
from execeval.serve.inputs import BadRequest, GradeItem
from execeval.verdict import Verdict

log = logging.getLogger("execeval.serve")
RECENT = 20_000  # verdicts kept in memory, besides the store


class Overloaded(Exception):
    """More programs than slots + queue: the client should come back after `retry_after` s."""

    def __init__(self, retry_after: int, wanted: int, free: int):
        super().__init__(f"server busy: {wanted} program(s) to run but {free} place(s) free "
                         f"in the queue; retry after {retry_after}s")
        self.retry_after = retry_after


class StoreThread:
    """The run store's verdict table, from one thread: lookups answered as futures, writes
    gathered into one transaction per turn. A store that fails is logged, never fatal:
    the cache is an optimisation."""

    def __init__(self, path: Path):
        self.path = path
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="execeval-serve-store",
                                        initializer=self._open)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pending: list[tuple[str, Verdict]] = []
        self._flushing = False
        self._pool.submit(lambda: None).result()  # open now: a bad path fails at start

    def _open(self) -> None:
        from execeval.store import Store

        try:
            self._local.store = Store(self.path)
        except Exception as e:
            self._local.store = None
            self._local.error = e

    def check(self) -> None:
        """Raise the store's opening error, if any (in the caller's thread)."""
        error = self._pool.submit(lambda: getattr(self._local, "error", None)).result()
        if error is not None:
            raise error

    def get(self, keys: Sequence[str]) -> Future[dict[str, Verdict]]:
        def lookup() -> dict[str, Verdict]:
            store = self._local.store
            try:
                return store.get_verdicts(keys) if store is not None else {}
            except Exception as e:
                log.warning("verdict cache lookup failed: %s", e)
                return {}

        return self._pool.submit(lookup)

    def put(self, key: str, verdict: Verdict) -> None:
        with self._lock:
            self._pending.append((key, verdict))
            if self._flushing:
                return
            self._flushing = True
        self._pool.submit(self._flush)

    def _flush(self) -> None:
        with self._lock:
            items, self._pending = self._pending, []
            self._flushing = False
        store = self._local.store
        if store is None or not items:
            return
        try:
            store.put_verdicts(items)
        except Exception as e:
            log.warning("could not store %d verdicts: %s", len(items), e)

    def close(self) -> None:
        def shut() -> None:
            self._flush()
            if self._local.store is not None:
                self._local.store.close()

        try:
            self._pool.submit(shut).result()
        except RuntimeError:  # at interpreter exit the pool's thread is gone already
            self._flush_here()
        self._pool.shutdown()

    def _flush_here(self) -> None:
        from execeval.store import Store

        with self._lock:
            items, self._pending = self._pending, []
        if items:
            store = Store(self.path)
            try:
                store.put_verdicts(items)
            finally:
                store.close()


class Service:
    """The executor, the verdict cache and admission, shared by every endpoint (and by
    execeval.rewards in-process)."""

    def __init__(self, executor: Executor, store_path: Path, queue: int):
        self.executor = executor
        self.limits: Limits = executor.limits
        self.workers = executor.workers
        self.capacity = executor.workers + queue
        self.store = StoreThread(store_path)
        self.store_path = store_path
        self.running = 0  # distinct programs admitted and not yet graded
        self.inflight: dict[str, asyncio.Future[Verdict]] = {}
        self.recent: OrderedDict[str, Verdict] = OrderedDict()
        self.stats: Counter[str] = Counter()
        self.landings: deque[float] = deque(maxlen=512)  # when verdicts came, for Retry-After

    # ---- admission -------------------------------------------------------------------
    def _admit(self, n: int) -> None:
        if n > self.capacity:  # could never be admitted: waiting would not help
            raise BadRequest(f"{n} programs to run at once, but this server admits at most "
                             f"{self.capacity} (--workers + --queue); split the batch", 413)
        free = self.capacity - self.running
        if n > free:
            self.stats["rejected"] += 1
            raise Overloaded(self._retry_after(n - free), n, max(free, 0))

    def _retry_after(self, places: int) -> int:
        """Seconds until `places` programs have been graded, at the recent pace."""
        now = time.monotonic()
        while self.landings and now - self.landings[0] > 60:
            self.landings.popleft()
        if len(self.landings) < 2:
            return 1
        rate = len(self.landings) / max(now - self.landings[0], 1e-3)
        return min(max(math.ceil(places / rate), 1), 30)

    def _submit(self, problem: Problem, program: str, limits: Limits,
                key: str | None) -> asyncio.Future[Verdict]:
        """Hand one program to the executor; its verdict comes back on the loop's thread."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Verdict] = loop.create_future()
        cfut = self.executor.submit(problem, program, limits)
        self.running += 1
        self.stats["executions"] += 1
        if key is not None:
            self.inflight[key] = waiter

        def landed(f: Future[Verdict]) -> None:
            # a closed loop (RuntimeError): the server has stopped and nobody waits
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._landed, f, waiter, key)

        cfut.add_done_callback(landed)
        return waiter

    def _landed(self, cfut: Future[Verdict], waiter: asyncio.Future[Verdict],
                key: str | None) -> None:
        self.running -= 1
        if cfut.cancelled():
            verdict = Verdict(False, "harness_error", "the server is shutting down")
        elif (error := cfut.exception()) is not None:
            verdict = Verdict(False, "harness_error", f"{type(error).__name__}: {error}")
        else:
            verdict = cfut.result()
        self.landings.append(time.monotonic())
        if key is not None:
            self.inflight.pop(key, None)
            if verdict.status != "harness_error":
                self._remember(key, verdict)
            self.store.put(key, verdict)
        if not waiter.done():
            waiter.set_result(verdict)

    def _remember(self, key: str, verdict: Verdict) -> None:
        self.recent[key] = verdict
        self.recent.move_to_end(key)
        while len(self.recent) > RECENT:
            self.recent.popitem(last=False)

    # ---- the two kinds of work -------------------------------------------------------
    async def grade(self, items: Sequence[GradeItem]) -> list[tuple[Verdict, bool]]:
        """(verdict, came from the cache) for each item, in order; all admitted or none."""
        env = self.executor.environment.hash
        keys = [verdict_key(i.problem, i.program, i.limits, env) for i in items]
        unknown = [k for k in dict.fromkeys(keys) if k not in self.recent and k not in
                   self.inflight]
        found: dict[str, Verdict] = {}
        if unknown:
            found = await asyncio.wrap_future(self.store.get(unknown))
        # the lookup awaited: what landed or started meanwhile is looked at again
        todo = {k: i for k, i in zip(keys, items, strict=True)
                if k not in self.recent and k not in found and k not in self.inflight}
        self._admit(len(todo))
        for key, item in todo.items():
            self._submit(item.problem, item.program, item.limits, key)
        waiting: dict[str, asyncio.Future[Verdict]] = {}
        out: list[tuple[Verdict, bool] | None] = []
        for key in keys:
            if key in self.recent or key in found:
                verdict = self.recent.get(key) or found[key]
                if key in found:
                    self._remember(key, verdict)
                self.stats["cache_hits"] += 1
                out.append((verdict, True))
            else:
                if key not in todo:
                    self.stats["joined"] += 1
                waiting[key] = self.inflight[key]
                out.append(None)
        if waiting:
            # shielded: a client that goes away must not cancel a verdict others wait for
            done = await asyncio.gather(*(asyncio.shield(f) for f in waiting.values()))
            landed = dict(zip(waiting, done, strict=True))
            out = [o if o is not None else (landed[k], False)
                   for o, k in zip(out, keys, strict=True)]
        self.stats["graded"] += len(items)
        return [o for o in out if o is not None]

    async def run(self, problem: Problem, program: str, limits: Limits) -> Verdict:
        """One uncached execution (SandboxFusion's run_code: scripts may be random)."""
        self._admit(1)
        self.stats["run_code"] += 1
        return await asyncio.shield(self._submit(problem, program, limits, None))

    def snapshot(self) -> dict[str, Any]:
        counts = dict.fromkeys(("graded", "executions", "cache_hits", "joined", "run_code",
                                "rejected"), 0)
        return {"workers": self.workers, "capacity": self.capacity, "running": self.running,
                "cached_in_memory": len(self.recent), **counts, **self.stats}

    def close(self) -> None:
        self.executor.close()
        self.store.close()
