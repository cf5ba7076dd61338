"""A real local HTTP server that answers like the OpenAI API (completions and chat), with
scripted faults: 429s, 500s, responses slower than the client's timeout, fewer choices
than asked for. It answers each HumanEval prompt with that problem's canonical solution,
tagged with a unique marker so that a test can count every sample it handed out.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from execeval.dataset import Dataset


class FakeOpenAI:
    def __init__(self, dataset: Dataset, api_key: str, *, faults: bool = True,
                 max_n: int = 3, slow_seconds: float = 1.0):
        self.solutions = {p.prompt: p.reference[len(p.prompt):] for p in dataset.problems.values()}
        self.api_key = api_key
        self.faults = faults
        self.max_n = max_n
        self.slow_seconds = slow_seconds
        self.fail_after: int | None = None  # answer 400 once this many requests succeeded
        self.delay = 0.0  # seconds before every successful answer (a slow model)
        self.refuse_logprobs = False  # answer 400 to requests that ask for logprobs
        self.lock = threading.Lock()
        self.attempts: Counter[str] = Counter()
        self.served: list[str] = []  # markers of every choice sent in a 200 response
        self.statuses: Counter[int | str] = Counter()
        self.ok_requests = 0
        self.bad_auth = 0
        self.seen_bodies: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    fake.bad_auth += 1
                    return self.reply(401, {"error": {"message": "bad key"}})
                status, payload, delay = fake.answer(self.path, body)
                if delay:
                    time.sleep(delay)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.reply(status, payload)  # a timed-out client has hung up

            def reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("retry-after-ms", "20")
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], float]:
        chat = path.endswith("/chat/completions")
        prompt = body["messages"][-1]["content"] if chat else body["prompt"]
        source = next((p for p in self.solutions if p.strip("\n") in prompt), None)
        if source is None:
            return 404, {"error": {"message": "unknown prompt"}}, 0
        n = int(body.get("n", 1))
        with self.lock:
            self.seen_bodies.append(body)
            key = f"{prompt}\0{n}"
            attempt = self.attempts[key]
            self.attempts[key] += 1
            script = [[429], [500, 429], ["slow"]][zlib.crc32(source.encode()) % 3] if self.faults else []
            fault = script[attempt] if attempt < len(script) else None
            if fault is None and self.fail_after is not None and self.ok_requests >= self.fail_after:
                fault = 400
            if fault is None and self.refuse_logprobs and body.get("logprobs") is not None:
                self.statuses["refused logprobs"] += 1
                return 400, {"error": {"message": "logprobs are not supported",
                                       "type": "invalid_request_error"}}, 0
            self.statuses[fault or 200] += 1
            if fault in (429, 500, 400):
                return int(fault), {"error": {"message": f"scripted {fault}",
                                              "type": "scripted"}}, 0
            self.ok_requests += 1
            markers = [uuid.uuid4().hex for _ in range(min(n, self.max_n))]
            self.served += markers
        delay = self.slow_seconds if fault == "slow" else self.delay
        stop = body.get("stop") or []
        choices = []
        for i, marker in enumerate(markers):
            solution = self.solutions[source]
            if chat:
                text = (f"Here is the function:\n\n```python\n{source}{solution}```\n"
                        f"Done (sample {marker}).")
            else:  # the 5th HumanEval stop ("\nprint") is past the API's 4: we send it back
                text = solution + f"\nprint('sample {marker}')\n\ndef more():\n    pass\n"
                cuts = [text.find(s) for s in stop if s in text]
                text = text[:min(cuts)] if cuts else text
            words = text.split(" ")
            wants = body.get("logprobs") is not None and body["logprobs"] is not False  # if asked
            if chat:
                lp: Any = {"content": [{"token": w, "logprob": -0.25, "bytes": None,
                                        "top_logprobs": []} for w in words]}
                choice = {"index": i, "message": {"role": "assistant", "content": text},
                          "finish_reason": "stop", "logprobs": lp if wants else None}
            else:
                lp = {"tokens": words, "token_logprobs": [-0.25] * len(words),
                      "text_offset": [0] * len(words), "top_logprobs": None}
                choice = {"index": i, "text": text, "finish_reason": "stop",
                          "logprobs": lp if wants else None}
            choices.append(choice)
        choices.reverse()  # servers need not keep index order
        usage = {"prompt_tokens": len(prompt.split()), "completion_tokens": 7 * len(choices),
                 "total_tokens": len(prompt.split()) + 7 * len(choices)}
        payload = {"id": uuid.uuid4().hex, "object": "chat.completion" if chat else "text_completion",
                   "created": int(time.time()), "model": body["model"], "choices": choices,
                   "usage": usage}
        return 200, payload, delay
