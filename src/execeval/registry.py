"""One registry for every extension point, fed by entry points.

Each kind of extension (benchmarks, model backends, executors, studies, graders) is a
`Registry` over one entry-point group. The registry knows none of the kinds it holds: an
entry point names an object (`package.module:ATTR`), loaded the first time its name is
asked for, so an extra that is not installed costs nothing until it is used. execeval's
own extensions are registered by the entry points of its own `pyproject.toml`, exactly as
a third-party package registers its own; `register` adds one from code (a notebook, a
test). docs/architecture.md has the table of groups.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

from execeval.errors import UserError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named objects of one kind: `group` is the entry-point group, `noun` what the
    user calls one in messages; an object that is not a `kind` is refused."""

    def __init__(self, group: str, noun: str, kind: type[T]) -> None:
        self.group, self.noun, self.kind = group, noun, kind
        self._found: dict[str, EntryPoint] | None = None
        self._loaded: dict[str, T] = {}
        self._lock = threading.RLock()  # loaded from worker threads too (graders)

    def _entry_points(self) -> dict[str, EntryPoint]:
        if self._found is None:
            self._found = {entry.name: entry for entry in entry_points(group=self.group)}
        return self._found

    def names(self) -> list[str]:
        """Every registered name, sorted (nothing is imported)."""
        with self._lock:
            return sorted(set(self._entry_points()) | set(self._loaded))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def get(self, name: str) -> T:
        """The object registered as `name`; an unknown name or one that fails to load is
        one line naming the known ones."""
        with self._lock:
            if name in self._loaded:
                return self._loaded[name]
            entry = self._entry_points().get(name)
            if entry is None:
                raise UserError(f"unknown {self.noun} {name!r} (known: "
                                f"{', '.join(self.names()) or 'none'})")
            try:
                found = entry.load()
            except (ImportError, AttributeError) as e:
                raise UserError(f"{self.noun} {name!r} cannot be loaded ({e})") from None
            return self._accept(name, found, entry.value)

    def register(self, name: str, obj: T) -> T:
        """Add (or replace) one from code."""
        with self._lock:
            return self._accept(name, obj, "register()")

    def __iter__(self) -> Iterator[tuple[str, T]]:
        """Every one, loaded (for listings: what the sandbox hides, the help)."""
        for name in self.names():
            yield name, self.get(name)

    def _accept(self, name: str, obj: object, where: str) -> T:
        if not isinstance(obj, self.kind):
            raise UserError(f"{self.noun} {name!r} ({where}) is not a {self.kind.__name__} "
                            f"but a {type(obj).__name__}")
        self._loaded[name] = obj
        return obj


def load_reference(reference: str) -> object:
    """The object a `package.module:ATTR` reference names, as an entry point would load it
    (problem files may name a grader that lives in a package of their own)."""
    return EntryPoint(name=reference, value=reference, group="").load()
