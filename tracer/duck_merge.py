"""Merging a person keyed by a phone into the ID holder a later load names.

A row with no valid document but a valid mobile number is stored under
``phone:+86…`` when no holder of that phone is known yet (telecom grid rows
often arrive before the venue or travel rows that pair the phone with an ID
number). When a later load shows that phone with exactly one document
holder, the store's presences under the phone key are moved to the holder
inside that load's transaction (:meth:`tracer.duck.DuckStore.append` with
``merge_persons``):

* the phone person's row is renamed to the holder's key when the holder is
  new to the store (its code, and so every presence, stays);
* otherwise its presences are moved to the holder's code, and the emptied
  row stays (codes are dense) under the key ``merged:<source>:phone:+86…``,
  which no listing shows;
* ``person_merges`` maps the old key to the holder, so that it still
  resolves to the holder (:meth:`DuckStore.person_codes`) until a later load
  makes the phone a person of its own again (several holders);
* each moved presence gets the record fingerprint it would have had if
  loaded under the holder's key; one that the holder already has is dropped;
* the phone's aliases move to the holder; ``person_merges`` keeps ``key``,
  ``into_key``, the load's source id and the time, which is also how
  ``tracer push`` knows which Neo4j edges to move.

Examples
--------
>>> import duckdb, pandas as pd
>>> con = duckdb.connect()
>>> ensure_table(con)
>>> merged_into(con, ["phone:+8613800000000"]).tolist()
[None]
"""

import numpy as np
import pandas as pd

from .duck_sql import fetch_one, registered, utcnow
from .presence import rekeyed_records

__all__ = [
    "MERGES_SCHEMA",
    "MERGED_PREFIX",
    "ensure_table",
    "has_table",
    "merged_into",
    "moved_presences",
    "rename_new_holders",
    "apply_merges",
    "forget_merges",
]

MERGES_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS person_merges (key VARCHAR NOT NULL, into_key VARCHAR NOT NULL, "
    "source INTEGER, merged_at TIMESTAMP)"
)


#: Key prefix of the emptied row of a person merged into an existing holder.
MERGED_PREFIX = "merged:"


def forget_merges(con, keys):
    """A load that uses a merged phone key again (its phone now has several
    holders) makes it a person of its own: drop those merges."""
    if not len(keys) or not has_table(con):
        return
    with registered(con, _mf=pd.DataFrame({"key": pd.Series(np.asarray(keys, dtype=object), dtype=object)})):
        con.execute("DELETE FROM person_merges WHERE key IN (SELECT key FROM _mf)")


def ensure_table(con):
    """Create ``person_merges`` (stores made before it existed gain it here)."""
    con.execute(MERGES_SCHEMA)


def has_table(con):
    """Whether the store has a ``person_merges`` table (a store that never merged has none)."""
    sql = "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'person_merges' AND schema_name = 'main'"
    return bool(fetch_one(con, sql)[0])


def merged_into(con, keys):
    """Object array: the key each of ``keys`` was merged into (None if not merged)."""
    keys = pd.Series(np.asarray(keys, dtype=object), dtype=object)
    out = np.full(len(keys), None, dtype=object)
    if not len(keys) or not has_table(con):
        return out
    frame = pd.DataFrame({"key": keys, "pos": np.arange(len(keys))})
    with registered(con, _mq=frame):
        got = con.execute("SELECT q.pos, m.into_key FROM _mq q JOIN person_merges m ON m.key = q.key").fetchnumpy()
    out[np.asarray(got["pos"], dtype=np.int64)] = np.asarray(got["into_key"], dtype=object)
    return out


def _pairs(merges):
    frame = pd.DataFrame({"key": pd.Series(merges["key"], dtype=object).astype(str),
                          "into_key": pd.Series(merges["into_key"], dtype=object).astype(str)})  # fmt: skip
    return frame.drop_duplicates("key").reset_index(drop=True)


def moved_presences(con, merges):
    """The stored presences of the persons in ``merges`` (``key, into_key``),
    with ``old_record`` and the ``new_record`` they get under ``into_key``."""
    pairs = _pairs(merges)
    empty = pd.DataFrame({"old_record": np.zeros(0, np.int64), "new_record": np.zeros(0, np.int64),
                          "into_key": pd.Series([], dtype=object)})  # fmt: skip
    if not len(pairs):
        return empty
    sql = (
        'SELECT p.record AS old_record, m.key AS old_key, m.into_key, pl.key AS place_key, p.start, p."end", '
        'p.flags, p.section, p."row", p.col FROM _mp m JOIN persons pe ON pe.key = m.key '
        "JOIN presences p ON p.person = pe.code JOIN places pl ON pl.code = p.place ORDER BY p.record"
    )
    with registered(con, _mp=pairs):
        got = con.execute(sql).df()
    if not len(got):
        return empty
    new = rekeyed_records(got["old_key"], got["into_key"], got["place_key"], got["start"], got["end"], got["flags"],
                          got["section"], got["row"], got["col"], got["old_record"])  # fmt: skip
    return pd.DataFrame({"old_record": got["old_record"].to_numpy(np.int64), "new_record": new,
                         "into_key": got["into_key"].astype(object)})  # fmt: skip


def rename_new_holders(con, merges):
    """Rename phone persons whose holder is not in the store yet (before the
    batch's persons are upserted, which then fill the renamed row)."""
    pairs = _pairs(merges)
    with registered(con, _mr=pairs):
        con.execute(
            "UPDATE persons SET key = m.into_key FROM _mr m WHERE persons.key = m.key "
            "AND NOT EXISTS (SELECT 1 FROM persons x WHERE x.key = m.into_key)"
        )


def apply_merges(con, merges, moved, source):
    """Move ``moved`` presences (from :func:`moved_presences`, computed before
    :func:`rename_new_holders`) to their holders, re-point aliases and record
    the merges. Runs inside the caller's transaction; returns
    ``(moved, dropped)``: presences moved, and moved ones dropped because
    the holder already had them."""
    pairs = _pairs(merges)
    ensure_table(con)
    dropped = 0
    if len(moved):
        frame = moved.assign(into_key=moved["into_key"].astype(str))
        with registered(con, _mv=frame):
            dup = con.execute(
                "SELECT m.old_record FROM _mv m WHERE EXISTS (SELECT 1 FROM presences p "
                "WHERE p.record = m.new_record) OR m.new_record IN (SELECT new_record FROM _mv x "
                "WHERE x.old_record < m.old_record)"
            ).fetchnumpy()["old_record"]
        if len(dup):
            with registered(con, _mdrop=pd.DataFrame({"record": np.asarray(dup, dtype=np.int64)})):
                dropped = fetch_one(con, "DELETE FROM presences WHERE record IN (SELECT record FROM _mdrop)")[0]
            frame = frame[~frame["old_record"].isin(np.asarray(dup, dtype=np.int64))]
        with registered(con, _mv=frame.reset_index(drop=True)):
            con.execute(
                "UPDATE presences SET person = pe.code, record = m.new_record FROM _mv m JOIN persons pe "
                "ON pe.key = m.into_key WHERE presences.record = m.old_record"
            )
    with registered(con, _ma=pairs):
        con.execute(
            "INSERT INTO aliases SELECT DISTINCT m.into_key, a.alias FROM aliases a JOIN _ma m ON a.key = m.key "
            "WHERE NOT EXISTS (SELECT 1 FROM aliases x WHERE x.key = m.into_key AND x.alias = a.alias)"
        )
        con.execute("DELETE FROM aliases WHERE key IN (SELECT key FROM _ma)")
        # an emptied row keeps its code (codes are dense) under a key no load produces
        con.execute("UPDATE persons SET key = ? || key WHERE key IN (SELECT key FROM _ma)",
                    [f"{MERGED_PREFIX}{int(source)}:"])  # fmt: skip
        con.execute("DELETE FROM person_merges WHERE key IN (SELECT key FROM _ma)")
        con.execute("INSERT INTO person_merges SELECT key, into_key, ?, ? FROM _ma", [int(source), utcnow()])
    return len(moved) - int(dropped), int(dropped)
