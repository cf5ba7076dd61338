"""Flags from typed options, and typed options from flags.

Every option a command takes is a field of a frozen dataclass (execeval.options, a
study's own options) whose metadata holds its help; here each field becomes one flag and
each parsed namespace becomes that dataclass again, so no option is spelled twice.
Metadata keys: `help`, `flag`, `metavar`, `choices`, `positional`, `nargs`, `required`,
`positive`, `append`.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def positive(convert: Callable[[str], Any], noun: str) -> Callable[[str], Any]:
    """An argparse type: `convert`, then refuse zero and negatives, naming what was wanted."""

    as_number = number(convert, noun)

    def parse(text: str) -> Any:
        value = as_number(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive {noun}, not {text!r}")
        return value

    return parse


def number(convert: Callable[[str], Any], noun: str) -> Callable[[str], Any]:
    """An argparse type: `convert`, naming what was wanted when the text is not one."""

    def parse(text: str) -> Any:
        try:
            return convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {noun}, not {text!r}") from None

    return parse


def comma_list(item: Callable[[str], Any], noun: str) -> Callable[[str], tuple[Any, ...]]:
    """`1,10,100` -> (1, 10, 100), each item checked by `item`."""

    def parse(text: str) -> tuple[Any, ...]:
        items = tuple(item(t.strip()) for t in text.split(",") if t.strip())
        if not items:
            raise argparse.ArgumentTypeError(f"expected {noun} separated by commas, not {text!r}")
        return items

    return parse


def parse_port(text: str) -> int:
    """A TCP port, 0 (any free one) to 65535, said as argparse says a bad value."""
    from execeval.web import parse_port as port

    try:
        return port(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


NOUNS = {int: "whole number", float: "number"}


def _unwrap(hint: Any) -> Any:
    """X of `X | None` (an unset flag keeps the field's default, None or not)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def _converter(hint: Any, meta: dict[str, Any]) -> Callable[[str], Any] | None:
    base = _unwrap(hint)
    if typing.get_origin(base) is tuple:
        item = typing.get_args(base)[0]
        one = _converter(item, meta) or str
        if meta.get("nargs") or meta.get("append"):
            return one
        noun = NOUNS.get(item, "values")
        return comma_list(one, f"{noun}s" if item in NOUNS else noun)
    if base in NOUNS:
        maker = positive if meta.get("positive") else number
        return maker(base, NOUNS[base])
    if base is Path:
        return Path
    return None


def flag_of(f: dataclasses.Field[Any]) -> str:
    return str(f.metadata.get("flag") or "--" + f.name.replace("_", "-"))


def _default_text(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def add_fields(parser: argparse.ArgumentParser | Any, options: type, *,
               without: Iterable[str] = (), group: str | None = None) -> None:
    """One flag per field of the dataclass `options`, with its help and its default."""
    hints = typing.get_type_hints(options)
    skip = set(without)
    target = parser.add_argument_group(group) if group else parser
    for f in dataclasses.fields(options):
        if f.name in skip or not f.init:
            continue
        meta = dict(f.metadata)
        hint = hints[f.name]
        base = _unwrap(hint)
        default = f.default if f.default is not dataclasses.MISSING else None
        text = str(meta.get("help", ""))
        if default not in (None, False, "", ()) and not meta.get("required"):
            text += f" (default: {_default_text(default)})"
        kwargs: dict[str, Any] = {"help": text, "dest": f.name}
        if base is bool:
            kwargs["action"] = "store_true"
        else:
            convert = _converter(hint, meta)
            if convert is not None:
                kwargs["type"] = convert
            for key in ("metavar", "choices", "nargs"):
                if key in meta:
                    kwargs[key] = meta[key]
            if meta.get("append"):
                kwargs["action"] = "append"
        kwargs["default"] = argparse.SUPPRESS  # unset flags keep the dataclass's default
        if meta.get("positional"):
            del kwargs["dest"], kwargs["default"]
            target.add_argument(f.name, **kwargs)
        else:
            target.add_argument(flag_of(f), required=bool(meta.get("required")), **kwargs)


def build(options: type[T], args: argparse.Namespace, **changes: Any) -> T:
    """The dataclass `options` from the flags that were given (the rest keep their
    defaults); `changes` win over both."""
    given = vars(args)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(options):  # type: ignore[arg-type]
        if f.name in given and f.init:
            value = given[f.name]
            values[f.name] = tuple(value) if isinstance(value, list) else value
    values.update(changes)
    return options(**values)
