"""OpenAI-compatible HTTP backend (completions or chat), through the official client.

One backend for vLLM, TGI, SGLang and llama.cpp servers and hosted APIs. The client
retries 408/409/429/5xx, connection errors and timeouts with exponential backoff
(honouring Retry-After); we bound concurrency, ask for n samples per request, and ask
again for the rest when a server returns fewer choices than asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, cast

from execeval.config import api_key, redact
from execeval.dataset import Dataset
from execeval.errors import UserError
from execeval.models.base import (
    BackendOptions,
    Generation,
    ModelKind,
    ModelSpec,
    Request,
    Settings,
)

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

MAX_SERVER_STOPS = 4  # the OpenAI API's limit; extraction applies every stop anyway


class Partial(Exception):
    """A request that failed after some of its samples arrived: those are still handed on."""

    def __init__(self, error: Exception, generations: list[Generation]):
        super().__init__(str(error))
        self.error = error
        self.generations = generations


class OpenAIModel:
    """`openai:MODEL[@BASE_URL]` (completions) or `openai-chat:MODEL[@BASE_URL]` (chat)."""

    def __init__(self, model: str, base_url: str | None, chat: bool, *, concurrency: int = 8,
                 timeout: float = 120.0, retries: int = 6, request_size: int = 20):
        import openai

        self.model, self.base_url, self.chat = model, base_url, chat
        self.spec = f"{'openai-chat' if chat else 'openai'}:{model}" + (f"@{base_url}" if base_url else "")
        self.concurrency = concurrency
        self.request_size = request_size
        self._key = api_key(base_url)
        self.client = openai.OpenAI(api_key=self._key, base_url=base_url, timeout=timeout,
                                    max_retries=retries)
        self.want_logprobs = True  # dropped once if the server refuses them

    def fingerprint(self) -> str:
        return self.spec

    def generate(self, requests: Iterable[Request], settings: Settings) -> Iterator[list[Generation]]:
        todo = iter(requests)
        pool = ThreadPoolExecutor(max_workers=self.concurrency)
        running: set[Future[list[Generation]]] = set()
        failure: BaseException | None = None
        try:
            while True:
                while failure is None and len(running) < self.concurrency:
                    r = next(todo, None)
                    if r is None:
                        break
                    running.add(pool.submit(self.sample, r, settings))
                if not running:
                    break
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:  # samples already paid for are kept, even after a failure
                    error = fut.exception()
                    if isinstance(error, Partial):
                        if error.generations:
                            yield error.generations
                        error = error.error
                    if error is not None:
                        failure = failure or error
                    else:
                        yield fut.result()
            if failure is not None:
                raise failure
        finally:  # stopped early (interrupt, error): don't wait for requests in flight
            pool.shutdown(wait=False, cancel_futures=True)

    def sample(self, r: Request, settings: Settings) -> list[Generation]:
        """All `count` samples of one request, asking again for any the server left out."""
        out: list[Generation] = []
        while len(out) < r.count:
            seed = None if r.seed is None else r.seed + len(out)
            try:
                got = self.call(r, settings, r.count - len(out), seed)
            except Exception as e:
                raise Partial(e, out) from None
            if not got:
                raise Partial(UserError(f"{self.spec}: the server returned no choices for "
                                        f"{r.task_id}"), out)
            for g in got[:r.count - len(out)]:  # never more than asked: no duplicates
                out.append(Generation(**{**g.record(), "index": r.first + len(out)}))
        return out

    def call(self, r: Request, settings: Settings, n: int, seed: int | None) -> list[Generation]:
        import openai

        args: dict[str, Any] = {"model": self.model, "n": n, "temperature": settings.temperature,
                                "top_p": settings.top_p, "max_tokens": settings.max_tokens}
        if settings.stop:
            args["stop"] = list(settings.stop[:MAX_SERVER_STOPS])
        if seed is not None:
            args["seed"] = seed
        start = time.monotonic()
        try:
            try:
                response = self._create(r, args, self.want_logprobs)
            except openai.BadRequestError as e:
                if not self.want_logprobs or "logprob" not in str(e).lower():
                    raise
                self.want_logprobs = False
                response = self._create(r, args, False)
        except openai.APIStatusError as e:
            raise UserError(f"{self.spec}: {r.task_id}: HTTP {e.status_code}: "
                            f"{redact(str(e.message), self._key)}") from None
        except openai.APIError as e:  # connection errors and timeouts after all retries
            raise UserError(f"{self.spec}: {r.task_id}: {type(e).__name__}: "
                            f"{redact(str(e), self._key)}") from None
        seconds = round(time.monotonic() - start, 4)
        usage = getattr(response, "usage", None)
        n_prompt = getattr(usage, "prompt_tokens", None)
        choices = sorted(response.choices, key=lambda c: c.index)
        gens = []
        for c in choices:
            text, logprobs = self._choice(c)
            n_tokens = len(logprobs) if logprobs is not None else (
                getattr(usage, "completion_tokens", None) if len(choices) == 1 else None)
            gens.append(Generation(r.task_id, 0, text, finish_reason=c.finish_reason,
                                   n_prompt_tokens=n_prompt, n_tokens=n_tokens,
                                   logprobs=logprobs, seconds=seconds,
                                   info={} if seed is None else {"seed": seed}))
        return gens

    def _create(self, r: Request, args: dict[str, Any], logprobs: bool) -> Any:
        kwargs = dict(args)
        if self.chat:
            if logprobs:
                kwargs["logprobs"] = True
            # roles are "system", "user" and "assistant" by construction (execeval.prompts)
            messages = cast("list[ChatCompletionMessageParam]", r.prompt.chat_messages())
            return self.client.chat.completions.create(messages=messages, **kwargs)
        if logprobs:
            kwargs["logprobs"] = 0
        return self.client.completions.create(prompt=r.prompt.text, **kwargs)

    def _choice(self, c: Any) -> tuple[str, list[float] | None]:
        logprobs = getattr(c, "logprobs", None)
        if self.chat:
            text = c.message.content or ""
            content = getattr(logprobs, "content", None) if logprobs is not None else None
            return text, [float(t.logprob) for t in content] if content else None
        tokens = getattr(logprobs, "token_logprobs", None) if logprobs is not None else None
        return c.text or "", [float(x) for x in tokens if x is not None] if tokens else None

    def close(self) -> None:
        self.client.close()


def _loader(chat: bool) -> Callable[[ModelSpec, Dataset, BackendOptions], OpenAIModel]:
    def load(spec: ModelSpec, dataset: Dataset, options: BackendOptions) -> OpenAIModel:
        return OpenAIModel(spec.name, spec.base_url, chat, concurrency=options.concurrency,
                           timeout=options.timeout, retries=options.retries)

    return load


COMPLETIONS = ModelKind("openai:MODEL[@URL]", _loader(False), url=True)
CHAT = ModelKind("openai-chat:MODEL[@URL]", _loader(True), url=True)
