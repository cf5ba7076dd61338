"""Plain data across the trust boundary: tagged JSON, never pickle.

Scalars (None, bool, int, float, str) and lists are JSON as they are; every other
value is a one-key object naming its type, so decoding is unambiguous and can only
ever build plain builtin values. The sandbox encodes; the trusted side decodes and
never sees an object with behaviour (an `__eq__` that always says yes, say).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from typing import Any

HEADER = struct.Struct(">I")
BIG_INT_BITS = 12_000  # JSON ints past ~4300 digits hit CPython's str limit: send hex


class Unserializable(TypeError):
    """A value that is not plain data (a generator, an instance of the program's class...)."""


def to_plain(x: Any) -> Any:
    """Encode a value as tagged JSON data; subclasses of builtins are reduced to their base."""
    t = type(x)
    if x is None or t is bool or t is str or t is float:
        return x
    if t is int:
        return {"i": hex(x)} if x.bit_length() > BIG_INT_BITS else x
    if t is list:
        return [to_plain(v) for v in x]
    if t is tuple:
        return {"t": [to_plain(v) for v in x]}
    if t is dict:
        return {"d": [[to_plain(k), to_plain(v)] for k, v in x.items()]}
    if t is set or t is frozenset:
        return {"s" if t is set else "f": [to_plain(v) for v in x]}
    if t is bytes or t is bytearray:
        return {"b": bytes(x).hex()}
    if t is complex:
        return {"c": [x.real, x.imag]}
    if t.__module__ == "numpy" and getattr(x, "shape", None) == ():
        return to_plain(x.item())  # numpy scalars compare like Python numbers
    reductions: tuple[tuple[type, Callable[[Any], Any]], ...] = (
        (bool, bool), (int, int.__index__), (float, float.__float__), (str, str.__str__),
        (list, list), (tuple, tuple), (dict, dict), (set, set), (frozenset, frozenset),
        (bytes, bytes))
    for base, conv in reductions:
        if isinstance(x, base):
            return to_plain(conv(x))
    raise Unserializable(f"{t.__module__}.{t.__qualname__} is not plain data")


def from_plain(x: Any) -> Any:
    """Decode tagged JSON data into builtin values; raises ValueError on anything else."""
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, list):
        return [from_plain(v) for v in x]
    if isinstance(x, dict) and len(x) == 1:
        (tag, v), = x.items()
        try:
            if tag == "t":
                return tuple(from_plain(e) for e in v)
            if tag == "d":
                return {from_plain(k): from_plain(e) for k, e in v}
            if tag == "s":
                return {from_plain(e) for e in v}
            if tag == "f":
                return frozenset(from_plain(e) for e in v)
            if tag == "b":
                return bytes.fromhex(v)
            if tag == "c":
                return complex(float(v[0]), float(v[1]))
            if tag == "i":
                return int(v, 16)
        except (TypeError, ValueError) as e:
            raise ValueError(f"malformed {tag!r} value: {e}") from None
    raise ValueError(f"not plain data: {str(x)[:80]}")


def dumps(message: dict[str, Any]) -> bytes:
    """A framed message: 4-byte big-endian length, then ASCII JSON."""
    body = json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode()
    return HEADER.pack(len(body)) + body


def loads(body: bytes) -> dict[str, Any]:
    msg = json.loads(body)
    if not isinstance(msg, dict):
        raise ValueError("message is not an object")
    return msg
