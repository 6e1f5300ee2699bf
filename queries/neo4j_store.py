"""The Neo4j store: tracer's ``Store`` protocol on a person-place-time graph.

Presences are ``(:Person)-[:VISITED {record, start_s, end_s, ...}]->(:Place)``
edges (see ``ARCHITECTURE.md``); writes are batched ``UNWIND`` statements that
are idempotent on the record fingerprint, so a repeated or interrupted load
leaves no duplicates. Reads return scalar columns only. Person and place
codes are local to one store object: a key gets the next int32 code the first
time this object sees it, and keeps it for the object's life.

A trace on this store reads only what it needs
(:meth:`Neo4jStore.index_for_sources`): the sources' presences in their
windows (``trace_sources.cypher``), then every presence at those places
overlapping those intervals (``place_visitors.cypher``).

Examples
--------
With a server running (``bash scripts/neo4j start``)::

    from tracer.tracing import trace
    with Neo4jStore("bolt://127.0.0.1:7687") as store:
        result = trace(store, cases, hops=2)
        run_id = store.save_run(result)
"""

from itertools import chain

import numpy as np
import pandas as pd

from tracer.errors import UnknownPerson
from tracer.presence import rekeyed_records, validate_presences
from tracer.schema import KIND_CODES, KINDS, PRESENCE_COLUMNS
from tracer.store import AppendResult

from . import cypher
from . import visits as visit_writes
from .connect import open_driver, settings, translate_errors
from .runs import load_run, run_frame, save_run
from .schema import ensure_schema

__all__ = ["Neo4jStore", "KeyCodes"]

_FAR_S = 2**62  # an open window bound, in epoch seconds


class KeyCodes:
    """A growing dictionary of string keys and dense int32 codes.

    >>> kc = KeyCodes()
    >>> kc.encode(["b", "a", "b"]).tolist(), kc.decode([1]).tolist()
    ([0, 1, 0], ['a'])
    """

    def __init__(self):
        self._codes = {}
        self._keys = []

    def __len__(self):
        return len(self._keys)

    def encode(self, keys):
        """int32 codes of ``keys`` (new keys get the next codes, in order)."""
        inv, uniq = pd.factorize(pd.Series(np.asarray(keys, dtype=object), dtype=object))
        codes = np.empty(len(uniq), dtype=np.int32)
        for i, key in enumerate(uniq.tolist()):
            code = self._codes.get(key)
            if code is None:
                code = self._codes[key] = len(self._keys)
                self._keys.append(key)
            codes[i] = code
        return codes[inv] if len(inv) else np.zeros(0, np.int32)

    def decode(self, codes):
        """Keys (object array) of codes; raises IndexError for unknown codes."""
        codes = np.asarray(codes, dtype=np.int64).ravel()
        if codes.size and (codes.min() < 0 or codes.max() >= len(self._keys)):
            raise IndexError(int(codes.max() if codes.max() >= len(self._keys) else codes.min()))
        return np.asarray(self._keys, dtype=object)[codes] if codes.size else np.zeros(0, dtype=object)


class Neo4jStore:
    """Presences, dictionaries and trace runs in a Neo4j database.

    Parameters
    ----------
    uri : ``bolt://host:port`` or ``neo4j://...`` (default ``$NEO4J_URI``,
        else ``bolt://127.0.0.1:7687``).
    user : default ``$NEO4J_USER``, else ``neo4j``.
    password : default ``$NEO4J_PASSWORD``, else the development default of
        ``scripts/neo4j``.
    database : default ``$NEO4J_DATABASE``, else ``neo4j``.
    setup_schema : create the constraints and indexes if missing (idempotent).

    Raises :class:`~tracer.errors.Neo4jUnavailable` within a few seconds
    when the server is down, refuses the credentials or lacks the database.
    """

    #: Presences per write transaction.
    write_rows = 20_000

    def __init__(self, uri=None, user=None, password=None, database=None, setup_schema=True):
        self.settings = settings(uri, user, password, database)
        self.persons_codes = KeyCodes()
        self.places_codes = KeyCodes()
        self._driver = open_driver(self.settings)
        if setup_schema:
            with self._guard("setting up the schema of"):
                ensure_schema(self._driver, self.settings.database)

    # -- life cycle -------------------------------------------------------
    def __repr__(self):
        return f"Neo4jStore({self.settings.shown_uri!r}, database={self.settings.database!r})"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Close the driver; the instance is unusable afterwards."""
        if self._driver is not None:
            self._driver.close()
            self._driver = None

    @property
    def driver(self):
        """The underlying ``neo4j.Driver`` (for ad-hoc Cypher)."""
        if self._driver is None:
            from tracer.errors import StoreError

            raise StoreError(f"{self!r} is closed", hint="open a new Neo4jStore")
        return self._driver

    def _guard(self, doing="talking to"):
        return translate_errors(self.settings, doing)

    def run(self, name, write=False, **params):
        """Run the named ``.cypher`` file; return ``(keys, rows)`` (rows as lists).

        >>> store.run("hotspots", start_s=0, end_s=2**40, limit=5)  # doctest: +SKIP
        """
        import neo4j

        routing = neo4j.RoutingControl.WRITE if write else neo4j.RoutingControl.READ
        with self._guard("reading from" if not write else "writing to"):
            keys, rows = self.driver.execute_query(
                cypher.load(name), params, database_=self.settings.database, routing_=routing,
                result_transformer_=_keys_and_values,
            )
        return keys, rows

    def frame(self, name, **params):
        """The named read query's result as a DataFrame (one column per key)."""
        keys, rows = self.run(name, **params)
        return pd.DataFrame(rows, columns=keys) if rows else pd.DataFrame({k: [] for k in keys})

    def visits(self, name, per_row=("place", "kind"), **params):
        """A columnar read (``place_visitors``, ``all_presences``: one row
        per place; ``trace_sources``: ``per_row=("person",)``) as one row
        per presence."""
        keys, rows = self.run(name, **params)
        return _explode(keys, rows, per_row)

    def write(self, work, doing="writing to"):
        """Run ``work(tx)`` in one managed (retried) write transaction."""
        with self._guard(doing):
            with self.driver.session(database=self.settings.database) as session:
                return session.execute_write(work)

    # -- appending --------------------------------------------------------
    #: ``append`` takes ``merge_persons`` (phone keys merged into ID holders).
    merges_persons = True

    def append(self, batch, progress=None, merge_persons=None):
        """Append a :class:`tracer.presence.Batch` in transactions of
        :attr:`write_rows` presences.

        Idempotent rather than atomic: each transaction is whole or nothing,
        and a record already stored is never written again, so rerunning an
        interrupted append completes it. ``duplicates`` counts the rows whose
        record was already stored or repeated in the batch.

        ``merge_persons`` (DataFrame ``key, into_key``, optional): persons
        keyed by a phone whose presences move to the ID holder ``into_key``
        (with the records a load under the holder gives them), in one
        transaction after the batch's dictionaries and before its presences,
        so that a batch row equal to a moved presence is a duplicate. The
        old Person goes, or stays with ``merged_into`` when a saved run's
        edges keep it. ``moved`` in the result counts the presences moved.
        """
        rows = validate_presences(batch.presences, where=f"batch {batch.source or ''}".strip())
        read = len(rows)
        self.merge_dictionaries(*_batch_dictionaries(batch, rows))
        moved = 0
        if merge_persons is not None and len(merge_persons):
            moved = self._merge_persons(merge_persons)
        rows = rows[~rows["record"].duplicated().to_numpy()].reset_index(drop=True)
        loaded = self.write_presences(rows, progress=progress, total=read)
        changed = loaded or moved
        return AppendResult(read=read, loaded=loaded, duplicates=read - loaded, source=0 if changed else -1,
                            moved=moved)  # fmt: skip

    # -- what a load asks before appending (loaders.storeview) -------------
    #: Values per query of the lookups below (one index seek each).
    lookup_rows = 50_000

    def records_stored(self, records):
        """Bool mask: is each presence record (int64) stored? One index seek
        per record (``stored_records``), not a read of every presence."""
        records = np.asarray(records, dtype=np.int64)
        found = []
        for lo in range(0, len(records), self.lookup_rows):
            _, rows = self.run("stored_records", records=records[lo : lo + self.lookup_rows].tolist())
            found += [r[0] for r in rows]
        return np.isin(records, np.asarray(found, dtype=np.int64))

    def place_kinds(self, keys):
        """int array: the kind code of each place key (-1 when not stored)."""
        keys = [str(k) for k in keys]
        kinds = {}
        for lo in range(0, len(keys), self.lookup_rows):
            got = self.frame("places", keys=keys[lo : lo + self.lookup_rows])
            kinds.update(zip(got["key"], got["kind"]))
        return np.array([KIND_CODES.get(kinds.get(k), -1) for k in keys], dtype=np.int64)

    def aliases_of(self, aliases):
        """``key, alias`` of the persons holding the given identifiers."""
        aliases = [str(a) for a in aliases]
        parts = [self.frame("phone_holders", aliases=aliases[lo : lo + self.lookup_rows])
                 for lo in range(0, len(aliases), self.lookup_rows)]  # fmt: skip
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.DataFrame({"key": pd.Series([], dtype=object), "alias": pd.Series([], dtype=object)})
        return pd.concat(parts, ignore_index=True)

    def moved_records(self, merge_persons):
        """int64 records the presences of ``merge_persons`` (``key, into_key``)
        get in :meth:`append` (a load counts batch rows equal to one of them
        as duplicates)."""
        return self._moved(merge_persons)["new"].to_numpy(np.int64)

    def _moved(self, merge_persons):
        pairs = merge_persons[["key", "into_key"]].astype(str).drop_duplicates("key")
        into = dict(zip(pairs["key"], pairs["into_key"]))
        got = self.frame("merged_visits", keys=pairs["key"].tolist())
        if not len(got):
            return pd.DataFrame({"old": np.zeros(0, np.int64), "new": np.zeros(0, np.int64),
                                 "into": pd.Series([], dtype=object)})  # fmt: skip
        holders = got["key"].map(into)
        new = rekeyed_records(got["key"], holders, got["place"], got["start_s"], got["end_s"], got["flags"],
                              got["section"], got["row"], got["col"], got["record"])  # fmt: skip
        return pd.DataFrame({"old": got["record"].to_numpy(np.int64), "new": new, "into": holders.astype(object)})

    def _merge_persons(self, merge_persons):
        """Move the presences of ``merge_persons`` and retire the old persons
        in one transaction; return the presences moved (not dropped)."""
        moves = self._moved(merge_persons)
        retire = _records(merge_persons[["key", "into_key"]].astype(str).drop_duplicates("key"))

        def work(tx):
            dropped = 0
            if len(moves):
                got = tx.run(cypher.load("move_visits"), rows=_records(moves)).single()
                dropped = int(got["dropped"] or 0)
            tx.run(cypher.load("retire_merged_persons"), rows=retire).consume()
            return len(moves) - dropped

        return self.write(work)

    def merge_dictionaries(self, persons, places, aliases):
        """MERGE person, place and alias entries (frames with ``key`` columns;
        places' ``kind`` as a kind name or code)."""
        places = places.copy()
        if len(places):
            places["kind"] = [_kind_name(k) for k in places["kind"].tolist()]
        for name, frame in (("merge_persons", persons), ("merge_places", places), ("merge_aliases", aliases)):
            self._write_rows(name, frame)

    def _write_rows(self, name, frame):
        """Run the query file ``name`` on ``frame``'s rows as ``$rows``, in
        write transactions of :attr:`write_rows` rows."""
        records = _records(frame)
        for lo in range(0, len(records), self.write_rows):
            chunk = records[lo : lo + self.write_rows]
            self.write(lambda tx, q=cypher.load(name), c=chunk: tx.run(q, rows=c).consume())

    def keep_merged_persons(self, merges):
        """Pointer nodes (``merged_into``) for persons merged into an ID holder
        that saved runs may name (``queries/keep_merged_persons.cypher``);
        :meth:`retire_merged_persons` deletes those no run uses."""
        self._write_rows("keep_merged_persons", merges[["key", "into_key"]])

    def retire_merged_persons(self, merges):
        """Delete the VISITED and ALIAS edges (and then the node, if bare) of
        persons the embedded store merged into an ID holder: ``merges`` has
        ``key, into_key`` (``queries/retire_merged_persons.cypher``)."""
        self._write_rows("retire_merged_persons", merges[["key", "into_key"]])

    def write_presences(self, rows, progress=None, total=None, done=0):
        """Write presences keyed by ``person_key, place_key`` (batch columns);
        return how many were new. Persons and places must exist.

        Each transaction of :attr:`write_rows` presences first asks which of
        its records are stored (``stored_records``) and creates only the
        others. When the database held no presence at all as the write began,
        that check is skipped; should another writer store one of the records
        meanwhile, the ``VISITED.record`` constraint refuses the batch, which
        is then written again with the check (and so are the batches after it).
        """
        total = len(rows) if total is None else total
        _report(progress, done, total)
        columns = {name: rows[col].to_numpy() for name, col in visit_writes.VISIT_PARAMS.items()}
        check = self._has_presences()
        loaded = 0
        step = max(int(self.write_rows), 1)
        for lo in range(0, len(rows), step):
            chunk = {name: values[lo : lo + step] for name, values in columns.items()}
            created = None
            if not check:
                try:
                    created = self.write(lambda tx, c=chunk: visit_writes.create_chunk(tx, c))
                except visit_writes.Conflict:
                    check = True
            if created is None:
                created = self.write(lambda tx, c=chunk: visit_writes.write_chunk(tx, c))
            loaded += created
            _report(progress, done + min(lo + step, len(rows)), total)
        return loaded

    def _has_presences(self):
        """Whether any VISITED edge is stored (the count store: one lookup)."""
        with self._guard("reading from"):
            records = self.driver.execute_query("MATCH ()-[v:VISITED]->() RETURN count(v) > 0 AS any",
                                                database_=self.settings.database).records
        return bool(records[0]["any"])

    # -- dictionaries -----------------------------------------------------
    def persons(self, keys=None):
        """The person dictionary ``code, key, name, district`` (codes local to
        this store object; persons not seen before get new codes)."""
        frame = self.frame("persons", keys=None if keys is None else [str(k) for k in _listed(keys)])
        frame.insert(0, "code", self.persons_codes.encode(frame["key"]))
        return _dict_types(frame.sort_values("code", kind="mergesort").reset_index(drop=True))

    def places(self, codes=None):
        """The place dictionary ``code, key, kind, name, district, lat, lon``
        (``kind`` as the int8 code)."""
        keys = None if codes is None else self.place_keys(codes).tolist()
        frame = self.frame("places", keys=keys)
        frame.insert(0, "code", self.places_codes.encode(frame["key"]))
        frame["kind"] = pd.array([KIND_CODES.get(k) for k in frame["kind"]], dtype="Int8")
        frame = frame.sort_values("code", kind="mergesort").reset_index(drop=True)
        return _dict_types(frame).astype({"lat": np.float64, "lon": np.float64})

    def aliases(self, keys=None):
        """Every identifier seen for a person: ``key, alias`` (of the given
        person keys only, when ``keys`` is given)."""
        keys = None if keys is None else [str(k) for k in _listed(keys)]
        return self.frame("aliases", keys=keys).astype({"key": "str", "alias": "str"})

    def person_codes(self, keys):
        """int32 codes of person keys (or unambiguous aliases), in order.

        Raises :class:`~tracer.errors.UnknownPerson` listing up to five keys
        that are neither a person key nor an unambiguous alias.
        """
        keys = [str(k) for k in _listed(keys)]
        _, rows = self.run("resolve_persons", keys=keys)
        resolved = np.full(len(keys), None, dtype=object)
        for pos, key in rows:
            resolved[pos] = key
        unknown = [k for k, r in zip(keys, resolved) if r is None]
        if unknown:
            shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            raise UnknownPerson(
                f"{len(unknown)} person key(s) not in Neo4j at {self.settings.shown_uri}: {shown}",
                hint="check the ID number (18 digits) or push/load the sources that mention them",
                keys=unknown[:5],
            )
        return self.persons_codes.encode(resolved)

    def person_keys(self, codes):
        """Person keys (object array) of codes this store object handed out."""
        try:
            return self.persons_codes.decode(codes)
        except IndexError as exc:
            raise UnknownPerson(f"person code {exc} was not handed out by {self!r}") from None

    def place_keys(self, codes):
        """Place keys (object array) of codes this store object handed out."""
        try:
            return self.places_codes.decode(codes)
        except IndexError as exc:
            raise UnknownPerson(f"place code {exc} was not handed out by {self!r}") from None

    # -- presences and the index ------------------------------------------
    def presences(self, persons=None, places=None, start=None, end=None):
        """Presences of person and/or place codes overlapping ``[start, end)``
        with :data:`tracer.schema.PRESENCE_COLUMNS` (``source`` is 0)."""
        lo = -_FAR_S if start is None else int(start)
        hi = _FAR_S if end is None else int(end)
        if persons is not None:
            keys = self.person_keys(persons)
            windows = [{"person": k, "start_s": lo, "end_s": hi} for k in dict.fromkeys(keys.tolist())]
            frame = self.frame("person_timeline", windows=windows)
        elif places is not None:
            keys = self.place_keys(places)
            windows = [{"place": k, "start_s": lo, "end_s": hi} for k in dict.fromkeys(keys.tolist())]
            frame = self.visits("place_visitors", windows=windows)
        else:
            frame = self.visits("all_presences", start_s=start, end_s=end)
        out = self._canonical(frame)
        if persons is not None and places is not None:
            out = out[np.isin(out["place"].to_numpy(), np.asarray(places, dtype=np.int64))]
        return out.reset_index(drop=True)

    def _canonical(self, frame):
        """Read columns (keys, kind names) → canonical presence dtypes."""
        n = len(frame)
        if not n:
            return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in PRESENCE_COLUMNS.items()})
        kind = frame["kind"].map(KIND_CODES).fillna(0).to_numpy()
        return pd.DataFrame(
            {
                "person": self.persons_codes.encode(frame["person"].to_numpy(dtype=object)),
                "place": self.places_codes.encode(frame["place"].to_numpy(dtype=object)),
                "start": frame["start_s"].to_numpy(np.int64),
                "end": frame["end_s"].to_numpy(np.int64),
                "kind": kind.astype(np.int8),
                "section": frame["section"].to_numpy(np.int16),
                "row": frame["row"].to_numpy(np.int16),
                "col": frame["col"].to_numpy(np.int16),
                "flags": frame["flags"].to_numpy(np.uint8),
                "source": np.zeros(n, np.int16),
                "record": frame["record"].to_numpy(np.int64),
            }
        )

    def _build(self, presences):
        from tracer.index import build_index

        return build_index(presences, n_persons=len(self.persons_codes), n_places=len(self.places_codes))

    def index(self):
        """A :class:`tracer.index.PresenceIndex` of every presence (a full
        read; a trace uses :meth:`index_for_sources` instead)."""
        return self._build(self.presences())

    def index_for_sources(self, sources, linger_s):
        """The index one trace hop needs, read narrowly.

        Parameters
        ----------
        sources : DataFrame with ``person`` (codes of this store),
            ``window_start_s``, ``window_end_s``.
        linger_s : int64 array, linger seconds per kind code.

        Returns
        -------
        PresenceIndex holding the sources' presences overlapping their windows
        and every presence at those places overlapping the sources' intervals
        (clipped to the window, padded by linger), as :func:`tracer.scoring.
        source_presences` will ask for them.
        """
        src = pd.DataFrame(
            {
                "key": self.person_keys(sources["person"].to_numpy()),
                "ws": sources["window_start_s"].to_numpy(np.int64),
                "we": sources["window_end_s"].to_numpy(np.int64),
            }
        )
        # A presence that ended before the window opens still exposes others
        # inside it through its linger padding: look back by the longest linger.
        back_s = int(np.max(linger_s)) if len(linger_s) else 0
        windows = [{"person": k, "start_s": int(a) - back_s, "end_s": int(b)} for k, a, b in src.itertuples(index=False)]
        own = self.visits("trace_sources", per_row=("person",), windows=windows) if windows else pd.DataFrame()
        if own.empty:
            return self._build(self._canonical(own))
        spans = own.merge(src, left_on="person", right_on="key")
        linger = np.asarray(linger_s, dtype=np.int64)[spans["kind"].map(KIND_CODES).fillna(0).to_numpy(np.int64)]
        lo = np.maximum(spans["start_s"].to_numpy(np.int64), spans["ws"].to_numpy(np.int64))
        hi = np.minimum(spans["end_s"].to_numpy(np.int64) + linger, spans["we"].to_numpy(np.int64))
        keep = hi > lo
        at = pd.DataFrame({"place": spans["place"].to_numpy()[keep], "start_s": lo[keep], "end_s": hi[keep]})
        at = _merge_spans(at)
        around = self.visits("place_visitors", windows=at.to_dict("records")) if len(at) else own.iloc[:0]
        both = pd.concat([own, around], ignore_index=True).drop_duplicates("record")
        return self._build(self._canonical(both))

    # -- trace runs -------------------------------------------------------
    def save_run(self, run, events=False):
        """Write a run back: ``:Case`` labels with onset, a ``TraceRun`` node
        with its parameters, and one ``EXPOSED_TO`` edge per ranked contact.

        ``run`` is a :class:`tracer.tracing.TraceResult` or a saved run
        (``id``, ``created`` are kept when present). Returns the run id.
        Writing the same run again changes nothing. ``events=True`` also
        stores the evidence events (JSON on the TraceRun node) so that
        :meth:`load_run` gives them back; otherwise it returns none.
        """
        return save_run(self, run, events=events)

    def runs(self):
        """One row per saved run, oldest first: ``id, created, params`` (JSON)."""
        return run_frame(self)

    def load_run(self, run_id=None):
        """A :class:`tracer.duck.SavedRun` read back from the graph (the
        latest when ``run_id`` is None)."""
        return load_run(self, run_id)


# -- helpers ----------------------------------------------------------------
def _keys_and_values(result):
    keys = list(result.keys())
    return keys, result.values()


_LIST_COLUMNS = {"person": object, "place": object, "kind": object, "start_s": np.int64, "end_s": np.int64, "section": np.int16, "row": np.int16,
                 "col": np.int16, "flags": np.uint8, "record": np.int64}


def _explode(keys, rows, per_row=("place", "kind")):
    """Rows of ``per_row`` scalars plus parallel lists → one row per presence
    (``place_visitors``: one row per place; ``trace_sources``: per person)."""
    pos = {k: i for i, k in enumerate(keys)}
    lists = [k for k in keys if k not in per_row]
    counts = np.fromiter((len(r[pos[lists[0]]]) for r in rows), dtype=np.int64, count=len(rows))
    out = {name: np.repeat(np.asarray([r[pos[name]] for r in rows], dtype=object), counts) for name in per_row}
    total = int(counts.sum())
    for name in lists:
        dtype = _LIST_COLUMNS.get(name, object)
        items = chain.from_iterable(r[pos[name]] for r in rows)
        if dtype is object:
            out[name] = np.fromiter(items, dtype=object, count=total)
        else:
            out[name] = np.fromiter(items, dtype=np.int64, count=total).astype(dtype)
    return pd.DataFrame(out)


def _merge_spans(at):
    """Union overlapping windows per place (fewer, wider windows to send)."""
    if not len(at):
        return at
    at = at.sort_values(["place", "start_s"], kind="mergesort").reset_index(drop=True)
    place = at["place"].to_numpy(dtype=object)
    start = at["start_s"].to_numpy(np.int64)
    new_place = np.r_[True, place[1:] != place[:-1]]
    reach = at.groupby(np.cumsum(new_place), sort=False)["end_s"].cummax().to_numpy(np.int64)
    opens = new_place | np.r_[True, start[1:] > reach[:-1]]
    merged = at.groupby(np.cumsum(opens), sort=True).agg(
        place=("place", "first"), start_s=("start_s", "min"), end_s=("end_s", "max"))
    return merged.reset_index(drop=True)


def _batch_dictionaries(batch, rows):
    """Person, place and alias entries a batch brings (presence keys included)."""
    persons = pd.concat(
        [batch.persons.reindex(columns=["key", "name", "district"]),
         pd.DataFrame({"key": pd.unique(np.concatenate([rows["person_key"].to_numpy(object),
                                                        batch.aliases.reindex(columns=["key"])["key"].to_numpy(object)]))})],
        ignore_index=True,
    )
    seen = rows.drop_duplicates("place_key")
    places = pd.concat(
        [batch.places.reindex(columns=["key", "kind", "name", "district", "lat", "lon"]),
         pd.DataFrame({"key": seen["place_key"].to_numpy(object), "kind": seen["kind"].to_numpy()})],
        ignore_index=True,
    )
    return _first_per_key(persons), _first_per_key(places), batch.aliases.reindex(columns=["key", "alias"]).dropna()


def _first_per_key(frame):
    frame = frame.astype(object)
    frame = frame[frame["key"].notna()]
    frame = frame.assign(key=frame["key"].astype(str))
    return frame.groupby("key", sort=False).first().reset_index()


def _kind_name(kind):
    if kind is None or (isinstance(kind, float) and np.isnan(kind)) or kind is pd.NA:
        return None
    if isinstance(kind, str) and not kind.strip().isdigit():
        return kind.strip().lower()
    return KINDS[int(kind)]


def _records(frame):
    """Frame rows as dicts with plain Python values (NaN/NA → None)."""
    if not len(frame):
        return []
    clean = frame.astype(object).where(frame.notna(), None)
    out = clean.to_dict("records")
    for row in out:
        for k, v in row.items():
            if isinstance(v, np.generic):
                row[k] = v.item()
            elif isinstance(v, str) and not v.strip() and k != "key":
                row[k] = None
    return out


def _listed(keys):
    return [keys] if isinstance(keys, str) else list(keys)


def _dict_types(frame):
    return frame.astype({"code": np.int32, "key": "str", "name": "str", "district": "str"})


def _report(progress, done, total):
    if progress is not None:
        progress(int(done), int(total))
