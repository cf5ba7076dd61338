"""Secrets (API keys) from the environment or the user's config file, and nowhere else.

A key lives only in the backend's HTTP client: it is never part of a model spec, a
run's config, a log line, a results row or the sandbox's environment (the sandbox
starts from a fixed clean environment). Error messages pass through `redact`.

Keys for OpenAI itself never go to another server: a base URL needs its own key.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from execeval.errors import UserError

OPENAI_ENV = "OPENAI_API_KEY"   # for OpenAI's own endpoint
SERVER_ENV = "EXECEVAL_API_KEY"  # for an explicit @BASE_URL
NO_KEY = "EMPTY"  # what local servers (vLLM, llama.cpp) accept when they ask for none


def config_path() -> Path:
    """$EXECEVAL_CONFIG, else $XDG_CONFIG_HOME/execeval/config.toml (~/.config/...)."""
    if os.environ.get("EXECEVAL_CONFIG"):
        return Path(os.environ["EXECEVAL_CONFIG"])
    home = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(home) / "execeval" / "config.toml"


def load_config(path: Path | None = None) -> dict[str, Any]:
    path = path or config_path()
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise UserError(f"{path}: cannot read the config file ({e})") from None


def api_key(base_url: str | None) -> str:
    """OpenAI's endpoint: $OPENAI_API_KEY, else [openai] api_key. A base URL:
    $EXECEVAL_API_KEY, else [keys] "URL" = KEY, else none (local servers)."""
    config = load_config()
    if base_url is None:
        key = os.environ.get(OPENAI_ENV) or config.get("openai", {}).get("api_key")
        if not key:
            raise UserError(f"no API key for OpenAI: set ${OPENAI_ENV} or [openai] api_key "
                            f"in {config_path()}")
        return str(key)
    keys = config.get("keys", {})
    return str(os.environ.get(SERVER_ENV) or keys.get(base_url) or keys.get(base_url.rstrip("/"))
               or NO_KEY)


def redact(text: str, secret: str) -> str:
    """A message that might quote a request never quotes the key."""
    if not secret or secret == NO_KEY:
        return text
    return text.replace(secret, "***")
