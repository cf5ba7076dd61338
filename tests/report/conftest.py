"""Fixtures of the report and viewer tests: two real runs in a private store, the report
written from them, headless Chromium, and the viewer as a real subprocess."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.report import GOOD_A, GOOD_B, Runs, build_runs

from execeval.report import write_report


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return build_runs(tmp_path_factory.mktemp("store") / "runs.sqlite", GOOD_A, GOOD_B, 4)


@pytest.fixture(scope="session")
def report_file(runs: Runs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    write_report(runs.store, [runs.evaluate, runs.generated], out)
    return out


def _missing(what: str) -> None:
    """CI installs Chromium and playwright, so there their absence is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what}: CI must have it")
    pytest.skip(f"{what}: the browser tests need it")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        _missing("no chromium binary on PATH")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=binary, args=["--no-sandbox"])
    try:
        yield browser
    finally:
        browser.close()
        pw.stop()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh page; `page.errors` collects console errors and uncaught exceptions."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    p = context.new_page()
    p.errors = []
    p.on("console", lambda m: p.errors.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: p.errors.append(str(e)))
    p.set_default_timeout(10_000)
    try:
        yield p
    finally:
        context.close()
