"""The pages' plots, drawn by matplotlib as SVG text to inline (no image files, no network).

matplotlib is imported only when a plot is drawn, so `execeval` commands that draw none
start without it. Figures are built with the object API on an Agg canvas, never through
pyplot: no global figure list, no GUI backend, safe in the viewer's worker threads
(rcParams, which are global, are only changed under a lock).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from markupsafe import Markup

from execeval.report.data import STATUS_ORDER, RunData

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

RUN_COLOURS = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2",
               "#65a30d")
STATUS_COLOURS = {"passed": "#16a34a", "failed": "#dc2626", "error": "#f97316",
                  "syntax_error": "#a855f7", "timeout": "#eab308", "memory": "#92400e",
                  "crash": "#7f1d1d", "harness_error": "#64748b", "pending": "#cbd5e1"}
_lock = threading.Lock()


def colour(i: int) -> str:
    return RUN_COLOURS[i % len(RUN_COLOURS)]


def legend_name(r: RunData) -> str:
    """A run's label where it has one: five runs of one model would all read its name."""
    return r.label or r.name


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _svg(fig: Figure, name: str) -> Markup:
    """The figure as an inline <svg> element. Text stays text (smaller, selectable, in the
    page's font) and is XML-escaped by matplotlib; ids are salted per plot so that two
    plots on one page never share one."""
    import matplotlib

    out = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"execeval-{name}"}):
        fig.savefig(out, format="svg", metadata={"Date": None}, transparent=True)
    text = out.getvalue()
    return Markup(text[text.index("<svg"):])  # matplotlib escaped its text


def _style(ax: Axes) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, color="#e5e7eb", linewidth=0.8)
    ax.set_axisbelow(True)


def pass_at_k_plot(runs: Sequence[RunData]) -> Markup | None:
    """pass@k against k, one line per run, its 95% interval as a band."""
    if not any(r.curve for r in runs):
        return None
    from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

    with _lock:
        fig = _figure(6.4, 3.4)
        axes = fig.add_subplot()
        top = max(p.k for r in runs for p in r.curve)
        for i, r in enumerate(runs):
            if not r.curve:
                continue
            k_values = [p.k for p in r.curve]
            est = [p.estimate for p in r.curve]
            low = [p.low for p in r.curve]
            high = [p.high for p in r.curve]
            if len(k_values) == 1:  # one sample per problem: a point with its interval
                axes.errorbar(k_values, est, yerr=[[est[0] - low[0]], [high[0] - est[0]]], fmt="o",
                              color=colour(i), capsize=4, label=legend_name(r))
            else:
                axes.fill_between(k_values, low, high, color=colour(i), alpha=0.15, linewidth=0)
                axes.plot(k_values, est, color=colour(i), linewidth=2, label=legend_name(r))
        if top >= 10:
            axes.set_xscale("log")
            axes.set_xticks([t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if t <= top])
            axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
        else:
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlim(0.9 if top >= 10 else 0.5, top * 1.1 if top >= 10 else top + 0.5)
        axes.set_ylim(0, 1)
        axes.yaxis.set_major_formatter(PercentFormatter(1.0))
        axes.set_xlabel("k (samples drawn per problem)")
        axes.set_ylabel("pass@k")
        _style(axes)
        axes.legend(loc="lower right", frameon=False, fontsize=9)
        return _svg(fig, "passk")


def status_plot(runs: Sequence[RunData]) -> Markup | None:
    """Each run's samples split by status, as one stacked bar per run."""
    if not any(r.n_graded for r in runs):
        return None
    with _lock:
        fig = _figure(4.2, 1.1 + 0.4 * len(runs))
        axes = fig.add_subplot()
        names = [legend_name(r) for r in runs]  # distinct: runs_data sees to it
        used = [s for s in STATUS_ORDER
                if any(dict(r.status_counts).get(s) for r in runs)]
        left = [0.0] * len(runs)
        for s in used:
            shares = [dict(r.status_counts).get(s, 0) / max(r.n_graded, 1) for r in runs]
            axes.barh(names, shares, left=left, color=STATUS_COLOURS.get(s, "#94a3b8"),
                      label=s.replace("_", " "), height=0.6)
            left = [a + b for a, b in zip(left, shares, strict=True)]
        from matplotlib.ticker import PercentFormatter

        axes.xaxis.set_major_formatter(PercentFormatter(1.0))
        axes.set_xlim(0, 1)
        axes.invert_yaxis()
        if len(runs) == 1:
            axes.set_yticks([])
        axes.spines[["top", "right"]].set_visible(False)
        axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=min(len(used), 4),
                    frameon=False, fontsize=9, handlelength=1, columnspacing=1)
        return _svg(fig, "status")
