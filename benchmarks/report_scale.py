"""Measure the report at the issue's scale: 164 HumanEval problems x 100 samples, graded
for real (about 75 s on 2 cores; a second call reuses the stored verdicts), then the time
and size of `execeval report` and how long headless Chromium takes to open it.

    .venv/bin/python benchmarks/report_scale.py [STORE]   (default /tmp/execeval-scale)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

import execeval


def rows() -> list[dict[str, str]]:
    """Per problem a different share of canonical completions, the rest wrong in three
    ways (failing, raising, not parsing); every text distinct."""
    out = []
    for j, p in enumerate(execeval.load_dataset("humaneval").problems.values()):
        right = p.reference[len(p.prompt):]
        share = (j * 37) % 101
        for i in range(100):
            if i < share:
                text = right + f"# {i}\n"
            else:
                text = (f"    return None  # {i}\n", f"    raise ValueError('sample {i}')\n",
                        f"    return (  # {i}\n")[i % 3]
            out.append({"task_id": p.task_id, "completion": text})
    return out


def main() -> int:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/execeval-scale")
    folder.mkdir(parents=True, exist_ok=True)
    store, out = folder / "runs.sqlite", folder / "report.html"
    started = time.monotonic()
    run = execeval.evaluate(rows(), "humaneval", store=store, workers=2)
    print(f"graded {run.summary['n_samples']} samples in {time.monotonic() - started:.1f} s "
          f"({run.cached} verdicts reused); run {run.run_id}")
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "execeval.cli", "report", run.run_id, "-o", str(out),
                    "--store", str(store)], check=True)
    print(f"`execeval report`: {time.monotonic() - started:.2f} s wall (process start "
          f"included), {out.stat().st_size / 1e6:.2f} MB")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"),
                                     args=["--no-sandbox"])
        for attempt in (1, 2, 3):
            page = browser.new_page()
            started = time.monotonic()
            page.goto(out.as_uri(), wait_until="load")
            loaded = time.monotonic() - started
            page.click("a.problem-link >> nth=0")
            page.wait_for_selector("#problem-dialog .sample")
            opened = time.monotonic() - started
            print(f"Chromium #{attempt}: page loaded in {loaded:.2f} s; first problem's "
                  f"samples shown {opened:.2f} s after navigation")
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
