"""tracer: contact-tracing graph analytics.

Find, for every A-class person (a confirmed case, or someone from a key
area), the B-class people who shared a place and a time with them, scored by
an exposure model and ranked with the evidence behind each score.
"""

from .errors import (  # noqa: F401
    LoadError,
    Neo4jUnavailable,
    StoreError,
    StoreLocked,
    TracerError,
    UnknownPerson,
    ValidationError,
)

__version__ = "0.1.0"

__all__ = [
    "trace",
    "TraceResult",
    "TracerError",
    "ValidationError",
    "LoadError",
    "StoreError",
    "StoreLocked",
    "UnknownPerson",
    "Neo4jUnavailable",
]


def __getattr__(name):
    # Lazy, so that ``import tracer.errors`` (the CLI's --help path) does not
    # pull in numpy, pandas and numba.
    if name in ("trace", "TraceResult"):
        from . import tracing

        return getattr(tracing, name)
    raise AttributeError(f"module 'tracer' has no attribute {name!r}")
