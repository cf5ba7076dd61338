"""Take docs/report.png and docs/viewer.png from two real runs (20 HumanEval problems,
10 samples each, graded offline): `.venv/bin/python scripts/screenshots.py`."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # tests/support
from support.report import build_runs, viewer

from execeval.report import write_report

DOCS = Path(__file__).resolve().parents[1] / "docs"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        good_a = [(j * 7 + 3) % 11 for j in range(20)]
        good_b = [(j * 5 + 6) % 11 for j in range(20)]
        runs = build_runs(Path(tmp) / "runs.sqlite", good_a, good_b, 10)
        report = Path(tmp) / "report.html"
        write_report(runs.store, [runs.evaluate, runs.generated], report)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"),
                                         args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            page.goto(report.as_uri())
            page.screenshot(path=DOCS / "report.png")
            with viewer(runs.store) as url:
                page.set_viewport_size({"width": 1400, "height": 1000})
                page.goto(f"{url}problem/HumanEval/7?run={runs.evaluate}&run={runs.generated}")
                page.select_option("#problem-host .sample-status", "failed")
                page.screenshot(path=DOCS / "viewer.png")
            browser.close()
    print(f"wrote {DOCS / 'report.png'} and {DOCS / 'viewer.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
