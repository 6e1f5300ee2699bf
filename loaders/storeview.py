"""What a load needs to know about the store before appending.

Three questions, asked for the keys of one batch only: which records are
already stored (duplicates), which kind each place key already has, and
which document holders each phone has (identity). With the embedded
:class:`tracer.duck.DuckStore` they are joins against registered frames;
any other :class:`tracer.store.Store` is answered through its public
methods: ``records_stored``, ``place_kinds`` and ``aliases_of`` where it
has them (:class:`queries.neo4j_store.Neo4jStore`: index seeks for the
batch's keys), else whole tables. ``store=None`` means an empty store.

Examples
--------
>>> import numpy as np
>>> stored_records(None, np.array([1, 2], dtype=np.int64)).tolist()
[False, False]
"""

import numpy as np
import pandas as pd

from .identity import PHONE_PREFIX, phone_pairs_from_aliases

__all__ = ["stored_records", "stored_place_kinds", "known_phone_holders", "stored_phone_persons", "any_phone_persons"]


def _con(store):
    con = getattr(store, "con", None)
    return con if con is not None and hasattr(con, "register") else None


def _join(con, frame, name, sql):
    con.register(name, frame)
    try:
        return con.execute(sql).fetchnumpy()
    finally:
        con.unregister(name)


def stored_records(store, records):
    """Bool mask: is each record fingerprint already in the store?"""
    records = np.asarray(records, dtype=np.int64)
    out = np.zeros(len(records), dtype=bool)
    if store is None or not len(records):
        return out
    con = _con(store)
    if con is not None:
        if not con.execute("SELECT count(*) FROM (SELECT 1 FROM presences LIMIT 1)").fetchall()[0][0]:
            return out  # an empty store holds no record
        probe = pd.DataFrame({"record": records, "pos": np.arange(len(records))})
        got = _join(con, probe, "_ld_records", "SELECT r.pos FROM _ld_records r SEMI JOIN presences p ON p.record = r.record")
        out[np.asarray(got["pos"], dtype=np.int64)] = True
        return out
    if hasattr(store, "records_stored"):  # e.g. Neo4jStore: index seeks
        return np.asarray(store.records_stored(records), dtype=bool)
    return np.isin(records, store.presences()["record"].to_numpy(np.int64))


def stored_place_kinds(store, keys):
    """int array: the stored kind code of each place key (-1 when new)."""
    keys = np.asarray(keys, dtype=object)
    out = np.full(len(keys), -1, dtype=np.int64)
    if store is None or not len(keys):
        return out
    con = _con(store)
    if con is not None:
        probe = pd.DataFrame({"key": pd.Series(keys, dtype=object), "pos": np.arange(len(keys))})
        got = _join(con, probe, "_ld_places", "SELECT k.pos, p.kind FROM _ld_places k JOIN places p ON p.key = k.key")
        out[np.asarray(got["pos"], dtype=np.int64)] = np.ma.filled(got["kind"], -1)
        return out
    if hasattr(store, "place_kinds"):  # e.g. Neo4jStore: only these keys
        return np.asarray(store.place_kinds(keys), dtype=np.int64)
    places = store.places()
    kinds = pd.Series(places["kind"].to_numpy(), index=places["key"].astype(object))
    return pd.Series(keys, dtype=object).map(kinds).fillna(-1).to_numpy(np.int64)


def known_phone_holders(store, phones):
    """``phone, doc`` pairs: stored document holders of the given phones."""
    phones = pd.unique(pd.Series(phones, dtype=object).dropna())
    if store is None or not len(phones):
        return phone_pairs_from_aliases(None)
    con = _con(store)
    if con is not None:
        if not con.execute("SELECT count(*) FROM (SELECT 1 FROM aliases LIMIT 1)").fetchall()[0][0]:
            return phone_pairs_from_aliases(None)  # an empty store knows no holder
        probe = pd.DataFrame({"alias": pd.Series(PHONE_PREFIX + pd.Series(phones, dtype=object).astype(str), dtype=object)})
        got = _join(con, probe, "_ld_phones", "SELECT a.key, a.alias FROM _ld_phones q JOIN aliases a ON a.alias = q.alias")
        aliases = pd.DataFrame({"key": got["key"], "alias": got["alias"]})
    elif hasattr(store, "aliases_of"):  # e.g. Neo4jStore: only these phones
        aliases = store.aliases_of((PHONE_PREFIX + pd.Series(phones, dtype=object).astype(str)).tolist())
    else:
        aliases = store.aliases()
    pairs = phone_pairs_from_aliases(aliases)
    return pairs[pairs["phone"].isin(phones)].reset_index(drop=True)


def stored_phone_persons(store, phones):
    """The given phones (11 digits) that the store already holds as a
    person of their own, ``phone:+86<phone>`` (rows loaded before any ID
    was known for that phone)."""
    phones = pd.unique(pd.Series(phones, dtype=object).dropna())
    if store is None or not len(phones):
        return set()
    keys = pd.Series(PHONE_PREFIX + pd.Series(phones, dtype=object).astype(str), dtype=object)
    con = _con(store)
    if con is not None:
        got = _join(con, pd.DataFrame({"key": keys}), "_ld_phone_keys",
                    "SELECT p.key FROM _ld_phone_keys q JOIN persons p ON p.key = q.key")["key"]
    else:
        got = store.persons(keys.tolist())["key"]
    return {str(k)[len(PHONE_PREFIX):] for k in got}


def any_phone_persons(store):
    """Whether the store may hold a person keyed by a phone (``phone:…``):
    False only when it surely holds none (then a load need not look)."""
    if store is None:
        return False
    con = _con(store)
    if con is None:
        return True
    sql = "SELECT count(*) FROM (SELECT 1 FROM persons WHERE starts_with(key, 'phone:') LIMIT 1)"
    return bool(con.execute(sql).fetchall()[0][0])
