"""`hf:PATH_OR_ID`: Hugging Face transformers, local, on the GPU when there is one.

Needs the [hf] extra (transformers, torch), imported only when this backend is used.
Requests are packed into batches of `batch_size` sequences (prompts left-padded);
log-probabilities are those of the model itself (log-softmax of the raw logits at
temperature 1) for each sampled token, as vLLM and OpenAI report them. transformers keeps
every step's logits until the batch ends (batch x max tokens x vocabulary): lower
--batch-size for large vocabularies and long generations.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
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


class HFModel:
    def __init__(self, path: str, *, batch_size: int | None = None, device: str | None = None):
        try:
            import torch
            import transformers
        except ImportError:
            raise UserError("the hf: backend needs transformers and torch: "
                            "pip install 'execeval[hf]'") from None
        self.torch = torch
        self.spec = f"hf:{path}"
        self.path = path
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        # Any: the Auto classes pick the concrete class from the checkpoint at run time, and
        # transformers' annotations (unions without overloads for decode and chat templates,
        # wrapped methods such as `to`) do not describe what this backend calls
        self.tokenizer: Any
        self.model: Any
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(path)
            self.model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype="auto")
        except (OSError, ValueError) as e:
            raise UserError(f"{self.spec}: cannot load the model ({e})") from None
        self.model.to(self.device).eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.chat = getattr(self.tokenizer, "chat_template", None) is not None
        self.batch_size = batch_size or 16
        self.request_size = self.batch_size

    def fingerprint(self) -> str:
        return f"hf:{file_fingerprint(self.path)}"

    def prompt_text(self, r: Request) -> str:
        if r.prompt.style != "chat":
            return r.prompt.text
        if not self.chat:
            raise UserError(f"{self.spec}: the tokenizer has no chat template; use "
                            "--prompt-style completion")
        text: str = self.tokenizer.apply_chat_template(r.prompt.chat_messages(), tokenize=False,
                                                       add_generation_prompt=True)
        return text

    def generate(self, requests: Iterable[Request], settings: Settings) -> Iterator[list[Generation]]:
        for batch in batches(requests, self.batch_size):
            yield from self.run_batch(batch, settings)

    def run_beams(self, batch: list[Request], settings: Settings) -> list[list[Generation]]:
        """Beam search (the APPS paper's best-of-5 beams): each request's `count` samples are
        its best beams, best first; log-probabilities are those of each chosen token."""
        width = settings.beams or 1
        texts = [self.prompt_text(r) for r in batch]
        enc = self.tokenizer(texts, return_tensors="pt", padding=True,
                             add_special_tokens=batch[0].prompt.style != "chat")
        enc = {k: v.to(self.device) for k, v in enc.items()}
        kwargs: dict[str, Any] = {"max_new_tokens": settings.max_tokens, "do_sample": False,
                                  "num_beams": width, "num_return_sequences": width,
                                  "pad_token_id": self.tokenizer.pad_token_id,
                                  "return_dict_in_generate": True, "output_scores": True}
        if settings.stop:
            kwargs.update(stop_strings=list(settings.stop), tokenizer=self.tokenizer)
        start = time.monotonic()
        with self.torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
            steps = self.model.compute_transition_scores(
                out.sequences, out.scores, out.beam_indices, normalize_logits=False)
        seconds = round(time.monotonic() - start, 4)
        new = out.sequences[:, enc["input_ids"].shape[1]:]
        ends, prompt_lens = self.end_ids(), enc["attention_mask"].sum(dim=1).tolist()
        results = []
        for b, r in enumerate(batch):
            gens = []
            for i in range(r.count):
                row = b * width + min(i, width - 1)
                ids = new[row].tolist()
                end = next((j for j, t in enumerate(ids) if t in ends), len(ids))
                text = self.tokenizer.decode(ids[:end], skip_special_tokens=True)
                gens.append(Generation(
                    r.task_id, r.first + i, text,
                    finish_reason="stop" if end < len(ids) or len(ids) < settings.max_tokens
                    else "length", n_prompt_tokens=int(prompt_lens[b]), n_tokens=end,
                    logprobs=[round(float(x), 6) for x in steps[row, :end].tolist()],
                    seconds=seconds, info={"beam": min(i, width - 1)}))
            results.append(gens)
        return results

    def run_batch(self, batch: list[Request], settings: Settings) -> list[list[Generation]]:
        if settings.beams:
            return self.run_beams(batch, settings)
        torch = self.torch
        texts = [self.prompt_text(r) for r in batch for _ in range(r.count)]
        # a chat template writes its own BOS; a completion prompt gets the tokenizer's
        enc = self.tokenizer(texts, return_tensors="pt", padding=True,
                             add_special_tokens=batch[0].prompt.style != "chat")
        enc = {k: v.to(self.device) for k, v in enc.items()}
        if batch[0].seed is not None:
            torch.manual_seed(batch[0].seed)
        kwargs: dict[str, Any] = {"max_new_tokens": settings.max_tokens,
                                  "do_sample": settings.temperature > 0,
                                  "pad_token_id": self.tokenizer.pad_token_id,
                                  "return_dict_in_generate": True, "output_logits": True}
        if settings.temperature > 0:
            kwargs.update(temperature=settings.temperature, top_p=settings.top_p, top_k=0)
        if settings.stop:
            kwargs.update(stop_strings=list(settings.stop), tokenizer=self.tokenizer)
        start = time.monotonic()
        with torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
        seconds = round(time.monotonic() - start, 4)
        width = enc["input_ids"].shape[1]
        new = out.sequences[:, width:]
        # one step at a time: stacking every step's logits would double the memory they hold
        chosen = torch.stack([
            torch.log_softmax(step.float(), dim=-1).gather(-1, new[:, j:j + 1]).squeeze(-1)
            for j, step in enumerate(out.logits)], dim=1)
        ends = self.end_ids()
        prompt_lens = enc["attention_mask"].sum(dim=1).tolist()
        results: list[list[Generation]] = []
        row = 0
        for r in batch:
            gens = []
            for i in range(r.count):
                ids = new[row].tolist()
                end = next((j for j, t in enumerate(ids) if t in ends), len(ids))
                text = self.tokenizer.decode(ids[:end], skip_special_tokens=True)
                stopped = (end < len(ids) or len(ids) < settings.max_tokens
                           or any(s and s in text for s in settings.stop or ()))
                gens.append(Generation(
                    r.task_id, r.first + i, text, finish_reason="stop" if stopped else "length",
                    n_prompt_tokens=int(prompt_lens[row]), n_tokens=end,
                    logprobs=[round(float(x), 6) for x in chosen[row, :end].tolist()],
                    seconds=seconds, info={} if r.seed is None else {"seed": r.seed}))
                row += 1
            results.append(gens)
        return results

    def end_ids(self) -> set[int]:
        """End of a sequence: EOS (one or several ids) or the padding after a stop string."""
        ids = {self.tokenizer.pad_token_id}
        eos = self.model.generation_config.eos_token_id
        ids.update(eos if isinstance(eos, list) else [eos])
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return {i for i in ids if i is not None}

    def close(self) -> None:
        pass


def load(spec: ModelSpec, dataset: Dataset, options: BackendOptions) -> HFModel:
    return HFModel(spec.name, batch_size=options.batch_size)


KIND = ModelKind("hf:PATH", load, beams=True)
