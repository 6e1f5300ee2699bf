"""Small DuckDB helpers shared by the embedded store's modules
(:mod:`tracer.duck`, :mod:`tracer.duck_dicts`, :mod:`tracer.duck_runs`).

Examples
--------
>>> import duckdb, pandas as pd
>>> con = duckdb.connect()
>>> with registered(con, _t=pd.DataFrame({"x": [1, 2]})):
...     fetch_one(con, "SELECT sum(x) FROM _t")
(3,)
>>> quote_ident('row')
'"row"'
"""

from contextlib import contextmanager
from datetime import datetime, timezone

import duckdb

__all__ = ["registered", "fetch_one", "rollback", "utcnow", "quote_ident"]


@contextmanager
def registered(con, **frames):
    """Frames visible to SQL under their keyword names for the block's duration."""
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        yield con
    finally:
        for name in frames:
            con.unregister(name)


def fetch_one(con, sql, params=()):
    """First row of a query, fully fetched (DuckDB keeps a half-read result
    pending on the connection and refuses other work until it is drained)."""
    rows = con.execute(sql, list(params)).fetchall()
    return rows[0] if rows else None


def rollback(con):
    """Roll back, ignoring 'no transaction' (a failed COMMIT has already ended it)."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


def utcnow():
    """The current UTC time, naive (as DuckDB TIMESTAMP columns hold it)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def quote_ident(name):
    """``name`` as a double-quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'
