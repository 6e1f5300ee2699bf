"""Writing presences as VISITED edges: one transaction per batch of columns.

:meth:`queries.neo4j_store.Neo4jStore.write_presences` runs these in managed
write transactions: :func:`write_chunk` creates only the records not stored
yet (``stored_records``, then ``create_visits``); :func:`create_chunk`
creates them all without asking (a database that held no presence when the
write began) and raises :class:`Conflict` when the ``VISITED.record``
uniqueness constraint refuses one, so that the caller writes that batch again
with :func:`write_chunk`. Parameters are columns (one list per property):
they pack and travel faster than one map or list per row.

Examples
--------
>>> chunk = {"record": np.array([5, 7]), "person": np.array(["a", "b"], dtype=object)}
>>> _visit_params(chunk, np.array([False, True]))
{'record': [7], 'person': ['b']}
"""

import numpy as np

from . import cypher

__all__ = ["VISIT_PARAMS", "Conflict", "create_chunk", "write_chunk"]

# create_visits parameter -> presence row column (person/place as keys).
VISIT_PARAMS = {"person": "person_key", "place": "place_key", "record": "record", "start_s": "start",
                 "end_s": "end", "section": "section", "row": "row", "col": "col", "flags": "flags"}


class Conflict(Exception):
    """A batch written unchecked met a record stored meanwhile (rolled back)."""


def _visit_params(chunk, keep=None):
    """create_visits parameters: one plain list per column."""
    return {name: (values if keep is None else values[keep]).tolist() for name, values in chunk.items()}


def create_chunk(tx, chunk):
    """Create every presence of ``chunk`` (columns); raise Conflict when the
    VISITED.record constraint refuses one (the transaction is rolled back)."""
    import neo4j.exceptions as nx

    try:
        summary = tx.run(cypher.load("create_visits"), _visit_params(chunk)).consume()
    except nx.ConstraintError as exc:
        raise Conflict(str(exc)) from None
    return summary.counters.relationships_created


def write_chunk(tx, chunk):
    """Create the presences of ``chunk`` (columns) whose record is not stored yet."""
    records = chunk["record"]
    stored = [r[0] for r in tx.run(cypher.load("stored_records"), records=records.tolist()).values()]
    keep = ~np.isin(records, np.asarray(stored, dtype=records.dtype)) if stored else None
    if keep is not None and not keep.any():
        return 0
    summary = tx.run(cypher.load("create_visits"), _visit_params(chunk, keep)).consume()
    return summary.counters.relationships_created
