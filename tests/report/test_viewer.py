"""`execeval view` over HTTP: the token rule, loopback only by default, read-only, escaped."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import httpx
from starlette.testclient import TestClient
from support.report import SCRIPT, Runs, viewer

from execeval.web.view import create_app, side_by_side


def test_with_a_token_every_request_must_carry_it(runs: Runs) -> None:
    with viewer(runs.store, "--token", "s3cret") as url:
        assert httpx.get(url).status_code == 401
        assert httpx.get(url + f"api/run/{runs.evaluate}/live").status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = httpx.get(url, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and runs.evaluate in ok.text
        # ?token= once: swapped for a cookie, and gone from the address
        with httpx.Client() as browser:
            first = browser.get(url + f"run/{runs.evaluate}?token=s3cret&q=Human")
            assert first.status_code == 303
            assert first.headers["location"] == f"/run/{runs.evaluate}?q=Human"
            assert "httponly" in first.headers["set-cookie"].lower()
            assert browser.get(url + f"run/{runs.evaluate}").status_code == 200


def test_another_address_without_a_token_is_refused(runs: Runs) -> None:
    proc = subprocess.run([sys.executable, "-m", "execeval.cli", "view", "--host", "0.0.0.0",
                           "--store", str(runs.store)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("execeval: error: --host 0.0.0.0 is not loopback")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_missing_store_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "execeval.cli", "view", "--store",
                           str(tmp_path / "none.sqlite")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"execeval: error: {tmp_path / 'none.sqlite'}: no run store here"


def test_loopback_viewer_answers_only_loopback_names(runs: Runs) -> None:
    """A page elsewhere cannot read it by pointing its own name at 127.0.0.1."""
    app = create_app(runs.store)
    assert TestClient(app, base_url="http://localhost:8765").get("/").status_code == 200
    assert TestClient(app, base_url="http://[::1]:8765").get("/").status_code == 200
    assert TestClient(app, base_url="http://attacker.example:8765").get("/").status_code == 403


def test_refusals_are_pages_of_the_viewer(runs: Runs) -> None:
    """401 and 403 read like its 404: an HTML page, with the viewer's headers."""
    guarded = TestClient(create_app(runs.store, "s3cret"), base_url="http://attacker.example")
    r = guarded.get("/", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.headers["content-type"].startswith("text/html")
    assert "needs its token" in r.text and "frame-ancestors 'none'" in r.headers[
        "content-security-policy"]
    # with a token, the token is the check, whatever name the request is addressed to
    assert guarded.get("/", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    cookie = guarded.get("/?token=s3cret", follow_redirects=False)
    assert cookie.status_code == 303 and cookie.headers["location"] == "/"
    assert "samesite=strict" in cookie.headers["set-cookie"].lower()
    r = TestClient(create_app(runs.store), base_url="http://attacker.example").get("/")
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "answers only to localhost" in r.text


def test_pages_only_read_and_escape_model_output(runs: Runs) -> None:
    before = hashlib.sha256(runs.store.read_bytes()).hexdigest()
    client = TestClient(create_app(runs.store), base_url="http://127.0.0.1")
    both = f"run={runs.evaluate}&run={runs.generated}"
    pages = ["/", f"/run/{runs.evaluate}", f"/run/{runs.generated}",
             f"/problem/HumanEval/2?{both}", f"/run/{runs.generated}/sample/0",
             f"/compare?{both}",
             f"/diff?a={runs.evaluate}:8&b={runs.generated}:8&field=raw"]
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        assert SCRIPT not in r.text, url
        assert "script-src 'sha256-" in r.headers["content-security-policy"]
    problem = client.get(f"/problem/HumanEval/2?{both}").text
    assert "\\u003cscript\\u003ewindow.__pwned=1\\u003c/script\\u003e" in problem  # JSON, inert
    diff = client.get(f"/diff?a={runs.evaluate}:8&b={runs.generated}:9").text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in diff
    assert hashlib.sha256(runs.store.read_bytes()).hexdigest() == before


def test_live_counts_and_missing_things(runs: Runs) -> None:
    client = TestClient(create_app(runs.store), base_url="http://127.0.0.1")
    live = client.get(f"/api/run/{runs.evaluate}/live").json()
    assert live["status"] == "complete"
    assert live["fields"]["graded"] == "24" and live["fields"]["n:HumanEval/0"] == "4"
    assert client.get("/run/nosuchrun").status_code == 404
    assert "no run" in client.get("/run/nosuchrun").text
    assert client.get(f"/run/{runs.evaluate}/sample/999").status_code == 404
    assert client.get("/problem/HumanEval/0").status_code == 404  # which run?
    assert client.get(f"/compare?run={runs.evaluate}").status_code == 404
    assert client.get("/nothing/here").status_code == 404


def test_diff_lines_side_by_side() -> None:
    rows = side_by_side("a\nb\nc\n", "a\nB\nc\nd\n")
    assert rows == [(1, "a", 1, "a", "eq"), (2, "b", 2, "B", "chg"), (3, "c", 3, "c", "eq"),
                    (None, "", 4, "d", "ins")]
