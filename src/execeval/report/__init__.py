"""`execeval report RUN [RUN ...] -o report.html`: runs as one self-contained HTML file.

The file holds everything it shows (styles, script, SVG plots, and every sample,
gzip-compressed and base64-encoded), so it can be mailed and opened offline. The page
shows summaries, plots and the per-problem table at once; the samples are decompressed
by the browser (DecompressionStream) only when a problem is opened, and listed a page at
a time, so a 16,400-sample run opens in about a second (docs/report.md).
"""

from __future__ import annotations

import base64
import datetime
import gzip
import json
from collections.abc import Sequence
from pathlib import Path

from execeval.jsonl import output_path, write_whole
from execeval.report import data, render
from execeval.store import Store
from execeval.version import __version__

# characters kept of one text of a sample (raw output, program, detail): a model that
# loops until max_tokens must not make the file unmailable; the viewer shows all of it
TEXT_LIMIT = 20_000


def build_report(store: Store, run_ids: Sequence[str], *,
                 labels: Sequence[str] | None = None) -> str:
    """The HTML of the report on `run_ids` (ids or unique prefixes), as one string; the
    runs are named by `labels` (one per run), or else by what differs between them."""
    runs = data.runs_data(store, run_ids, labels)
    payload = data.samples_payload(store, runs, limit=TEXT_LIMIT)
    packed = gzip.compress(json.dumps(payload, separators=(",", ":")).encode("ascii"), 6)
    return render.render(
        "report.html", **render.content_context(store, runs, problem_href=render.task_anchor),
        csp=render.csp(), live_url=None, samples_blob=base64.b64encode(packed).decode("ascii"),
        generated=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), version=__version__)


def write_report(store_path: Path, run_ids: Sequence[str], out: Path, *,
                 labels: Sequence[str] | None = None) -> int:
    """Write the report (whole or not at all, `jsonl.write_whole`) and return its size in
    bytes; a missing folder is refused before the runs are read."""
    output_path(out)
    store = Store(store_path, read_only=True)
    try:
        html = build_report(store, run_ids, labels=labels)
    finally:
        store.close()
    with write_whole(out, errors="replace") as f:  # a lone surrogate in model output: "?"
        f.write(html)
    return out.stat().st_size
