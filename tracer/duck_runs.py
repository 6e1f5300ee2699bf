"""Trace runs in the embedded store: saving, listing and loading them.

A run is one row of ``runs`` (id, creation time, params as JSON and the
names and dtypes of its frames) plus its contacts, events and cases in
``run_contacts``, ``run_events`` and ``run_cases``, keyed by ``run`` and ordered by
``run_pos``. Columns are added to those tables as runs bring them, so any
frame round-trips with its names, order and dtypes. Use the
:class:`tracer.duck.DuckStore` methods ``save_run``, ``runs`` and
``load_run``, which call the functions here.

Examples
--------
>>> import tempfile, os
>>> import pandas as pd
>>> from tracer.duck import DuckStore
>>> run = SavedRun("", None, {"hops": 2}, pd.DataFrame({"person": ["b"]}), pd.DataFrame())
>>> with DuckStore(os.path.join(tempfile.mkdtemp(), "t.duckdb")) as store:
...     saved = load_run(store.con, save_run(store.con, run), where=store.path)
>>> saved.params, saved.contacts["person"].tolist()
({'hops': 2}, ['b'])
"""

import json
import secrets
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from .duck_sql import fetch_frame, fetch_one, quote_ident, registered, rollback, utcnow
from .errors import StoreError, ValidationError
from .jsonutil import json_default

__all__ = ["SavedRun", "save_run", "list_runs", "load_run", "load_run_events"]

#: Column names of the run tables that a run's frames may not use.
RUN_RESERVED = ("run", "run_pos")

#: The table of runs' case lists (added to older stores by their first save).
CASES_SCHEMA = """
ALTER TABLE runs ADD COLUMN IF NOT EXISTS case_columns JSON;
CREATE TABLE IF NOT EXISTS run_cases (run VARCHAR NOT NULL, run_pos BIGINT NOT NULL);
"""


@dataclass
class SavedRun:
    """A trace run as stored: what :meth:`DuckStore.load_run` returns.

    Attributes
    ----------
    id : str, e.g. ``run-20240131-093000-1a2b``.
    created : pandas.Timestamp (UTC, naive).
    params : dict, the run parameters as saved (JSON round trip).
    contacts, events : DataFrame, with the columns and dtypes they were saved with.
    cases : DataFrame of the run's A-class cases and their infectious windows
        (``person, reference_s, asymptomatic, window_start_s, window_end_s``,
        ``window_start``, ``window_end``), or None for a run saved without them
        (by a tracer before 2026-12, or from a frame without a case list).
    """

    id: str
    created: pd.Timestamp
    params: dict
    contacts: pd.DataFrame
    events: pd.DataFrame
    cases: pd.DataFrame = None


def save_run(con, run):
    """Persist ``run`` (``params`` dict, ``contacts`` and ``events`` frames)
    through the connection ``con`` in one transaction; return the new run id."""
    params = json.dumps(dict(getattr(run, "params", None) or {}), default=_params_default, sort_keys=True)
    frames = {"run_contacts": _run_frame(run, "contacts"), "run_events": _run_frame(run, "events")}
    if getattr(run, "cases", None) is not None:
        frames["run_cases"] = _run_frame(run, "cases")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(CASES_SCHEMA)  # stores made before run_cases existed gain it here
        run_id = _new_run_id(con)
        columns = {}
        for table, frame in frames.items():
            columns[table] = [[str(c), str(t)] for c, t in frame.dtypes.items()]
            _insert_run_frame(con, table, run_id, frame)
        case_columns = json.dumps(columns["run_cases"]) if "run_cases" in columns else None
        con.execute(
            "INSERT INTO runs (id, created, params, contact_columns, event_columns, case_columns)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [run_id, utcnow(), params, json.dumps(columns["run_contacts"]), json.dumps(columns["run_events"]),
             case_columns],
        )  # fmt: skip
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return run_id


def list_runs(con):
    """One row per saved run, oldest first: ``id, created, params`` (JSON text)."""
    return con.execute("SELECT id, created, CAST(params AS VARCHAR) AS params FROM runs ORDER BY created, id").df()


def load_run(con, run_id=None, where="the store", events=True):
    """A :class:`SavedRun` (the latest when ``run_id`` is None); with
    ``events=False`` its ``events`` is None (read the ones needed with
    :func:`load_run_events`).

    Raises :class:`~tracer.errors.StoreError` naming ``where`` (the store's
    path) when there is no such run.
    """
    sql = (
        "SELECT id, created, CAST(params AS VARCHAR), CAST(contact_columns AS VARCHAR), "
        "CAST(event_columns AS VARCHAR) FROM runs"
    )
    if run_id is None:
        row = fetch_one(con, sql + " ORDER BY created DESC, id DESC LIMIT 1")
    else:
        row = fetch_one(con, sql + " WHERE id = ?", [str(run_id)])
    if row is None:
        if run_id is None:
            raise StoreError(f"no trace runs in store {where}", hint="run `tracer trace` first (it saves the run)")
        raise StoreError(f"no trace run {run_id!r} in store {where}", hint="`tracer runs` lists the saved runs")
    rid, created, params, contact_cols, event_cols = row
    return SavedRun(
        id=rid,
        created=pd.Timestamp(created),
        params=json.loads(params),
        contacts=_load_run_frame(con, "run_contacts", rid, json.loads(contact_cols)),
        events=_load_run_frame(con, "run_events", rid, json.loads(event_cols)) if events else None,
        cases=_load_cases(con, rid),
    )


def load_run_events(con, run_id, pairs):
    """The saved events of run ``run_id`` between the given ``(case,
    contact)`` key pairs, in saved order; None when the run was saved
    without events (or with columns other than ``case`` and ``contact``)."""
    row = fetch_one(con, "SELECT CAST(event_columns AS VARCHAR) FROM runs WHERE id = ?", [str(run_id)])
    columns = json.loads(row[0]) if row and row[0] else []
    names = {c for c, _ in columns}
    if not {"case", "contact"} <= names:
        return None
    if not fetch_one(con, "SELECT count(*) FROM (SELECT 1 FROM run_events WHERE run = ? LIMIT 1)", [str(run_id)])[0]:
        return None
    wanted = pd.DataFrame(list(pairs), columns=["case", "contact"], dtype=object)
    names = "".join(f", e.{quote_ident(c)}" for c, _ in columns)
    with registered(con, _pairs=wanted):
        out = fetch_frame(
            con,
            f"SELECT e.run_pos{names} FROM run_events e SEMI JOIN _pairs p"
            ' ON e."case" = p."case" AND e.contact = p.contact WHERE e.run = ? ORDER BY e.run_pos',
            [str(run_id)],
        )
    return _typed_run_frame(out.drop(columns="run_pos"), columns)


def _load_cases(con, run_id):
    """The run's case list, or None (saved without one, or an older store)."""
    sql = "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'runs' AND column_name = 'case_columns'"
    if not fetch_one(con, sql)[0]:
        return None
    columns = fetch_one(con, "SELECT CAST(case_columns AS VARCHAR) FROM runs WHERE id = ?", [run_id])[0]
    return _load_run_frame(con, "run_cases", run_id, json.loads(columns)) if columns else None


# -- helpers ----------------------------------------------------------------
def _new_run_id(con):
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    while True:
        run_id = f"run-{stamp}-{secrets.token_hex(2)}"
        if not fetch_one(con, "SELECT count(*) FROM runs WHERE id = ?", [run_id])[0]:
            return run_id


def _insert_run_frame(con, table, run_id, frame):
    with registered(con, _run_frame=_scannable(frame.assign(run_pos=np.arange(len(frame), dtype=np.int64)))):
        have = dict(con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'",
            [table],
        ).fetchall())
        for name, sql_type, *_ in con.execute("DESCRIBE SELECT * FROM _run_frame").fetchall():
            if name == "run_pos":
                continue
            sql_type = "VARCHAR" if sql_type == '"NULL"' else sql_type
            if name not in have:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {quote_ident(name)} {sql_type}")
            elif have[name] != sql_type and have[name] != "VARCHAR":
                # A column whose type changed between runs is kept as text;
                # load_run casts back to each run's saved dtype.
                con.execute(f"ALTER TABLE {table} ALTER {quote_ident(name)} TYPE VARCHAR")
        cols = "".join(f", {quote_ident(c)}" for c in frame.columns)
        con.execute(
            f"INSERT INTO {table} (run, run_pos{cols}) SELECT ?, run_pos{cols} FROM _run_frame",
            [run_id],
        )


def _scannable(frame):
    """``frame`` as an Arrow table when every column converts (DuckDB scans
    Arrow on all threads, Arrow-backed text without a copy: the 1.9 M events
    of a city-wide trace insert ~3x faster than from pandas), else as it is."""
    import pyarrow as pa

    if any(isinstance(dtype, pd.CategoricalDtype) or dtype == object for dtype in frame.dtypes):
        return frame  # ENUMs and Python objects: DuckDB's pandas scan types them as before
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError):
        return frame


def _load_run_frame(con, table, run_id, columns):
    names = "".join(f", {quote_ident(c)}" for c, _ in columns)
    out = fetch_frame(con, f"SELECT run_pos{names} FROM {table} WHERE run = ? ORDER BY run_pos", [run_id])
    return _typed_run_frame(out.drop(columns="run_pos"), columns)


def _typed_run_frame(out, columns):
    """A run frame read back, each column cast to its saved dtype."""
    for name, dtype in columns:
        if dtype == "category" and isinstance(out[name].dtype, pd.CategoricalDtype):
            out[name] = out[name].cat.as_unordered()  # DuckDB ENUMs come back ordered
        elif str(out[name].dtype) != dtype:
            try:
                out[name] = out[name].astype(dtype)
            except (TypeError, ValueError):  # keep what DuckDB gave rather than fail the load
                pass
    return out


def _run_frame(run, attr):
    frame = getattr(run, attr, None)
    frame = pd.DataFrame() if frame is None else pd.DataFrame(frame).reset_index(drop=True)
    clash = [c for c in frame.columns if str(c).lower() in RUN_RESERVED]
    if clash:
        raise ValidationError(f"run {attr}: column name(s) {clash} are reserved by the store", hint="rename them")
    return frame


def _refuse(value):
    raise ValidationError(f"run params: {type(value).__name__} value {value!r} is not JSON-serialisable")


#: ``json.dumps`` default for run params: known types converted, others refused.
_params_default = partial(json_default, fallback=_refuse)
