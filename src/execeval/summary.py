"""A run's summary: the keys every run reports, folded over its verdicts one at a time.

The fold keeps per-problem counts only (never rows), so the summary of a run of any
size costs the same small memory; each benchmark adds its own keys through its `Tally`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from execeval import benchmark, metrics, stats
from execeval.dataset import Dataset
from execeval.verdict import Verdict

# Below this many problems an interval or a paired test is not to be trusted: the
# fewest docs/statistics.md measured calibrated, and zero-width intervals are common.
FEW_PROBLEMS = 12


@dataclass(eq=False)
class Summary(MutableMapping[str, Any]):
    """A run's summary. The keys every run reports are typed fields; a benchmark's own
    keys (APPS's strict accuracy, EvalPlus's base pass@k, ...) and the facts a command
    adds (the run id, the store, generation counts) are in `extra`. It reads as the
    stable JSON it is (`summary["pass_at_k"]`), and `to_json()` is that JSON; fields a
    summary stored by an older execeval lacks are None and left out of it."""

    dataset: str
    dataset_version: str
    n_problems: int
    n_problems_total: int
    n_samples: int
    samples_per_problem: dict[str, int]
    pass_at_k: dict[str, float]
    fraction_correct: float
    status_counts: dict[str, int]
    benchmark: str | None = None
    dataset_hash: str | None = None
    ks_left_out: list[int] | None = None
    syntax_error_rate: float | None = None
    graded_in_sandbox: int | None = None
    notes: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> Summary:
        return cls(**{k: v for k, v in stored.items() if k in SUMMARY_FIELDS},
                   extra={k: v for k, v in stored.items() if k not in SUMMARY_FIELDS})

    def to_json(self) -> dict[str, Any]:
        return dict(self.items())

    def _names(self) -> list[str]:
        return [name for name in SUMMARY_FIELDS if getattr(self, name) is not None]

    def __getitem__(self, key: str) -> Any:
        if key in SUMMARY_FIELDS:
            value = getattr(self, key)
            if value is None:  # absent from an older summary
                raise KeyError(key)
            return value
        return self.extra[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key in SUMMARY_FIELDS:
            setattr(self, key, value)
        else:
            self.extra[key] = value

    def __delitem__(self, key: str) -> None:
        if key in self.extra:
            del self.extra[key]
        else:
            raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        yield from self._names()
        yield from self.extra

    def __len__(self) -> int:
        return len(self._names()) + len(self.extra)


# the typed keys, in the JSON's order ("extra" holds the rest)
SUMMARY_FIELDS = tuple(f.name for f in dataclasses.fields(Summary) if f.name != "extra")


class RunTally:
    """pass@k, statuses and the flagged in-sandbox grading, plus the benchmark's keys."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset
        self.per_task: dict[str, list[int]] = {}  # task -> [samples, correct]
        self.statuses: Counter[str] = Counter()
        self.in_sandbox = 0
        b = benchmark.of(dataset)
        self.extra = b.tally() if b and b.tally else None

    def add(self, task_id: str, verdict: Verdict) -> None:
        counts = self.per_task.setdefault(task_id, [0, 0])
        counts[0] += 1
        counts[1] += verdict.passed
        self.statuses[verdict.status] += 1
        # the flagged fallback: tests that had to run inside the sandbox, next to the program
        self.in_sandbox += bool(verdict.extra.get("graded_in_sandbox"))
        if self.extra is not None:
            self.extra.add(self.dataset.problems[task_id], verdict)

    def result(self, ks: Sequence[int]) -> Summary:
        counts = [(n, c) for n, c in self.per_task.values()]
        n_samples = sum(n for n, _ in counts)
        fewest = min((n for n, _ in counts), default=0)
        summary: dict[str, Any] = {
            "dataset": self.dataset.name,
            "benchmark": self.dataset.benchmark,
            "dataset_version": self.dataset.version,
            "dataset_hash": self.dataset.hash,
            "n_problems": len(counts),
            "n_problems_total": len(self.dataset.problems),
            "n_samples": n_samples,
            "samples_per_problem": {"min": fewest,
                                    "max": max((n for n, _ in counts), default=0)},
            "pass_at_k": {str(k): v for k, v in metrics.mean_pass_at_k(counts, ks).items()},
            # pass@k needs k samples of every problem: the others are named, never dropped
            "ks_left_out": sorted(k for k in set(ks) if k > fewest),
            "fraction_correct": sum(c for _, c in counts) / n_samples if n_samples else 0.0,
            # the APPS paper's sign of progress: it drops sharply as models improve
            "syntax_error_rate": self.statuses["syntax_error"] / n_samples if n_samples else 0.0,
            "status_counts": dict(sorted(self.statuses.items())),
            "graded_in_sandbox": self.in_sandbox,
        }
        if counts:
            summary.update(intervals(counts, ks))
        if self.extra is not None:
            summary.update(self.extra.result(ks))
        summary["notes"] = notes(summary)
        return Summary.from_json(summary)


def intervals(counts: Sequence[tuple[int, int]], ks: Sequence[int],
              prefix: str = "") -> dict[str, Any]:
    """95% intervals (and standard errors) of pass@k and fraction correct, problems being
    the unit of resampling (execeval.stats, docs/statistics.md)."""
    found = stats.summary_intervals(counts, ks)
    out: dict[str, Any] = {
        f"{prefix}pass_at_k_ci": {k: iv.as_list() for k, iv in found["pass_at_k"].items()},
        f"{prefix}pass_at_k_se": {k: iv.se for k, iv in found["pass_at_k"].items()},
    }
    if not prefix:
        out.update(fraction_correct_ci=found["fraction_correct"].as_list(),
                   fraction_correct_se=found["fraction_correct"].se,
                   ci_level=found["level"], ci_method=found["method"])
    return out


def notes(summary: Mapping[str, Any]) -> list[str]:
    """Warnings on how far a summary's numbers can be trusted; worked out from the
    summary itself, so a run stored before they existed gets them too."""
    out = [left] if (left := left_out_note(summary)) else []
    m = summary["n_problems"]
    if 0 < m < FEW_PROBLEMS:
        out.append(f"only {m} problem{'' if m == 1 else 's'}: intervals are wide below "
                   f"{FEW_PROBLEMS} (docs/statistics.md)")
    return out


def left_out_note(summary: Mapping[str, Any]) -> str | None:
    """Why the summary has no pass@k for some requested k (the ks above the fewest
    samples of a problem), so a missing pass@10 is never silent."""
    left = summary.get("ks_left_out")
    if not left:
        return None
    fewest = summary["samples_per_problem"]["min"]
    samples = f"{fewest} sample{'' if fewest == 1 else 's'}"
    why = ("no samples were graded" if not fewest else
           f"only {samples} per problem" if fewest == summary["samples_per_problem"]["max"]
           else f"only {samples} on some problems")
    named = ", ".join(f"pass@{k}" for k in left)
    if not summary["pass_at_k"]:
        return f"no pass@k reported: every requested k is left out ({named}): {why}"
    return f"{named} left out: {why}"


def with_ci(value: float, ci: Sequence[float] | None) -> str:
    return f"{value:.4f}  [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else f"{value:.4f}"


def summarize(dataset: Dataset, graded: Iterable[tuple[str, Verdict]],
              ks: Sequence[int]) -> Summary:
    """The summary of (task id, verdict) pairs, in one pass."""
    tally = RunTally(dataset)
    for task_id, verdict in graded:
        tally.add(task_id, verdict)
    return tally.result(ks)


def rows(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The summary table's rows: the common ones, then the benchmark's own."""
    cis = summary.get("pass_at_k_ci", {})
    out = [(f"pass@{k}", with_ci(v, cis.get(k))) for k, v in summary["pass_at_k"].items()]
    out.append(("fraction correct", with_ci(summary["fraction_correct"],
                                            summary.get("fraction_correct_ci"))))
    if "syntax_error_rate" in summary:
        out.append(("syntax error rate", f"{summary['syntax_error_rate']:.4f}"))
    out += [(f"status {s}", str(n)) for s, n in summary["status_counts"].items()]
    if summary.get("graded_in_sandbox"):
        out.append(("graded in the sandbox (fallback)", str(summary["graded_in_sandbox"])))
    if env := summary.get("environment"):
        out.append(("environment", f"{env['name']} {env['version']} ({env['hash']}): "
                    + (", ".join(env["packages"]) or "standard library only")))
    name = summary.get("benchmark") or summary.get("dataset")  # runs stored before 0.2
    if name and name in benchmark.BENCHMARKS:
        out += benchmark.get(name).display(summary)
    return out
