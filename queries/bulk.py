"""Offline bulk import of the embedded store into an empty Neo4j database.

:func:`queries.push.push` writes through Bolt with batched ``UNWIND``
(idempotent, any database, ~10k presences/s). For a first load into an
*empty* database, :func:`bulk_push` is much faster: it writes the graph as
``neo4j-admin database import full`` CSV files (vectorised, no per-row
Python), then ``scripts/neo4j import DIR`` imports the files into a side
store while the server stops, swaps that store in as database ``neo4j``,
starts the server again and recreates the schema (a failed import leaves
the database as it was). The graph is the one
``push`` writes (ARCHITECTURE.md, "Graph model in Neo4j"):

* ``(:Person {key, name, district})``, ``(:Place {key, kind, name,
  district, lat, lon})`` (``kind`` as its name), ``(:Identifier {value})``;
* ``(:Person)-[:VISITED {record, start_s, end_s, start, end, section, row,
  col, flags}]->(:Place)`` with ``start``/``end`` as UTC ``datetime``;
* ``(:Person)-[:ALIAS]->(:Identifier)``;
* then the saved trace runs, written through Bolt as ``push`` does.

Blank names and districts, and NaN coordinates, are left out (no property),
as ``push`` leaves them out.

Examples
--------
>>> _iso_utc(np.array([1578614400])).to_pylist()
['2020-01-10T00:00:00Z']

With a server from ``scripts/neo4j`` (its database empty)::

    from tracer.duck import DuckStore
    with DuckStore("tracer.duckdb", read_only=True) as duck:
        result = bulk_push(duck, "bolt://127.0.0.1:7687")
    result.presences_per_s
"""

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from tracer.errors import Neo4jUnavailable, StoreError
from tracer.schema import KINDS

from .push import PushResult

__all__ = ["bulk_push", "write_import_files", "ImportFiles", "SCRIPT", "database_counts"]

#: The server script whose ``import`` subcommand loads the files.
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "neo4j"

_DAY_S = 86_400
# Header of each file: (neo4j-admin header field, column of the frame written).
_HEADERS = {
    "Person": [(":ID(Person)", "id"), ("key", "key"), ("name", "name"), ("district", "district")],
    "Place": [(":ID(Place)", "id"), ("key", "key"), ("kind", "kind"), ("name", "name"),
              ("district", "district"), ("lat:double", "lat"), ("lon:double", "lon")],
    "Identifier": [(":ID(Identifier)", "id"), ("value", "value")],
    "VISITED": [(":START_ID(Person)", "person"), (":END_ID(Place)", "place"), ("record:long", "record"),
                ("start_s:long", "start_s"), ("end_s:long", "end_s"), ("start:datetime", "start"),
                ("end:datetime", "end"), ("section:long", "section"), ("row:long", "row"),
                ("col:long", "col"), ("flags:long", "flags")],
    "ALIAS": [(":START_ID(Person)", "person"), (":END_ID(Identifier)", "identifier")],
}
_NODE_FILES = ("Person", "Place", "Identifier")


@dataclass
class ImportFiles:
    """CSV files in ``directory``: ``nodes-<Label>.csv``, ``rels-<TYPE>.csv``
    (``.ml.csv`` when a value holds a line break).

    ``counts`` maps each label and relationship type to its row count;
    ``seconds`` is the time spent building and writing them.
    """

    directory: str
    counts: dict = field(default_factory=dict)
    seconds: float = 0.0


def write_import_files(duck_store, directory):
    """Write ``duck_store``'s graph as ``neo4j-admin database import full`` CSVs.

    Parameters
    ----------
    duck_store : a :class:`tracer.duck.DuckStore` (read-only is enough).
    directory : where to write (created if missing; old import files in it
        are replaced).

    Returns
    -------
    ImportFiles

    Examples
    --------
    >>> import tempfile                                              # doctest: +SKIP
    >>> write_import_files(duck, tempfile.mkdtemp()).counts["VISITED"]  # doctest: +SKIP
    996022
    """
    t0 = time.perf_counter()
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("nodes-*.csv")) + list(out.glob("rels-*.csv")):  # also *.ml.csv
        old.unlink()
    persons, person_id = _person_nodes(duck_store.persons(), duck_store.aliases())
    places, place_id = _place_nodes(duck_store.places())
    identifiers, alias = _alias_graph(duck_store.aliases(), persons)
    visited = _visited(duck_store.presences(), person_id, place_id)
    tables = {"Person": persons, "Place": places, "Identifier": identifiers, "VISITED": visited, "ALIAS": alias}
    counts = {}
    for name, table in tables.items():
        prefix = "nodes" if name in _NODE_FILES else "rels"
        # A value with a line break needs the importer's (slower) multiline
        # parsing: such files are named *.ml.csv, and only they get it.
        suffix = ".ml.csv" if _has_line_breaks(table) else ".csv"
        _write_csv(out / f"{prefix}-{name}{suffix}", table, _HEADERS[name])
        counts[name] = table.num_rows
    return ImportFiles(directory=str(out), counts=counts, seconds=time.perf_counter() - t0)


def bulk_push(duck_store, uri=None, user=None, password=None, workdir=None, progress=None, force=False,
              neo4j_dir=None, runs=True, timings=None):
    """Load ``duck_store`` into an empty Neo4j database by offline import.

    Writes the CSVs (:func:`write_import_files`), runs ``scripts/neo4j
    import`` (stop, import, start, schema) on the server of ``neo4j_dir``,
    checks the node and relationship counts, then copies the saved trace
    runs through Bolt.

    Parameters
    ----------
    duck_store : the embedded store.
    uri, user, password : the server (defaults as :class:`Neo4jStore`);
        the Bolt port of ``uri`` is the port the restarted server listens on.
    workdir : directory for the CSVs (default: a temporary one, removed after).
    progress : callable(done, total) with presence counts, or None.
    force : replace a database that is not empty (all its data is lost).
    neo4j_dir : the server home of ``scripts/neo4j`` (default
        ``$NEO4J_DIR``, else ``<repo>/.neo4j``); the server must be one that
        script runs, on this machine.
    runs : also copy the saved trace runs.
    timings : a dict to fill with the seconds of each stage: ``write_s``
        (CSVs), ``import_s`` (the script: stop, import, start, schema),
        ``verify_s`` (counts), ``runs_s``; or None.

    Returns
    -------
    PushResult (``presences_present`` is 0: the database was empty).

    Raises
    ------
    StoreError
        when the database is not empty (and not ``force``), or the import
        or the count check fails.
    """
    from .connect import settings

    t0 = time.perf_counter()
    conf = settings(uri, user, password, None)
    if not force:
        _refuse_non_empty(conf)
    stages = {} if timings is None else timings
    with tempfile.TemporaryDirectory(prefix="tracer-import-") as tmp:
        files = write_import_files(duck_store, workdir or tmp)
        stages["write_s"] = files.seconds
        _report(progress, 0, files.counts["VISITED"])
        t1 = time.perf_counter()
        _run_script(files.directory, conf, force, neo4j_dir)
        stages["import_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    counts = database_counts(conf)
    stages["verify_s"] = time.perf_counter() - t1
    expected = dict(files.counts)
    if counts != expected:
        raise StoreError(
            f"the import into Neo4j at {conf.shown_uri} gave {counts}, expected {expected}",
            hint="see the import report in the server's logs/ directory",
        )
    _report(progress, files.counts["VISITED"], files.counts["VISITED"])
    t1 = time.perf_counter()
    n_runs = _copy_runs(duck_store, conf) if runs else 0
    stages["runs_s"] = time.perf_counter() - t1
    return PushResult(
        persons=counts["Person"], places=counts["Place"], aliases=counts["ALIAS"],
        presences_read=files.counts["VISITED"], presences_loaded=counts["VISITED"], presences_present=0,
        runs=n_runs, seconds=time.perf_counter() - t0,
    )


def database_counts(conf):
    """Node counts by label and relationship counts by type, from the count store."""
    from .connect import open_driver

    driver = open_driver(conf)
    try:
        out = {}
        for label in _NODE_FILES:
            out[label] = driver.execute_query(f"MATCH (n:{label}) RETURN count(n) AS n",
                                              database_=conf.database).records[0]["n"]
        for rel in ("VISITED", "ALIAS"):
            out[rel] = driver.execute_query(f"MATCH ()-[r:{rel}]->() RETURN count(r) AS n",
                                            database_=conf.database).records[0]["n"]
        return out
    finally:
        driver.close()


# -- building the tables ------------------------------------------------------
def _person_nodes(persons, aliases):
    """Person nodes (dictionary persons, then alias owners not in it) and a
    lookup ``node id[person code]``."""
    extra = pd.unique(aliases["key"].astype(str).to_numpy(object))
    extra = extra[~pd.Index(extra).isin(persons["key"].astype(str).to_numpy(object))]
    frame = pd.concat([persons[["key", "name", "district"]], pd.DataFrame({"key": extra})], ignore_index=True)
    frame = _first_per_key(frame)
    ids = np.arange(len(frame), dtype=np.int64)
    code_id = _code_lookup(persons, frame["key"])
    table = pa.table({"id": ids, "key": frame["key"].to_numpy(object),
                      "name": _text(frame["name"]), "district": _text(frame["district"])})
    return table, code_id


def _place_nodes(places):
    """Place nodes (kind as its name) and ``node id[place code]``."""
    frame = _first_per_key(places[["key", "kind", "name", "district", "lat", "lon"]])
    kind_code = pd.array(frame["kind"], dtype="Int8")
    names = np.asarray(KINDS + (None,), dtype=object)
    kind = names[np.where(kind_code.isna(), len(KINDS), kind_code.fillna(0).to_numpy(np.int64))]
    table = pa.table({"id": np.arange(len(frame), dtype=np.int64), "key": frame["key"].to_numpy(object),
                      "kind": pa.array(kind, pa.string()), "name": _text(frame["name"]),
                      "district": _text(frame["district"]),
                      "lat": pa.array(frame["lat"].to_numpy(np.float64), from_pandas=True),
                      "lon": pa.array(frame["lon"].to_numpy(np.float64), from_pandas=True)})
    return table, _code_lookup(places, frame["key"])


def _alias_graph(aliases, persons):
    """Identifier nodes and ALIAS edges (distinct ``key, alias`` pairs)."""
    pairs = aliases[["key", "alias"]].dropna().astype(str).drop_duplicates()
    value_inv, values = pd.factorize(pairs["alias"].to_numpy(object))
    person_id = pd.Index(persons.column("key").to_pylist()).get_indexer(pairs["key"].to_numpy(object))
    identifiers = pa.table({"id": np.arange(len(values), dtype=np.int64), "value": pa.array(values, pa.string())})
    alias = pa.table({"person": person_id.astype(np.int64), "identifier": value_inv.astype(np.int64)})
    return identifiers, alias


def _visited(presences, person_id, place_id):
    """VISITED edges, one per distinct record (the first row of a record)."""
    keep = ~presences["record"].duplicated().to_numpy()
    rows = presences[keep]
    start = rows["start"].to_numpy(np.int64)
    end = rows["end"].to_numpy(np.int64)
    return pa.table({
        "person": person_id[rows["person"].to_numpy(np.int64)],
        "place": place_id[rows["place"].to_numpy(np.int64)],
        "record": rows["record"].to_numpy(np.int64),
        "start_s": start, "end_s": end,
        "start": _iso_utc(start), "end": _iso_utc(end),
        **{c: rows[c].to_numpy(np.int64) for c in ("section", "row", "col", "flags")},
    })


def _first_per_key(frame):
    """One row per key: the first non-missing value of each column (what
    push's ``coalesce`` keeps); blank strings count as missing."""
    frame = frame.copy()
    frame["key"] = frame["key"].astype(str)
    for col in frame.columns.drop("key"):
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col].dtype):
            text = frame[col].astype(object)
            blank = text.isna() | (text.astype(str).str.strip() == "")
            frame[col] = text.where(~blank, None)
    return frame.groupby("key", sort=False, dropna=False).first().reset_index()


def _code_lookup(dictionary, node_keys):
    """int64 ``node id[code]`` for a dictionary frame ``code, key``."""
    codes = dictionary["code"].to_numpy(np.int64)
    out = np.full(int(codes.max()) + 1 if len(codes) else 0, -1, dtype=np.int64)
    out[codes] = pd.Index(node_keys.to_numpy(object)).get_indexer(dictionary["key"].astype(str).to_numpy(object))
    return out


def _text(series):
    """A string column; missing and blank values as null (no property)."""
    values = series.astype(object)
    values = values.where(values.notna(), None)
    return pa.array(values.to_numpy(object), pa.string(), from_pandas=True)


@lru_cache(maxsize=1)
def _time_of_day():
    """``HH:MM:SSZ`` for every second of a day."""
    stamps = np.datetime_as_string(np.arange(_DAY_S).astype("datetime64[s]"))
    return pc.utf8_slice_codeunits(pa.array(np.char.add(stamps, "Z")), 11)


def _iso_utc(epoch_s):
    """Epoch seconds → ISO-8601 UTC strings (``2020-01-10T08:00:00Z``),
    by day and second-of-day lookup tables (vectorised)."""
    if not len(epoch_s):
        return pa.array([], pa.string())
    day, second = np.divmod(np.asarray(epoch_s, dtype=np.int64), _DAY_S)
    days, which = np.unique(day, return_inverse=True)  # distinct days only: a stray far-off date stays cheap
    dates = pa.array(np.char.add(np.datetime_as_string((days * _DAY_S).astype("datetime64[s]"), unit="D"), "T"))
    return pc.binary_join_element_wise(pc.take(dates, pa.array(which.ravel())),
                                       pc.take(_time_of_day(), pa.array(second)), "")


def _has_line_breaks(table):
    """Whether any string value of ``table`` holds a CR or LF."""
    for column in table.columns:
        if pa.types.is_string(column.type) and pc.any(pc.match_substring_regex(column, "[\r\n]")).as_py():
            return True
    return False


def _write_csv(path, table, header):
    """One CSV: our header line, then the rows (quoted only where needed;
    a null is an empty field, which the importer leaves out)."""
    table = table.select([col for _, col in header])
    with pa.OSFile(str(path), "wb") as sink:
        sink.write((",".join(name for name, _ in header) + "\n").encode())
        pcsv.write_csv(table, sink, pcsv.WriteOptions(include_header=False, quoting_style="needed",
                                                      batch_size=1 << 16))


# -- running the import -------------------------------------------------------
def _refuse_non_empty(conf):
    """Raise StoreError when the database has any node (server reachable);
    a stopped server is checked by the script."""
    from .connect import open_driver

    try:
        driver = open_driver(conf)
    except Neo4jUnavailable:
        return
    try:
        n = driver.execute_query("MATCH (n) RETURN count(n) AS n", database_=conf.database).records[0]["n"]
    finally:
        driver.close()
    if n:
        raise StoreError(
            f"the Neo4j database at {conf.shown_uri} is not empty ({n:,} nodes): a bulk import replaces it",
            hint="use the incremental push (without --bulk), or pass force=True / --force to replace all data",
        )


def _http_port(neo4j_dir):
    """The HTTP port in the server home's neo4j.conf, if it has one."""
    home = Path(neo4j_dir) if neo4j_dir else SCRIPT.parent.parent / ".neo4j"
    conf = home / "conf" / "neo4j.conf"
    if not conf.exists():
        return None
    for line in conf.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "server.http.listen_address" and ":" in value:
            return value.strip().rsplit(":", 1)[1]
    return None


def _run_script(directory, conf, force, neo4j_dir):
    """``scripts/neo4j import DIR`` for the server of ``conf``'s Bolt port."""
    env = dict(os.environ)
    port = urlsplit(conf.uri).port
    if port:
        env["NEO4J_BOLT_PORT"] = str(port)
    if neo4j_dir:
        env["NEO4J_DIR"] = str(neo4j_dir)
    http = _http_port(neo4j_dir)
    if http:
        env["NEO4J_HTTP_PORT"] = http  # the restart must keep the server's own HTTP port
    env["NEO4J_PASSWORD"] = conf.password
    cmd = ["bash", str(SCRIPT), "import", str(directory)] + (["--force"] if force else [])
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise StoreError(
            f"bulk import into Neo4j at {conf.shown_uri} failed: " + (detail[-1] if detail else f"exit {done.returncode}"),
            hint="run `bash scripts/neo4j import DIR` by hand to see its whole output",
        )
    return done.stdout


def _copy_runs(duck_store, conf):
    from .neo4j_store import Neo4jStore

    ids = duck_store.runs()["id"].tolist()
    if not ids:
        return 0
    with Neo4jStore(conf.uri, conf.user, conf.password, conf.database) as neo:
        for run_id in ids:
            neo.save_run(duck_store.load_run(run_id), events=True)
    return len(ids)


def _report(progress, done, total):
    if progress is not None:
        progress(int(done), int(total))
