"""What a report or the viewer shows of runs, gathered from the store in one place.

`execeval report` and `execeval view` both render these records with the same
templates, so a number means the same thing whichever drew it. A run that has not
finished has no stored summary: its summary is then folded from the verdicts stored so
far, with the same functions a finished run's went through (`execeval.summary`).
"""

from __future__ import annotations

import datetime
import math
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from execeval.errors import UserError
from execeval.options import DEFAULT_KS
from execeval.store import Store, StoredSample
from execeval.verdict import STATUSES

# every status a sample can show, in the order pages list them ("pending": not graded yet)
STATUS_ORDER = (*STATUSES, "pending")
# the columns of one sample in the pages' JSON (arrays, not objects: a 16,400-sample
# report carries each key once instead of 16,400 times)
SAMPLE_FIELDS = ("run", "idx", "sample", "task_id", "status", "passed", "raw", "program",
                 "detail", "extraction", "finish_reason", "n_tokens", "mean_logprob",
                 "seconds", "prompt", "extra")
CURVE_POINTS = 100  # the pass@k curve's most points (k = 1..n, thinned on a log scale above)


@dataclass
class ProblemStats:
    """One problem of one run: samples graded, passing, and the status of each."""

    task_id: str
    n: int = 0
    correct: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def pass_at_1(self) -> float | None:
        return self.correct / self.n if self.n else None

    @property
    def mix(self) -> list[tuple[str, int]]:
        return [(s, self.statuses[s]) for s in STATUS_ORDER if self.statuses.get(s)]


@dataclass(frozen=True)
class Metric:
    """A score with its 95% interval (None where the summary has none)."""

    name: str
    value: float
    ci: tuple[float, float] | None = None


@dataclass(frozen=True)
class CurvePoint:
    k: int
    estimate: float
    low: float
    high: float


@dataclass
class RunInfo:
    """What the runs list shows of a run: its settings and its scores."""

    run_id: str
    kind: str
    dataset: str
    dataset_version: str
    status: str
    created: float
    config: dict[str, Any]
    summary: dict[str, Any]          # stored, or folded from the verdicts so far
    live: bool                       # the summary was folded now: the run has not finished
    n_samples: int                   # recorded so far
    n_graded: int

    @property
    def model(self) -> str:
        """The model spec of a `run`; for `evaluate`, the samples file it graded."""
        if "model" in self.config:
            return str(self.config["model"])
        source = str(self.config.get("samples", ""))
        return f"samples {os.path.basename(source)}" if source else "samples"

    @property
    def name(self) -> str:
        """The model for a heading: a path shortened to its last part, an endpoint's URL
        left out (`model` has it all)."""
        kind, sep, rest = self.model.partition(":")
        if not sep:
            return self.model
        rest = rest.split("@")[0]
        if rest.startswith(("/", ".", "~")):
            rest = os.path.basename(rest.rstrip("/"))
        return f"{kind}:{rest}"

    @property
    def settings(self) -> str:
        s = self.config.get("settings") or {}
        limits = self.config.get("limits") or {}
        parts = [f"n={s['n']}" if "n" in s else "",
                 f"T={s['temperature']:g}" if s.get("temperature") is not None else "",
                 f"top_p={s['top_p']:g}" if s.get("top_p") is not None else "",
                 f"max_tokens={s['max_tokens']}" if s.get("max_tokens") else "",
                 str(self.config.get("prompt_style") or ""),
                 f"timeout {limits['timeout']:g}s" if "timeout" in limits else "",
                 f"{limits['memory_mb']} MiB" if "memory_mb" in limits else "",
                 self.environment]
        return " · ".join(p for p in parts if p)

    @property
    def environment(self) -> str:
        """The grading environment, as `env classic 1 (hash)` ("" for runs made before
        environments were recorded)."""
        env = self.config.get("environment") or {}
        return f"env {env['name']} {env['version']} ({env['hash']})" if env else ""

    @property
    def date(self) -> str:
        return datetime.datetime.fromtimestamp(self.created).strftime("%Y-%m-%d %H:%M")

    @property
    def headline(self) -> list[Metric]:
        """The scores with intervals: pass@k, fraction correct, then the benchmark's own."""
        s = self.summary
        out = [Metric(f"pass@{k}", v, _ci(s.get("pass_at_k_ci", {}).get(k)))
               for k, v in s.get("pass_at_k", {}).items()]
        if "fraction_correct" in s:
            out.append(Metric("fraction correct", s["fraction_correct"],
                              _ci(s.get("fraction_correct_ci"))))
        for key, name in (("strict_accuracy", "strict accuracy"),
                          ("test_case_average", "test-case average")):
            if key in s:
                out.append(Metric(name, s[key], _ci(s.get(f"{key}_ci"))))
        out += [Metric(f"base pass@{k}", v, _ci(s.get("base_pass_at_k_ci", {}).get(k)))
                for k, v in s.get("base_pass_at_k", {}).items()]
        return out

    @property
    def pass_at_1(self) -> Metric | None:
        return next((m for m in self.headline if m.name == "pass@1"), None)


@dataclass
class RunData(RunInfo):
    """Everything the pages show of one run except the samples' texts."""

    problems: dict[str, ProblemStats] = field(default_factory=dict)
    label: str = ""                  # its name when several runs share a page (`runs_data`)

    @cached_property
    def curve(self) -> list[CurvePoint]:
        return pass_at_k_curve(self.problems)

    @property
    def status_counts(self) -> list[tuple[str, int]]:
        """Every status the issue names (zeros too), then any other that occurred."""
        counts: dict[str, int] = {}
        for p in self.problems.values():
            for status, n in p.statuses.items():
                counts[status] = counts.get(status, 0) + n
        shown = [s for s in STATUS_ORDER if s not in ("harness_error", "pending")]
        shown += [s for s in STATUS_ORDER if counts.get(s) and s not in shown]
        return [(s, counts.get(s, 0)) for s in shown]

    @property
    def generation(self) -> dict[str, Any] | None:
        """Extraction rates and counts: only a finished `run` (one that generated) has them."""
        return self.summary.get("generation")

    @property
    def by_difficulty(self) -> dict[str, dict[str, Any]]:
        return self.summary.get("by_difficulty") or {}

    @property
    def evalplus(self) -> list[tuple[Metric, Metric | None]]:
        """(base pass@k, plus pass@k) pairs of an EvalPlus run."""
        plus = {m.name: m for m in self.headline if m.name.startswith("pass@")}
        return [(m, plus.get(m.name.removeprefix("base "))) for m in self.headline
                if m.name.startswith("base pass@")]


@dataclass(frozen=True)
class ProblemRow:
    """One line of the per-problem table: a problem, each run's stats, and whether the
    runs disagree (one mostly passes it where another mostly fails)."""

    task_id: str
    cells: list[ProblemStats | None]
    disagree: bool


def _ci(pair: Sequence[float] | None) -> tuple[float, float] | None:
    return (float(pair[0]), float(pair[1])) if pair else None


def problem_stats(store: Store, run_id: str) -> dict[str, ProblemStats]:
    """Per problem, in run order: graded, passed and the status mix, in one query (the
    viewer asks again every two seconds while a run goes on, so no sample is parsed)."""
    rows = store.status_counts(run_id)
    first: dict[str, int] = {}
    out: dict[str, ProblemStats] = {}
    for task, status, count, passed, idx in rows:
        first[task] = min(idx, first.get(task, idx))
        p = out.setdefault(task, ProblemStats(task))
        p.statuses[status] = count
        if status != "pending":
            p.n += count
            p.correct += passed
    return {t: out[t] for t in sorted(out, key=first.__getitem__)}


def _live_summary(problems: dict[str, ProblemStats], ks: Sequence[int]) -> dict[str, Any]:
    """The common summary keys, folded from what is graded so far."""
    from execeval import metrics, summary

    counts = [(p.n, p.correct) for p in problems.values() if p.n]
    n_samples = sum(n for n, _ in counts)
    statuses: dict[str, int] = {}
    for p in problems.values():
        for s, n in p.statuses.items():
            if s != "pending":
                statuses[s] = statuses.get(s, 0) + n
    out: dict[str, Any] = {
        "n_problems": len(counts), "n_samples": n_samples,
        "pass_at_k": {str(k): v for k, v in metrics.mean_pass_at_k(counts, ks).items()},
        "fraction_correct": sum(c for _, c in counts) / n_samples if n_samples else 0.0,
        "status_counts": dict(sorted(statuses.items())),
    }
    if counts:
        out.update(summary.intervals(counts, ks))
    return out


def pass_at_k_curve(problems: dict[str, ProblemStats]) -> list[CurvePoint]:
    """pass@k with its interval for k = 1 .. the smallest n (problems resampled)."""
    from execeval import stats

    graded = [p for p in problems.values() if p.n]
    if not graded:
        return []
    n = [p.n for p in graded]
    top = min(n)
    if top <= CURVE_POINTS:
        k_values = list(range(1, top + 1))
    else:
        k_values = sorted({round(top ** (i / (CURVE_POINTS - 1))) for i in range(CURVE_POINTS)})
    matrix = stats.pass_at_k_matrix(n, [p.correct for p in graded], k_values)
    out = []
    for j, k in enumerate(k_values):
        interval = stats.ci_mean(matrix[:, j])
        low = interval.low if math.isfinite(interval.low) else 0.0
        high = interval.high if math.isfinite(interval.high) else 1.0
        out.append(CurvePoint(k, interval.estimate, low, high))
    return out


def _summary(r: dict[str, Any], problems: dict[str, ProblemStats]) -> dict[str, Any]:
    if r["summary"] is not None:
        return r["summary"]
    # a run still going: the default ks (a k is reported once every problem has k samples)
    return _live_summary(problems, r["config"].get("ks") or DEFAULT_KS)


def run_data(store: Store, prefix: str) -> RunData:
    """One run by id or unique prefix, with its per-problem stats."""
    r = store.run(prefix)
    problems = problem_stats(store, r["run_id"])
    return RunData(run_id=r["run_id"], kind=r["kind"], dataset=r["dataset"],
                   dataset_version=r["dataset_version"], status=r["status"],
                   created=r["created"], config=r["config"],
                   summary=_summary(r, problems), live=r["summary"] is None,
                   n_samples=sum(sum(p.statuses.values()) for p in problems.values()),
                   n_graded=sum(p.n for p in problems.values()), problems=problems)


def list_runs(store: Store) -> list[RunInfo]:
    """Every stored run, newest first; only an unfinished one has its verdicts counted
    (a finished one's summary already says everything the list shows)."""
    out = []
    for listed in reversed(store.runs()):
        r = store.run(listed["run_id"])
        problems = problem_stats(store, r["run_id"]) if r["summary"] is None else {}
        out.append(RunInfo(run_id=r["run_id"], kind=r["kind"], dataset=r["dataset"],
                           dataset_version=r["dataset_version"], status=r["status"],
                           created=r["created"], config=r["config"],
                           summary=_summary(r, problems), live=r["summary"] is None,
                           n_samples=listed["n_samples"], n_graded=listed["n_graded"]))
    return out


def runs_data(store: Store, prefixes: Sequence[str],
              labels: Sequence[str] | None = None) -> list[RunData]:
    """Several runs for one page, each labelled: by `labels` (one per run, in order), or,
    when there is more than one run, by what differs between them (`default_labels`)."""
    if labels is not None:
        if len(labels) != len(prefixes):
            raise UserError(f"{len(labels)} label{'s' if len(labels) != 1 else ''} for "
                            f"{len(prefixes)} run{'s' if len(prefixes) != 1 else ''}: "
                            "give one label per run, in the runs' order")
        if not all(label.strip() for label in labels):
            raise UserError("a label cannot be empty")
        twice = [label for label, n in Counter(labels).items() if n > 1]
        if twice:
            raise UserError(f"the label {twice[0]!r} is given twice: labels tell the runs apart")
    runs = [run_data(store, p) for p in prefixes]
    if len({r.run_id for r in runs}) < len(runs):
        raise UserError("the same run is named twice")
    if labels is None:
        labels = default_labels(runs) if len(runs) > 1 else [""] * len(runs)
    for r, label in zip(runs, labels, strict=True):
        r.label = label
    return runs


# the sampling settings a default label may name, and how it writes their names
SETTING_NAMES = {"temperature": "T", "n": "n", "top_p": "top_p", "max_tokens": "max_tokens",
                 "seed": "seed", "beams": "beams"}


def _text(value: Any) -> str:
    """A config value as a label writes it: 0.2 not 0.2000, `none` for null."""
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    return str(value)


def _facts(r: RunInfo) -> dict[str, str]:
    """What of a run's settings can tell it apart, each as a label would write it. A run
    that generated nothing (`evaluate`) has no sampling or prompt facts: their absence
    says nothing about how it differs from a run that generated."""
    c = r.config
    facts: dict[str, str] = {}
    if "settings" in c:
        s = c["settings"] or {}
        facts.update({k: f"{name}={_text(s.get(k))}" for k, name in SETTING_NAMES.items()})
        facts["prompt_style"] = f"prompt={_text(c.get('prompt_style'))}"
        facts["shots"] = f"shots={_text(c.get('shots'))}"
        facts["template"] = f"template={_text(c.get('template'))}"
    facts["dataset"] = r.dataset
    facts["dataset_version"] = r.dataset_version
    facts.update({f"limits.{k}": f"{k}={_text(v)}" for k, v in (c.get("limits") or {}).items()})
    if c.get("environment"):
        facts["environment"] = r.environment
    return facts


def _model_names(runs: Sequence[RunInfo]) -> list[str]:
    """The runs' model names, without the backend when they all share one (`gpt-4o`,
    `llama` rather than `openai:gpt-4o`, `openai:llama`)."""
    names = [r.name for r in runs]
    backends = {n.partition(":")[0] if ":" in n else None for n in names}
    if len(backends) == 1 and None not in backends:
        return [n.partition(":")[2] for n in names]
    return names


def default_labels(runs: Sequence[RunInfo]) -> list[str]:
    """Labels that tell runs apart by what differs between them, for legends and headings:
    five runs of one model at five temperatures read `T=0.2` … `T=1`, not five times the
    model. A label holds the model when the models differ, then each setting whose value
    differs between the runs that have it (sampling settings, prompt style, shots,
    template, dataset, limits), e.g. `gpt-4o n=10` and `llama n=1`. A run that differs
    in nothing is named by its id; runs that differ only in what no label shows keep
    their ids beside the label (`T=0.2 (6fb40ee55421)`). Pure: the viewer can use it on
    `list_runs`' records as well."""
    facts = [_facts(r) for r in runs]
    keys = dict.fromkeys(k for f in facts for k in f)
    differing = [k for k in keys if len({f[k] for f in facts if k in f}) > 1]
    models = _model_names(runs) if len({r.model for r in runs}) > 1 else None
    labels = []
    for i, (r, f) in enumerate(zip(runs, facts, strict=True)):
        parts = [models[i]] if models else []
        parts += [f[k] for k in differing if k in f]
        labels.append(" ".join(parts) or r.run_id)
    seen = Counter(labels)
    return [f"{label} ({r.run_id})" if seen[label] > 1 else label
            for r, label in zip(runs, labels, strict=True)]


def problem_table(runs: Sequence[RunData]) -> list[ProblemRow]:
    """Every problem of any run (first run's order first), each run's stats beside."""
    order: dict[str, None] = {}
    for r in runs:
        order.update(dict.fromkeys(r.problems))
    rows = []
    for task in order:
        cells = [r.problems.get(task) for r in runs]
        rates = [c.pass_at_1 for c in cells if c is not None]
        verdicts = {rate >= 0.5 for rate in rates if rate is not None}
        rows.append(ProblemRow(task, cells, len(verdicts) > 1))
    return rows


def metric_table(runs: Sequence[RunData]) -> list[tuple[str, list[Metric | None]]]:
    """Each score any run has, with every run's value beside (None where it has none)."""
    by_run = [{m.name: m for m in r.headline} for r in runs]
    names = dict.fromkeys(name for scores in by_run for name in scores)
    return [(name, [scores.get(name) for scores in by_run]) for name in names]


@dataclass(frozen=True)
class Paired:
    """One pair of runs compared on their shared problems (or why it could not be)."""

    a: RunData
    b: RunData
    result: dict[str, Any] | None
    note: str = ""


def comparisons(store: Store, runs: Sequence[RunData], k: int = 1) -> list[Paired]:
    """Every pair of runs, compared with `execeval.compare` (paired over problems)."""
    from execeval.compare import compare

    out = []
    for i, a in enumerate(runs):
        for b in runs[i + 1:]:
            try:
                c = compare(a.run_id, b.run_id, k=k, store=store,
                            allow_different_datasets=False, top=5)
                out.append(Paired(a, b, c.to_json()))
            except (UserError, ValueError) as e:
                out.append(Paired(a, b, None, str(e)))
    return out


def clip(text: str | None, limit: int | None) -> str | None:
    """A text cut to `limit` characters, saying how much was left out."""
    if text is None or limit is None or len(text) <= limit:
        return text
    return text[:limit] + f"\n… [{len(text) - limit:,} more characters not shown]"


def encode_sample(run: int, s: StoredSample, limit: int | None = None) -> list[Any]:
    """One sample as a row of SAMPLE_FIELDS; `run` is its run's position on the page (an
    infinite log-probability becomes null: JSON has no infinity)."""
    logprob = s.mean_logprob
    if logprob is not None and not math.isfinite(logprob):
        logprob = None
    return [run, s.idx, s.sample, s.task_id, s.status or "pending", s.passed,
            clip(s.raw, limit), clip(s.program, limit), clip(s.detail, limit), s.extraction,
            s.finish_reason, s.n_tokens, logprob, s.seconds, s.prompt_key, s.extra or None]


def prompt_record(store: Store, key: str) -> dict[str, Any] | None:
    """What a page shows of a prompt: its style and text, or its chat messages."""
    p = store.prompt(key)
    if p is None:
        return None
    return {"style": p.get("style"), "text": p.get("text") or "",
            "messages": p.get("messages") or []}


def samples_payload(store: Store, runs: Sequence[RunData], *, task_id: str | None = None,
                    status: str | None = None, limit: int | None = None) -> dict[str, Any]:
    """The samples of runs (one problem's, or all), grouped by problem, with the prompts
    they came from: what the sample browser of both tools reads."""
    by_task: dict[str, list[list[Any]]] = {}
    prompts: dict[str, dict[str, Any] | None] = {}
    for i, r in enumerate(runs):
        for s in store.samples(r.run_id, task_id=task_id, status=status):
            by_task.setdefault(s.task_id, []).append(encode_sample(i, s, limit))
            if s.prompt_key and s.prompt_key not in prompts:
                prompts[s.prompt_key] = prompt_record(store, s.prompt_key)
    return {"fields": SAMPLE_FIELDS, "runs": [run_ref(r) for r in runs],
            "samples": by_task, "prompts": prompts}


def run_ref(r: RunData) -> dict[str, str]:
    """How the sample browser names a run."""
    return {"id": r.run_id, "label": r.label or r.run_id, "model": r.name}


def find_sample(store: Store, run_id: str, idx: int) -> StoredSample:
    """Sample `idx` of a run (its position in the run, as the pages link it)."""
    for s in store.samples(run_id, idx=idx):
        return s
    raise UserError(f"run {run_id} has no sample {idx}")


def sample_payload(store: Store, run: RunData, idx: int) -> dict[str, Any]:
    """One sample in the sample browser's layout."""
    s = find_sample(store, run.run_id, idx)
    prompts = {s.prompt_key: prompt_record(store, s.prompt_key)} if s.prompt_key else {}
    return {"fields": SAMPLE_FIELDS, "runs": [run_ref(run)],
            "samples": {s.task_id: [encode_sample(0, s)]}, "prompts": prompts}
