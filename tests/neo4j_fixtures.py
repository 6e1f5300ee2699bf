"""Shared helpers of the Neo4j tests: the real server, emptied per module.

The tests talk to the server at ``$NEO4J_URI`` (default
``bolt://127.0.0.1:7687``, started by ``bash scripts/neo4j start``). When it
is not reachable they FAIL with the reason: CI starts the server, so a
missing server is an error to see, not a reason to skip. Every module
empties the database it writes to (the test database is disposable).
"""

import os

import pytest

from queries.connect import settings
from tracer.errors import Neo4jUnavailable

__all__ = ["open_test_store", "wipe", "count"]


def open_test_store():
    """A fresh Neo4jStore on an emptied database, or a failed test saying why."""
    from queries.neo4j_store import Neo4jStore

    try:
        store = Neo4jStore()
    except Neo4jUnavailable as exc:
        pytest.fail(f"the Neo4j tests need a running server ({exc}); "
                    f"NEO4J_URI={os.environ.get('NEO4J_URI', '(unset)')}", pytrace=False)
    wipe(store)
    return store


def wipe(store):
    """Delete every node and relationship (implicit batched transactions)."""
    with store.driver.session(database=store.settings.database) as session:
        # Relationships first: one node of a big graph (a busy grid cell) can
        # have more edges than one transaction's memory allows.
        session.run("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 50000 ROWS").consume()
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 20000 ROWS").consume()


def count(store, pattern):
    """``count(*)`` of a MATCH pattern, e.g. ``()-[:VISITED]->()``."""
    records, _, _ = store.driver.execute_query(f"MATCH {pattern} RETURN count(*) AS n",
                                               database_=store.settings.database)
    return records[0]["n"]


def neo4j_test_uri():
    return settings().uri
