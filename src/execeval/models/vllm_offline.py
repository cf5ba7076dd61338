"""`vllm:PATH_OR_ID`: vLLM's offline engine on a GPU (the [vllm] extra, imported lazily).

Requests are handed to the engine in batches of `batch_size` sequences, each with its
own SamplingParams (n, seed), so the engine schedules them together while finished
batches are already being graded.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from execeval.errors import UserError
from execeval.models.base import Generation, Request, Settings, batches, file_fingerprint


def sampling_kwargs(settings: Settings, count: int, seed: int | None) -> dict[str, Any]:
    """Our settings in vLLM's SamplingParams terms; logprobs=0 returns the sampled token's."""
    kwargs: dict[str, Any] = {"n": count, "temperature": settings.temperature,
                              "top_p": settings.top_p if settings.temperature > 0 else 1.0,
                              "max_tokens": settings.max_tokens, "stop": list(settings.stop),
                              "logprobs": 0}
    if seed is not None:
        kwargs["seed"] = seed
    return kwargs


def sampled_logprobs(token_ids: list[int], logprobs: Any) -> list[float] | None:
    """vLLM gives, per position, a dict token id -> Logprob that includes the sampled token."""
    if not logprobs:
        return None
    return [float(pos[t].logprob) for t, pos in zip(token_ids, logprobs, strict=False)]


class VLLMModel:
    def __init__(self, path: str, *, batch_size: int | None = None, seed: int | None = None):
        try:
            import vllm
        except ImportError:
            raise UserError("the vllm: backend needs vLLM: pip install 'execeval[vllm]'") from None
        self.vllm = vllm
        self.spec = f"vllm:{path}"
        self.path = path
        self.llm = vllm.LLM(model=path, seed=seed or 0)
        self.tokenizer = self.llm.get_tokenizer()
        self.chat = getattr(self.tokenizer, "chat_template", None) is not None
        self.batch_size = batch_size or 256  # the engine schedules a batch as one
        self.request_size = self.batch_size

    def fingerprint(self) -> str:
        return f"vllm:{file_fingerprint(self.path)}"

    def engine_prompt(self, r: Request) -> Any:
        """Text for completion prompts; token ids for chat, whose template writes its own
        BOS (text would get a second one from the engine's tokenizer)."""
        if r.prompt.style != "chat":
            return r.prompt.text
        if not self.chat:
            raise UserError(f"{self.spec}: the tokenizer has no chat template; use "
                            "--prompt-style completion")
        ids = self.tokenizer.apply_chat_template(r.prompt.chat_messages(), tokenize=True,
                                                 add_generation_prompt=True)
        return {"prompt_token_ids": list(ids)}

    def generate(self, requests: Iterable[Request], settings: Settings) -> Iterator[list[Generation]]:
        for batch in batches(requests, self.batch_size):
            yield from self.run_batch(batch, settings)

    def run_batch(self, batch: list[Request], settings: Settings) -> list[list[Generation]]:
        params = [self.vllm.SamplingParams(**sampling_kwargs(settings, r.count, r.seed))
                  for r in batch]
        start = time.monotonic()
        outputs = self.llm.generate([self.engine_prompt(r) for r in batch], params,
                                    use_tqdm=False)
        seconds = round(time.monotonic() - start, 4)
        results = []
        for r, out in zip(batch, outputs, strict=True):
            results.append([
                Generation(r.task_id, r.first + i, c.text, finish_reason=c.finish_reason,
                           n_prompt_tokens=len(out.prompt_token_ids or []),
                           n_tokens=len(c.token_ids),
                           logprobs=sampled_logprobs(list(c.token_ids), c.logprobs),
                           seconds=seconds, info={} if r.seed is None else {"seed": r.seed})
                for i, c in enumerate(out.outputs)])
        return results

    def close(self) -> None:
        pass
