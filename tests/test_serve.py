"""`execeval serve` over real HTTP: a uvicorn server on a free loopback port (in a thread,
its socket listening before the first request, so no request races its start), httpx
clients, the real sandbox."""

from __future__ import annotations

import base64
import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from support import ADD_PROBLEM, write_jsonl

from execeval.errors import UserError
from execeval.options import GradingOptions
from execeval.serve import ServeOptions, load_catalog, make_service, run_service, uvicorn_config
from execeval.serve.app import create_app
from execeval.serve.service import Service
from execeval.web import check_binding, listen, parse_port

CORRECT_0 = ("    for i, a in enumerate(numbers):\n        for j, b in enumerate(numbers):\n"
             "            if i != j and abs(a - b) < threshold:\n                return True\n"
             "    return False\n")
WRONG_0 = "    return False\n"
ADD_STDIO = {"kind": "stdio", "prompt": "Print the sum of two numbers.",
             "tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "2 2\n", "output": "4\n"},
                       {"input": "5 5\n", "output": "10\n"}, {"input": "0 7\n", "output": "7\n"}]}
SUM_SCRIPT = "a, b = map(int, input().split())\nprint(a + b)\n"


@dataclass
class Running:
    url: str
    service: Service
    client: httpx.Client

    def stats(self) -> dict[str, Any]:
        return self.client.get("/v1/stats").json()


@contextmanager
def running_server(tmp: Path, *, workers: int = 2, queue: int = 64, token: str | None = None,
                   store: Path | None = None, **app_options: Any) -> Iterator[Running]:
    """A server on 127.0.0.1:<free port> with HumanEval and a toy problem file loaded."""
    problems = write_jsonl(tmp / "toy.jsonl", [ADD_PROBLEM])
    catalog = load_catalog(["humaneval"], [], [str(problems)])
    service = make_service(GradingOptions(workers=workers, store=store or tmp / "store.sqlite"),
                           queue)
    app = create_app(service, catalog, token=token, **app_options)
    sock = listen("127.0.0.1", 0)  # listening now: requests wait in the backlog
    server = uvicorn.Server(uvicorn_config(app, service.capacity))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = httpx.Client(base_url=url, timeout=60, headers=headers)
    try:
        yield Running(url, service, client)
    finally:
        client.close()
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        service.close()


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running_server(tmp_path_factory.mktemp("serve"), max_body=256 * 1024) as running:
        yield running


def grade(srv: Running, **body: Any) -> dict[str, Any]:
    r = srv.client.post("/v1/grade", json=body)
    assert r.status_code == 200, r.text
    return r.json()


# ---- grading ---------------------------------------------------------------------------

def test_grade_correct_wrong_and_timeout(srv: Running) -> None:
    ok = grade(srv, dataset="humaneval", task_id="HumanEval/0", completion=CORRECT_0)
    assert (ok["passed"], ok["status"], ok["reward"]) == (True, "passed", 1.0)
    assert ok["task_id"] == "HumanEval/0" and ok["seconds"] > 0 and ok["wall_seconds"] > 0
    bad = grade(srv, dataset="humaneval", task_id="HumanEval/0", completion=WRONG_0)
    assert (bad["passed"], bad["status"], bad["reward"]) == (False, "failed", 0.0)
    assert "assert" in bad["detail"]
    slow = grade(srv, dataset="humaneval", task_id="HumanEval/0", timeout=0.5,
                 completion="    while True:\n        pass\n")
    assert (slow["passed"], slow["status"]) == (False, "timeout")
    # a whole program (EvalPlus's `solution`), and a model's raw answer (code extracted)
    whole = grade(srv, dataset="humaneval", task_id="HumanEval/0",
                  solution="from typing import List\n\ndef has_close_elements(numbers, "
                  "threshold):\n" + CORRECT_0)
    assert whole["passed"]
    chat = grade(srv, task_id="HumanEval/0", response="Here you go:\n```python\n"
                 "def has_close_elements(numbers, threshold):\n" + CORRECT_0 + "```\nDone.")
    assert chat["passed"] and chat["dataset"] == "humaneval"


def test_batch_answers_in_order(srv: Running) -> None:
    items = [
        {"dataset": "humaneval", "task_id": "HumanEval/0", "completion": WRONG_0},
        {"task_id": "Toy/add", "completion": "    return a + b\n"},
        {"dataset": "humaneval", "task_id": "HumanEval/0", "completion": "    raise KeyError\n"},
        {"dataset": "toy", "task_id": "Toy/add", "completion": "    return a - b\n"},
        {"problem": ADD_STDIO, "solution": SUM_SCRIPT},
        {"dataset": "humaneval", "task_id": "HumanEval/0", "completion": CORRECT_0},
    ]
    r = srv.client.post("/v1/grade/batch", json=items)
    assert r.status_code == 200, r.text
    got = [(x["task_id"], x["status"]) for x in r.json()]
    assert got == [("HumanEval/0", "failed"), ("Toy/add", "passed"), ("HumanEval/0", "error"),
                   ("Toy/add", "failed"), ("inline", "passed"), ("HumanEval/0", "passed")]
    # the object form: shared defaults for the items
    r = srv.client.post("/v1/grade/batch", json={"dataset": "toy", "items": [
        {"task_id": "Toy/add", "completion": "    return b + a\n"}]})
    assert [x["passed"] for x in r.json()] == [True]


def test_inline_problems(srv: Running) -> None:
    half = grade(srv, problem=ADD_STDIO, solution="print(3)")
    assert (half["status"], half["tests_passed"], half["tests_total"]) == ("failed", 1, 4)
    assert half["reward"] == 0.25  # stdin/stdout problems: the share of tests passed
    call = grade(srv, problem={"task_id": "mul", "kind": "call", "prompt": "",
                               "entry_point": "mul", "tests": [{"input": [2, 3], "output": 6}]},
                 solution="def mul(a, b):\n    return a * b\n")
    assert call["passed"] and call["task_id"] == "mul"
    apps = grade(srv, problem={"inputs": ["1 2\n", "3 4\n"], "outputs": ["3\n", "7\n"]},
                 solution=SUM_SCRIPT)
    assert apps["passed"] and apps["reward"] == 1.0
    called = grade(srv, problem={"inputs": [[2, 3], [4, 5]], "outputs": [6, 21], "fn_name": "mul"},
                   solution="def mul(a, b):\n    return a * b\n")
    assert (called["status"], called["reward"]) == ("failed", 0.0)  # call-based: all or none
    # tests that would run in the server, outside the sandbox: refused, saying why
    r = srv.client.post("/v1/grade", json={"problem": ADD_PROBLEM,
                                           "completion": "    return a + b\n"})
    assert r.status_code == 400 and "outside the sandbox" in r.json()["error"]
    # ...unless the operator trusts the clients with the host
    from execeval.serve.inputs import Catalog, parse_item

    item = parse_item({"problem": ADD_PROBLEM, "completion": "    return a + b\n"}, Catalog(),
                      srv.service.limits, trust_tests=True)
    assert item.problem.grader == "check" and item.dataset is None


def test_cache_reuse_does_not_execute(srv: Running, tmp_path: Path) -> None:
    body = {"problem": ADD_STDIO, "solution": SUM_SCRIPT + "# cache test\n"}
    before = srv.stats()["executions"]
    first = grade(srv, **body)
    assert not first["cached"] and srv.stats()["executions"] == before + 1
    second = grade(srv, **body)
    assert second["cached"] and srv.stats()["executions"] == before + 1
    assert {k: first[k] for k in ("passed", "status", "reward")} == \
        {k: second[k] for k in ("passed", "status", "reward")}


def test_cache_is_the_run_store(tmp_path: Path) -> None:
    """A verdict `execeval evaluate` stored is answered from the store, and one the server
    graded is there for the next server: same program, same problem, nothing runs."""
    import execeval

    store = tmp_path / "shared.sqlite"
    samples = write_jsonl(tmp_path / "s.jsonl",
                          [{"task_id": "HumanEval/0", "completion": CORRECT_0 + "# cli\n"}])
    execeval.evaluate(samples, "humaneval", store=store, workers=1, k=[1])
    with running_server(tmp_path, store=store) as s:
        hit = grade(s, dataset="humaneval", task_id="HumanEval/0", completion=CORRECT_0 + "# cli\n")
        fresh = grade(s, task_id="Toy/add", completion="    return a + b  # server\n")
        assert hit["cached"] and hit["passed"] and not fresh["cached"]
        assert s.stats()["executions"] == 1
    with running_server(tmp_path, store=store) as s:
        again = grade(s, task_id="Toy/add", completion="    return a + b  # server\n")
        assert again["cached"] and s.stats()["executions"] == 0


# ---- SandboxFusion's run_code ------------------------------------------------------------

def run_code(srv: Running, **body: Any) -> tuple[int, dict[str, Any]]:
    r = srv.client.post("/run_code", json={"language": "python", **body})
    return r.status_code, r.json()


def test_run_code_success_error_timeout(srv: Running) -> None:
    assert srv.client.get("/v1/ping").json() == "pong"
    # verl's request, field for field
    code, out = run_code(srv, compile_timeout=10, run_timeout=10, memory_limit_MB=1024,
                         code="import sys\nx = input()\nprint(x[::-1])\n"
                         "print('note', file=sys.stderr)\n",
                         stdin="abc\n", files={}, fetch_files=[])
    assert code == 200
    assert out["status"] == "Success" and out["message"] == "" and out["compile_result"] is None
    run = out["run_result"]
    assert (run["status"], run["return_code"], run["stdout"], run["stderr"]) == \
        ("Finished", 0, "cba\n", "note\n")
    assert run["execution_time"] > 0 and out["files"] == {}

    code, out = run_code(srv, code="print('before')\nraise ValueError('boom')\n")
    run = out["run_result"]
    assert (out["status"], run["status"], run["return_code"]) == ("Failed", "Finished", 1)
    assert run["stdout"] == "before\n"
    assert "Traceback (most recent call last)" in run["stderr"]
    assert run["stderr"].rstrip().endswith("ValueError: boom")
    _, out = run_code(srv, code="import sys; sys.exit(3)")
    assert (out["status"], out["run_result"]["return_code"]) == ("Failed", 3)

    code, out = run_code(srv, code="while True:\n    pass\n", run_timeout=0.5)
    run = out["run_result"]
    assert (code, out["status"], run["status"], run["return_code"]) == \
        (200, "Failed", "TimeLimitExceeded", None)


def test_run_code_files_stay_in_the_sandbox(srv: Running, tmp_path: Path) -> None:
    b64 = base64.b64encode
    code, out = run_code(
        srv, code="import helper\nprint(helper.X, open('data/in.txt').read())\n"
        "open('out.txt', 'w').write('made here')\nimport os\nprint(os.getcwd())\n",
        files={"helper.py": b64(b"X = 42\n").decode(), "data/in.txt": b64(b"hi").decode()},
        fetch_files=["out.txt", "absent.txt"])
    assert out["status"] == "Success", out
    assert out["run_result"]["stdout"].splitlines() == ["42 hi", "/scratch"]
    assert out["files"] == {"out.txt": b64(b"made here").decode()}
    assert not Path("out.txt").exists() and not (tmp_path / "out.txt").exists()
    for files, fetch in (({"../escape.py": ""}, []), ({"/etc/x": ""}, []), ({}, ["../../etc/passwd"]),
                         ({"a.txt": "not base64!"}, [])):
        code, out = run_code(srv, code="print(1)", files=files, fetch_files=fetch)
        assert code == 400 and out["status"] == "SandboxError", out
    # the host's files do not exist for a script
    (tmp_path / "secret").write_text("host data")
    _, out = run_code(srv, code=f"print(open({str(tmp_path / 'secret')!r}).read())")
    assert out["run_result"]["return_code"] == 1 and "FileNotFoundError" in \
        out["run_result"]["stderr"]


def test_run_code_sandbox_error_shape() -> None:
    """Our side failing is SandboxFusion's SandboxError, with run_result status Error."""
    from execeval.serve.runcode import response
    from execeval.verdict import Verdict

    out = response(Verdict(False, "harness_error", "SandboxUnavailable: no zygote"))
    assert out["status"] == "SandboxError" and out["message"].startswith("SandboxUnavailable")
    assert out["run_result"]["status"] == "Error" and out["files"] == {}


def test_run_code_refuses_other_languages(srv: Running) -> None:
    code, out = run_code(srv, code="int main() {}", language="cpp")
    assert code == 400 and "runs only 'python'" in out["error"]
    assert out["status"] == "SandboxError" and "cpp" in out["message"]
    code, out = run_code(srv, code="print(1)", language="cobol")
    assert code == 400 and "not a language" in out["error"]


# ---- malformed input, sizes, load ---------------------------------------------------------

def test_malformed_bodies_get_4xx_and_service_goes_on(srv: Running) -> None:
    c = srv.client
    cases: list[tuple[Callable[[], httpx.Response], int, str]] = [
        (lambda: c.post("/v1/grade", content=b"{not json",
                        headers={"Content-Type": "application/json"}), 400, "malformed JSON"),
        (lambda: c.post("/v1/grade", content=b"\xff\xfe",
                        headers={"Content-Type": "application/json"}), 400, "malformed JSON"),
        (lambda: c.post("/v1/grade", content=b"[" * 100_000,
                        headers={"Content-Type": "application/json"}), 400, "malformed JSON"),
        (lambda: c.post("/v1/grade", content=b"{}", headers={"Content-Type": "text/plain"}),
         415, "Content-Type"),
        (lambda: c.post("/v1/grade", json=[1, 2]), 400, "expected a JSON object"),
        (lambda: c.post("/v1/grade", json={"task_id": "HumanEval/0"}), 400, "exactly one of"),
        (lambda: c.post("/v1/grade", json={"task_id": "HumanEval/0", "completion": 5}), 400,
         "must be a string"),
        (lambda: c.post("/v1/grade", json={"task_id": "HumanEval/0", "completion": "",
                                           "timeout": -1}), 400, "timeout"),
        (lambda: c.post("/v1/grade", json={"task_id": "Nope/1", "completion": ""}), 404,
         "unknown task_id"),
        (lambda: c.post("/v1/grade", json={"dataset": "mbpp", "task_id": "1",
                                           "completion": ""}), 404, "not loaded"),
        (lambda: c.post("/v1/grade", json={"problem": {"kind": "stdio"}, "solution": ""}), 400,
         "inline problem"),
        (lambda: c.post("/v1/grade/batch", json={"items": 3}), 400, "expected a JSON list"),
        (lambda: c.post("/v1/grade/batch", json=[{"task_id": "Toy/add", "completion": ""},
                                                 {"task_id": "Toy/add"}]), 400, "items[1]"),
        (lambda: c.post("/run_code", json={"language": "python"}), 400, "field 'code'"),
        (lambda: c.post("/run_code", json={"code": "1", "language": "python",
                                           "run_timeout": "x"}), 400, "run_timeout"),
        (lambda: c.post("/v1/reward/openrlhf", json={"query": ["x"], "labels": []}), 400,
         "one of each"),
        (lambda: c.get("/v1/grade"), 405, "GET"),
        (lambda: c.get("/v2/grade"), 404, "/v2/grade"),
    ]
    for send, status, words in cases:
        r = send()
        assert r.status_code == status, (words, r.status_code, r.text)
        reason = r.json()["error"]
        assert words in reason and "\n" not in reason, reason
        assert c.get("/v1/ping").json() == "pong"  # still serving


def test_unknown_paths_and_wrong_methods_answer_json(srv: Running) -> None:
    """404 and 405 are refusals like the others: `{"error": ...}` naming what was asked."""
    for method, path, status in [("GET", "/nothing/here", 404), ("POST", "/v1", 404),
                                 ("GET", "/v1/grade", 405), ("DELETE", "/v1/ping", 405),
                                 ("PUT", "/run_code", 405)]:
        r = srv.client.request(method, path)
        assert r.status_code == status, (method, path, r.text)
        assert r.headers["content-type"] == "application/json", (method, path, r.text)
        reason = r.json()["error"]
        assert path in reason and "\n" not in reason, reason
        if status == 405:
            assert method in reason and r.headers["allow"] in reason, reason
    assert srv.client.get("/v1/grade").headers["allow"] == "POST"


def raw_http(port: int, head: bytes, chunks: Iterable[bytes] = ()) -> bytes:
    """Send a request by hand (a lying Content-Length, an endless chunked body) and read
    whatever the server answers, stopping the upload as soon as it does."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head)
        for chunk in chunks:
            if select.select([s], [], [], 0)[0]:
                break  # the server has answered: stop sending
            try:
                s.sendall(chunk)
            except OSError:
                break
        data = b""
        while b"\r\n\r\n" not in data or len(data) < data.find(b"\r\n\r\n") + 8:
            part = s.recv(65536)
            if not part:
                break
            data += part
        return data


def test_huge_bodies_get_413(srv: Running) -> None:
    port = int(srv.url.rsplit(":", 1)[1])
    reply = raw_http(port, b"POST /v1/grade HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]

    def endless() -> Iterator[bytes]:
        piece = b"[" + b"0," * 8000 + b"\r\n"
        for _ in range(1000):  # ~16 MB at most, the server stops it at 256 KiB
            yield f"{len(piece) - 2:x}\r\n".encode() + piece

    reply = raw_http(port, b"POST /v1/grade/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                     endless())
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert srv.client.get("/v1/ping").json() == "pong"


def test_disconnect_mid_request_is_harmless(srv: Running) -> None:
    port = int(srv.url.rsplit(":", 1)[1])
    body = json.dumps({"problem": ADD_STDIO, "solution": "import time\ntime.sleep(0.3)\n"
                       + SUM_SCRIPT}).encode()
    for cut in (len(body) // 2, len(body)):  # mid-body, and while it is being graded
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"POST /v1/grade HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                      b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:cut])
    grade(srv, problem=ADD_STDIO, solution=SUM_SCRIPT)
    assert srv.client.get("/v1/ping").json() == "pong"


def test_burst_beyond_the_queue_gets_429_then_service(tmp_path: Path) -> None:
    """One slot and one queue place: two slow programs fill them; a third is refused at
    once with Retry-After; once they are graded, service is normal."""
    with running_server(tmp_path, workers=1, queue=1) as s:
        def slow(n: int) -> httpx.Response:
            return s.client.post("/v1/grade", json={
                "problem": {**ADD_STDIO, "tests": ADD_STDIO["tests"][:1]}, "timeout": 10,
                "solution": f"import time\ntime.sleep(1.0)  # {n}\n" + SUM_SCRIPT})

        with ThreadPoolExecutor(8) as pool:
            held = [pool.submit(slow, n) for n in range(2)]
            deadline = time.monotonic() + 20
            while s.stats()["running"] < 2:  # the server says both are admitted
                assert time.monotonic() < deadline and not any(f.done() for f in held)
            burst = list(pool.map(slow, range(2, 8)))
            assert [r.status_code for r in burst] == [429] * 6
            assert all(int(r.headers["Retry-After"]) >= 1 for r in burst)
            assert "retry after" in burst[0].json()["error"]
            assert s.client.get("/v1/ping").status_code == 200  # not queued behind them
            assert [f.result().status_code for f in held] == [200, 200]
        assert slow(99).status_code == 200
        r = s.client.post("/v1/grade/batch", json=[
            {"problem": ADD_STDIO, "solution": f"print({n})"} for n in range(3)])
        assert r.status_code == 413 and "split the batch" in r.json()["error"]
        assert s.stats()["rejected"] >= 6


# ---- security ------------------------------------------------------------------------------

def test_token_rules(tmp_path: Path) -> None:
    with running_server(tmp_path, token="s3cret") as s:
        bare = httpx.post(s.url + "/v1/grade", json={"task_id": "Toy/add", "completion": ""})
        assert bare.status_code == 401 and "token" in bare.json()["error"]
        wrong = httpx.get(s.url + "/v1/ping", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert s.client.get("/v1/ping").json() == "pong"  # the fixture's client sends it
        assert httpx.get(s.url + "/run_code?token=s3cret").status_code == 405  # allowed in
        ok = httpx.post(s.url + "/run_code?token=s3cret",
                        json={"code": "print(1)", "language": "python"})
        assert ok.json()["run_result"]["stdout"] == "1\n"


def test_loopback_answers_only_loopback_names(srv: Running) -> None:
    r = srv.client.get("/v1/ping", headers={"Host": "attacker.example:80"})
    assert r.status_code == 403 and "loopback" in r.json()["error"]
    assert srv.client.get("/v1/ping", headers={"Host": "localhost"}).status_code == 200


def test_other_address_without_token_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    from execeval.cli import main

    check_binding("0.0.0.0", "a-token", "")  # with a token it may
    check_binding("localhost", None, "")
    check_binding("[::1]", None, "")

    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--token" in err and "0.0.0.0" in err
    assert main(["serve", "--host", "10.1.2.3", "--token", ""]) == 2


def test_busy_port_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    from execeval.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["serve", "--port", str(taken.getsockname()[1])]) == 2
    assert "cannot listen" in capsys.readouterr().err
    with pytest.raises(UserError, match=r"^--port must be 0-65535, not 70000$"):
        run_service(ServeOptions(port=70000))  # before any dataset loads


def test_ports_and_addresses_are_checked_in_one_line() -> None:
    """What `execeval serve` and `execeval view` listen on (execeval.web)."""
    for port in (-1, 65536, 10**6):
        with pytest.raises(UserError, match=f"^--port must be 0-65535, not {port}$"):
            listen("127.0.0.1", port)
    with pytest.raises(UserError, match=r"^cannot listen on no\.such\.host\.invalid:0 \("):
        listen("no.such.host.invalid", 0)
    for host in ("localhost", "127.0.0.1", "::1", "[::1]"):
        try:
            sock = listen(host, 0)
        except UserError as e:  # a machine without IPv6
            assert host in ("::1", "[::1]") and "\n" not in str(e), e
            continue
        assert sock.getsockname()[1] > 0
        sock.close()
    assert [parse_port(t) for t in ("0", "8080", "65535", " 80 ")] == [0, 8080, 65535, 80]
    for text, words in [("http", "whole number 0-65535, not 'http'"), ("80.5", "whole number"),
                        ("65536", "0-65535, not 65536"), ("-1", "0-65535, not -1")]:
        with pytest.raises(ValueError, match=words.replace(".", r"\.")):
            parse_port(text)


def test_openrlhf_endpoint(srv: Running) -> None:
    prompt = "<|im_start|>user\nwrite has_close_elements<|im_end|>\n<|im_start|>assistant\n"
    answer = "```python\ndef has_close_elements(numbers, threshold):\n" + CORRECT_0 + "```"
    body = {"query": [prompt + answer + "<|im_end|>", prompt + "no code here<|im_end|>",
                      "a,b=map(int,input().split());print(a+b)"],
            "prompts": [prompt, prompt, ""],
            "labels": ["HumanEval/0", json.dumps({"dataset": "humaneval", "task_id": "HumanEval/0"}),
                       json.dumps({**ADD_STDIO, "style": "solution"})]}
    r = srv.client.post("/v1/reward/openrlhf", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["rewards"] == [1.0, 0.0, 1.0] == r.json()["scores"]
    assert r.json()["extra_logs"]["passed"] == [1.0, 0.0, 1.0]
