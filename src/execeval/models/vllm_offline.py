"""`vllm:PATH_OR_ID`: vLLM's offline engine on a GPU (the [vllm] extra, imported lazily).

Requests are handed to the engine in batches of `batch_size` sequences, each with its
own SamplingParams (n, seed), so the engine schedules them together while finished
batches are already being graded. The calls were checked against vLLM 0.8.0 and 0.33.0
(docs/generation.md).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from execeval.dataset import Dataset
from execeval.errors import UserError
from execeval.models.base import (
    BackendOptions,
    Generation,
    ModelKind,
    ModelSpec,
    Request,
    Settings,
    batches,
    file_fingerprint,
)

GREEDY_EPS = 1e-5  # vLLM's _SAMPLING_EPS: a lower temperature is greedy decoding


def is_greedy(settings: Settings) -> bool:
    return settings.temperature < GREEDY_EPS


def sampling_kwargs(settings: Settings, count: int, seed: int | None) -> dict[str, Any]:
    """Our settings in vLLM's SamplingParams terms; logprobs=0 returns the sampled token's.
    vLLM refuses n > 1 when greedy ("n must be 1 when using greedy sampling"): one sequence
    is asked for and run_batch repeats it, as greedy decoding gives the same one each time."""
    kwargs: dict[str, Any] = {"n": 1 if is_greedy(settings) else count,
                              "temperature": settings.temperature,
                              "top_p": 1.0 if is_greedy(settings) else settings.top_p,
                              "max_tokens": settings.max_tokens, "stop": list(settings.stop or ()),
                              "logprobs": 0}
    if seed is not None:
        kwargs["seed"] = seed
    return kwargs


def sampled_logprobs(token_ids: list[int], logprobs: Any) -> list[float] | None:
    """vLLM gives, per position, a dict token id -> Logprob that includes the sampled token
    (a list of dicts, or a FlatLogprobs whose items are such dicts)."""
    if not logprobs:
        return None
    return [float(pos[t].logprob) for t, pos in zip(token_ids, logprobs, strict=False)]


class VLLMModel:
    def __init__(self, path: str, *, batch_size: int | None = None, seed: int | None = None):
        # vLLM logs to stdout by default, engine shutdown included; --json's summary must
        # be the last line there, so its log goes to stderr unless the user chose otherwise
        os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
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
        if isinstance(ids, Mapping):  # transformers 5 returns a BatchEncoding by default
            ids = ids["input_ids"]
        return {"prompt_token_ids": list(ids)}

    def generate(self, requests: Iterable[Request], settings: Settings) -> Iterator[list[Generation]]:
        for batch in batches(requests, self.batch_size):
            yield from self.run_batch(batch, settings)

    def run_beams(self, batch: list[Request], settings: Settings) -> list[list[Generation]]:
        """Beam search through `LLM.beam_search` (vLLM >= 0.6.2): each request's samples
        are its best beams, best first. Its sequences hold the prompt's tokens too; no
        per-token log-probabilities, the beam's cumulative one is kept in `info`."""
        params = self.vllm.sampling_params.BeamSearchParams(
            beam_width=settings.beams or 1, max_tokens=settings.max_tokens)
        prompts = [self.engine_prompt(r) for r in batch]
        start = time.monotonic()
        outputs = self.llm.beam_search(
            [p if isinstance(p, dict) else {"prompt": p} for p in prompts], params)
        seconds = round(time.monotonic() - start, 4)
        results = []
        for r, out in zip(batch, outputs, strict=True):
            beams = sorted(out.sequences, key=lambda b: b.cum_logprob, reverse=True)
            n_prompt = len(self.tokenizer.encode(r.prompt.text)) if r.prompt.style != "chat" \
                else len(self.engine_prompt(r)["prompt_token_ids"])
            results.append([
                Generation(r.task_id, r.first + i, self.tokenizer.decode(
                    b.tokens[n_prompt:], skip_special_tokens=True),
                    n_prompt_tokens=n_prompt, n_tokens=len(b.tokens) - n_prompt,
                    seconds=seconds, info={"beam": i, "cum_logprob": b.cum_logprob})
                for i, b in enumerate(beams[:r.count])])
        return results

    def run_batch(self, batch: list[Request], settings: Settings) -> list[list[Generation]]:
        if settings.beams:
            return self.run_beams(batch, settings)
        params = [self.vllm.SamplingParams(**sampling_kwargs(settings, r.count, r.seed))
                  for r in batch]
        start = time.monotonic()
        outputs = self.llm.generate([self.engine_prompt(r) for r in batch], params,
                                    use_tqdm=False)
        seconds = round(time.monotonic() - start, 4)
        results = []
        for r, out in zip(batch, outputs, strict=True):
            completions = list(out.outputs)
            if is_greedy(settings) and len(completions) == 1:
                completions *= r.count  # see sampling_kwargs
            results.append([
                Generation(r.task_id, r.first + i, c.text, finish_reason=c.finish_reason,
                           n_prompt_tokens=len(out.prompt_token_ids or []),
                           n_tokens=len(c.token_ids),
                           logprobs=sampled_logprobs(list(c.token_ids), c.logprobs),
                           seconds=seconds, info={} if r.seed is None else {"seed": r.seed})
                for i, c in enumerate(completions)])
        return results

    def close(self) -> None:
        """Stop the engine's processes now; vLLM would otherwise do it at exit, after the
        report. V1 engines have engine_core.shutdown(); others are left to exit."""
        core = getattr(getattr(self.llm, "llm_engine", None), "engine_core", None)
        shutdown = getattr(core, "shutdown", None)
        if callable(shutdown):
            shutdown()


def load(spec: ModelSpec, dataset: Dataset, options: BackendOptions) -> VLLMModel:
    return VLLMModel(spec.name, batch_size=options.batch_size, seed=options.seed)


KIND = ModelKind("vllm:PATH", load, beams=True)
