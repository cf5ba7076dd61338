"""Grading on a Ray cluster (`--executor ray[:ADDRESS]`): the same verdicts as the local
executor, nothing lost when a worker process or a whole node dies, hostile programs still
contained, a starved timeout re-graded alone on its node, and a killed driver resumed.

One cluster for the module (Ray starts slowly): a head that grades nothing and two worker
nodes of one CPU each, all on this machine (`ray.cluster_utils.Cluster`). The verdicts
are compared with a local run of the same slice of the agreement set under a 1 s limit
(its slow-by-construction kinds left out but for three clean timeouts, to keep it fast).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import execeval
from execeval.dataset import Problem
from execeval.executor import Executor, LocalExecutor
from execeval.judge import Grader, Verdict
from execeval.sandbox import Limits, Sandbox

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
if str(TESTS / "sandbox") not in sys.path:  # the adversarial suite's cases and toy problem
    sys.path.append(str(TESTS / "sandbox"))
from support.sandbox import ADD  # noqa: E402
from test_hostile import ATTEMPTS, CANARY_ENV, EXHAUSTION, SITE, contained  # noqa: E402

LIMITS = Limits(timeout=1.0)
SLOW_KINDS = {"slow_canonical", "sleep_timeout", "infinite_loop"}
# the one quick mutant that runs for about 1.5 s (not endlessly): under a 1 s limit its
# verdict depends on the machine's load, not on the executor
BORDERLINE = {("HumanEval/75", "swap_binop")}


def agreement_slice() -> list[dict[str, Any]]:
    """About 300 of the 2,037 agreement samples: every sixth of the quick kinds, two
    endless loops and one sleeper (the slow canonicals would sit on the 1 s limit, and
    the endless ones take a second each)."""
    spec = importlib.util.spec_from_file_location("mutants", ROOT / "benchmarks" / "mutants.py")
    assert spec is not None and spec.loader is not None
    mutants = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mutants)
    rows = mutants.mutant_samples()
    quick = [r for r in rows if r["kind"] not in SLOW_KINDS
             and (r["task_id"], r["kind"]) not in BORDERLINE][::6]
    return (quick + [r for r in rows if r["kind"] == "infinite_loop"][:2]
            + [r for r in rows if r["kind"] == "sleep_timeout"][:1])


def outcome(row: dict[str, Any]) -> tuple[Any, ...]:
    """What must be identical: a timeout's detail holds its timings, the rest is exact."""
    if row["status"] == "timeout":
        return row["passed"], row["status"]
    extra = {k: v for k, v in row.items() if k not in ("task_id", "completion", "kind")}
    return row["passed"], row["status"], json.dumps(extra, sort_keys=True)


def read_results(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# --- the cluster -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A head with no CPUs (it runs the driver only) and two one-CPU worker nodes. Workers
    see the canary secret in their environment (a program must not) and this folder on
    their path (for the logging grader below)."""
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    # a dead node is noticed by missed health checks: every second, five missed (15 s by
    # default), so that the tests after the node test start on a cluster that knows it
    saved = {k: v for k, v in os.environ.items() if k.startswith("RAY_")}  # Ray sets some
    shared = set(Path(tempfile.gettempdir()).glob("execeval-ray-*"))
    c = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 0, "include_dashboard": False,
        "_system_config": {"health_check_period_ms": 1000, "health_check_failure_threshold": 5}})
    try:
        for _ in range(2):
            c.add_node(num_cpus=1)
        path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
        ray.init(address=c.address, logging_level=logging.WARNING, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": path, CANARY_ENV: "s3cr3t"}})
        yield c
    finally:
        ray.shutdown()
        c.shutdown()
        for k in [k for k in os.environ if k.startswith("RAY_")]:
            del os.environ[k]
        os.environ.update(saved)
        # what the runs whose actors were killed (not closed) left on the "nodes"
        for left in set(Path(tempfile.gettempdir()).glob("execeval-ray-*")) - shared:
            shutil.rmtree(left, ignore_errors=True)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return agreement_slice()


@pytest.fixture(scope="module")
def baseline(rows: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
             ) -> dict[str, Any]:
    """The local executor's results on the slice: outcome per sample, and the summary."""
    tmp = tmp_path_factory.mktemp("local")
    with LocalExecutor(LIMITS, 2) as ex:
        result = execeval.evaluate(rows, "humaneval", executor=ex, store=tmp / "s.sqlite",
                                   results=tmp / "r.jsonl", k=[1])
    out = read_results(tmp / "r.jsonl")
    return {"by_sample": {(r["task_id"], r["completion"]): outcome(r) for r in out},
            "summary": result.summary, "verdicts": stored(tmp / "s.sqlite")}


def stored(store: Path) -> dict[str, tuple[Any, ...]]:
    """The store's verdicts by key (timings left out, as in `outcome`)."""
    db = sqlite3.connect(store)
    try:
        return {key: (passed, status) if status == "timeout" else (passed, status, detail, extra)
                for key, passed, status, detail, extra in db.execute(
                    "SELECT key, passed, status, detail, extra FROM verdicts")}
    finally:
        db.close()


def ray_executor(workers: int = 2, limits: Limits = LIMITS, **kw: Any) -> Any:
    from execeval.ray_executor import RayExecutor

    ex = RayExecutor(limits, workers, None, **kw)
    assert ex.wait_ready(60), "the Ray actors did not start"
    return ex


def assert_matches(baseline: dict[str, Any], results: Path, count: int) -> None:
    got = read_results(results)
    assert len(got) == count
    differ = [(r["task_id"], r["kind"], r["status"], r["detail"],
               baseline["by_sample"][(r["task_id"], r["completion"])]) for r in got
              if outcome(r) != baseline["by_sample"][(r["task_id"], r["completion"])]]
    assert not differ, differ[:5]


class Tripwire:
    """An executor that does `action` (in a thread of its own) once `after` verdicts have
    landed: a failure injected mid-run, at a known point."""

    def __init__(self, inner: Executor, after: int, action: Callable[[], None]):
        self.inner, self.limits, self.workers = inner, inner.limits, inner.workers
        self.environment = inner.environment
        self.after, self.action = after, action
        self.landed = 0
        self.landed_when_done: int | None = None
        self.thread = threading.Thread(target=self._act)
        self._lock = threading.Lock()

    def submit(self, problem: Problem, program: str,
               limits: Limits | None = None) -> Future[Verdict]:
        future = self.inner.submit(problem, program, limits)
        future.add_done_callback(self._count)
        return future

    def _count(self, _: Future[Verdict]) -> None:
        with self._lock:
            self.landed += 1
            if self.landed == self.after:
                self.thread.start()

    def _act(self) -> None:
        self.action()
        with self._lock:
            self.landed_when_done = self.landed

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def close(self) -> None:
        self.inner.close()


# --- the tests -------------------------------------------------------------------------


def test_verdicts_match_the_local_executor(cluster: Any, rows: list[dict[str, Any]],
                                           baseline: dict[str, Any], tmp_path: Path) -> None:
    """Two nodes, one actor each: the results file and summary are the local run's."""
    with ray_executor(2) as ex:
        assert len(ex.nodes()) == 2  # one actor on each worker node
        result = execeval.evaluate(rows, "humaneval", executor=ex, store=tmp_path / "s.sqlite",
                                   results=tmp_path / "r.jsonl", k=[1])
        assert ex.stats["sent"] >= len(rows) and ex.stats["actors_lost"] == 0
        # each problem's text went to each actor at most once; later jobs named its hash
        problems = len({r["task_id"] for r in rows})
        assert problems <= ex.stats["problems_sent"] <= 2 * problems
    assert_matches(baseline, tmp_path / "r.jsonl", len(rows))
    assert stored(tmp_path / "s.sqlite") == baseline["verdicts"]  # same keys, same verdicts
    for key in ("pass_at_k", "status_counts", "sandbox", "n_samples"):
        assert result.summary.get(key) == baseline["summary"].get(key), key


@pytest.mark.parametrize("victim", ["worker process", "node"])
def test_a_death_mid_run_loses_nothing(cluster: Any, rows: list[dict[str, Any]],
                                       baseline: dict[str, Any], tmp_path: Path,
                                       victim: str) -> None:
    """A grading actor's process is killed (kill -9), or a whole node is removed, once 40
    verdicts have landed: its jobs go to the others, and every verdict is the local one."""
    extra = cluster.add_node(num_cpus=1) if victim == "node" else None
    subset = rows[:160]
    with ray_executor(3 if extra else 2) as ex:
        if extra is not None:
            assert extra.node_id in ex.nodes()  # SPREAD: one actor on every node
            action = lambda: cluster.remove_node(extra, allow_graceful=False)  # noqa: E731
        else:
            pid = next(iter(ex.nodes().values()))[0]
            action = lambda: os.kill(pid, signal.SIGKILL)  # noqa: E731
        wire = Tripwire(ex, 40, action)
        execeval.evaluate(subset, "humaneval", executor=wire, store=tmp_path / "s.sqlite",
                          results=tmp_path / "r.jsonl", k=[1])
        wire.thread.join()
        assert wire.landed_when_done is not None and wire.landed_when_done < len(subset)
        assert ex.stats["actors_lost"] >= 1 and ex.stats["retried"] >= 1, ex.stats
    assert_matches(baseline, tmp_path / "r.jsonl", len(subset))
    if extra is not None:  # the next tests need a cluster that counts it out
        ray = pytest.importorskip("ray")
        deadline = time.monotonic() + 60
        while extra.node_id in alive_nodes(ray):
            assert time.monotonic() < deadline, "Ray never noticed the node's death"
            time.sleep(0.1)  # polling Ray's view of the node, not waiting in its stead


def test_hostile_programs_are_contained_on_ray(cluster: Any, tmp_path: Path) -> None:
    """A few of the adversarial suite's programs, graded by Ray actors: each must pass
    only because its attempt failed, and the actors and nodes must all survive."""
    ray = pytest.importorskip("ray")
    from execeval.environment import CLASSIC, ensure
    from execeval.sandbox.jail import Packages
    from execeval.sandbox.probe import secret_paths

    env = ensure(CLASSIC)  # the actors' environment: programs import from it, so it is visible

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    targets = [str(tmp_path / "pwned"), "/pwned", str(Path.home() / "execeval-pwned")]
    preamble = (f"SECRETS = {secret_paths(Packages(env.prefix, env.site))!r}\n"
                f"PORT = {server.getsockname()[1]}\n"
                f"WRITE_TARGETS = {targets!r}\nSTDLIB = {SITE!r}\n")
    names = ["read_benchmark_answers", "read_host_files", "read_environment_secret",
             "tcp_to_host_server", "fork_bomb", "signal_every_pid", "write_host_paths"]
    programs = {name: preamble + contained(ATTEMPTS[name]) for name in names}
    programs["read_shadow"] = contained("return open('/etc/shadow').read()")
    for kill in ("os.kill(os.getppid(), signal.SIGKILL)", "os.killpg(os.getpgrp(), "
                 "signal.SIGKILL)", "os.kill(-1, signal.SIGKILL)"):
        programs[kill] = (f"import os, signal\ntry:\n    {kill}\nexcept OSError:\n    pass\n"
                          "def add(a, b):\n    return a + b\n")
    statuses = {name: status for name, _, status in EXHAUSTION
                if name in ("infinite_loop", "allocates_8gib")}
    for name in statuses:
        programs[name] = next(p for n, p, _ in EXHAUSTION if n == name)
    try:
        nodes_before = alive_nodes(ray)
        with ray_executor(2, Limits(timeout=1.0, memory_mb=1024)) as ex:
            before, lost = ex.nodes(), ex.stats["actors_lost"]  # (a node removed just now
            # may still look alive to Ray for a few seconds: an actor sent there is replaced)
            for pids in before.values():  # the graders hold the secret; programs must not
                for pid in pids:
                    assert b"s3cr3t" in Path(f"/proc/{pid}/environ").read_bytes()
            futures = {name: ex.submit(ADD, program) for name, program in programs.items()}
            verdicts = {name: f.result() for name, f in futures.items()}
            for name, verdict in verdicts.items():
                if name in statuses:
                    assert verdict.status == statuses[name], (name, verdict)
                else:
                    assert verdict.passed, (name, verdict)
            assert ex.submit(ADD, "def add(a, b):\n    return a + b\n").result().passed
            assert ex.nodes() == before and ex.stats["actors_lost"] == lost, ex.last_error
            for pids in before.values():
                for pid in pids:
                    os.kill(pid, 0)  # alive
        assert alive_nodes(ray) == nodes_before
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected
        assert not any(os.path.exists(p) for p in targets)
    finally:
        server.close()


def alive_nodes(ray: Any) -> set[str]:
    return {n["NodeID"] for n in ray.nodes() if n["Alive"]}


def _logged_grade(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    """The `check` grader, logging which node graded when; a program marked `# starve`
    reports a starved timeout the first time (as a timeout under load would)."""
    import ray

    from execeval.judge.check import GRADER as CHECK

    log = Path(problem.metadata["log"])
    start = time.monotonic()
    verdict = CHECK.grade(problem, program, sandbox)
    first = False
    if "# starve" in program:
        marker = log / (hashlib.sha256(program.encode()).hexdigest() + ".seen")
        with contextlib.suppress(FileExistsError):
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            first = True
    record = {"node": ray.get_runtime_context().get_node_id(), "start": start,
              "end": time.monotonic(), "program": program, "first": first}
    with open(log / "intervals.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")
    if first:
        return Verdict(False, "timeout", "no answer within 1s (cpu 0.10s, waited 0.90s, "
                       "credited 0.00s)")
    return verdict


LOGGED = Grader("test_ray_executor:LOGGED", _logged_grade)  # calibrated, as `check` is


def test_a_starved_timeout_is_rechecked_alone_on_its_node(cluster: Any,
                                                          tmp_path: Path) -> None:
    """Four actors, two on each node. Three starved timeouts come first; each is graded
    again only when nothing else of the run is on its node, and its verdict says so. And
    the problem's time limit is calibrated once per node, not once per actor: once here,
    where both nodes share this machine (its /tmp)."""
    reference = "def add(a, b):\n    return a + b\n"
    problem = replace(ADD, task_id="Toy/logged", grader="test_ray_executor:LOGGED",
                      reference=reference, metadata={"log": str(tmp_path)})
    slow = "import time\ndef add(a, b):\n    time.sleep(0.03)\n    return a + b\n"
    programs = [f"{slow}# starve {i}\n" for i in range(3)] + [f"{slow}# {i}\n" for i in range(24)]
    with ray_executor(4) as ex:
        assert sorted(len(p) for p in ex.nodes().values()) == [2, 2]
        verdicts = [f.result() for f in [ex.submit(problem, p) for p in programs]]
    assert all(v.passed for v in verdicts[3:])
    for v in verdicts[:3]:
        assert v.passed and v.detail.endswith("re-checked alone"), v
    log = [json.loads(line) for line in (tmp_path / "intervals.jsonl").read_text().splitlines()]
    assert sum(r["program"] == reference for r in log) == 1  # the calibration run
    rechecks = [r for r in log if "# starve" in r["program"] and not r["first"]]
    assert len(rechecks) == 3
    for r in rechecks:
        beside = [o for o in log if o is not r and o["node"] == r["node"]
                  and o["start"] < r["end"] and r["start"] < o["end"]]
        assert not beside, (r, beside)


def test_the_cli_on_ray_resumes_after_kill_9(cluster: Any, rows: list[dict[str, Any]],
                                             baseline: dict[str, Any], tmp_path: Path) -> None:
    """`execeval evaluate --executor ray:ADDRESS`, killed with SIGKILL once 30 verdicts are
    stored, then run again: it reuses them and ends with the local run's results."""
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    store, results = tmp_path / "store.sqlite", tmp_path / "results.jsonl"
    cmd = [sys.executable, "-m", "execeval.cli", "evaluate", "--dataset", "humaneval",
           "--samples", str(samples), "--store", str(store), "--results", str(results),
           "--workers", "2", "--timeout", "1", "--k", "1", "--json",
           "--executor", f"ray:{cluster.address}"]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while stored_verdicts(store) < 30:
            assert first.poll() is None, first.stderr.read() if first.stderr else ""
            if time.monotonic() > deadline:
                first.kill()
                raise AssertionError(f"no verdicts stored in 120 s: {first.communicate()[1]}")
            time.sleep(0.05)  # polling the store for a count, not waiting in its stead
        first.kill()
    finally:
        first.kill()
        first.wait()
        if first.stderr:
            first.stderr.close()
    assert stored_verdicts(store) < len(rows)
    second = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout.strip().splitlines()[-1])
    assert summary["verdicts_reused"] >= 30
    assert_matches(baseline, results, len(rows))


def stored_verdicts(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
        try:
            return int(db.execute("SELECT count(*) FROM verdicts").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def test_without_ray_the_executor_fails_in_one_line(tmp_path: Path) -> None:
    """Where Ray is not installed (here: made unimportable), `--executor ray` says which
    extra to install, in one line, before grading anything. Runs with or without Ray."""
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"task_id": "HumanEval/0", "completion": "    return 1\n"})
                       + "\n")
    code = ("import sys\nsys.modules['ray'] = None\nfrom execeval.cli import main\n"
            "sys.exit(main(sys.argv[1:]))")
    proc = subprocess.run([sys.executable, "-c", code, "evaluate", "--dataset", "humaneval",
                           "--samples", str(samples), "--store", str(tmp_path / "s.sqlite"),
                           "--executor", "ray"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'execeval[ray]'" in lines[0], proc.stderr
    assert not re.search(r"Traceback", proc.stderr)
