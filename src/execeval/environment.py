"""Grading environments: what a graded program may import, declared, built once, recorded.

A verdict is a function of (problem, program, limits, environment). A program must never
see whatever the harness happens to have installed (its own matplotlib, torch, ray), so a
benchmark declares an `EnvironmentSpec`: a name, a version and pinned packages. `ensure`
builds it on first use into a cache folder keyed by the spec (a virtual environment of
this interpreter, then `pip install` from the package index, or from a wheel folder
offline) and returns the built `Environment`, whose identity (interpreter, the exact
package list as installed, their hash) every run records and every cached verdict is
keyed by. The sandbox then shows programs the standard library plus that environment's
site-packages, nothing else. docs/environments.md says more.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import distributions
from pathlib import Path
from typing import Any

from execeval.errors import UserError
from execeval.progress import progress_bar
from execeval.registry import Registry

SPEC_FIELDS = ("name", "version", "packages", "description", "python")
WHEELS_VARIABLE = "EXECEVAL_WHEELS"  # a folder of wheels: build offline from it
CACHE_VARIABLE = "EXECEVAL_CACHE"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class EnvironmentSpec:
    """What a benchmark declares: pinned requirements (pip's syntax) on this interpreter."""

    name: str
    version: str
    packages: tuple[str, ...] = ()
    description: str = ""
    python: str = ""  # "3.11": the interpreter it needs ("" any); the harness's is used

    @property
    def key(self) -> str:
        """The build folder's key: the spec and the interpreter it is built from."""
        blob = json.dumps([self.name, self.version, sorted(self.packages), _interpreter()])
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Environment:
    """A built environment: where it lives and what it holds, exactly."""

    name: str
    version: str
    python: str                      # the interpreter's full version, e.g. "3.11.7"
    packages: tuple[str, ...]        # every installed distribution, "name==version", sorted
    hash: str                        # of the interpreter and that list: the verdicts' key
    prefix: str = ""                 # the virtual environment ("" : the stdlib only, in tests)
    site: tuple[str, ...] = field(default=())  # its site-packages folders

    def identity(self) -> dict[str, Any]:
        """What a run records (summary, --json, report, viewer)."""
        return {"name": self.name, "version": self.version, "python": self.python,
                "packages": list(self.packages), "hash": self.hash}


ENVIRONMENTS: Registry[EnvironmentSpec] = Registry("execeval.environments", "environment",
                                                   EnvironmentSpec)

STDLIB = EnvironmentSpec("stdlib", "1", (), "the standard library only")
# The classic benchmarks' (HumanEval, MBPP, APPS, ...): the standard library plus NumPy,
# what human-eval set-ups and the peers' images commonly carry; NumPy's last 1.x release.
CLASSIC = EnvironmentSpec("classic", "1", ("numpy==1.26.4",),
                          "the standard library plus NumPy (HumanEval, MBPP, APPS, ...)")
DEFAULT = "classic"


def _interpreter() -> str:
    return f"{sys.implementation.name}-{platform.python_version()}-{platform.machine()}"


def cache_root() -> Path:
    """$EXECEVAL_CACHE, else $XDG_CACHE_HOME/execeval, else ~/.cache/execeval."""
    if os.environ.get(CACHE_VARIABLE):
        return Path(os.environ[CACHE_VARIABLE])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "execeval"


def resolve(name_or_file: str | EnvironmentSpec | None, default: str = DEFAULT
            ) -> EnvironmentSpec:
    """A registered name, or a spec file (TOML or JSON: name, version, packages, ...)."""
    if isinstance(name_or_file, EnvironmentSpec):
        return name_or_file
    given = name_or_file or default
    path = Path(given)
    if given not in ENVIRONMENTS and (path.suffix in (".toml", ".json") or path.is_file()):
        return read_spec(path)
    return ENVIRONMENTS.get(given)


def read_spec(path: Path) -> EnvironmentSpec:
    """A spec file, every field checked: a wrong one is one line naming the file and it."""
    try:
        text = path.read_text()
    except OSError as e:
        raise UserError(f"{path}: cannot read the environment file ({e.strerror})") from None
    try:
        raw = tomllib.loads(text) if path.suffix != ".json" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'TOML'} "
                        f"({e})") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: an environment file holds a table of fields")
    unknown = sorted(set(raw) - set(SPEC_FIELDS))
    if unknown:
        raise UserError(f"{path}: unknown field {unknown[0]!r} (known: {', '.join(SPEC_FIELDS)})")
    for name in ("name", "version"):
        if not isinstance(raw.get(name), str | int) or not str(raw[name]):
            raise UserError(f"{path}: field {name!r} is required (a string)")
    if not _NAME.match(str(raw["name"])):
        raise UserError(f"{path}: field 'name' must be letters, digits, '.', '_' or '-'")
    packages = raw.get("packages", [])
    if not isinstance(packages, list) or not all(isinstance(p, str) and p.strip()
                                                 for p in packages):
        raise UserError(f"{path}: field 'packages' must be a list of requirements "
                        "(\"numpy==1.26.4\")")
    for name in ("description", "python"):
        if not isinstance(raw.get(name, ""), str):
            raise UserError(f"{path}: field {name!r} must be a string")
    return EnvironmentSpec(str(raw["name"]), str(raw["version"]),
                           tuple(p.strip() for p in packages), raw.get("description", ""),
                           raw.get("python", ""))


def describe(env: Environment) -> str:
    """One line: name, version, hash, interpreter and what it holds."""
    held = ", ".join(env.packages) or "nothing but the standard library"
    return f"{env.name} {env.version} ({env.hash}): Python {env.python}; {held}"


def undeclared(env: Environment) -> tuple[str, ...]:
    """Top-level modules of the harness's own installation (execeval, its dependencies and
    extras) that the environment does not hold: none may be importable by a program."""
    import importlib.metadata as metadata

    held = {_project(p) for p in env.packages}
    mine = metadata.packages_distributions()
    return tuple(sorted(module for module, projects in mine.items()
                        if not module.startswith("_") and module.isidentifier()
                        and not any(_project(p) in held for p in projects)))


def from_identity(identity: dict[str, Any]) -> EnvironmentSpec:
    """The spec to grade in again as a run did: the registered one of that name and version,
    else one pinning exactly the packages the run recorded."""
    name, version = str(identity.get("name", "")), str(identity.get("version", ""))
    if name in ENVIRONMENTS and ENVIRONMENTS.get(name).version == version:
        return ENVIRONMENTS.get(name)
    return EnvironmentSpec(name or "recorded", version or "1",
                           tuple(identity.get("packages", ())), "as a stored run recorded it")


def folder(spec: EnvironmentSpec) -> Path:
    return cache_root() / "environments" / f"{spec.name}-{spec.key}"


def built(spec: EnvironmentSpec) -> Environment | None:
    """The environment if it is built (nothing is built here)."""
    record = folder(spec) / "environment.json"
    if not record.is_file():
        return None
    data = json.loads(record.read_text())
    prefix = folder(spec)  # paths are kept relative: a moved cache folder still works
    return Environment(data["name"], data["version"], data["python"], tuple(data["packages"]),
                       data["hash"], str(prefix), tuple(str(prefix / s) for s in data["site"]))


def ensure(spec: EnvironmentSpec, *, wheels: str | Path | None = None,
           quiet: bool = False) -> Environment:
    """The built environment, building it first if it is not (once: concurrent callers wait
    for the first). `wheels` (or $EXECEVAL_WHEELS): install offline from that folder."""
    found = built(spec)
    if found is not None:
        return found
    _check_python(spec)
    target = folder(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent / f".{target.name}.lock"):
        found = built(spec)
        if found is None:
            _build(spec, target, wheels or os.environ.get(WHEELS_VARIABLE) or None, quiet)
            found = built(spec)
    assert found is not None
    return found


def _check_python(spec: EnvironmentSpec) -> None:
    have = f"{sys.version_info.major}.{sys.version_info.minor}"
    if spec.python and spec.python != have:
        raise UserError(f"environment {spec.name!r} needs Python {spec.python}; execeval runs "
                        f"on {have} (install execeval under Python {spec.python})")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _build(spec: EnvironmentSpec, target: Path, wheels: str | Path | None, quiet: bool) -> None:
    """Build in a scratch folder and move it into place only when complete: an interrupted
    build leaves nothing that looks built."""
    scratch = target.parent / f".{target.name}.{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    steps = 2 + len(spec.packages)
    label = f"building environment {spec.name}"
    try:
        with _bar(label, steps, quiet) as advance:
            _run([sys.executable, "-m", "venv", "--without-pip", str(scratch)], spec)
            advance(1)
            site = _site_packages(scratch)
            if spec.packages:
                _pip_install(spec, site, wheels, advance)
            packages = sorted(f"{d.metadata['Name']}=={d.version}"
                              for d in distributions(path=[str(site)]))
            identity = {"interpreter": _interpreter(), "packages": packages}
            digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
            record = {"name": spec.name, "version": spec.version, "python":
                      platform.python_version(), "packages": packages, "hash": digest[:16],
                      "site": [str(site.relative_to(scratch))],
                      "spec": list(spec.packages)}
            (scratch / "environment.json").write_text(json.dumps(record, indent=1) + "\n")
            os.rename(scratch, target)
            advance(1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def _bar(label: str, total: int, quiet: bool) -> Iterator[Callable[[int], None]]:
    if quiet:
        yield _nothing
    else:
        with progress_bar(label, total) as advance:
            yield advance


def _nothing(steps: int = 1) -> None:
    """A progress bar's `advance` that draws nothing."""


def _site_packages(prefix: Path) -> Path:
    v = sys.version_info
    return prefix / "lib" / f"python{v.major}.{v.minor}" / "site-packages"


def _pip_install(spec: EnvironmentSpec, site: Path, wheels: str | Path | None,
                 advance: Callable[[int], None]) -> None:
    """One pip call (one resolution for all the pins); the bar moves as pip reaches each."""
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check",
               "--no-input", "--no-warn-script-location", "--progress-bar", "off",
               "--target", str(site)]
    if wheels:
        command += ["--no-index", "--find-links", str(wheels)]
    names = {_project(p) for p in spec.packages}
    proc = subprocess.Popen([*command, *spec.packages], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line.rstrip())
        match = re.match(r"\s*(?:Collecting|Processing)\s+(\S+)", line)
        if match and _project(match.group(1)) in names:
            names.discard(_project(match.group(1)))
            advance(1)
    if proc.wait() != 0:
        tail = next((ln for ln in reversed(lines) if ln.startswith("ERROR")), lines[-1:] or [""])
        raise UserError(f"environment {spec.name!r} could not be built: pip failed "
                        f"({str(tail).strip()})")
    if names:
        advance(len(names))


def _project(requirement: str) -> str:
    """The normalised project name of a requirement or a wheel's file name."""
    name = re.split(r"[\s<>=!~;\[@(]|-\d", Path(requirement).name, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _run(command: list[str], spec: EnvironmentSpec) -> None:
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise UserError(f"environment {spec.name!r} could not be built: {last}")


def remove(spec: EnvironmentSpec) -> bool:
    """Delete a built environment (it is rebuilt on next use)."""
    target = folder(spec)
    if not target.exists():
        return False
    shutil.rmtree(target)
    return True
