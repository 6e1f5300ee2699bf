"""Neo4j for tracer: the store, the push, and the named ``.cypher`` files.

Importing this package is light (no driver import); the driver is loaded
when a :class:`~queries.neo4j_store.Neo4jStore` is opened.

Examples
--------
>>> from queries import cypher
>>> "UNWIND $windows" in cypher.load("place_visitors")
True
"""

from importlib import import_module

from . import cypher

__all__ = ["Neo4jStore", "push", "cypher"]

_LAZY = {"Neo4jStore": "neo4j_store", "push": "push"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
