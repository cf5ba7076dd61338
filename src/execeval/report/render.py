"""The Jinja2 environment the report and the viewer share: templates, filters, assets.

Templates are package data (execeval/report/templates/) loaded through the package, so
an installed execeval finds them wherever it lives. Autoescaping is on for every
template: model output reaches a page only as escaped text (or as JSON that the page's
script puts in the DOM with textContent). The page script's hash goes into each page's
Content-Security-Policy, so no other script could run even if something slipped through.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from execeval.report import data, plots
from execeval.report.data import Metric, RunData
from execeval.report.plots import STATUS_COLOURS, colour
from execeval.store import Store


def asset(name: str) -> str:
    return (resources.files("execeval.report") / "templates" / name).read_text("utf-8")


@cache
def _script() -> str:
    return asset("app.js")


def script_hash() -> str:
    digest = hashlib.sha256(_script().encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def csp(*, connect: str = "'none'", form: str = "'none'") -> str:
    """The policy of a page: its own script only, inline styles and SVG, and `connect`
    (the report: nothing; the viewer: itself, for the live counts)."""
    return (f"default-src 'none'; script-src {script_hash()}; style-src 'unsafe-inline'; "
            f"img-src data:; connect-src {connect}; form-action {form}; base-uri 'none'")


NONE = "\N{EN DASH}"  # what a page shows where there is no value


def pct(x: float | None, digits: int = 1) -> str:
    return NONE if x is None else f"{100 * x:.{digits}f}%"


def ci_text(ci: Sequence[float] | None) -> str:
    return "" if not ci else f"[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def num(x: int | float | None) -> str:
    if x is None:
        return NONE
    return f"{x:,}" if isinstance(x, int) else f"{x:,.3f}"


def status_label(status: str) -> str:
    return status.replace("_", " ")


def task_anchor(task_id: str) -> str:
    """The report's link to a problem: the page opens its samples from the URL's hash."""
    return "#problem=" + quote(task_id, safe="")


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("execeval.report", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pct=pct, ci=ci_text, num=num, status=status_label)
    env.globals.update(status_colours=STATUS_COLOURS, colour=colour,
                       style=Markup(asset("style.css")),  # our own files, not data
                       script=Markup(_script()))
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def live_fields(run: RunData) -> dict[str, str]:
    """The texts of a run's page that change while it runs, by their `data-live` key:
    the viewer's page asks for these every two seconds (templates/_run.html names them)."""
    pass_at_1: Metric | None = run.pass_at_1
    out = {"status": run.status, "graded": num(run.n_graded), "samples": num(run.n_samples),
           "pass1": pct(pass_at_1.value if pass_at_1 else None),
           "pass1_ci": ci_text(pass_at_1.ci if pass_at_1 else None)}
    out.update({f"status:{s}": num(n) for s, n in run.status_counts})
    for task, p in run.problems.items():
        out[f"n:{task}"] = num(p.n)
        out[f"correct:{task}"] = num(p.correct)
        out[f"pass1:{task}"] = pct(p.pass_at_1)
    return out


def content_context(store: Store, runs: Sequence[RunData], *,
                    problem_href: Callable[[str], str], live: bool = False, q: str = "",
                    status: str = "") -> dict[str, Any]:
    """What templates/_content.html needs: the same for the report and the viewer, only
    the problem links differ (the report opens a problem in the page, the viewer on its
    own page) and the viewer's filters may come from the address."""
    rows = data.problem_table(runs)
    present = {s for r in runs for p in r.problems.values() for s in p.statuses}
    return {
        "runs": runs, "rows": rows, "metrics": data.metric_table(runs),
        "pairs": data.comparisons(store, runs) if len(runs) > 1 else [],
        "curve_svg": plots.pass_at_k_plot(runs), "status_svg": plots.status_plot(runs),
        "statuses": [s for s in data.STATUS_ORDER if s in present],
        "problem_href": problem_href, "live": live, "q": q, "status": status,
    }
