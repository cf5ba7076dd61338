"""`execeval compare`: is run A really better than run B on the problems both graded?

Both runs are reduced to one unbiased pass@k per problem (Chen et al.), aligned by task
id, and handed to the paired sign-flip test of `execeval.stats`: pairing removes how
hard each problem is, which is most of the variance (docs/statistics.md). Runs on
different datasets, or on different versions of one dataset, are refused unless the
caller says so, because the same task id would then name different problems.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from rich.console import Console

from execeval.errors import UserError
from execeval.store import Store, store_path

LEVEL = 0.95
METHOD: Final = "sign-flip"


@dataclass(frozen=True)
class Comparison:
    """Run A minus run B, pass@k on the problems both runs graded."""

    run_a: str
    run_b: str
    dataset_a: str
    dataset_b: str
    k: int
    n_shared: int                 # problems both runs graded: the ones compared
    pass_a: float                 # mean pass@k of A on the shared problems
    pass_b: float
    difference: float             # pass_a - pass_b
    ci: list[float]               # [low, high] of the difference, LEVEL
    p_value: float                # two-sided, paired sign-flip test
    method: str
    a_better: int                 # shared problems where A's pass@k is higher
    b_better: int
    tied: int
    largest: list[dict[str, Any]]  # {"task_id", "a", "b", "difference"}, largest |difference|
    n_only_a: int = 0             # graded by A only (left out)
    n_only_b: int = 0
    level: float = LEVEL
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _open(store: Store | str | Path | None) -> tuple[Store, bool]:
    """(store, whether we opened it and must close it); read-only, so comparing never
    creates or migrates a file."""
    if isinstance(store, Store):
        return store, False
    return Store(store_path(store), read_only=True), True


def _pass_at_k(counts: dict[str, tuple[int, int]], tasks: Iterable[str], k: int,
               run_id: str) -> dict[str, float]:
    """Per-problem unbiased pass@k of `tasks`; a k above some problem's n is the user's
    to fix (no unbiased estimate exists there)."""
    from execeval.stats import pass_at_k_matrix

    tasks = list(tasks)
    if not tasks:
        return {}
    short = min(tasks, key=lambda t: counts[t][0])
    if counts[short][0] < k:
        raise UserError(f"--k {k} exceeds the graded samples of {short} in run {run_id} "
                        f"(n={counts[short][0]}); use a k no larger than the smallest n")
    values = pass_at_k_matrix([counts[t][0] for t in tasks], [counts[t][1] for t in tasks],
                              [k])[:, 0]
    return {t: float(v) for t, v in zip(tasks, values, strict=True)}


def per_problem_pass_at_k(store: Store | str | Path | None, run_id: str, k: int,
                          tasks: Iterable[str] | None = None) -> dict[str, float]:
    """Unbiased pass@k of each graded problem of a run (a unique id prefix is enough), in
    run order; `tasks` restricts it to those problems (ungraded ones are left out).

    UserError when k exceeds the graded sample count of an included problem."""
    opened, owned = _open(store)
    try:
        full = opened.run(run_id)["run_id"]
        counts = opened.task_counts(full)
    finally:
        if owned:
            opened.close()
    wanted = list(counts) if tasks is None else [t for t in dict.fromkeys(tasks) if t in counts]
    return _pass_at_k(counts, wanted, k, full)


def _check_datasets(a: dict[str, Any], b: dict[str, Any], allow: bool) -> list[str]:
    """Refuse runs whose task ids may name different problems; the notes say what was
    allowed."""
    if a["dataset"] != b["dataset"]:
        if not allow:
            raise UserError(f"runs {a['run_id']} and {b['run_id']} are on different datasets "
                            f"({a['dataset']} vs {b['dataset']}); pass "
                            "--allow-different-datasets to compare their shared task ids")
        return [f"different datasets ({a['dataset']} vs {b['dataset']}): compared on "
                "shared task ids"]
    if a["dataset_hash"] != b["dataset_hash"]:
        if not allow:
            raise UserError(f"runs {a['run_id']} and {b['run_id']} are both on {a['dataset']} "
                            f"but its problems differ (dataset hash {a['dataset_hash'][:12]} vs "
                            f"{b['dataset_hash'][:12]}: another version, split or problem file); "
                            "pass --allow-different-datasets to compare anyway")
        return [f"{a['dataset']}: the runs' problems differ (dataset hash "
                f"{a['dataset_hash'][:12]} vs {b['dataset_hash'][:12]})"]
    return []


def _unfinished(st: Store, run: dict[str, Any], name: str) -> list[str]:
    """A note when a run is not complete: it is then compared on what is graded so far."""
    n, graded = st.progress(run["run_id"])
    if run["status"] == "complete" and graded == n:
        return []
    state = {"running": "is still running", "interrupted": "was interrupted"}
    note = (f"run {name} ({run['run_id']}) {state.get(run['status'], 'is incomplete')}: "
            f"{graded} of {n} samples graded, compared on those")
    if run["status"] == "interrupted":
        note += "; run the same command again to resume it"
    return [note]


def compare(run_a: str, run_b: str, *, k: int = 1, store: Store | str | Path | None = None,
            allow_different_datasets: bool = False, top: int = 10) -> Comparison:
    """Paired comparison of two stored runs (ids or unique prefixes) on pass@k."""
    from execeval.stats import paired_difference
    from execeval.summary import FEW_PROBLEMS

    if k < 1 or top < 0:
        raise UserError("compare: k must be >= 1 and top >= 0")
    opened, owned = _open(store)
    try:
        run_a_row, run_b_row = opened.run(run_a), opened.run(run_b)
        notes = _check_datasets(run_a_row, run_b_row, allow_different_datasets)
        notes += _unfinished(opened, run_a_row, "A") + _unfinished(opened, run_b_row, "B")
        counts_a = opened.task_counts(run_a_row["run_id"])
        counts_b = opened.task_counts(run_b_row["run_id"])
    finally:
        if owned:
            opened.close()
    shared = [t for t in counts_a if t in counts_b]  # A's run order
    if not shared:
        raise UserError(f"runs {run_a_row['run_id']} and {run_b_row['run_id']} share no "
                        f"graded problems ({len(counts_a)} graded in A, {len(counts_b)} in B): "
                        "nothing to compare")
    pass_a = _pass_at_k(counts_a, shared, k, run_a_row["run_id"])
    pass_b = _pass_at_k(counts_b, shared, k, run_b_row["run_id"])
    a = [pass_a[t] for t in shared]
    b = [pass_b[t] for t in shared]
    if len(shared) < FEW_PROBLEMS:
        notes.append(f"only {len(shared)} shared problems: the interval and p-value are "
                     f"unreliable below {FEW_PROBLEMS} (docs/statistics.md)")
    result = paired_difference(a, b, LEVEL, method=METHOD)
    diffs = [(t, pass_a[t], pass_b[t], pass_a[t] - pass_b[t]) for t in shared]
    ranked = sorted((d for d in diffs if d[3] != 0), key=lambda d: -abs(d[3]))[:top]
    return Comparison(
        run_a=run_a_row["run_id"], run_b=run_b_row["run_id"], dataset_a=run_a_row["dataset"],
        dataset_b=run_b_row["dataset"], k=k, n_shared=len(shared), pass_a=sum(a) / len(a),
        pass_b=sum(b) / len(b), difference=result.difference, ci=[result.low, result.high],
        p_value=result.p_value, method=result.method, a_better=result.a_better,
        b_better=result.b_better, tied=result.tied,
        largest=[{"task_id": t, "a": x, "b": y, "difference": d} for t, x, y, d in ranked],
        n_only_a=len(counts_a) - len(shared), n_only_b=len(counts_b) - len(shared), notes=notes)


def print_comparison(c: Comparison, console: Console) -> None:
    """The comparison as rich tables: the verdict first, then where the runs differ most."""
    from rich.table import Table

    table = Table(title=f"pass@{c.k}, A vs B, on {c.n_shared} shared problems",
                  show_header=False)
    table.add_row("run A", f"{c.run_a} ({c.dataset_a})")
    table.add_row("run B", f"{c.run_b} ({c.dataset_b})")
    table.add_row(f"pass@{c.k} A", f"{c.pass_a:.4f}")
    table.add_row(f"pass@{c.k} B", f"{c.pass_b:.4f}")
    table.add_row("difference A - B", f"{c.difference:+.4f} "
                  f"[{c.level:.0%} CI {c.ci[0]:+.4f}, {c.ci[1]:+.4f}]")
    table.add_row(f"p-value ({c.method})", f"{c.p_value:.4g}")
    table.add_row("A better / B better / tied", f"{c.a_better} / {c.b_better} / {c.tied}")
    console.print(table)
    if c.largest:
        top = Table("task", f"A pass@{c.k}", f"B pass@{c.k}", "A - B",
                    title=f"largest differences ({len(c.largest)})")
        for row in c.largest:
            top.add_row(row["task_id"], f"{row['a']:.4f}", f"{row['b']:.4f}",
                        f"{row['difference']:+.4f}")
        console.print(top)
    for note in c.notes:
        console.print(f"note: {note}")
    if c.n_only_a or c.n_only_b:
        console.print(f"note: left out {c.n_only_a} problems graded only by A and "
                      f"{c.n_only_b} graded only by B")
