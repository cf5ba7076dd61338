"""Grading environments: a program imports what its environment declares and nothing of the
harness's; the environment is recorded in every run and keys every cached verdict.

Real components throughout: environments built by `execeval env build` (a virtual
environment plus pip, from the package index or offline from a wheel folder written here),
the real sandbox, the real CLI and store."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from support import ADD_PROBLEM, last_json, write_jsonl

from execeval.web.view import create_app

CLI = Callable[..., subprocess.CompletedProcess[str]]

PLOT = """\
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
def add(a, b):
    return a + b
"""
NUMPY = "import numpy as np\ndef add(a, b):\n    return np.add(a, b).item()\n"
HARNESS = "import rich\ndef add(a, b):\n    return a + b\n"


def _problems(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "problems.jsonl", [ADD_PROBLEM])


def _samples(tmp_path: Path, *programs: str) -> Path:
    return write_jsonl(tmp_path / "samples.jsonl",
                       [{"task_id": "Toy/add", "solution": p} for p in programs])


def _evaluate(cli: CLI, tmp_path: Path, samples: Path, *extra: str) -> dict:
    proc = cli("evaluate", "--problems", str(_problems(tmp_path)), "--samples", str(samples),
               "--results", str(tmp_path / "results.jsonl"), "--json", *extra, check=True)
    summary = last_json(proc.stdout)
    summary["rows"] = [json.loads(line) for line in
                       (tmp_path / "results.jsonl").read_text().splitlines()]
    return summary


def test_matplotlib_is_only_importable_where_an_environment_declares_it(
        cli: CLI, tmp_path: Path) -> None:
    """The harness itself has matplotlib (the report draws with it): a program must not."""
    samples = _samples(tmp_path, PLOT)
    default = _evaluate(cli, tmp_path, samples)
    (row,) = default["rows"]
    assert (row["passed"], row["status"]) == (False, "error")
    assert "ModuleNotFoundError: No module named 'matplotlib'" in row["detail"]
    assert default["environment"]["name"] == "classic"

    spec = tmp_path / "plotting.toml"
    spec.write_text('name = "plotting"\nversion = "1"\npackages = ["matplotlib==3.8.4"]\n')
    declared = _evaluate(cli, tmp_path, samples, "--env", str(spec))
    assert declared["rows"][0]["passed"], declared["rows"][0]
    assert declared["environment"]["name"] == "plotting"
    assert "matplotlib==3.8.4" in declared["environment"]["packages"]
    assert declared["environment"]["hash"] != default["environment"]["hash"]


def test_the_harness_packages_are_not_importable(cli: CLI, tmp_path: Path) -> None:
    (row,) = _evaluate(cli, tmp_path, _samples(tmp_path, HARNESS))["rows"]
    assert "No module named 'rich'" in row["detail"]


def test_two_environments_never_share_a_verdict(cli: CLI, tmp_path: Path) -> None:
    """The same program, the same store: graded in `stdlib` it fails (no NumPy), in
    `classic` it passes, and neither run reuses the other's verdict; the same environment
    again reuses it."""
    samples = _samples(tmp_path, NUMPY)
    bare = _evaluate(cli, tmp_path, samples, "--env", "stdlib")
    assert bare["rows"][0]["status"] == "error" and "numpy" in bare["rows"][0]["detail"]
    assert bare["verdicts_reused"] == 0
    classic = _evaluate(cli, tmp_path, samples, "--env", "classic")
    assert classic["rows"][0]["passed"] and classic["verdicts_reused"] == 0
    assert classic["run_id"] != bare["run_id"]
    again = _evaluate(cli, tmp_path, samples, "--env", "stdlib", "--timeout", "4")
    assert again["verdicts_reused"] == 0  # other limits: another key as well
    same = _evaluate(cli, tmp_path, samples, "--env", "classic")
    assert same["verdicts_reused"] == 1 and same["rows"][0]["passed"]


def test_the_environment_is_recorded_exactly(cli: CLI, tmp_path: Path) -> None:
    """The run's --json, its stored config and `env show` agree on what it held."""
    summary = _evaluate(cli, tmp_path, _samples(tmp_path, NUMPY))
    shown = last_json(cli("env", "show", "classic", "--json", check=True).stdout)
    assert summary["environment"] == shown["identity"]
    assert summary["environment"]["packages"] == ["numpy==1.26.4"]
    assert summary["environment"]["python"].count(".") == 2
    stored = last_json(cli("show", summary["run_id"], "--json", check=True).stdout)
    assert stored["config"]["environment"] == shown["identity"]
    label = f"env classic 1 ({shown['identity']['hash']})"
    report = tmp_path / "report.html"
    cli("report", summary["run_id"], "-o", str(report), check=True)
    assert label in report.read_text()
    viewer = TestClient(create_app(tmp_path / "store.sqlite"), base_url="http://localhost")
    assert label in viewer.get("/").text
    assert label in viewer.get(f"/run/{summary['run_id']}").text


def _wheel(folder: Path, name: str, version: str, module: str) -> Path:
    """A minimal pure-Python wheel, written by hand (no build tool, no network)."""
    dist = f"{name}-{version}"
    files = {f"{name}/__init__.py": module,
             f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\n"
                                           f"Version: {version}\n",
             f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\n"
                                        "Root-Is-Purelib: true\nTag: py3-none-any\n"}
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist}.dist-info/RECORD,,")
    files[f"{dist}.dist-info/RECORD"] = "\n".join(record) + "\n"
    wheel = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
    return wheel


def test_an_environment_builds_offline_from_a_wheel_folder(
        cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels, "tinyadd", "1.0", "def plus(a, b):\n    return a + b\n")
    spec = tmp_path / "tiny.toml"
    spec.write_text(f'name = "tiny-{tmp_path.name}"\nversion = "1"\n'
                    'packages = ["tinyadd==1.0"]\n')
    built = cli("env", "build", str(spec), "--wheels", str(wheels), "--json", check=True)
    identity = last_json(built.stdout)["identity"]
    assert identity["packages"] == ["tinyadd==1.0"]
    program = "from tinyadd import plus\ndef add(a, b):\n    return plus(a, b)\n"
    summary = _evaluate(cli, tmp_path, _samples(tmp_path, program), "--env", str(spec))
    assert summary["rows"][0]["passed"] and summary["environment"] == identity


def test_a_wrong_environment_is_one_line(cli: CLI, tmp_path: Path) -> None:
    unknown = cli("evaluate", "--problems", str(_problems(tmp_path)), "--samples",
                  str(_samples(tmp_path, NUMPY)), "--env", "nope")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == ("execeval: error: unknown environment 'nope' "
                                      "(known: classic, stdlib)")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nversion = "1"\npackages = "numpy"\n')
    proc = cli("env", "build", str(bad))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert f"{bad}: field 'packages' must be a list" in proc.stderr
    typo = tmp_path / "typo.toml"
    typo.write_text('name = "x"\nversion = "1"\npackage = ["numpy"]\n')
    proc = cli("env", "show", str(typo))
    assert proc.returncode == 2 and "unknown field 'package'" in proc.stderr
    missing = cli("env", "build", "pipdoesnotexist-zzz.toml")
    assert missing.returncode == 2 and "cannot read the environment file" in missing.stderr


def test_a_failed_build_leaves_nothing_that_looks_built(cli: CLI, tmp_path: Path) -> None:
    spec = tmp_path / "broken.toml"
    spec.write_text(f'name = "broken-{tmp_path.name}"\nversion = "1"\n'
                    'packages = ["tinyadd==9.9"]\n')
    (tmp_path / "empty").mkdir()
    proc = cli("env", "build", str(spec), "--wheels", str(tmp_path / "empty"))
    assert proc.returncode == 2 and "could not be built: pip failed" in proc.stderr
    shown = last_json(cli("env", "show", str(spec), "--json", check=True).stdout)
    assert shown["built"] is False and not Path(shown["folder"]).exists()


def test_sandbox_check_names_the_environment_and_hides_the_harness(cli: CLI) -> None:
    proc = cli("sandbox", "check", "--env", "classic")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("environment: classic 1 (") and "numpy==1.26.4" in lines[0]
    hidden = next(line for line in lines if line.startswith("harness packages hidden"))
    assert "active" in hidden and hidden.endswith("importable: none")
