"""`execeval report RUN [RUN ...] -o report.html`: runs as one self-contained HTML file.

The file holds everything it shows (styles, script, SVG plots, and every sample,
gzip-compressed and base64-encoded), so it can be mailed and opened offline. The page
shows summaries, plots and the per-problem table at once; the samples are decompressed
by the browser (DecompressionStream) only when a problem is opened, and listed a page at
a time, so a 16,400-sample run opens in about a second (docs/report.md).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import gzip
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from execeval import __version__
from execeval.errors import UserError
from execeval.report import data, render
from execeval.store import Store, default_path

# characters kept of one text of a sample (raw output, program, detail): a model that
# loops until max_tokens must not make the file unmailable; the viewer shows all of it
TEXT_LIMIT = 20_000


def build_report(store: Store, run_ids: Sequence[str]) -> str:
    """The HTML of the report on `run_ids` (ids or unique prefixes), as one string."""
    runs = data.load_runs(store, run_ids)
    payload = data.samples_payload(store, runs, limit=TEXT_LIMIT)
    packed = gzip.compress(json.dumps(payload, separators=(",", ":")).encode("ascii"), 6)
    return render.render(
        "report.html", **render.content_context(store, runs, problem_href=render.task_anchor),
        csp=render.csp(), live_url=None, samples_blob=base64.b64encode(packed).decode("ascii"),
        generated=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), version=__version__)


def write_report(store_path: Path, run_ids: Sequence[str], out: Path) -> int:
    """Write the report (whole or not at all) and return its size in bytes."""
    store = Store(store_path, read_only=True)
    try:
        html = build_report(store, run_ids)
    finally:
        store.close()
    body = html.encode("utf-8", "replace")  # a lone surrogate in model output becomes "?"
    partial = out.with_name(out.name + ".partial")
    try:
        partial.write_bytes(body)
        os.replace(partial, out)
    except OSError as e:
        raise UserError(f"{out}: cannot write the report ({e.strerror})") from None
    return len(body)


def cmd_report(args: argparse.Namespace) -> int:
    store_path = Path(args.store) if args.store else default_path()
    out = Path(args.out)
    size = write_report(store_path, args.runs, out)
    print(f"report on {len(args.runs)} run{'s' if len(args.runs) > 1 else ''} written to "
          f"{out} ({size / 1e6:.1f} MB)", file=sys.stderr)
    return 0
