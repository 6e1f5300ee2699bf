"""The Neo4j schema of tracer's graph model, set up idempotently.

Uniqueness constraints on ``Person.key``, ``Place.key``, ``TraceRun.id``,
``Identifier.value`` and ``VISITED.record`` (relationship uniqueness
constraints exist in Neo4j Community since 5.7; each constraint brings its
own index). ``EXPOSED_TO.run`` is deliberately not indexed (see below). Presence reads start from a person or a place found through
the key constraints and expand its VISITED edges, so time needs no index.
Every statement is ``IF NOT EXISTS``.

Examples
--------
>>> any("VISITED" in s for s in STATEMENTS)
True
"""

__all__ = ["STATEMENTS", "ensure_schema"]

STATEMENTS = (
    "CREATE CONSTRAINT person_key IF NOT EXISTS FOR (p:Person) REQUIRE p.key IS UNIQUE",
    "CREATE CONSTRAINT place_key IF NOT EXISTS FOR (pl:Place) REQUIRE pl.key IS UNIQUE",
    "CREATE CONSTRAINT trace_run_id IF NOT EXISTS FOR (r:TraceRun) REQUIRE r.id IS UNIQUE",
    "CREATE CONSTRAINT identifier_value IF NOT EXISTS FOR (i:Identifier) REQUIRE i.value IS UNIQUE",
    "CREATE CONSTRAINT visited_record IF NOT EXISTS FOR ()-[v:VISITED]-() REQUIRE v.record IS UNIQUE",
    # No index on EXPOSED_TO.run: MERGE would seek every edge of the run per
    # row (quadratic write-back); expanding from the bound endpoints is cheap.
    "DROP INDEX exposed_to_run IF EXISTS",
)


def ensure_schema(driver, database="neo4j", timeout_s=60):
    """Create the constraints and indexes that are missing, then wait for them.

    Parameters
    ----------
    driver : neo4j.Driver
    database : the database name.
    timeout_s : seconds to wait until the indexes are online.
    """
    for statement in STATEMENTS:
        driver.execute_query(statement, database_=database)
    driver.execute_query(f"CALL db.awaitIndexes({int(timeout_s)})", database_=database)
