"""The adversarial suite: hostile programs, each with the verdict it must get and the side
effects it must not have. Every program runs in the real zygote sandbox and is graded by
the real trusted `check` grader."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import textwrap
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from support.sandbox import ADD, grade_many, run, wait_no_descendants

from execeval.benchmark import hidden_packages
from execeval.sandbox import Limits, ProgramFailure
from execeval.sandbox.probe import secret_paths
from execeval.sandbox.warm import ZygoteSandbox

CANARY_ENV = "EXECEVAL_TEST_API_KEY"
SITE = os.path.dirname(os.path.dirname(json.__file__))  # the stdlib directory


def contained(attempt: str) -> str:
    """A program that answers correctly only if the hostile `attempt` failed, so the verdict
    `passed` proves containment (and a wrong answer would show the leak)."""
    return ("def _attempt():\n" + textwrap.indent(textwrap.dedent(attempt).strip(), "    ")
            + "\ntry:\n    LEAKED = bool(_attempt())\nexcept BaseException:\n    LEAKED = False\n"
            "def add(a, b):\n    return a + b + (1 if LEAKED else 0)\n")


# (name, program, expected status): a result, an exit or printed text never makes a pass
FORGERIES = [
    ("eq_always_true", "class T:\n    def __eq__(self, o):\n        return True\n"
     "def add(a, b):\n    return T()\n", "error"),
    ("int_subclass_eq", "class S(int):\n    def __eq__(self, o):\n        return True\n"
     "    __hash__ = int.__hash__\ndef add(a, b):\n    return S(0)\n", "failed"),
    ("sys_exit_top_level", "import sys\nsys.exit(0)\n", "error"),
    ("sys_exit_in_call", "import sys\ndef add(a, b):\n    sys.exit(0)\n", "error"),
    ("os_exit_top_level", "import os\nos._exit(0)\n", "crash"),
    ("os_exit_in_call", "import os\ndef add(a, b):\n    os._exit(0)\n", "crash"),
    ("atexit_prints_pass", "import atexit, os, sys\n"
     "atexit.register(lambda: os.write(1, b'passed\\n'))\n"
     "def add(a, b):\n    raise SystemExit(0)\n", "error"),
    ("excepthook_swallows", "import sys\nsys.excepthook = lambda *a: None\n"
     "def add(a, b):\n    raise ValueError('x')\n", "error"),
    ("prints_passed", "print('passed')\ndef add(a, b):\n    print('All tests passed')\n"
     "    return 0\n", "failed"),
    ("keyboard_interrupt", "def add(a, b):\n    raise KeyboardInterrupt\n", "error"),
    ("evil_exception_str", "class E(Exception):\n    def __str__(self):\n"
     "        raise RuntimeError('no')\ndef add(a, b):\n    raise E()\n", None),
    ("junk_on_protocol_pipe", "import os\nos.write(4, b'\\xff\\xff\\xff\\xffjunk')\n"
     "def add(a, b):\n    return a + b\n", "error"),
    ("closes_protocol_pipes", "import os\nos.close(3)\nos.close(4)\n"
     "def add(a, b):\n    return a + b\n", "crash"),
    ("syntax_error", "def add(a, b)\n    return a + b\n", "syntax_error"),
    ("huge_reply", "def add(a, b):\n    return 'x' * (40 * 2**20)\n", "error"),
    ("deeply_nested_reply", "def add(a, b):\n    x = []\n    for _ in range(200000):\n"
     "        x = [x]\n    return x\n", "error"),
    ("infinite_recursion", "def add(a, b):\n    return add(a, b)\n", "error"),
    ("raises_memory_error", "def add(a, b):\n    raise MemoryError\n", "memory"),
]

# resource exhaustion: bounded, and told apart
EXHAUSTION = [
    ("infinite_loop", "def add(a, b):\n    while True:\n        pass\n", "timeout"),
    ("sleeps", "import time\ndef add(a, b):\n    time.sleep(30)\n", "timeout"),
    ("ignores_signals", "import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):\n"
     "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass\n", "timeout"),
    ("threads_spin", "import threading\ndef spin():\n    while True:\n        pass\n"
     "for _ in range(4):\n    threading.Thread(target=spin, daemon=True).start()\n"
     "def add(a, b):\n    while True:\n        pass\n", "timeout"),
    ("allocates_8gib", "x = bytearray(8 * 2**30)\n", "memory"),
]

# each must fail to do harm: the program passes only if its attempt failed
ATTEMPTS = {
    "read_benchmark_answers": """
        import glob, gzip
        for p in SECRETS:
            if p.endswith('.gz'):
                return gzip.open(p).read(10)
        return glob.glob('/**/HumanEval.jsonl*', recursive=True)
    """,
    "read_host_files": "import os\nreturn [p for p in SECRETS if os.path.exists(p)]",
    "read_environment_secret": f"import os\nreturn {CANARY_ENV!r} in os.environ or "
                               "any('s3cr3t' in v for v in os.environ.values())",
    "tcp_to_host_server": "import socket\nsocket.create_connection(('127.0.0.1', PORT), 1)"
                          "\nreturn True",
    "dns_lookup": "import socket\nreturn socket.getaddrinfo('pypi.org', 443)",
    "raw_socket_ipv6": "import socket\nsocket.socket(socket.AF_INET6, socket.SOCK_DGRAM)"
                       "\nreturn True",
    "abstract_unix_socket": "import socket\ns = socket.socket(socket.AF_UNIX)\n"
                            "s.bind('\\0execeval-rendezvous')\nreturn True",
    "ptrace": "import ctypes\nreturn ctypes.CDLL(None).ptrace(0, 0, 0, 0) == 0",
    "become_root": "import os\nos.setuid(0)\nreturn True",
    "mount_tmpfs": "import ctypes\nreturn ctypes.CDLL(None).mount(b'none', b'/usr', b'tmpfs', "
                   "0, None) == 0",
    "new_user_namespace": "import ctypes\nreturn ctypes.CDLL(None).unshare(0x10000000) == 0",
    "sysv_shared_memory": "import ctypes\nreturn ctypes.CDLL(None).shmget(0, 4096, 0o1666) >= 0",
    "see_other_processes": "import os\nreturn [p for p in os.listdir('/proc') if p.isdigit()] "
                           "or os.getppid() != 0",
    "signal_every_pid": """
        import os, signal
        hit = 0
        for pid in range(2, 5000):
            try:
                os.kill(pid, signal.SIGKILL)
                hit += 1
            except OSError:
                pass
        os.kill(-1, signal.SIGKILL)  # everything it may signal but itself: nothing
        return hit
    """,
    "write_host_paths": """
        for p in WRITE_TARGETS:
            try:
                open(p, 'w').write('pwned')
                return True
            except OSError:
                pass
    """,
    "write_into_stdlib": "open(STDLIB + '/execeval_pwned.py', 'w').write('x = 1')\nreturn True",
    "hundred_mib_file": "open('big', 'wb').write(b'x' * (100 * 2**20))\nreturn True",
    "thousand_open_files": "fs = [open('/dev/null') for _ in range(1000)]\nreturn True",
    "fork_bomb": """
        import os
        for _ in range(10000):
            if os.fork() == 0:
                import time
                time.sleep(30)
                os._exit(0)
        return True
    """,
}


@pytest.fixture(scope="module")
def host_server() -> object:
    """A real TCP server on the host's loopback; a contained program never reaches it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    accepted: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted.append(server.accept())

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield server.getsockname()[1], accepted
    stop.set()
    t.join()
    server.close()


@pytest.fixture(scope="module")
def hostile_sandbox() -> object:
    os.environ[CANARY_ENV] = "s3cr3t"  # set before the zygote starts: it must not inherit it
    try:
        with ZygoteSandbox(Limits(timeout=1.0, memory_mb=1024),
                           hidden=hidden_packages()) as sb:  # as every run hides them
            yield sb
    finally:
        os.environ.pop(CANARY_ENV, None)


@pytest.mark.parametrize(("name", "program", "status"), FORGERIES + EXHAUSTION,
                         ids=[n for n, _, _ in FORGERIES + EXHAUSTION])
def test_hostile_program_never_passes(hostile_sandbox: ZygoteSandbox, name: str, program: str,
                                      status: str | None) -> None:
    verdict = run(hostile_sandbox, program)
    assert not verdict.passed
    if status is not None:
        assert verdict.status == status, verdict
    assert wait_no_descendants(hostile_sandbox) == set()


@pytest.mark.parametrize("name", sorted(ATTEMPTS))
def test_hostile_attempt_is_contained(hostile_sandbox: ZygoteSandbox, host_server: object,
                                      tmp_path: Path, name: str) -> None:
    port, accepted = host_server  # type: ignore[misc]
    targets = [str(tmp_path / "pwned"), "/pwned", str(Path.home() / "execeval-pwned"),
               os.path.join(os.getcwd(), "execeval-pwned")]
    preamble = (f"SECRETS = {secret_paths()!r}\nPORT = {port}\nWRITE_TARGETS = {targets!r}\n"
                f"STDLIB = {SITE!r}\n")
    verdict = run(hostile_sandbox, preamble + contained(ATTEMPTS[name]))
    assert verdict.passed, verdict
    assert not accepted
    assert not any(os.path.exists(p) for p in targets)
    assert not os.path.exists(os.path.join(SITE, "execeval_pwned.py"))
    assert wait_no_descendants(hostile_sandbox) == set()


def test_growing_memory_is_told_apart_from_a_timeout() -> None:
    """Filling memory takes real time: a generous clock, so that the memory limit is hit."""
    with ZygoteSandbox(Limits(timeout=10.0, memory_mb=512)) as sb:
        verdict = run(sb, "x = []\nwhile True:\n    x.append(bytearray(2**26))\n")
        assert verdict.status == "memory", verdict
        assert wait_no_descendants(sb) == set()


def test_double_forked_daemon_dies_with_the_execution(hostile_sandbox: ZygoteSandbox) -> None:
    program = ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
               "        time.sleep(60)\n    os._exit(0)\ndef add(a, b):\n    return a + b\n")
    verdict = run(hostile_sandbox, program)
    assert verdict.passed
    assert wait_no_descendants(hostile_sandbox) == set()


@pytest.mark.parametrize("kill", ["os.kill(os.getppid(), signal.SIGKILL)",
                                  "os.killpg(os.getpgrp(), signal.SIGKILL)",
                                  "os.kill(-1, signal.SIGKILL)", "os.kill(1, signal.SIGKILL)"])
def test_killing_its_parent_or_group_loses_nothing(hostile_sandbox: ZygoteSandbox,
                                                   kill: str) -> None:
    """It may only reach itself (pid 1 of its own namespace, which ignores the signal)."""
    assert hostile_sandbox._proc is not None
    zygote = hostile_sandbox._proc.pid
    program = (f"import os, signal\ntry:\n    {kill}\nexcept OSError:\n    pass\n"
               "def add(a, b):\n    return a + b\n")
    verdict = run(hostile_sandbox, program)
    assert verdict.passed, verdict
    assert hostile_sandbox._proc.pid == zygote and hostile_sandbox._proc.poll() is None
    assert run(hostile_sandbox, "def add(a, b):\n    return a + b\n").passed


def test_nothing_persists_between_executions(hostile_sandbox: ZygoteSandbox) -> None:
    poison = ("import builtins, math, os, sys, tempfile\n"
              "try:\n    open('/tmp/marker', 'w').write('x')\nexcept OSError:\n    pass\n"
              "open(os.path.join(tempfile.gettempdir(), 'marker1'), 'w').write('x')\n"
              "open('marker2', 'w').write('x')\nmath.sqrt = lambda x: 0\n"
              "builtins.sorted = None\nsys.modules['heapq'] = None\n"
              "os.environ['POISON'] = '1'\ndef add(a, b):\n    return a + b\n")
    assert run(hostile_sandbox, poison).passed
    check = contained("import math, os, heapq, tempfile\nreturn (os.path.exists('/tmp/marker') or "
                      "os.path.exists(os.path.join(tempfile.gettempdir(), 'marker1')) or "
                      "os.path.exists('marker2') or math.sqrt(4) != 2 or sorted('ba') != ['a', 'b'] "
                      "or 'POISON' in os.environ or os.listdir('.'))")
    assert run(hostile_sandbox, check).passed


def test_one_execution_cannot_touch_a_concurrent_one(hostile_sandbox: ZygoteSandbox) -> None:
    """The victim is alive and serving (its top level has run: `exec_program` returned) for
    the whole of the attack, and answers afterwards."""
    with hostile_sandbox.start(replace(hostile_sandbox.limits, timeout=10.0)) as victim:
        victim.exec_program("def add(a, b):\n    return a + b\n")
        attacker = contained(ATTEMPTS["signal_every_pid"] + "\n")
        assert run(hostile_sandbox, attacker).passed
        assert victim.call("add", (1, 2)) == 3


def test_a_full_scratch_leaves_a_concurrent_execution_unharmed() -> None:
    """Each execution's scratch is a tmpfs of its own: filling it (bounded by
    max_scratch_mb) takes no space from another execution running at the same moment.
    The filler's top level fills its scratch until ENOSPC; `exec_program` returns only
    then, and the filler says what it wrote before the writer starts."""
    filler = ("import errno, os\nwritten, error = 0, None\ntry:\n    for i in range(100):\n"
              "        with open(f'f{i}', 'wb') as f:\n"
              "            for _ in range(16):\n                f.write(b'x' * 2**20)\n"
              "                written += 1\n"
              "except OSError as e:\n    error = errno.errorcode.get(e.errno, str(e))\n"
              "def state():\n    st = os.statvfs('.')\n"
              "    return [written, error, st.f_bavail * st.f_frsize]\n")
    # not `contained`: a write that fails must fail the writer
    writer = ("open('mine', 'wb').write(b'y' * (8 * 2**20))\n"
              "assert len(open('mine', 'rb').read()) == 8 * 2**20\n"
              "def add(a, b):\n    return a + b\n")
    with ZygoteSandbox(Limits(timeout=10.0, memory_mb=1024, max_scratch_mb=32)) as sb, \
            sb.start() as full:
        if not sb.report["mount_namespace"]:
            pytest.skip("no mount namespace here: scratch is a host directory, not a tmpfs")
        full.exec_program(filler)
        written, error, free = full.call("state", ())
        assert error == "ENOSPC" and 16 < written <= 32 and free < 2**20, (written, error, free)
        assert run(sb, writer).passed  # 8 MiB of its own while the filler's scratch is full
        assert full.call("state", ())[2] < 2**20  # still alive, and still full


def test_killed_zygote_is_replaced_and_run_continues(hostile_sandbox: ZygoteSandbox) -> None:
    assert run(hostile_sandbox, "def add(a, b):\n    return a + b\n").passed
    assert hostile_sandbox._proc is not None
    old = hostile_sandbox._proc.pid
    os.kill(old, signal.SIGKILL)
    hostile_sandbox._proc.wait(5)
    assert run(hostile_sandbox, "def add(a, b):\n    return a + b\n").passed
    assert hostile_sandbox._proc.pid != old


def test_output_flood_of_a_script_is_capped(hostile_sandbox: ZygoteSandbox) -> None:
    """The output limit, not the clock, must stop it: a generous clock (under load the 8 MiB
    it may print can take longer than the suite's 1 s)."""
    generous = replace(hostile_sandbox.limits, timeout=10.0)
    with hostile_sandbox.start(generous) as ex, pytest.raises(ProgramFailure) as err:
        ex.run_main("while True:\n    print('x' * 65536)\n", "")
    assert err.value.status == "error" and "output limit" in err.value.detail


def test_harness_survives_a_run_of_hostile_programs(hostile_sandbox: ZygoteSandbox) -> None:
    """A run ends with a verdict for every sample, whatever the programs do."""
    programs = [p for _, p, _ in FORGERIES] + ["def add(a, b):\n    return a + b\n"]
    verdicts = grade_many(hostile_sandbox, {str(i): (ADD, p) for i, p in enumerate(programs)}, 2)
    assert len(verdicts) == len(programs)
    assert [verdicts[str(i)].passed for i in range(len(programs))] == \
        [False] * (len(programs) - 1) + [True]
