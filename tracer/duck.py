"""The embedded store: one DuckDB file holding presences, dictionaries and runs.

:class:`DuckStore` implements :class:`tracer.store.Store`. A batch is appended
in one transaction (committed whole or not at all, also when the process is
killed); every committed append that changes anything bumps ``meta.version``,
and the presence index persisted beside the file (``<path>.index/``) is
rebuilt only when that version moved. The batch's dictionary entries are
built in :mod:`tracer.duck_dicts` and trace runs stored by
:mod:`tracer.duck_runs`; :class:`DuckStore` holds the connection and ties
them together.

Examples
--------
>>> import tempfile, os, pandas as pd
>>> from tracer.presence import Batch, fingerprint
>>> rows = pd.DataFrame({"person_key": ["p1"], "place_key": ["venue:1"],
...     "start": [0], "end": [600], "kind": [0], "section": [-1], "row": [-1],
...     "col": [-1], "flags": [0]})
>>> rows["record"] = fingerprint(rows.person_key, rows.place_key, rows.start,
...     rows.end, rows.section, rows.row, rows.col)
>>> path = os.path.join(tempfile.mkdtemp(), "demo.duckdb")
>>> with DuckStore(path) as store:
...     result = store.append(Batch(rows, source="demo.csv"))
...     (result.loaded, store.version, store.person_codes(["p1"]).tolist())
(1, 1, [0])
"""

import importlib
import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from . import duck_merge, duck_runs
from .duck_dicts import batch_parts, check_place_kinds, entry_codes, insert_aliases, upsert_coded
from .duck_runs import SavedRun
from .duck_sql import fetch_one, registered, rollback, utcnow
from .errors import StoreError, StoreLocked, UnknownPerson
from .schema import PRESENCE_COLUMNS
from .store import AppendResult

__all__ = ["DuckStore", "SavedRun", "SCHEMA_VERSION"]

#: Layout version of the tables below; a newer file is refused, not guessed at.
SCHEMA_VERSION = 1

_SQL_TYPES = {
    np.int8: "TINYINT",
    np.int16: "SMALLINT",
    np.int32: "INTEGER",
    np.int64: "BIGINT",
    np.uint8: "UTINYINT",
}
_PRESENCE_SQL = ", ".join(f'"{c}" {_SQL_TYPES[t]} NOT NULL' for c, t in PRESENCE_COLUMNS.items())
_PRESENCE_LIST = ", ".join(f'"{c}"' for c in PRESENCE_COLUMNS)
_INDEX_COLUMNS = 'person, place, start, "end", kind, section, "row", col, flags'

# Keys are unique by construction: one writer at a time, and an append
# inserts only the keys (and key-alias pairs) that a join finds missing.
# Stores created before 2026-12 also declare them UNIQUE; new ones do not,
# because DuckDB's unique indexes on text tripled the cost of committing a
# large batch (the tables are read the same way either way).
# The alias columns (18-digit IDs and phones, nearly all distinct) are
# compressed with zstd: DuckDB's default analysis (dictionary + FSST) cost
# about 120 ms for the 198k aliases of a 1M-row venues load, zstd about 80 ms
# (uncompressed 45 ms, but a 20% larger store; zstd keeps it within 4%).
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS presences ({_PRESENCE_SQL});
CREATE TABLE IF NOT EXISTS persons (code INTEGER PRIMARY KEY, key VARCHAR NOT NULL,
    name VARCHAR, district VARCHAR);
CREATE TABLE IF NOT EXISTS places (code INTEGER PRIMARY KEY, key VARCHAR NOT NULL,
    kind TINYINT, name VARCHAR, district VARCHAR, lat DOUBLE, lon DOUBLE);
CREATE TABLE IF NOT EXISTS aliases (key VARCHAR USING COMPRESSION zstd NOT NULL,
    alias VARCHAR USING COMPRESSION zstd NOT NULL);
CREATE TABLE IF NOT EXISTS sources (id SMALLINT PRIMARY KEY, label VARCHAR, loaded_at TIMESTAMP, "rows" BIGINT);
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS runs (id VARCHAR PRIMARY KEY, created TIMESTAMP, params JSON,
    contact_columns JSON, event_columns JSON);
CREATE TABLE IF NOT EXISTS run_contacts (run VARCHAR NOT NULL, run_pos BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS run_events (run VARCHAR NOT NULL, run_pos BIGINT NOT NULL);
{duck_runs.CASES_SCHEMA}"""

_KEY_CACHE_MIN = 2_000  # above this many codes, read a whole dictionary once
#: Dictionary frames: int32 codes, text as pandas ``str`` (missing = NaN).
_DICT_DTYPES = {"code": np.int32, "key": "str", "name": "str", "district": "str"}


class DuckStore:
    """Presences, dictionaries and trace runs in one DuckDB file.

    Parameters
    ----------
    path : str or Path, the ``.duckdb`` file (created when missing unless
        ``read_only``).
    read_only : bool, open for queries only (the file must exist).
    create : bool, create the file when it is missing (default); with
        ``create=False`` a missing file is a :class:`StoreError` ("no store
        at …"), so a mistyped path does not leave an empty store behind.

    Only one process may have the file open for writing; opening it while
    another process holds it raises :class:`~tracer.errors.StoreLocked`. One
    instance is meant for one thread.

    Examples
    --------
    >>> import tempfile, os
    >>> with DuckStore(os.path.join(tempfile.mkdtemp(), "t.duckdb")) as store:
    ...     store.version, len(store.presences())
    (0, 0)
    """

    #: ``append`` takes ``merge_persons`` (see :mod:`tracer.duck_merge`).
    merges_persons = True

    #: Presences inserted per statement inside an append (progress granularity).
    append_chunk_rows = 500_000

    def __init__(self, path, read_only=False, create=True):
        self.path = Path(path)
        self.read_only = bool(read_only)
        self._index = None
        self._key_cache = {}  # table -> (version, keys by code)
        self._con = _connect(self.path, self.read_only, create)
        try:
            self._prepare_schema()
        except BaseException:
            self._con.close()
            raise

    # -- life cycle -------------------------------------------------------
    def __repr__(self):
        mode = ", read_only=True" if self.read_only else ""
        return f"DuckStore({str(self.path)!r}{mode})"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Release the file (and its lock); the instance is unusable afterwards."""
        if self._con is not None:
            self._con.close()
            self._con = None
        self._index = None

    @property
    def con(self):
        """The underlying DuckDB connection (for ad-hoc SQL)."""
        if self._con is None:
            raise StoreError(f"store {self.path} is closed", hint="open a new DuckStore")
        return self._con

    @property
    def version(self):
        """int: bumped by every committed append that changed anything."""
        return int(self._meta("version"))

    @property
    def index_dir(self):
        """Path of the persisted presence index, ``<path>.index``."""
        return self.path.with_name(self.path.name + ".index")

    def _meta(self, key):
        row = fetch_one(self.con, "SELECT value FROM meta WHERE key = ?", [key])
        return None if row is None else row[0]

    def _prepare_schema(self):
        con = self.con
        sql = "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'meta' AND schema_name = 'main'"
        exists = fetch_one(con, sql)[0]
        if not exists and self.read_only:
            raise StoreError(
                f"{self.path} is not a tracer store (no meta table)",
                hint="point --store at a file written by `tracer load`",
            )
        if not exists:
            con.execute("BEGIN TRANSACTION")
            con.execute(_SCHEMA)
            con.execute("INSERT INTO meta VALUES ('version', '0'), ('schema', ?)", [str(SCHEMA_VERSION)])
            con.execute("COMMIT")
            # An index left over from an earlier file of the same name would
            # carry a version number that the fresh store will reach again.
            shutil.rmtree(self.index_dir, ignore_errors=True)
        schema = int(self._meta("schema") or 0)
        if schema > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has store schema {schema}; this tracer understands up to {SCHEMA_VERSION}",
                hint="upgrade tracer",
            )

    # -- appending --------------------------------------------------------
    def append(self, batch, progress=None, merge_persons=None):
        """Append a :class:`tracer.presence.Batch` in one transaction.

        New person and place keys get dense int32 codes after the largest
        existing code, in order of first appearance (dictionary frames, then
        presences, then aliases); existing keys keep theirs. An empty name,
        district, kind or coordinate is filled by the first non-empty value
        seen. Presences whose ``record`` is already stored, or repeats an
        earlier row of the batch, count as duplicates.

        Parameters
        ----------
        batch : Batch
        progress : callable(done, total) or None, called with row counts at
            the start (inside the transaction), after each chunk, and at the end.
        merge_persons : DataFrame ``key, into_key``, optional: persons keyed
            by a phone whose stored presences move to the ID holder
            ``into_key`` in the same transaction, before the batch is
            deduplicated (:mod:`tracer.duck_merge`).

        Returns
        -------
        AppendResult ``read, loaded, duplicates, source, moved`` (``source``
        is -1 when the batch changed nothing and so was not recorded;
        ``moved`` counts stored presences moved by ``merge_persons``).
        """
        if self.read_only:
            raise StoreError(f"store {self.path} is open read-only", hint="open it without read_only to append")
        rows, person_inv, person_keys, place_inv, place_keys, persons, places, aliases = batch_parts(batch)
        read = len(batch.presences)
        con = self.con
        merging = merge_persons is not None and len(merge_persons) > 0
        moved = 0
        con.execute("BEGIN TRANSACTION")
        try:
            _report(progress, 0, read)
            if merging:
                to_move = duck_merge.moved_presences(con, merge_persons)
                duck_merge.rename_new_holders(con, merge_persons)
            duck_merge.forget_merges(con, persons["key"].to_numpy(dtype=object))
            changed, person_codes = upsert_coded(con, "persons", persons, self.path)
            changed_places, place_codes = upsert_coded(con, "places", places, self.path)
            changed += changed_places + insert_aliases(con, aliases)
            source = -1
            if merging:
                source = self._next_source()
                moved, _ = duck_merge.apply_merges(con, merge_persons, to_move, source)
                changed += 1
            person_codes = entry_codes(persons, person_codes, person_keys, "person")
            place_codes = entry_codes(places, place_codes, place_keys, "place")
            fresh = self._fresh_presences(rows, place_keys, place_inv, person_codes[person_inv],
                                          place_codes[place_inv])  # fmt: skip
            if source < 0:
                source = self._next_source() if (len(fresh) or changed) else -1
            self._insert_presences(fresh, source, progress, read - len(fresh), read)
            if source >= 0:
                con.execute(
                    "INSERT INTO sources VALUES (?, ?, ?, ?)", [source, batch.source or "", utcnow(), len(fresh)]
                )
                con.execute("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) WHERE key = 'version'")
                con.execute("COMMIT")
            else:
                con.execute("ROLLBACK")
        except duckdb.Error as exc:
            rollback(con)
            raise StoreError(f"append to {self.path} failed: {exc}", hint="the store is unchanged") from exc
        except BaseException:
            rollback(con)
            raise
        _report(progress, read, read)
        return AppendResult(read=read, loaded=len(fresh), duplicates=read - len(fresh), source=source, moved=moved)

    def moved_records(self, merge_persons):
        """int64 records the stored presences of ``merge_persons`` (``key,
        into_key``) would get in :meth:`append` (a load counts batch rows
        equal to one of them as duplicates)."""
        return duck_merge.moved_presences(self.con, merge_persons)["new_record"].to_numpy(np.int64)

    def _codes(self, table, keys, column="code"):
        """int32 ``column`` (codes; -1 when unknown) of ``keys``, in the order given."""
        frame = pd.DataFrame({"key": pd.Series(keys, dtype=object), "pos": np.arange(len(keys))})
        with registered(self.con, _keys=frame):
            sql = f"SELECT k.pos, t.{column} AS value FROM _keys k JOIN {table} t ON t.key = k.key"
            got = self.con.execute(sql).fetchnumpy()
        codes = np.full(len(keys), -1, dtype=np.int32)
        codes[got["pos"]] = np.ma.filled(got["value"], -1)
        return codes

    def _fresh_presences(self, rows, place_keys, place_inv, person_code, place_code):
        """Batch rows with codes, minus records already stored (batch order kept)."""
        check_place_kinds(rows, place_keys, place_inv, self._codes("places", place_keys, "kind"))
        frame = pd.DataFrame({"person": person_code.astype(np.int32), "place": place_code.astype(np.int32)})
        for col in ("start", "end", "kind", "section", "row", "col", "flags"):
            frame[col] = rows[col].to_numpy()
        frame["source"] = np.int16(0)
        frame["record"] = rows["record"].to_numpy()
        if not len(frame) or not fetch_one(self.con, "SELECT count(*) FROM (SELECT 1 FROM presences LIMIT 1)")[0]:
            return frame
        probe = pd.DataFrame({"record": frame["record"].to_numpy(), "pos": np.arange(len(frame))})
        with registered(self.con, _records=probe):
            sql = "SELECT r.pos FROM _records r SEMI JOIN presences p ON p.record = r.record"
            stored = self.con.execute(sql).fetchnumpy()["pos"]
        if len(stored):
            keep = np.ones(len(frame), dtype=bool)
            keep[stored] = False
            frame = frame[keep].reset_index(drop=True)
        return frame

    def _next_source(self):
        source = fetch_one(self.con, "SELECT coalesce(max(id), -1) + 1 FROM sources")[0]
        if source > np.iinfo(np.int16).max:
            raise StoreError(
                f"store {self.path} has run out of source ids ({source})",
                hint="load sources in fewer, larger batches",
            )
        return int(source)

    def _insert_presences(self, frame, source, progress, done, total):
        frame["source"] = np.int16(max(source, 0))
        step = max(int(self.append_chunk_rows), 1)
        for lo in range(0, len(frame), step):
            # numeric columns handed over as Arrow arrays (zero copy): DuckDB
            # scans Arrow in parallel, a pandas frame on one thread (2x slower)
            chunk = pa.table({c: frame[c].to_numpy()[lo : lo + step] for c in PRESENCE_COLUMNS})
            with registered(self.con, _chunk=chunk):
                self.con.execute(f"INSERT INTO presences SELECT {_PRESENCE_LIST} FROM _chunk")
            _report(progress, done + lo + len(chunk), total)

    # -- reading ----------------------------------------------------------
    def presences(self, persons=None, places=None, start=None, end=None):
        """Presences of some persons and/or places overlapping ``[start, end)``.

        A presence ``[s, e)`` overlaps when ``e > start`` and ``s < end``;
        every argument is optional (``None`` = no restriction; an empty list
        matches nothing). Rows come in storage order with
        :data:`tracer.schema.PRESENCE_COLUMNS` dtypes.

        Examples
        --------
        >>> import tempfile, os
        >>> with DuckStore(os.path.join(tempfile.mkdtemp(), "t.duckdb")) as s:
        ...     list(s.presences(persons=[0], start=0, end=3600).dtypes.astype(str))[:3]
        ['int32', 'int32', 'int64']
        """
        where, params, frames = [], [], {}
        for name, codes in (("person", persons), ("place", places)):
            if codes is not None:
                frames[f"_q_{name}"] = pd.DataFrame({"code": np.asarray(codes, dtype=np.int64).ravel()})
                where.append(f"{name} IN (SELECT code FROM _q_{name})")
        if start is not None:
            where.append('"end" > ?')
            params.append(int(start))
        if end is not None:
            where.append("start < ?")
            params.append(int(end))
        sql = f"SELECT {_PRESENCE_LIST} FROM presences" + (" WHERE " + " AND ".join(where) if where else "")
        return _typed(self._query(sql, params, frames), PRESENCE_COLUMNS)

    def _query(self, sql, params=(), frames=None):
        with registered(self.con, **(frames or {})):
            return pd.DataFrame(self.con.execute(sql, list(params)).fetchnumpy(), copy=False)

    def persons(self, keys=None):
        """The person dictionary ``code, key, name, district`` (by code),
        without the emptied rows of phone keys merged into an ID holder."""
        frames, where = {}, ""
        if keys is not None:
            frames["_q_keys"] = pd.DataFrame({"key": _as_keys(keys)})
            where = " WHERE key IN (SELECT key FROM _q_keys)"
        where += (" AND" if where else " WHERE") + f" NOT starts_with(key, '{duck_merge.MERGED_PREFIX}')"
        sql = f"SELECT code, key, name, district FROM persons{where} ORDER BY code"
        return self._frame(sql, frames, _DICT_DTYPES)

    def places(self, codes=None):
        """The place dictionary ``code, key, kind, name, district, lat, lon``."""
        frames, where = {}, ""
        if codes is not None:
            frames["_q_codes"] = pd.DataFrame({"code": np.asarray(codes, dtype=np.int64).ravel()})
            where = " WHERE code IN (SELECT code FROM _q_codes)"
        sql = f"SELECT code, key, kind, name, district, lat, lon FROM places{where} ORDER BY code"
        return self._frame(sql, frames, dict(_DICT_DTYPES, kind="Int8", lat=np.float64, lon=np.float64))

    def person_merges(self):
        """Phone keys merged into an ID holder: ``key, into_key, source,
        merged_at`` (see :mod:`tracer.duck_merge`)."""
        if not duck_merge.has_table(self.con):
            return pd.DataFrame({"key": pd.Series([], dtype=object), "into_key": pd.Series([], dtype=object),
                                 "source": pd.Series([], dtype=np.int64),
                                 "merged_at": pd.Series([], dtype="datetime64[us]")})  # fmt: skip
        return self.con.execute("SELECT key, into_key, source, merged_at FROM person_merges ORDER BY key").df()

    def aliases(self, keys=None):
        """Every identifier seen for a person: ``key, alias`` (of the given
        person keys only, when ``keys`` is given)."""
        frames, where = {}, ""
        if keys is not None:
            frames["_q_keys"] = pd.DataFrame({"key": _as_keys(keys)})
            where = " WHERE key IN (SELECT key FROM _q_keys)"
        sql = f"SELECT key, alias FROM aliases{where} ORDER BY key, alias"
        return self._frame(sql, frames, dtypes={"key": "str", "alias": "str"})

    def _frame(self, sql, frames=None, dtypes=None):
        with registered(self.con, **(frames or {})):
            out = self.con.execute(sql).df()
        return out.astype(dtypes) if dtypes else out

    def person_codes(self, keys):
        """int32 codes of person keys, in order; an alias of exactly one person
        also resolves to that person, and a phone key merged into an ID
        holder (:mod:`tracer.duck_merge`) to the holder.

        Raises :class:`~tracer.errors.UnknownPerson` listing up to five keys
        that are neither a person key nor an unambiguous alias.
        """
        keys = _as_keys(keys)
        into = duck_merge.merged_into(self.con, keys)  # a merged phone key means its ID holder
        merged = np.flatnonzero(pd.notna(into))
        lookup = keys.copy()
        lookup[merged] = into[merged]
        codes = self._codes("persons", lookup)
        missing = np.flatnonzero(codes < 0)
        if len(missing):
            codes[missing] = self._alias_codes(keys[missing])
        unknown = keys[codes < 0].tolist()
        if unknown:
            shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            raise UnknownPerson(
                f"{len(unknown)} person key(s) not in store {self.path}: {shown}",
                hint="check the ID number (18 digits) or load the sources that mention them",
                keys=unknown[:5],
            )
        return codes

    def _alias_codes(self, aliases):
        frame = pd.DataFrame({"alias": pd.Series(aliases, dtype=object), "pos": np.arange(len(aliases))})
        got = self._query(
            "SELECT q.pos, min(p.code) AS code FROM _q_alias q JOIN aliases a ON a.alias = q.alias "
            "JOIN persons p ON p.key = a.key GROUP BY q.pos HAVING count(DISTINCT p.code) = 1",
            frames={"_q_alias": frame},
        )
        codes = np.full(len(aliases), -1, dtype=np.int32)
        codes[got["pos"].to_numpy()] = got["code"].to_numpy()
        return codes

    def person_keys(self, codes):
        """Person keys (object array of str) of int codes, in order.

        Raises :class:`~tracer.errors.UnknownPerson` for codes not in the store.
        """
        return self._keys_of("persons", codes)

    def place_keys(self, codes):
        """Place keys (object array of str) of int codes, in order."""
        return self._keys_of("places", codes)

    def person_key_array(self, codes):
        """:meth:`person_keys` as a pyarrow string array (no Python strings)."""
        return self._keys_of("persons", codes, arrow=True)

    def place_key_array(self, codes):
        """:meth:`place_keys` as a pyarrow string array (no Python strings)."""
        return self._keys_of("places", codes, arrow=True)

    def _keys_of(self, table, codes, arrow=False):
        codes = np.asarray(codes, dtype=np.int64).ravel()
        what = "person" if table == "persons" else "place"
        cached = self._key_cache.get(table)
        if cached is not None and cached[0] != self.version:
            cached = None
        if cached is None and len(codes) > _KEY_CACHE_MIN:
            # Many codes: read the whole dictionary once per store version
            # (codes are dense) as one Arrow array, instead of joining every time.
            import pyarrow as pa

            got = self.con.sql(f"SELECT code, key FROM {table} ORDER BY code").to_arrow_table()
            if len(got) and got.column("code")[len(got) - 1].as_py() != len(got) - 1:  # a gap: not dense
                got = None
            if got is not None:
                keys = got.column("key").combine_chunks().cast(pa.string())
                cached = self._key_cache[table] = (self.version, keys)
        if cached is not None:
            import pyarrow as pa

            table_keys = cached[1]
            bad = codes[(codes < 0) | (codes >= len(table_keys))]
            if len(bad):
                raise UnknownPerson(f"{what} code(s) not in store {self.path}: {bad[:5].tolist()}")
            keys = table_keys.take(pa.array(codes))
            return keys if arrow else np.asarray(keys.to_numpy(zero_copy_only=False), dtype=object)
        got = self._query(
            f"SELECT q.pos, t.key FROM _q_codes q JOIN {table} t ON t.code = q.code",
            frames={"_q_codes": pd.DataFrame({"code": codes, "pos": np.arange(len(codes))})},
        )
        keys = np.full(len(codes), None, dtype=object)
        keys[got["pos"].to_numpy()] = got["key"].to_numpy()
        bad = codes[pd.isna(keys)]
        if len(bad):
            raise UnknownPerson(f"{what} code(s) not in store {self.path}: {bad[:5].tolist()}")
        if arrow:
            import pyarrow as pa

            return pa.array(keys, type=pa.string())
        return keys

    # -- the presence index -----------------------------------------------
    def index(self):
        """The :class:`tracer.index.PresenceIndex` of the current version.

        Loaded (memory-mapped) from ``<path>.index/`` when its version matches
        the store, else rebuilt from the presences and saved there.
        """
        version = self.version
        if self._index is not None and self._index.version == version:
            return self._index
        index_mod = importlib.import_module("tracer.index")
        found = None
        if self.index_dir.is_dir():
            try:
                found = index_mod.PresenceIndex.load(self.index_dir, mmap=True)
            except Exception:  # a half-written or foreign index is rebuilt, never trusted
                found = None
        if found is None or found.version != version:
            found = self._build_index(index_mod, version)
            try:
                found.save(self.index_dir)
            except OSError:  # unwritable directory: the in-memory index still serves
                pass
        self._index = found
        return found

    def _build_index(self, index_mod, version):
        rows = pd.DataFrame(self.con.execute(f"SELECT {_INDEX_COLUMNS} FROM presences").fetchnumpy(), copy=False)
        n_persons = fetch_one(self.con, "SELECT coalesce(max(code), -1) + 1 FROM persons")[0]
        n_places = fetch_one(self.con, "SELECT coalesce(max(code), -1) + 1 FROM places")[0]
        return index_mod.build_index(rows, n_persons=int(n_persons), n_places=int(n_places), version=version)

    # -- trace runs -------------------------------------------------------
    def save_run(self, run):
        """Persist a run (``params`` dict, ``contacts`` and ``events`` frames).

        Any columns are stored as they come; :meth:`load_run` gives them back
        with the same names, order and dtypes. Returns the new run id.
        """
        if self.read_only:
            raise StoreError(f"store {self.path} is open read-only", hint="open it without read_only to save runs")
        return duck_runs.save_run(self.con, run)

    def runs(self):
        """One row per saved run, oldest first: ``id, created, params`` (JSON text)."""
        return duck_runs.list_runs(self.con)

    def load_run(self, run_id=None, events=True):
        """A :class:`SavedRun` (the latest when ``run_id`` is None); with
        ``events=False`` without its events (see :meth:`load_run_events`).

        Raises :class:`~tracer.errors.StoreError` when there is no such run.
        """
        return duck_runs.load_run(self.con, run_id, where=self.path, events=events)

    def load_run_events(self, run_id, pairs):
        """The saved events of a run between the ``(case, contact)`` key
        pairs given (a city-wide run holds millions; ``tracer explain``
        needs a few); None when the run was saved without events."""
        return duck_runs.load_run_events(self.con, run_id, pairs)


# -- helpers ----------------------------------------------------------------
def _connect(path, read_only, create=True):
    """Open the DuckDB file, mapping DuckDB's errors to store errors."""
    if (read_only or not create) and not path.exists():
        raise StoreError(f"no store at {path}", hint="load data first with `tracer load`, or pass --store")
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        text = str(exc)
        if "Could not set lock" in text or "Conflicting lock" in text:
            pid = re.search(r"PID (\d+)", text)
            holder = f" (process {pid.group(1)})" if pid else ""
            raise StoreLocked(
                f"store {path} is in use by another tracer process{holder}",
                hint="wait for it to finish or stop it; a store has one writer at a time",
            ) from None
        if "different configuration" in text:
            raise StoreLocked(
                f"store {path} is already open in this process with another mode",
                hint="close the other DuckStore first",
            ) from None
        raise StoreError(
            f"cannot open store {path}: {text}",
            hint="check the path; if the file is damaged, move it aside and load the sources again",
        ) from None


def _as_keys(keys):
    """Keys (one str or an iterable) as an object array of str."""
    keys = [keys] if isinstance(keys, str) else list(keys)
    return pd.Series(keys, dtype=object).astype(str).to_numpy(dtype=object)


def _report(progress, done, total):
    if progress is not None:
        progress(int(done), int(total))


def _typed(frame, dtypes):
    if not len(frame.columns):
        return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in dtypes.items()})
    return frame.astype(dtypes)
