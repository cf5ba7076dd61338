"""`execeval report`: one self-contained file, escaped, with every section the runs call for."""

from __future__ import annotations

import base64
import gzip
import json
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from support.report import GOOD_A, SCRIPT, Runs

import execeval.api
from execeval.errors import UserError
from execeval.report import build_report, data, write_report
from execeval.store import SampleRow, Store
from execeval.verdict import Verdict


def samples_in(html: str) -> dict:
    blob = re.search(r'<script type="application/octet-stream" id="sample-data"[^>]*>([^<]*)<',
                     html).group(1)
    return json.loads(gzip.decompress(base64.b64decode(blob)))


def test_the_command_writes_one_file_that_needs_no_network(runs: Runs, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-m", "execeval.cli", "report", runs.evaluate,
                           runs.generated[:6], "-o", str(out), "--store", str(runs.store)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//""", html)
    assert "<link rel=\"stylesheet\"" not in html and "@import" not in html
    # one executable script, our own, inline; the samples ride in a data block
    assert sorted(re.findall(r"<script(?:>| [^>]*>)", html)) == [
        '<script type="application/octet-stream" id="sample-data" data-encoding="gzip+base64">',
        "<script>"]
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert "connect-src 'none'" in unescape(policy.group(1))  # it may not even try to fetch
    assert html.count("<svg") == 2       # pass@k curve and status breakdown, inline


def test_every_sample_is_inside_and_model_output_never_as_markup(runs: Runs,
                                                                 report_file: Path) -> None:
    html = report_file.read_text()
    assert SCRIPT not in html and "window.__pwned" not in html
    packed = samples_in(html)
    rows = [dict(zip(packed["fields"], r, strict=True))
            for task in packed["samples"].values() for r in task]
    assert len(rows) == 2 * 6 * 4
    assert {r["raw"] for r in rows if r["run"] == 1 and r["status"] == "error"} == {SCRIPT}
    failing = next(r for r in rows if r["run"] == 0 and r["status"] == "failed")
    assert failing["detail"].startswith("assertion failed")
    assert all(packed["prompts"][r["prompt"]]["messages"] for r in rows if r["run"] == 1)


def test_summary_comparison_and_disagreements(runs: Runs, report_file: Path) -> None:
    html = report_file.read_text()
    store = Store(runs.store, read_only=True)
    try:
        a, b = (store.run(r)["summary"] for r in (runs.evaluate, runs.generated))
    finally:
        store.close()
    assert a["pass_at_k"]["1"] == sum(GOOD_A) / 24
    for s in (a, b):
        low, high = s["pass_at_k_ci"]["1"]
        assert f'{100 * s["pass_at_k"]["1"]:.1f}%' in html
        assert f"[{100 * low:.1f}, {100 * high:.1f}]" in html
    assert 'id="paired"' in html
    assert "samples completions.jsonl vs samples:chat_answers.jsonl" in html  # the models
    disagree = re.findall(r'<tr data-task="([^"]+)"[^>]*class="disagree"', html)
    assert disagree == ["HumanEval/1", "HumanEval/2"]  # A mostly passes, B fails; and back
    for section in ("Status of the samples", "syntax error", "Generation and extraction",
                    "unparseable", "truncated (hit max tokens)"):
        assert section in html


def _fake_run(store: Store, run_id: str, dataset: str, summary: dict | None,
              verdicts: list[Verdict], kind: str = "evaluate") -> None:
    """A run written straight to the store: for summaries no small real run produces."""
    store.begin_run(run_id, kind, (dataset, "v1", dataset + "-hash"), {"ks": [1]})
    rows = [SampleRow(i, f"{dataset}/{i // 2}", i % 2, f"{run_id}-{i}", f"x = {i}\n",
                      "solution", {"task_id": f"{dataset}/{i // 2}", "solution": f"x = {i}\n"})
            for i in range(len(verdicts))]
    store.put_samples(run_id, rows)
    store.put_verdicts([(r.verdict_key, v) for r, v in zip(rows, verdicts, strict=True)])
    if summary is not None:
        store.finish_run(run_id, summary)


def test_apps_by_difficulty_evalplus_base_vs_plus_and_unpaired_datasets(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    ok, bad = Verdict(True, "passed"), Verdict(False, "timeout", "took 3.0 s")
    common = {"pass_at_k": {"1": 0.5}, "pass_at_k_ci": {"1": [0.2, 0.8]},
              "fraction_correct": 0.5, "status_counts": {"passed": 2, "timeout": 2}}
    _fake_run(store, "apps00000001", "apps", {
        **common, "strict_accuracy": 0.5, "strict_accuracy_ci": [0.1, 0.9],
        "test_case_average": 0.625, "test_case_average_ci": [0.3, 0.9],
        "by_difficulty": {"introductory": {"n_problems": 1, "strict_accuracy": 1.0,
                                           "test_case_average": 1.0},
                          "competition": {"n_problems": 1, "strict_accuracy": 0.0,
                                          "test_case_average": 0.25}}}, [ok, ok, bad, bad])
    _fake_run(store, "plus00000001", "humanevalplus", {
        **common, "base_pass_at_k": {"1": 0.75}, "base_pass_at_k_ci": {"1": [0.4, 0.9]},
        "n_pass_base_fail_plus": 1, "fraction_base_passers_failing_plus": 1 / 3},
        [ok, bad, ok, bad])
    html = build_report(store, ["apps", "plus"])
    store.close()
    assert "APPS by difficulty" in html and "competition" in html and "25.0%" in html
    assert "EvalPlus: base tests vs plus tests" in html and "-25.0 pts" in html
    assert "1 samples pass the base tests but fail the plus tests" in html
    assert "not compared: runs apps00000001 and plus00000001 are on different datasets" in html
    assert html.count('<span class="swatch" style="background: #eab308">') == 2  # timeouts


def test_a_run_still_going_is_summarised_from_its_verdicts_so_far(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    _fake_run(store, "live00000001", "toy", None,
              [Verdict(True, "passed"), Verdict(False, "failed", "assert 1 == 2")])
    store.put_samples("live00000001", [SampleRow(2, "toy/1", 0, "not-graded", "y = 1\n",
                                                 "solution", {"task_id": "toy/1"})])
    run = data.run_data(store, "live")
    assert run.live and run.status == "running"
    assert (run.n_graded, run.n_samples) == (2, 3)
    assert run.summary["pass_at_k"] == {"1": 0.5}
    assert dict(run.status_counts)["pending"] == 1
    html = build_report(store, ["live"])
    store.close()
    assert "The run has not finished" in html and "50.0%" in html


def test_long_texts_are_cut_in_the_file(tmp_path: Path) -> None:
    assert data.clip("x" * 30, 10) == "x" * 10 + "\n… [20 more characters not shown]"
    assert data.clip("short", 10) == "short"


def test_unknown_run_is_one_line_and_exit_2(runs: Runs, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "execeval.cli", "report", "nosuchrun", "-o",
                           str(tmp_path / "r.html"), "--store", str(runs.store)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"execeval: error: no run 'nosuchrun' in {runs.store}"]
    assert not (tmp_path / "r.html").exists()


def test_write_report_says_how_big(runs: Runs, tmp_path: Path) -> None:
    size = write_report(runs.store, [runs.generated], tmp_path / "one.html")
    assert size == (tmp_path / "one.html").stat().st_size


def test_given_labels_are_text_and_must_tell_the_runs_apart(runs: Runs) -> None:
    store = Store(runs.store, read_only=True)
    try:
        html = build_report(store, [runs.evaluate, runs.generated],
                            labels=["<b>old</b> prompt", "new prompt"])
        assert "&lt;b&gt;old&lt;/b&gt; prompt vs new prompt" in html and "<b>old" not in html
        for labels, error in ((["same", "same"], "the label 'same' is given twice"),
                              ([" ", "new"], "a label cannot be empty")):
            with pytest.raises(UserError, match=error):
                build_report(store, [runs.evaluate, runs.generated], labels=labels)
    finally:
        store.close()


TEMPERATURES = (0.2, 0.4, 0.6, 0.8, 1.0)


def _report(args: list[str], out: Path, store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "execeval.cli", "report", *args, "-o",
                           str(out), "--store", str(store)],
                          capture_output=True, text=True, timeout=120)


def _run_names(html: str) -> dict[str, list[str]]:
    """How the page names the runs: comparison headings, run cards, the pass@k legend."""
    curve = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    return {"headings": re.findall(r'<th class="r run-head"[^>]*>([^<]*)</th>', html),
            "cards": re.findall(r'<span class="run-label">([^<]*)</span>', html)[:5],
            "legend": [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", curve)
                       if not re.fullmatch(r"[\d.%]+|pass@k|k \(.*\)", t)]}  # not axes


def test_runs_at_five_temperatures_are_named_by_their_temperatures(tmp_path: Path) -> None:
    """One model at five temperatures once made a legend of five identical model names."""
    store = tmp_path / "s.sqlite"
    ids = [execeval.api.run("fake:planted?distinct=0", "humaneval", n=2, temperature=t,
                            limit=3, store=store).run_id for t in TEMPERATURES]
    out = tmp_path / "report.html"
    proc = _report(ids, out, store)
    assert proc.returncode == 0, proc.stderr
    names = ["T=0.2", "T=0.4", "T=0.6", "T=0.8", "T=1"]
    assert _run_names(out.read_text()) == {"headings": names, "cards": names, "legend": names}

    given = [f"run {c}" for c in "abcde"]
    proc = _report([*ids, *(x for g in given for x in ("--label", g))], out, store)
    assert proc.returncode == 0, proc.stderr
    assert _run_names(out.read_text()) == {"headings": given, "cards": given, "legend": given}

    out.unlink()
    proc = _report([*ids, "--label", "a", "--label", "b"], out, store)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "execeval: error: 2 labels for 5 runs: give one label per run, in the runs' order"]
    assert not out.exists()
