"""Trace runs in Neo4j: write-back of results, and reading them again.

A run becomes a ``(:TraceRun {id, created, params, events})`` node (params
and events as JSON text), ``:Case`` labels (with ``onset``) on its A-class
cases linked by ``(:TraceRun)-[:TRACED]->(:Case)``, and one
``(source)-[:EXPOSED_TO {run, risk, hop, first_contact, overlap_s, events,
rule, rank, source_case, places}]->(contact)`` edge per ranked contact, where
``source`` is the direct source (``via`` for hop >= 2, else the case) and
``places`` the place keys of the events behind the edge. One transaction
per run; MERGE on the run id makes writing a run twice a no-op.

Examples
--------
>>> _epoch_s(pd.Series(pd.to_datetime(["1970-01-01 00:01:00+00:00"]))).tolist()
[60]
"""

import json
import secrets
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from tracer.errors import StoreError
from tracer.jsonutil import json_default
from tracer.schema import DEFAULT_TZ
from tracer.timeutil import from_epoch_s

from . import cypher

__all__ = ["save_run", "run_frame", "load_run", "new_run_id"]

_WRITE_ROWS = 10_000


def new_run_id(now=None):
    """``run-YYYYmmdd-HHMMSS-xxxx`` (UTC), as the embedded store names runs."""
    now = now or datetime.now(timezone.utc)
    return f"run-{now.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def save_run(store, run, events=False):
    """Write ``run`` (a TraceResult or a SavedRun) into ``store``; return its id.

    ``events=True`` also keeps the evidence events (as JSON on the TraceRun
    node, megabytes for big runs); the edges always carry their places.
    """
    params = dict(getattr(run, "params", None) or {})
    tz = params.get("tz") or DEFAULT_TZ
    run_id = str(getattr(run, "id", None) or new_run_id())
    created = getattr(run, "created", None)
    created_s = int(_epoch_s(pd.Series([created]))[0]) if created is not None else int(datetime.now(timezone.utc).timestamp())
    contacts = pd.DataFrame(getattr(run, "contacts", None))
    evidence = pd.DataFrame(getattr(run, "events", None))
    rows = _exposure_rows(contacts, evidence)
    cases = _case_rows(getattr(run, "cases", None), contacts)
    params_json = json.dumps(params, default=json_default, sort_keys=True)
    events_json = json.dumps(_encode_frame(evidence, tz), default=json_default) if events else None

    def work(tx):
        stored = tx.run("MATCH (r:TraceRun {id: $id}) RETURN count(r) AS n", id=run_id).single()["n"]
        edges = cypher.load("merge_exposures" if stored else "create_exposures")
        tx.run(cypher.load("merge_run"), id=run_id, created_s=created_s, params=params_json,
               events=events_json).consume()
        tx.run(cypher.load("mark_cases"), run=run_id, cases=cases).consume()
        for lo in range(0, len(rows), _WRITE_ROWS):
            tx.run(edges, run=run_id, rows=rows[lo : lo + _WRITE_ROWS]).consume()

    store.write(work, doing="writing trace run to")
    return run_id


def run_frame(store):
    """``id, created, params`` of every run, oldest first (created: UTC, naive)."""
    frame = store.frame("runs")
    frame["created"] = pd.to_datetime([_native(t) for t in frame["created"]], utc=True).tz_convert(None)
    return frame[["id", "created", "params"]]


def load_run(store, run_id=None):
    """The run ``run_id`` (latest if None) as a :class:`tracer.duck.SavedRun`."""
    from tracer.duck import SavedRun

    if run_id is None:
        runs = run_frame(store)
        if runs.empty:
            raise StoreError(f"no trace runs in {store!r}", hint="run `tracer trace --neo4j-uri ...` first")
        run_id = runs["id"].iat[-1]
    frame = store.frame("run_exposures", run=str(run_id))
    if frame.empty:
        raise StoreError(f"no trace run {run_id!r} in {store!r}", hint="list the runs with Neo4jStore.runs()")
    params = json.loads(frame["params"].iat[0] or "{}")
    tz = params.get("tz") or DEFAULT_TZ
    created = pd.Timestamp(_native(frame["created"].iat[0])).tz_convert(None)
    events = _decode_frame(json.loads(frame["events_json"].iat[0] or "{}"), tz)
    if not len(events.columns):
        from tracer.tracing import EVENT_COLUMNS

        events = pd.DataFrame({c: [] for c in EVENT_COLUMNS})
    edges = frame[frame["rank"].notna()]
    hop = edges["hop"].to_numpy(np.int64)
    contacts = pd.DataFrame(
        {
            "rank": edges["rank"].to_numpy(np.int64),
            "person": edges["person"].to_numpy(object),
            "risk": edges["risk"].to_numpy(np.float64),
            "rule": edges["rule"].to_numpy(object),
            "hop": hop,
            "source_case": edges["source_case"].to_numpy(object),
            "first_contact": from_epoch_s(edges["first_contact_s"].to_numpy(np.int64), tz),
            "overlap_min": edges["overlap_s"].to_numpy(np.float64) / 60.0,
            "events": edges["events"].to_numpy(np.int64),
            "via": np.where(hop > 1, edges["via"].to_numpy(object), None),
        }
    )
    return SavedRun(id=str(run_id), created=created, params=params, contacts=contacts, events=events,
                    cases=_load_cases(store, run_id, tz))


# -- helpers ----------------------------------------------------------------
def _exposure_rows(contacts, events):
    """One parameter map per contact for merge_exposures.cypher."""
    if contacts.empty:
        return []
    hop = contacts["hop"].to_numpy(np.int64)
    via = contacts["via"].to_numpy(object) if "via" in contacts.columns else np.full(len(contacts), None, object)
    source = np.where((hop > 1) & pd.notna(via), via, contacts["source_case"].to_numpy(object)).astype(str)
    person = contacts["person"].astype(str).to_numpy(object)
    places = _evidence_places(events, person, hop, source)
    rank = contacts["rank"].to_numpy(np.int64) if "rank" in contacts.columns else np.arange(1, len(contacts) + 1)
    overlap_s = np.rint(contacts["overlap_min"].to_numpy(np.float64) * 60).astype(np.int64)
    rule = contacts["rule"].astype(object).where(contacts["rule"].notna(), None)
    cols = zip(person.tolist(), source.tolist(), contacts["risk"].to_numpy(np.float64).tolist(), hop.tolist(),
               _epoch_s(contacts["first_contact"]).tolist(), overlap_s.tolist(),
               contacts["events"].to_numpy(np.int64).tolist(), rule.tolist(), rank.tolist(),
               contacts["source_case"].astype(str).tolist(), places)
    names = ("person", "source", "risk", "hop", "first_contact_s", "overlap_s", "events", "rule", "rank",
             "source_case", "places")
    return [dict(zip(names, values)) for values in cols]


def _evidence_places(events, person, hop, source):
    """Sorted distinct place keys of the events behind each contact's edge
    (events of that contact, at its hop, from its direct source)."""
    empty = [[] for _ in range(len(person))]
    if events.empty or not {"contact", "hop", "case", "place"} <= set(events.columns):
        return empty
    edges = pd.DataFrame({"contact": person, "hop": hop, "case": source, "pos": np.arange(len(person))})
    keyed = pd.DataFrame({"contact": events["contact"].astype(str).to_numpy(object),
                          "hop": events["hop"].to_numpy(np.int64),
                          "case": events["case"].astype(str).to_numpy(object),
                          "place": events["place"].astype(str).to_numpy(object)}).drop_duplicates()
    keyed = keyed.merge(edges, on=["contact", "hop", "case"]).sort_values(["pos", "place"], kind="mergesort")
    pos = keyed["pos"].to_numpy(np.int64)
    cuts = np.searchsorted(pos, np.arange(len(person) + 1))
    place = keyed["place"].to_numpy(object)
    return [place[cuts[i] : cuts[i + 1]].tolist() for i in range(len(person))]


def _case_rows(cases, contacts):
    """mark_cases parameters: the run's cases (onset as epoch seconds)."""
    if cases is not None and len(cases):
        cases = pd.DataFrame(cases)
        columns = [cases[c] for c in ("person", "reference_s", "asymptomatic", "window_start_s", "window_end_s")]
        return [{"person": str(p), "pos": i, "onset_s": int(r), "asymptomatic": bool(a),
                 "window_start_s": int(w0), "window_end_s": int(w1)}
                for i, (p, r, a, w0, w1) in enumerate(zip(*columns))]  # fmt: skip
    if contacts.empty:
        return []
    roots = pd.unique(contacts["source_case"].astype(str))
    return [{"person": p, "pos": i, "onset_s": None, "asymptomatic": None, "window_start_s": None,
             "window_end_s": None} for i, p in enumerate(roots)]  # fmt: skip


def _load_cases(store, run_id, tz):
    """The run's case list with windows (as :class:`TraceResult.cases`), or
    None when it was saved without them."""
    frame = store.frame("run_cases", run=str(run_id))
    if frame.empty or frame["window_start_s"].isna().any() or frame["reference_s"].isna().any():
        return None
    out = pd.DataFrame({
        "person": frame["person"].astype(str).to_numpy(object),
        "reference_s": frame["reference_s"].to_numpy(np.int64),
        "asymptomatic": frame["asymptomatic"].fillna(False).to_numpy(bool),
        "window_start_s": frame["window_start_s"].to_numpy(np.int64),
        "window_end_s": frame["window_end_s"].to_numpy(np.int64),
    })  # fmt: skip
    from tracer.tracing import with_windows

    return with_windows(out, tz)


def _epoch_s(values):
    """Timestamps (tz-aware, or naive = UTC) → int64 UTC epoch seconds."""
    stamps = pd.to_datetime(pd.Series(values).reset_index(drop=True), utc=True)
    return ((stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(np.int64)


def _encode_frame(frame, tz):
    """A frame as JSON-able columns; datetime columns as epoch seconds."""
    out = {"columns": [], "data": {}}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(col.dtype):
            out["columns"].append([str(name), "datetime"])
            out["data"][str(name)] = _epoch_s(col).tolist()
        else:
            out["columns"].append([str(name), str(col.dtype)])
            out["data"][str(name)] = col.astype(object).where(col.notna(), None).tolist()
    return out


def _decode_frame(encoded, tz):
    columns = encoded.get("columns", [])
    data = {}
    for name, dtype in columns:
        values = encoded["data"][name]
        if dtype == "datetime":
            data[name] = from_epoch_s(np.asarray(values, dtype=np.int64), tz)
            continue
        series = pd.Series(values, dtype=object)
        try:
            series = series.astype(dtype)
        except (TypeError, ValueError):
            pass
        data[name] = series
    return pd.DataFrame(data)


def _native(value):
    return value.to_native() if hasattr(value, "to_native") else value

