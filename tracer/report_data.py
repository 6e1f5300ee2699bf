"""The data of an HTML trace report: frames in, one JSON-able payload out.

:func:`prepare_report` turns a trace result (or a saved run) into
everything :func:`tracer.report.build_report` renders: the JSON block the
page's script draws from (people, places, graph, evidence, timelines), the
ranked table's rows, the summary, and the notes. Persons travel as small
integer ids; their labels (and the keys of vehicles and homes) are masked
unless ``show_pii``.

Examples
--------
>>> import pandas as pd
>>> from tracer.tracing import trace
>>> frame = pd.DataFrame({"person": ["a", "b"], "place": ["venue:1"] * 2,
...     "kind": "venue", "start": ["2020-02-01 10:00", "2020-02-01 10:30"],
...     "end": ["2020-02-01 11:00", "2020-02-01 12:00"]})
>>> report = prepare_report(trace(frame, [{"person": "a", "onset": "2020-02-02"}]), tz="Asia/Shanghai",
...     show_pii=True, top=10, graph_top=10, max_events=5, max_timelines=2, presences=None, persons=None)
>>> report["data"]["people"], len(report["table"]["rows"])
(['a', 'b'], 1)
"""

import json

import numpy as np
import pandas as pd

from .errors import ValidationError
from .privacy import mask_key, mask_name, mask_place
from .tracing import EVENT_COLUMNS

__all__ = ["prepare_report"]


class _People:
    """Small integer ids for person keys; labels masked unless ``show_pii``."""

    def __init__(self, show_pii, persons=None):
        self.show_pii = show_pii
        self.keys, self.index = [], {}
        self.names = None
        if persons is not None and len(persons) and "name" in persons.columns:
            self.names = dict(zip(persons["key"].astype(str), persons["name"]))

    def ids(self, values):
        """Ids of keys (registering new ones); missing values give -1."""
        out = np.empty(len(values), dtype=np.int64)
        index, keys = self.index, self.keys
        for i, value in enumerate(values):
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                out[i] = -1
                continue
            key = str(value)
            found = index.get(key)
            if found is None:
                found = index[key] = len(keys)
                keys.append(key)
            out[i] = found
        return out

    def labels(self):
        keys = pd.Series(self.keys, dtype=object)
        if keys.empty:
            return []
        out = keys.tolist() if self.show_pii else mask_key(keys).tolist()
        if self.names is None:
            return out
        names = pd.Series([self.names.get(k) for k in keys], dtype=object)
        names = names if self.show_pii else mask_name(names)
        return [f"{label} {name}" if isinstance(name, str) and name else label for label, name in zip(out, names)]


def prepare_report(result, tz, show_pii, top, graph_top, max_events, max_timelines, presences, persons):
    """Everything a report page shows, from a trace result or a saved run.

    The parameters are those of :func:`tracer.report.build_report` (already
    checked there). Returns a dict: ``data`` (the page's JSON block),
    ``notes``, ``table`` (columns, rows of ``(pid, cells)``, note),
    ``summary`` (cards, params, model, cross tables), ``graph_note``,
    ``timeline_note`` and ``default_title``.
    """
    contacts = _contacts_of(result)
    events = _events_of(result, tz)
    cases, derived = _cases_of(result, contacts, events, tz)
    people, places = _People(show_pii, persons), {}
    case_ids = people.ids(cases["person"])
    notes = []
    if derived:
        notes.append(
            "This saved run has no case list: the cases shown are the contacts' source cases and the "
            "sources of hop-1 events, without their infectious windows."
        )
    if not show_pii:
        notes.append(
            "Names, ID numbers, phones, plates and home addresses are masked (build with show_pii=True to show them)."
        )
    graph = _graph(contacts, events, cases, people, graph_top)
    table_contacts = contacts.head(top)
    ev_keys = pd.unique(pd.concat([table_contacts["person"], pd.Series(graph["contact_keys"], dtype=object)]))
    evidence = _evidence(contacts, events, ev_keys, people, places, max_events, tz)
    timelines = _timelines(cases, case_ids, events, presences, people, places, max_timelines, tz)
    table = _table_rows(table_contacts, people, tz)  # registers ids before labels are fixed
    labels = people.labels()
    table["rows"] = [(pid, _cells(cells, labels)) for pid, cells in table["rows"]]
    table["note"] = (
        f"Top {len(table_contacts):,} of {len(contacts):,} contacts, ranked by risk. Click a header to sort."
    )
    times = events["start"] if len(events) else cases.get("window_start", pd.Series([], dtype=object))
    data = {
        "people": labels,
        "places": _place_labels(_places_list(places), show_pii),
        "cases": [int(i) for i in case_ids],
        "graph": {"nodes": graph["nodes"], "edges": graph["edges"]},
        "evidence": evidence,
        "timelines": timelines,
        "tz": tz,
        "tzOffset": _tz_offset_s(times, tz),
    }
    n_nodes = len(graph["nodes"])
    return {
        "data": data,
        "notes": notes,
        "table": table,
        "summary": _summary_data(result, contacts, events, cases, derived),
        "graph_note": f"{n_nodes:,} nodes: {len(cases):,} case(s) and the top {min(graph_top, len(contacts)):,} "
        "contact(s) with the sources on their chains. Edge width grows with risk; scroll to zoom, drag to pan.",
        "timeline_note": _timeline_note(presences, len(timelines), len(cases)),
        "default_title": _default_title(result, cases, contacts),
    }


def _contacts_of(result):
    contacts = result.contacts.copy()
    for col in ("via", "source_case"):
        if col not in contacts.columns:
            contacts[col] = None
    if "rank" in contacts.columns and len(contacts):
        contacts = contacts.sort_values("rank", kind="mergesort")
    return contacts.reset_index(drop=True)


def _events_of(result, tz):
    events = result.events if result.events is not None else pd.DataFrame({c: [] for c in EVENT_COLUMNS})
    events = events.copy().reset_index(drop=True)
    for col in ("start", "end"):
        events[col] = _local(events[col], tz)
    events["start_s"], events["end_s"] = _epoch_s(events["start"]), _epoch_s(events["end"])
    return events


def _cases_of(result, contacts, events, tz):
    """The cases frame, or one derived from the run (``derived`` True)."""
    cases = getattr(result, "cases", None)
    if cases is not None:
        cases = cases.copy().reset_index(drop=True)
        cases["person"] = cases["person"].astype(str)
        return cases, False
    hop1 = events.loc[events["hop"] == 1, "case"] if len(events) else pd.Series([], dtype=object)
    keys = pd.unique(pd.concat([contacts["source_case"].dropna().astype(str), hop1.astype(str)]).to_numpy())
    return pd.DataFrame({"person": pd.Series(keys, dtype=object)}), True


def _local(values, tz):
    """Tz-aware timestamps in ``tz`` (naive values are taken as local time in ``tz``)."""
    values = pd.Series(values)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return pd.to_datetime(values, unit="s", utc=True).dt.tz_convert(tz)
    stamps = pd.to_datetime(values)
    if stamps.dt.tz is None:
        stamps = stamps.dt.tz_localize(tz)
    return stamps.dt.tz_convert(tz)


def _epoch_s(stamps):
    if not len(stamps):
        return np.zeros(0, dtype=np.int64)
    return ((stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(np.int64)


def _fmt(stamps):
    return stamps.dt.strftime("%Y-%m-%d %H:%M").where(stamps.notna(), "").tolist()


def _tz_offset_s(times, tz):
    """UTC offset of ``tz`` at the median time shown (ticks of the timelines)."""
    times = pd.Series(times).dropna()
    at = times.iloc[len(times) // 2] if len(times) else pd.Timestamp("2020-01-01", tz="UTC")
    at = pd.Timestamp(at).tz_localize(tz) if pd.Timestamp(at).tzinfo is None else pd.Timestamp(at)
    return int(at.tz_convert(tz).utcoffset().total_seconds())


def _parents(contacts):
    """Each contact's direct source: ``via`` for hop >= 2, else the source case."""
    via = contacts["via"].where(contacts["hop"] > 1) if len(contacts) else contacts["via"]
    return via.where(via.notna(), contacts["source_case"]).astype(object)


def _graph(contacts, events, cases, people, graph_top):
    """Graph nodes (cases, top contacts and the sources on their chains) and edges."""
    # Rows are read by position for the few keys drawn (a city-wide run
    # ranks 10**5 contacts; records of them all took seconds).
    by_key = {k: i for i, k in enumerate(contacts["person"].astype(str).tolist())}
    parent_of = _parents(contacts).to_numpy(dtype=object)
    column = {c: contacts[c].to_numpy() for c in ("hop", "risk", "rule", "rank") if c in contacts.columns}
    keys = list(dict.fromkeys(cases["person"].astype(str)))
    member = set(keys)
    frontier = [k for k in contacts["person"].head(graph_top).astype(str) if k not in member]
    while frontier:
        keys.extend(frontier)
        member.update(frontier)
        parents = (parent_of[by_key[k]] for k in frontier if k in by_key)
        parents = [str(p) for p in parents if _present(p)]
        frontier = list(dict.fromkeys(p for p in parents if p not in member and p in by_key))
    is_case = set(cases["person"].astype(str))
    nodes = []
    for key, pid in zip(keys, people.ids(keys)):
        i = by_key.get(key)
        parent = people.ids([parent_of[i]])[0] if i is not None and key not in is_case else -1
        nodes.append({
            "p": int(pid), "h": 0 if key in is_case else int(column["hop"][i]),
            "r": 1.0 if i is None else round(float(column["risk"][i]), 6),
            "u": "" if i is None else str(column["rule"][i]), "a": int(parent),
            "k": 0 if i is None else int(column["rank"][i]),
        })  # fmt: skip
    return {"nodes": nodes, "edges": _edges(events, member, people), "contact_keys": [k for k in keys if k in by_key]}


def _present(value):
    return value is not None and (isinstance(value, str) or not pd.isna(value))


def _edges(events, member, people):
    ev = events[events["case"].astype(str).isin(member) & events["contact"].astype(str).isin(member)]
    if ev.empty:
        return []
    ev = ev.assign(log_q=np.log1p(-np.minimum(ev["p_event"].to_numpy(float), 1 - 1e-15)))
    pairs = ev.groupby(["case", "contact"], sort=True).agg(log_q=("log_q", "sum"), n=("log_q", "size")).reset_index()
    src, dst = people.ids(pairs["case"]), people.ids(pairs["contact"])
    risk = -np.expm1(pairs["log_q"].to_numpy())
    return [[int(a), int(b), round(float(r), 6), int(n)] for a, b, r, n in zip(src, dst, risk, pairs["n"])]


def _place_ids(values, kinds, places):
    out = []
    for key, kind in zip(values, kinds):
        key = str(key)
        if key not in places:
            places[key] = (len(places), str(kind))
        out.append(places[key][0])
    return out


def _places_list(places):
    return [(k, kind) for k, (_, kind) in sorted(places.items(), key=lambda item: item[1][0])]


def _place_labels(listed, show_pii):
    """``[key, kind]`` per place id; plates and home addresses masked unless ``show_pii``."""
    keys = [k for k, _ in listed]
    if not show_pii and keys:
        keys = mask_place(pd.Series(keys, dtype=object)).tolist()
    return [[k, kind] for k, (_, kind) in zip(keys, listed)]


def _evidence(contacts, events, keys, people, places, max_events, tz):
    """Per contact: its summary row and its first ``max_events`` events."""
    keys = pd.Series(keys, dtype=object).astype(str)
    head = contacts[contacts["person"].astype(str).isin(set(keys))]
    ev = events[events["contact"].astype(str).isin(set(keys))].sort_values(["contact", "start_s"], kind="mergesort")
    ev = ev.assign(_n=ev.groupby("contact").cumcount())
    total = ev.groupby("contact").size()
    ev = ev[ev["_n"] < max_events]
    seat = ev["seat_distance"].astype(float)
    rows = zip(
        ev["contact"].astype(str), people.ids(ev["case"]), _place_ids(ev["place"], ev["kind"], places), ev["kind"],
        _fmt(ev["start"]), _fmt(ev["end"]), ev["overlap_s"], ev["together_s"], seat.where(seat.notna(), None),
        ev["rule"], ev["p_event"],
    )  # fmt: skip
    out = {}
    first = _fmt(_local(head["first_contact"], tz)) if len(head) else []
    pids, sources = people.ids(head["person"]), people.ids(head["source_case"])
    vias = people.ids(head["via"].where(head["hop"] > 1))
    counts = total.to_dict()
    for c, first_contact, pid, source, via in zip(head.to_dict("records"), first, pids, sources, vias):
        out[str(pid)] = {
            "c": [int(c["rank"]), round(float(c["risk"]), 6), str(c["rule"]), int(c["hop"]), int(source), int(via),
                  first_contact, round(float(c["overlap_min"]), 1), int(c["events"])],
            "n": int(counts.get(c["person"], 0)), "e": [],
        }  # fmt: skip
    pid_of = dict(zip(head["person"].astype(str), people.ids(head["person"])))
    for contact, src, place, kind, start, end, overlap, together, dist, rule, p in rows:
        out[str(pid_of[contact])]["e"].append([
            int(src), place, str(kind), start, end, int(overlap), int(together),
            None if dist is None or pd.isna(dist) else round(float(dist), 2), str(rule), round(float(p), 6),
        ])  # fmt: skip
    return out


def _timelines(cases, case_ids, events, presences, people, places, max_timelines, tz, max_rows=20, max_bars=150):
    """Per case (most hop-1 events first): rows of places with the case's
    presence bars and the co-presences with contacts."""
    hop1 = events[events["hop"] == 1]
    counts = hop1.groupby(hop1["case"].astype(str)).size().to_dict() if len(hop1) else {}
    order = sorted(range(len(cases)), key=lambda i: (-int(counts.get(cases["person"].iat[i], 0)), i))[:max_timelines]
    shown = cases["person"].iloc[order].tolist()
    by_case = dict(list(hop1[hop1["case"].astype(str).isin(shown)].groupby(hop1["case"].astype(str))))
    own = _presence_frame(presences, tz)
    out = []
    for i, key in zip(order, shown):
        window = _window(cases, i)
        ev = by_case.get(key, hop1.iloc[:0])
        mine = own[own["person"] == key] if own is not None else None
        if mine is not None and window is not None:
            mine = mine[(mine["end"] > window[0]) & (mine["start"] < window[1])]
        rows, more = _timeline_rows(ev, mine, people, places, max_rows, max_bars)
        ref = cases["reference_s"].iat[i] if "reference_s" in cases.columns else None
        out.append({
            "p": int(case_ids[i]), "w": window, "ref": None if ref is None or pd.isna(ref) else int(ref),
            "rows": rows, "more": more, "n": int(len(ev)),
        })  # fmt: skip
    return out


def _window(cases, i):
    if "window_start_s" not in cases.columns:
        return None
    lo, hi = cases["window_start_s"].iat[i], cases["window_end_s"].iat[i]
    return None if pd.isna(lo) or pd.isna(hi) else [int(lo), int(hi)]


def _presence_frame(presences, tz):
    if presences is None:
        return None
    missing = {"person", "place", "start", "end"} - set(presences.columns)
    if missing:
        raise ValidationError(f"report: presences lack column(s) {sorted(missing)}", hint="see case_presences()")
    kind = presences["kind"].astype(str) if "kind" in presences.columns else pd.Series("", index=presences.index)
    return pd.DataFrame({
        "person": presences["person"].astype(str).to_numpy(), "place": presences["place"].astype(str).to_numpy(),
        "kind": kind.to_numpy(), "start": _epoch_s(_local(presences["start"], tz)),
        "end": _epoch_s(_local(presences["end"], tz)),
    })  # fmt: skip


def _timeline_rows(ev, mine, people, places, max_rows, max_bars):
    """Rows by place: places with the most exposure first, then the longest stays."""
    ev = ev.assign(place=ev["place"].astype(str))
    if mine is not None:
        bars = mine[["place", "kind", "start", "end"]]
    else:
        bars = ev[["place", "kind"]].assign(start=ev["start_s"].to_numpy(), end=ev["end_s"].to_numpy())
    weight = ev.groupby("place")["p_event"].sum().to_dict() if len(ev) else {}
    stay = (bars["end"] - bars["start"]).groupby(bars["place"]).sum().to_dict() if len(bars) else {}
    kinds = dict(zip(bars["place"], bars["kind"])) | dict(zip(ev["place"], ev["kind"]))
    ranked = sorted(kinds, key=lambda p: (-float(weight.get(p, 0.0)), -float(stay.get(p, 0)), p))
    shown = ranked[:max_rows]
    bars_by = dict(list(bars[bars["place"].isin(shown)].groupby("place")))
    ev_by = dict(list(ev[ev["place"].isin(shown)].groupby("place")))
    rows = []
    for place in shown:
        b = bars_by.get(place, bars.iloc[:0])
        e = ev_by.get(place, ev.iloc[:0]).sort_values("p_event", ascending=False, kind="mergesort")
        shown = e.head(max_bars)
        rows.append({
            "pl": _place_ids([place], [kinds[place]], places)[0],
            "b": _merge(b["start"].to_numpy(np.int64), b["end"].to_numpy(np.int64)),
            "e": [[int(s), int(t), int(c), round(float(p), 6)] for s, t, c, p in
                  zip(shown["start_s"], shown["end_s"], people.ids(shown["contact"]), shown["p_event"])],
            "m": int(len(e) - len(shown)),
        })  # fmt: skip
    return rows, max(0, len(ranked) - max_rows)


def _merge(starts, ends):
    """Union of intervals, as sorted ``[start, end]`` pairs."""
    out = []
    for s, e in sorted(zip(starts.tolist(), ends.tolist())):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


_TABLE_COLUMNS = [
    ("rank", "num"), ("person", "text"), ("risk", "num"), ("rule", "text"), ("hop", "num"), ("source case", "text"),
    ("via", "text"), ("first contact", "text"), ("overlap (min)", "num"), ("events", "num"),
]  # fmt: skip


def _table_rows(contacts, people, tz):
    """Rows as (pid, cells); person cells hold ids until labels are fixed."""
    pids = people.ids(contacts["person"])
    src = people.ids(contacts["source_case"])
    via = people.ids(contacts["via"].where(contacts["hop"] > 1) if len(contacts) else contacts["via"])
    first = _fmt(_local(contacts["first_contact"], tz)) if len(contacts) else []
    rows = []
    for i, c in enumerate(contacts.itertuples(index=False)):
        risk, overlap = float(c.risk), float(c.overlap_min)
        rows.append((int(pids[i]), [
            (c.rank, c.rank), ("@", pids[i]), (f"{risk:.4f}", risk), (c.rule, c.rule), (c.hop, c.hop),
            ("@", src[i]), ("@", via[i]), (first[i], first[i]), (f"{overlap:.1f}", overlap), (c.events, c.events),
        ]))  # fmt: skip
    return {"columns": _TABLE_COLUMNS, "rows": rows}


def _cells(cells, labels):
    """Replace ``("@", pid)`` person cells by their labels."""
    out = []
    for shown, sort in cells:
        if shown == "@":
            shown = sort = labels[sort] if sort >= 0 else ""
        out.append((shown, sort))
    return out


def _summary_data(result, contacts, events, cases, derived):
    hop_rule = pd.DataFrame()
    if len(contacts):
        hop_rule = pd.crosstab(contacts["hop"], contacts["rule"], margins=True, margins_name="all")
    hop_rule.index.name = "hop"
    by_kind = pd.DataFrame(
        {"events": events.groupby("kind").size(), "contacts": events.groupby("kind")["contact"].nunique()}
    ) if len(events) else pd.DataFrame(columns=["events", "contacts"])  # fmt: skip
    by_kind.index.name = "kind"
    params = dict(getattr(result, "params", None) or {})
    flat = [(k, v) for k, v in params.items() if not isinstance(v, (dict, list))]
    for attr in ("created", "id"):
        if getattr(result, attr, None) is not None:
            flat.insert(0, (f"run {attr}", getattr(result, attr)))
    nested = {k: v for k, v in params.items() if isinstance(v, (dict, list))}
    cards = [
        ("cases", "A-class cases" + (" (derived)" if derived else ""), f"{len(cases):,}"),
        ("contacts", "B-class contacts", f"{len(contacts):,}"),
        ("close", "close contacts", f"{int((contacts['rule'] == 'close').sum()):,}" if len(contacts) else "0"),
        ("events", "co-presence events", f"{len(events):,}"),
        ("places", "places", f"{events['place'].nunique():,}" if len(events) else "0"),
    ]
    model = json.dumps(nested, indent=1, ensure_ascii=False, default=str, sort_keys=True) if nested else ""
    return {"cards": cards, "params": flat, "model": model, "by_hop_rule": hop_rule, "by_kind": by_kind}


def _timeline_note(presences, shown, n_cases):
    bars = "the case's presences"
    if presences is None:
        bars = "the case's co-presence intervals (its own presences were not given)"
    more = f" Showing {shown} of {n_cases} cases." if shown < n_cases else ""
    return f"Grey bars: {bars}; coloured bars: overlaps with contacts (darker = higher p_event).{more}"


def _default_title(result, cases, contacts):
    run = getattr(result, "id", None)
    head = f"tracer report {run}" if run else "tracer report"
    return f"{head}: {len(cases):,} case(s), {len(contacts):,} contact(s)"
