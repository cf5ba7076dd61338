"""The unprivileged path: the same containment as a normal user, through a user namespace
where the kernel allows one, and a plain statement of what is missing where it does not.

As root, the test drops to a dedicated account (created with useradd) in a forked child;
as a normal user it runs as is. The zygote is forked from the test process because such a
user may not be allowed to start this machine's interpreter at all (one installed in
root's private home, a pyenv say)."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
from typing import Any

import pytest
from support.sandbox import FAST, run, wait_no_descendants

from execeval.benchmark import hidden_packages
from execeval.sandbox.probe import secret_paths
from execeval.sandbox.warm import ZygoteSandbox

USER = "execeval-sandbox"
SAFE = "def add(a, b):\n    return a + b\n"


def _account() -> tuple[int, int] | None:
    """(uid, gid) to run as, or None to stay as we are (already unprivileged)."""
    if os.getuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        if shutil.which("useradd") is None:
            pytest.skip("running as root and useradd is not available")
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        USER], check=True, capture_output=True)
        entry = pwd.getpwnam(USER)
    return entry.pw_uid, entry.pw_gid


def _scenario(secrets: list[str], target: str) -> dict[str, Any]:
    """Everything the unprivileged sandbox must do; runs as the unprivileged user."""
    leak = (f"import os\nSEEN = [p for p in {secrets!r} if os.path.exists(p)]\n"
            f"try:\n    open({target!r}, 'w').write('pwned')\n    WROTE = True\n"
            "except OSError:\n    WROTE = False\n"
            "import socket\ntry:\n    socket.socket().connect(('1.1.1.1', 53))\n"
            "    NET = True\nexcept OSError:\n    NET = False\n"
            "def add(a, b):\n    return a + b + len(SEEN) + WROTE + NET\n"
            )
    daemon = ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
              "        time.sleep(60)\n    os._exit(0)\n" + SAFE)
    with ZygoteSandbox(FAST, fork_zygote=True, hidden=hidden_packages()) as sb:
        out: dict[str, Any] = {"uid": os.getuid()}
        out["safe"] = run(sb, SAFE).status
        out["report"] = sb.report
        out["loop"] = run(sb, "while True:\n    pass\n").status
        out["leak"] = run(sb, leak).status
        out["daemon"] = run(sb, daemon).status
        out["left_behind"] = len(wait_no_descendants(sb))
    return out


def _as_user(account: tuple[int, int] | None, secrets: list[str], target: str) -> dict[str, Any]:
    if account is None:
        return _scenario(secrets, target)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            uid, gid = account
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            os.chdir("/")
            result = _scenario(secrets, target)
        except BaseException as e:
            result = {"exception": f"{type(e).__name__}: {e}"}
        with contextlib.suppress(BaseException):
            os.write(w, json.dumps(result).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def test_unprivileged_sandbox_contains_or_says_what_it_cannot() -> None:
    account = _account()
    shared = tempfile.mkdtemp(prefix="execeval-unpriv-")
    os.chmod(shared, 0o777)  # the user could write here: only the sandbox stops the program
    target = os.path.join(shared, "pwned")
    try:
        out = _as_user(account, secret_paths(), target)
        assert "exception" not in out, out
        assert out["uid"] != 0
        report = out["report"]
        assert out["safe"] == "passed", out
        assert out["loop"] == "timeout"
        if report["privilege"] == "none":  # no user namespaces here: said plainly
            assert report["problems"] and not report["private_root"]
            pytest.skip("user namespaces are not available: " + "; ".join(report["problems"]))
        assert report["privilege"] == "user-namespace"
        assert report["private_root"] and report["pid_namespace"] and report["seccomp"]
        assert "network" in report["namespaces"]
        assert not os.path.exists(target)
        assert out["leak"] == "passed"  # it saw no secret, wrote nothing, reached no network
        assert out["daemon"] == "passed" and out["left_behind"] == 0
    finally:
        shutil.rmtree(shared, ignore_errors=True)
