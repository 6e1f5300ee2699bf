"""A self-contained HTML report of a trace: summary, ranked table, contact
graph and per-case timelines.

The page works offline: its CSS and JavaScript (plain JS drawing SVG, in
``tracer/report_assets/``) are embedded inline, the data travel as one JSON
block, and a Content-Security-Policy forbids every external fetch. Person
keys and names, plates and home addresses are masked unless
``show_pii=True``; the JSON names persons by small integer ids, never by
their keys, so masking cannot leak through it.
Everything inserted into the page is escaped (HTML text and attributes with
:func:`html.escape`, the JSON with ``\\u003c``-style escapes so that no
value can close its ``<script>`` element).

What is drawn is capped so that the page stays small for large traces:
``top`` contacts in the table, ``graph_top`` contacts (plus the chain of
sources that leads to them) in the graph, ``max_events`` events of evidence
per contact and the ``max_timelines`` cases with most contacts.
"""

import html
import json
from importlib import resources

import numpy as np
import pandas as pd

from .errors import ValidationError
from .report_data import prepare_report

__all__ = ["build_report", "case_presences"]

_ASSETS = ("report.css", "report.js")
_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


def build_report(result, path=None, title=None, tz="Asia/Shanghai", show_pii=False, top=200,
                 presences=None, persons=None, graph_top=150, max_events=100, max_timelines=12):  # fmt: skip
    """Render a trace as one self-contained HTML page.

    Parameters
    ----------
    result : :class:`tracer.tracing.TraceResult`, or a saved run
        (:class:`tracer.duck.SavedRun`; it has no cases frame, so the cases
        are derived from the contacts' ``source_case`` and the hop-1 events,
        and the page says so).
    path : str or Path, where to write the page (UTF-8); None = only return it.
    title : the page title (default: from the run and its counts).
    tz : the zone times are shown in.
    show_pii : show person keys and names unmasked.
    top : contacts listed in the ranked table.
    presences : optional keyed presences ``person, place, start, end`` (see
        :func:`case_presences`); the cases' own presences are then drawn in the
        timelines, otherwise the co-presence intervals stand in for them.
    persons : optional ``key, name`` frame (e.g. ``store.persons(keys)``) to
        show names next to keys.
    graph_top : contacts drawn in the graph (best ranked first); the sources
        on their chains back to a case are drawn too.
    max_events : events of evidence kept per contact.
    max_timelines : cases with a timeline (those with most contacts first).

    Returns
    -------
    str, the HTML text.

    Examples
    --------
    >>> frame = pd.DataFrame({"person": ["a", "b"], "place": ["venue:1"] * 2,
    ...     "kind": "venue", "start": ["2020-02-01 10:00", "2020-02-01 10:30"],
    ...     "end": ["2020-02-01 11:00", "2020-02-01 12:00"]})
    >>> from tracer.tracing import trace
    >>> page = build_report(trace(frame, [{"person": "a", "onset": "2020-02-02"}]))
    >>> page.startswith("<!DOCTYPE html>"), "report-data" in page
    (True, True)
    """
    for name, value in (("top", top), ("graph_top", graph_top), ("max_events", max_events)):
        if int(value) < 0:
            raise ValidationError(f"report: {name} must be 0 or more, not {value}")
    report = prepare_report(
        result, tz=tz, show_pii=show_pii, top=int(top), graph_top=int(graph_top), max_events=int(max_events),
        max_timelines=int(max_timelines), presences=presences, persons=persons,
    )  # fmt: skip
    text = _page(report, title or report["default_title"])
    if path is not None:
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)
    return text


def case_presences(store, persons, start_s=None, end_s=None):
    """The keyed presences of some persons, for :func:`build_report`'s timelines.

    Parameters
    ----------
    store : a ``Store`` (e.g. :class:`tracer.duck.DuckStore`).
    persons : person keys (e.g. ``result.cases["person"]``).
    start_s, end_s : optional window, UTC epoch seconds.

    Returns
    -------
    DataFrame ``person, place, kind, start, end`` (keys; start/end in UTC s).

    Examples
    --------
    >>> import tempfile, os
    >>> from tracer.duck import DuckStore
    >>> with DuckStore(os.path.join(tempfile.mkdtemp(), "t.duckdb")) as s:
    ...     list(case_presences(s, []).columns)
    ['person', 'place', 'kind', 'start', 'end']
    """
    from .schema import KINDS

    keys = [str(k) for k in persons]
    codes = np.asarray(store.person_codes(pd.Series(keys, dtype=object)) if keys else [], dtype=np.int64)
    rows = store.presences(persons=codes, start=start_s, end=end_s)
    if rows.empty:
        return pd.DataFrame({c: [] for c in ("person", "place", "kind", "start", "end")})
    places = rows["place"].to_numpy()
    uniq, inv = np.unique(places, return_inverse=True)
    place_keys = np.asarray(store.place_keys(uniq), dtype=object)[inv]
    return pd.DataFrame(
        {
            "person": np.asarray(store.person_keys(rows["person"].to_numpy()), dtype=object),
            "place": place_keys,
            "kind": np.asarray(KINDS, dtype=object)[rows["kind"].to_numpy()],
            "start": rows["start"].to_numpy(np.int64),
            "end": rows["end"].to_numpy(np.int64),
        }
    )


# -- HTML -------------------------------------------------------------------
def _esc(value):
    return html.escape("" if value is None else str(value), quote=True)


def script_json(payload):
    """JSON that is safe inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` become ``\\u003c``-style escapes (so ``</script>``
    or ``<!--`` inside a value cannot end or confuse the element), as do the
    line separators U+2028/U+2029; ``JSON.parse`` reads it back unchanged.

    >>> script_json({"k": "</script>"})
    '{"k":"\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw in ("&", "<", ">", "\u2028", "\u2029"):
        text = text.replace(raw, f"\\u{ord(raw):04x}")
    return text


def _asset(name):
    text = resources.files("tracer").joinpath("report_assets", name).read_text(encoding="utf-8")
    closing = "</script" if name.endswith(".js") else "</style"
    if closing in text.lower():  # our own assets; guard against a future edit breaking the page
        raise ValidationError(f"report asset {name} contains {closing!r}")
    return text


def _page(report, title):
    css, js = (_asset(n) for n in _ASSETS)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title>",
        f"<style>{css}</style></head>",
        '<body data-testid="report">',
        f'<header><h1 data-testid="title">{_esc(title)}</h1>{_notes(report)}</header>',
        _summary(report),
        _graph_section(report),
        _table(report),
        '<section id="timelines" data-testid="timelines"><h2>Case timelines</h2>'
        f'<p class="hint">{_esc(report["timeline_note"])}</p><div id="timeline-list"></div></section>',
        f'<script type="application/json" id="report-data">{script_json(report["data"])}</script>',
        f"<script>{js}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _notes(report):
    return "".join(f'<p class="note" data-testid="note">{_esc(n)}</p>' for n in report["notes"])


def _summary(report):
    s = report["summary"]
    cards = "".join(
        f'<div class="card" data-testid="count-{_esc(k)}"><span class="num">{_esc(v)}</span>{_esc(label)}</div>'
        for k, label, v in s["cards"]
    )
    params = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in s["params"])
    model = ""
    if s["model"]:
        model = f"<details><summary>Model parameters</summary><pre>{_esc(s['model'])}</pre></details>"
    return (
        '<section id="summary" data-testid="summary"><h2>Summary</h2>'
        f'<div class="cards">{cards}</div><div class="grid3">'
        f"<div><h3>Contacts by hop and rule</h3>{_crosstab(s['by_hop_rule'], 'by-hop-rule')}</div>"
        f"<div><h3>Co-presence events by kind</h3>{_crosstab(s['by_kind'], 'by-kind')}</div>"
        f'<div><h3>Parameters</h3><dl class="params">{params}</dl>{model}</div></div></section>'
    )


def _crosstab(frame, testid):
    head = "".join(f"<th>{_esc(c)}</th>" for c in [frame.index.name or ""] + list(frame.columns))
    body = "".join(
        f"<tr><th>{_esc(idx)}</th>" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>"
        for idx, row in zip(frame.index, frame.to_numpy().tolist())
    )
    return f'<table class="small" data-testid="{testid}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _graph_section(report):
    return (
        '<section id="graph-section" data-testid="graph-section"><h2>Contact graph</h2>'
        f'<p class="hint">{_esc(report["graph_note"])}</p>'
        '<div class="graph-wrap"><div id="graph" data-testid="graph"></div>'
        '<aside id="evidence" data-testid="evidence"><p class="hint">Click a node (or a table row) '
        "to see the evidence behind it.</p></aside></div></section>"
    )


def _table(report):
    t = report["table"]
    head = "".join(
        f'<th data-col="{i}" data-type="{_esc(kind)}" title="sort">{_esc(label)}</th>'
        for i, (label, kind) in enumerate(t["columns"])
    )
    rows = []
    for pid, cells in t["rows"]:
        attr = f' data-pid="{pid}"' if pid is not None else ""
        tds = "".join(f'<td data-sort="{_esc(sort)}">{_esc(shown)}</td>' for shown, sort in cells)
        rows.append(f'<tr class="contact-row"{attr}>{tds}</tr>')
    return (
        '<section id="ranked" data-testid="ranked"><h2>Ranked contacts</h2>'
        f'<p class="hint">{_esc(t["note"])}</p><div class="table-wrap"><table id="ranked-table" class="ranked">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>"
    )
