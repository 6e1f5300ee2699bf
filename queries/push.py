"""Copy the embedded store into Neo4j: dictionaries, presences, trace runs.

Batched ``UNWIND`` transactions, idempotent on keys and record fingerprints:
a push that was interrupted (killed client, server stopped) completes when
run again, and a repeated push changes nothing.

Examples
--------
With a server running (``bash scripts/neo4j start``)::

    from tracer.duck import DuckStore
    from queries.neo4j_store import Neo4jStore
    with DuckStore("tracer.duckdb", read_only=True) as duck, Neo4jStore() as neo:
        result = push(duck, neo)
    result.presences_loaded, result.runs
"""

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["push", "PushResult"]


@dataclass
class PushResult:
    """What a push did.

    ``presences_read == presences_loaded + presences_present``: presences
    already in Neo4j (an earlier push, or an interrupted one) are not written
    again. ``seconds`` is the wall time of the whole push.
    """

    persons: int
    places: int
    aliases: int
    presences_read: int
    presences_loaded: int
    presences_present: int
    runs: int
    seconds: float
    merged_persons: int = 0  # phone keys merged into ID holders, retired in Neo4j

    @property
    def presences_per_s(self):
        """Presences read per second of the whole push."""
        return self.presences_read / self.seconds if self.seconds > 0 else float("nan")


def push(duck_store, neo_store, batch_rows=20_000, progress=None, runs=True):
    """Copy ``duck_store`` (a :class:`tracer.duck.DuckStore`) into ``neo_store``.

    Parameters
    ----------
    duck_store : the embedded store (read-only is enough).
    neo_store : a :class:`queries.neo4j_store.Neo4jStore`.
    batch_rows : presences per write transaction.
    progress : callable(done, total) with presence counts, or None.
    runs : also copy the saved trace runs (same ids), as EXPOSED_TO edges.

    Returns
    -------
    PushResult
    """
    t0 = time.perf_counter()
    # persons merged away since an earlier push: their edges go first, and
    # their presences come back below under the holder's key
    merges = duck_store.person_merges()
    if len(merges):
        neo_store.retire_merged_persons(merges)
    persons = duck_store.persons()
    places = duck_store.places()
    aliases = duck_store.aliases()
    neo_store.merge_dictionaries(
        persons[["key", "name", "district"]],
        places[["key", "kind", "name", "district", "lat", "lon"]],
        aliases[["key", "alias"]],
    )
    presences = duck_store.presences()
    person_key = _lookup(persons)
    place_key = _lookup(places)
    rows = pd.DataFrame(
        {
            "person_key": person_key[presences["person"].to_numpy(np.int64)],
            "place_key": place_key[presences["place"].to_numpy(np.int64)],
            **{c: presences[c].to_numpy() for c in ("record", "start", "end", "section", "row", "col", "flags")},
        }
    )
    old_rows = neo_store.write_rows
    neo_store.write_rows = int(batch_rows)
    try:
        loaded = neo_store.write_presences(rows, progress=progress)
    finally:
        neo_store.write_rows = old_rows
    n_runs = 0
    if runs:
        run_ids = duck_store.runs()["id"].tolist()
        if run_ids and len(merges):  # runs saved before a merge name the old keys
            neo_store.keep_merged_persons(merges)
        for run_id in run_ids:
            neo_store.save_run(duck_store.load_run(run_id), events=True)
            n_runs += 1
        if run_ids and len(merges):
            neo_store.retire_merged_persons(merges)  # the pointers no run uses go again
    return PushResult(
        persons=len(persons),
        places=len(places),
        aliases=len(aliases),
        presences_read=len(rows),
        presences_loaded=int(loaded),
        presences_present=len(rows) - int(loaded),
        runs=n_runs,
        seconds=time.perf_counter() - t0,
        merged_persons=len(merges),
    )


def _lookup(dictionary):
    """Object array ``key[code]`` of a dictionary frame ``code, key``."""
    codes = dictionary["code"].to_numpy(np.int64)
    out = np.full(int(codes.max()) + 1 if len(codes) else 0, None, dtype=object)
    out[codes] = dictionary["key"].to_numpy(dtype=object)
    return out
