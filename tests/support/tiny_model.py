"""A tiny GPT-2 with random weights and a character-level tokenizer of our own, saved with
save_pretrained: a real transformers model that needs no download.

    python tests/support/tiny_model.py /tmp/tiny-gpt2    # then --model hf:/tmp/tiny-gpt2
"""

from __future__ import annotations

import shutil
import string
import sys
from pathlib import Path
from typing import Any

# role: content lines, then "assistant: " (a template of our own, for chat-prompt tests)
CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n"
                 "{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}")


def build_tiny_model(folder: Path, *, n_embd: int = 32, n_head: int = 2) -> None:
    """Every printable ASCII character is a token, so text round-trips exactly.
    vLLM's attention kernels need a usual head size (n_embd / n_head, e.g. 64)."""
    import tokenizers
    import torch
    import transformers

    chars = sorted(set(string.printable))
    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, **{c: i + 3 for i, c in enumerate(chars)}}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Split(
        tokenizers.Regex(r"[\s\S]"), behavior="isolated")
    tok.decoder = tokenizers.decoders.Fuse()
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(vocab), n_positions=2048, n_embd=n_embd,
                                     n_layer=2, n_head=n_head, bos_token_id=1, eos_token_id=1,
                                     pad_token_id=0)
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)


def with_chat_template(tiny: Path, folder: Path) -> Any:
    """A copy of the tiny model in `folder` whose tokenizer has CHAT_TEMPLATE; returns it."""
    import transformers

    shutil.copytree(tiny, folder)
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)
    return tokenizer


if __name__ == "__main__":
    build_tiny_model(Path(sys.argv[1]))
