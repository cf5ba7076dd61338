"""Grading on a Ray cluster: `--executor ray` (a local cluster), `ray:auto` (the running
one) or `ray:ADDRESS` (e.g. `ray://head:10001`).

Each worker slot is a Ray actor, a process of its own on some node, that builds its own
sandbox (one zygote) and grades with `trusted_grade`, exactly as a `LocalExecutor` thread
does. One actor per slot rather than one per node with threads: the trusted side of
grading is Python, so threads of one process share a GIL, and one zygote forks for all
of them; measured, one process tops out near the work of 6 cores, while separate
processes scale with the cores (docs/scaling.md). The per-process caches (calibrated
time limits, EvalPlus oracles) are still filled once per node: see `GradingActor`.

The driver keeps the queue and the policy. It sends batches of jobs (a Ray call costs
about 2 ms of CPU; a batch shares it) to actors that have room (one batch running and
one waiting, so an actor never idles on a round trip), sends a problem to an actor once
and its hash afterwards, and resolves each future as its batch lands; only the driver
writes the store. When an actor or its whole node
dies, the jobs it held go back to the front of the queue for the others (a job lost
`MAX_TRIES` times becomes a flagged harness_error, so a run always ends) and a
replacement actor is asked for, which starts when the cluster has room.

Timeouts stay honest: a timeout that waited for a CPU longer than the clock credited is
graded again alone on its node, that is when the queue is empty and none of this
executor's jobs is in flight on any actor of that node, and no other job goes to that
node until it is back. (Other tenants of a node are not ours to stop: give the graders
whole nodes, see docs/scaling.md.)

`ray` is imported at the top so that importing this module without Ray installed fails
at once, and `executor_from_spec` answers in one line naming the extra.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import queue
import shutil
import socket
import tempfile
import threading
import uuid
from collections import Counter, deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import ray
    from ray import exceptions as rex
except ImportError as e:  # the registry says this in one line when `ray` is asked for
    raise ImportError(f"{e}; pip install 'execeval[ray]'") from e

from execeval.dataset import Problem
from execeval.environment import EnvironmentSpec, ensure, resolve
from execeval.errors import UserError
from execeval.executor import ExecutorKind, SandboxFactory, default_factory, trusted_grade
from execeval.judge import timing  # its per-process calibrations, shared on a node below
from execeval.sandbox import Limits, with_limits
from execeval.verdict import Verdict

PIPELINE = 1  # calls waiting at an actor beyond the ones it runs: hides the round trip
MAX_BATCH = 16  # jobs per call while the queue is long
MAX_TRIES = 3  # an actor died under the same job this often: a flagged verdict, not a hang
START_TIMEOUT = 120.0  # seconds to wait for the first worker before a run gives up
UNKNOWN = "execeval: unknown problem"  # an actor's answer when it lacks a problem's text

# an actor, its worker process or its node went away: the job was not graded there
_LOST = (rex.RayActorError, rex.WorkerCrashedError, rex.NodeDiedError, rex.ObjectLostError,
         rex.ActorUnschedulableError)


# one job as it travels: problem hash, the problem (the first time only), program, limits
Wire = tuple[str, Problem | None, str, Limits | None]


class GradingActor:
    """One worker slot on some node: its own sandbox, the problems it has been sent, and
    this process's calibrations and oracles. Runs as a Ray actor (`_RemoteGradingActor`).

    The per-process caches are filled once per node, not once per actor: an actor grades
    its first job of a problem holding that problem's lock in a folder this run shares on
    the node, and the calibrated reference time is left there for the others (EvalPlus
    oracles are on disk already: the next actor reads the one the first computed)."""

    def __init__(self, limits: Limits, factory: SandboxFactory, run: str):
        self.limits = limits
        # built here, on the worker (the grading environment too, on its first use there)
        self.sandbox = factory(limits)
        self.problems: dict[str, Problem] = {}
        self.shared = Path(tempfile.gettempdir()) / f"execeval-ray-{run}"
        self.shared.mkdir(mode=0o700, exist_ok=True)
        self.warm: set[str] = set()  # (problem, limits) whose first job this actor graded

    def hello(self) -> dict[str, Any]:
        """Where it runs and what holds its programs; starts the zygote now, so that a
        node that cannot build a sandbox says so before any job goes there."""
        from execeval.judge import JUDGE_VERSION
        from execeval.version import __version__

        about: dict[str, Any] = {"node": ray.get_runtime_context().get_node_id(),
                                 "pid": os.getpid(), "version": __version__,
                                 "judge": JUDGE_VERSION}
        try:
            self.sandbox.start().close()
        except Exception as e:
            about["error"] = f"{type(e).__name__}: {e}"
        about["report"] = dict(getattr(self.sandbox, "report", {}) or {})
        return about

    def grade(self, batch: list[Wire]) -> list[Verdict | str]:
        """Verdicts, in order, as a local worker thread would give them; `UNKNOWN` for a job
        whose problem's text was not sent here (the driver then sends it)."""
        out: list[Verdict | str] = []
        for problem_hash, problem, program, limits in batch:
            if problem is not None:
                self.problems[problem_hash] = problem
            elif (problem := self.problems.get(problem_hash)) is None:
                out.append(UNKNOWN)
                continue
            try:
                out.append(self._grade(problem, program, limits or self.limits))
            except BaseException as e:  # as LocalExecutor: a bug of ours is a flagged verdict
                out.append(Verdict(False, "harness_error", f"{type(e).__name__}: {e}"))
        return out

    def _grade(self, problem: Problem, program: str, limits: Limits) -> Verdict:
        sandbox = with_limits(self.sandbox, limits)
        name = f"{problem.hash}-{hashlib.sha256(limits.key().encode()).hexdigest()[:16]}"
        if name in self.warm:
            return trusted_grade(problem, program, sandbox)
        with open(self.shared / f"{name}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            saved = self.shared / f"{name}.seconds"
            key = (problem.hash, limits.key())
            with contextlib.suppress(OSError, ValueError):
                seconds = float(saved.read_text())
                with timing._lock:
                    timing._reference_seconds.setdefault(key, seconds)
            verdict = trusted_grade(problem, program, sandbox)  # calibrates if not known
            with timing._lock:
                known = timing._reference_seconds.get(key)
            if known is not None and not saved.exists():
                tmp = saved.with_suffix(f".{os.getpid()}")
                tmp.write_text(repr(known))
                tmp.replace(saved)
        self.warm.add(name)
        return verdict

    def close(self) -> None:
        self.sandbox.close()
        shutil.rmtree(self.shared, ignore_errors=True)


_RemoteGradingActor = ray.remote(GradingActor)


def _check_reachable(address: str | None) -> None:
    """A HOST:PORT (or ray://HOST:PORT) nobody answers at fails now, in one line: Ray
    itself would retry for minutes."""
    if address in (None, "auto", "local"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # not HOST:PORT; Ray says what it makes of it
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as e:
        raise UserError(f"no Ray cluster answers at {address} ({e.strerror or e})") from None


@dataclass(eq=False)
class _Job:
    future: Future[Verdict]
    problem: Problem
    program: str
    limits: Limits | None  # None: the executor's
    recheck: bool = False
    started: bool = False  # its future is running (it was sent once already)
    tries: int = 0  # actors that died under it


@dataclass(eq=False)
class _Slot:
    """The driver's view of one actor."""

    handle: Any
    threads: int
    ready: bool = False
    dead: bool = False
    node: str = ""
    pid: int = 0
    known: set[str] = field(default_factory=set)  # problem hashes it holds
    calls: dict[int, list[_Job]] = field(default_factory=dict)  # in flight there, by ticket

    def jobs(self) -> list[_Job]:
        return [job for batch in self.calls.values() for job in batch]


class RayExecutor:
    """Grading on a Ray cluster, one actor (one zygote) per worker slot.

    `address`: None starts a local cluster, "auto" joins the running one, anything else is
    passed to `ray.init` (e.g. "ray://head:10001"); a process already connected to Ray
    (`ray.init` called by the caller) uses that connection, and leaves it open on close.
    `workers`: slots (default: the cluster's CPUs). `threads`: grading threads per actor (1: one process per slot; more share one
    zygote and one process's caches, and a GIL). `factory`: how an actor builds its
    sandbox (default: the zygote, in `environment`, built on each node on first use).
    """

    def __init__(self, limits: Limits, workers: int | None = None, address: str | None = None,
                 *, threads: int = 1, factory: SandboxFactory | None = None,
                 start_timeout: float = START_TIMEOUT,
                 environment: EnvironmentSpec | str | None = None):
        self.limits = limits
        spec = resolve(environment)
        self.environment = ensure(spec)  # the driver's build: the identity the run records
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
            if address is None:  # a local cluster with a slot for every worker asked for
                options.update(include_dashboard=False,
                               num_cpus=max(workers or 0, os.cpu_count() or 1))
            _check_reachable(address)
            try:
                ray.init(address=address or "local", **options)
            except (ConnectionError, RuntimeError, ValueError) as e:
                first = (str(e).strip().splitlines() or [type(e).__name__])[0]
                raise UserError(
                    f"cannot use the Ray cluster at {address or 'local'}: {first} (is it up? "
                    "a cluster with token authentication also needs RAY_AUTH_MODE=token and its "
                    "token here: docs/scaling.md)") from None
        cpus = int(ray.cluster_resources().get("CPU", 0)) or 1
        self.workers = max(1, workers or cpus)
        self.threads = max(1, min(threads, self.workers))
        # more slots than CPUs: each asks for a share of one, so all of them are placed
        self._cpus_per_thread = min(1.0, cpus / self.workers)
        self._factory = factory or default_factory(spec)
        self._run = uuid.uuid4().hex[:16]  # names what this run's actors share on a node
        self._cond = threading.Condition()  # the state below; waited on for readiness
        self._pending: deque[_Job] = deque()
        self._rechecks: deque[_Job] = deque()
        self._slots: list[_Slot] = []
        self._busy: Counter[str] = Counter()  # jobs in flight per node
        self._alone: set[str] = set()  # nodes running a re-check: nothing else goes there
        # what the driver's thread acts on: results (put by Ray's threads) and wake-ups
        self._events: queue.SimpleQueue[tuple[str, _Slot, int, Future[Any]] | None] = \
            queue.SimpleQueue()
        self._wake = False
        self._closed = False
        self._fatal: BaseException | None = None
        self._ticket = 0
        self._report: dict[str, Any] | None = None
        self.last_error = ""
        self._replacements = 2 * self.workers + 4  # actors it may still start after deaths
        self.stats: Counter[str] = Counter()  # sent, calls, problems_sent, retried, actors_lost
        left = self.workers
        while left > 0:
            self._start_slot(min(self.threads, left))
            left -= self.threads
        self._thread = threading.Thread(target=self._loop, name="execeval-ray", daemon=True)
        self._thread.start()
        self._await_first_worker(start_timeout)

    # --- the Executor seam ---------------------------------------------------------------

    def submit(self, problem: Problem, program: str,
               limits: Limits | None = None) -> Future[Verdict]:
        future: Future[Verdict] = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("executor is closed")
            if self._fatal is not None:
                future.set_exception(self._fatal)
                return future
            self._pending.append(_Job(future, problem, program,
                                      None if limits in (None, self.limits) else limits))
            wake, self._wake = not self._wake, True
        if wake:
            self._events.put(None)
        return future

    def describe(self) -> dict[str, Any]:
        """The sandbox report of the first worker that started (as a local run records)."""
        return dict(self._report or {})

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until every actor asked for has started (False if `timeout` passed first):
        the constructor waits only for the first, so that a run begins at once."""
        with self._cond:
            return self._cond.wait_for(lambda: self._fatal is not None or all(
                s.ready for s in self._slots), timeout) and self._fatal is None

    def nodes(self) -> dict[str, list[int]]:
        """Live actors' worker pids by node id (for tests and the benchmark)."""
        with self._cond:
            out: dict[str, list[int]] = {}
            for s in self._slots:
                if s.ready and not s.dead:
                    out.setdefault(s.node, []).append(s.pid)
            return out

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            jobs = self._take_all_jobs()
            slots, self._slots = self._slots, []
            self._cond.notify_all()
        self._events.put(None)
        for job in jobs:
            if not job.future.cancel() and not job.future.done():
                job.future.set_exception(RuntimeError("executor closed"))
        self._thread.join(timeout=30)
        # a graceful close lets each actor remove its zygote's root; then kill them all
        with contextlib.suppress(Exception):
            ray.wait([s.handle.close.remote() for s in slots if s.ready and not s.dead],
                     num_returns=sum(1 for s in slots if s.ready and not s.dead), timeout=10)
        for s in slots:
            with contextlib.suppress(Exception):
                ray.kill(s.handle)
        if self._owns_ray:
            ray.shutdown()

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- actors --------------------------------------------------------------------------

    def _start_slot(self, threads: int) -> None:
        handle: Any = _RemoteGradingActor.options(
            num_cpus=threads * self._cpus_per_thread, max_concurrency=threads,
            max_restarts=0, max_task_retries=0, scheduling_strategy="SPREAD",
        ).remote(self.limits, self._factory, self._run)
        slot = _Slot(handle, threads)
        self._slots.append(slot)
        self._watch("hello", slot, 0, handle.hello.remote())

    def _await_first_worker(self, timeout: float) -> None:
        with self._cond:
            started = self._cond.wait_for(
                lambda: self._fatal is not None or any(s.ready for s in self._slots), timeout)
            fatal = self._fatal
        if fatal is None and started:
            return
        if fatal is None:
            fatal = UserError(f"no Ray worker started within {timeout:g}s (the cluster has "
                              f"{ray.available_resources().get('CPU', 0):g} CPUs free)")
        self.close()
        raise fatal

    def _watch(self, kind: str, slot: _Slot, ticket: int, ref: Any) -> None:
        """Turn a Ray result into an event for the driver's thread. The callback runs on
        one of Ray's threads (or inline): it takes no lock, since the driver's thread calls
        into Ray (which may wait for that very thread) while it holds the executor's."""
        ref.future().add_done_callback(lambda f: self._events.put((kind, slot, ticket, f)))

    # --- the driver's loop ---------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            events = [self._events.get()]
            with contextlib.suppress(queue.Empty):
                while True:
                    events.append(self._events.get_nowait())
            with self._cond:
                if self._closed:
                    return
                self._wake = False
                for event in events:
                    if event is None:
                        continue
                    kind, slot, ticket, f = event
                    if kind == "hello":
                        self._hello(slot, f)
                    else:
                        self._landed(slot, ticket, f)
                if self._fatal is None:
                    self._dispatch()

    def _hello(self, slot: _Slot, f: Future[Any]) -> None:
        from execeval.version import __version__

        try:
            about = f.result()
        except Exception as e:
            about = {"error": f"{type(e).__name__}: {e}"}
        if slot.dead:
            return
        if about.get("error"):
            self._lose(slot, RuntimeError(str(about["error"])))
            return
        if about["version"] != __version__:
            self._fail(UserError(
                f"execeval {about['version']} is installed on Ray node {about['node']}, "
                f"{__version__} here: install the same version on every node"))
            return
        slot.ready, slot.node, slot.pid = True, about["node"], about["pid"]
        if self._report is None:
            self._report = about["report"]
        self._cond.notify_all()  # the constructor waits for the first

    def _landed(self, slot: _Slot, ticket: int, f: Future[Any]) -> None:
        batch = slot.calls.pop(ticket, None)
        if batch is None:  # its actor was declared lost; the jobs went back to the queue
            return
        self._busy[slot.node] -= len(batch)
        if batch[0].recheck:
            self._alone.discard(slot.node)
        try:
            results: list[Any] = f.result()
        except _LOST as e:
            slot.calls[ticket] = batch  # lost with the rest of that actor's calls
            self._busy[slot.node] += len(batch)
            self._lose(slot, e)
            return
        except Exception as e:  # the call itself failed: a bug of ours, flagged
            flagged = Verdict(False, "harness_error", f"{type(e).__name__}: {e}"[:300])
            results = [flagged] * len(batch)
        for job, result in zip(batch, results, strict=True):
            self._verdict(slot, job, result)

    def _verdict(self, slot: _Slot, job: _Job, result: Verdict | str) -> None:
        from execeval.judge.timing import mark_rechecked, needs_recheck

        if isinstance(result, str):  # UNKNOWN: the actor lacks the problem's text
            self.stats["unknown_problem"] += 1
            slot.known.discard(job.problem.hash)
            (self._rechecks if job.recheck else self._pending).appendleft(job)
        elif not job.recheck and needs_recheck(result):
            job.recheck = True
            self._rechecks.append(job)
        elif not job.future.done():
            job.future.set_result(mark_rechecked(result) if job.recheck else result)

    def _lose(self, slot: _Slot, error: BaseException) -> None:
        """An actor (or its node) is gone: its jobs go back to the queue, a replacement is
        asked for, and when no actor is left or coming the run fails rather than hangs."""
        if slot.dead:
            return
        slot.dead = True
        self.last_error = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        self.stats["actors_lost"] += 1
        self._slots.remove(slot)
        for job in reversed(slot.jobs()):
            self._busy[slot.node] -= 1
            if job.recheck:
                self._alone.discard(slot.node)
            job.tries += 1
            if job.tries >= MAX_TRIES:
                if not job.future.done():
                    job.future.set_result(Verdict(
                        False, "harness_error",
                        f"its Ray worker died {job.tries} times ({self.last_error})"[:300]))
                continue
            self.stats["retried"] += 1
            (self._rechecks if job.recheck else self._pending).appendleft(job)
        slot.calls.clear()
        with contextlib.suppress(Exception):
            ray.kill(slot.handle)
        if self._replacements > 0 and not self._closed:
            self._replacements -= 1
            self._start_slot(slot.threads)
        if not self._slots:
            self._fail(UserError(f"no Ray worker left to grade on ({self.last_error}); what "
                                 "was graded is stored: run the same command again to resume"))

    def _take_all_jobs(self) -> list[_Job]:
        """Every job queued, waiting for a re-check or in flight on an actor, taken out."""
        jobs = list(self._pending) + list(self._rechecks)
        for s in self._slots:
            jobs.extend(s.jobs())
            s.calls.clear()
        self._pending.clear()
        self._rechecks.clear()
        return jobs

    def _fail(self, error: BaseException) -> None:
        """Nothing more can be graded: every waiting future fails (the store keeps what
        landed, so running the same command again resumes)."""
        self._fatal = error
        for job in self._take_all_jobs():
            if not job.future.done():
                if not job.started:
                    job.future.set_running_or_notify_cancel()
                if not job.future.done():
                    job.future.set_exception(error)
        self._cond.notify_all()

    def _dispatch(self) -> None:
        """Fill every actor: first one call per thread, then the pipeline; a call carries
        a batch while the queue is long, one job near its end (so no actor holds back
        what another could run); a re-check goes alone, once the queue is empty, to a
        node with nothing of ours in flight."""
        slots = [s for s in self._slots if s.ready and not s.dead]
        threads = sum(s.threads for s in slots) or 1
        for extra in (0, PIPELINE):
            for slot in slots:
                while len(slot.calls) < slot.threads + extra and slot.node not in self._alone:
                    size = max(1, min(MAX_BATCH, len(self._pending) // (2 * threads)))
                    batch = self._take(slot, size)
                    if not batch:
                        break
                    self._send(slot, batch)

    def _take(self, slot: _Slot, size: int) -> list[_Job]:
        batch: list[_Job] = []
        while self._pending and len(batch) < size:
            job = self._pending.popleft()
            if job.started or job.future.set_running_or_notify_cancel():
                job.started = True
                batch.append(job)
        if not batch and self._rechecks and self._busy[slot.node] == 0:
            self._alone.add(slot.node)
            batch.append(self._rechecks.popleft())
        return batch

    def _send(self, slot: _Slot, batch: list[_Job]) -> None:
        wire: list[Wire] = []
        for job in batch:
            h = job.problem.hash
            first = h not in slot.known
            wire.append((h, job.problem if first else None, job.program, job.limits))
            slot.known.add(h)
            self.stats["problems_sent"] += first
        self._ticket += 1
        slot.calls[self._ticket] = batch
        self._busy[slot.node] += len(batch)
        self.stats["sent"] += len(batch)
        self.stats["calls"] += 1
        self._watch("grade", slot, self._ticket, slot.handle.grade.remote(wire))


def open_ray(address: str | None, limits: Limits, workers: int | None,
             environment: EnvironmentSpec) -> RayExecutor:
    """`ray` (a local cluster), `ray:auto` (the running one) or `ray:ray://HOST:PORT`."""
    return RayExecutor(limits, workers, address, environment=environment)


KIND = ExecutorKind("ray[:auto|ADDRESS]", open_ray)
