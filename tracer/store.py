"""The ``Store`` protocol: what the engine needs from any presence store.

Implementations: :class:`tracer.duck.DuckStore` (embedded DuckDB file, the
default), ``queries.neo4j_store.Neo4jStore``, and the read-only
:class:`tracer.framestore.FrameStore` over a DataFrame. The engine only
calls the methods below, so a trace gives the same result on any of them.
"""

from dataclasses import dataclass
from typing import Optional, Protocol, Sequence, runtime_checkable

import pandas as pd

__all__ = ["Store", "AppendResult", "open_store"]


@dataclass
class AppendResult:
    """What an append did: ``read == loaded + duplicates`` for the batch."""

    read: int
    loaded: int
    duplicates: int
    source: int = -1  # the source id assigned to this batch
    moved: int = 0  # stored presences moved to an ID holder (``merge_persons``)


@runtime_checkable
class Store(Protocol):
    """Operations the engine needs; every time is UTC epoch seconds.

    Presence frames returned have :data:`tracer.schema.PRESENCE_COLUMNS`.
    Person and place frames have ``code, key, name, district`` (places also
    ``kind, lat, lon``).
    """

    def append(self, batch, progress=None) -> AppendResult:
        """Append a :class:`tracer.presence.Batch` atomically (all or nothing).
        Presences whose ``record`` is already stored count as duplicates."""

    def presences(
        self,
        persons: Optional[Sequence[int]] = None,
        places: Optional[Sequence[int]] = None,
        start: Optional[int] = None,
        end: Optional[int] = None,
    ) -> pd.DataFrame:
        """Presences of the given person codes and/or place codes that
        overlap ``[start, end)`` (each bound optional)."""

    def index(self):
        """The :class:`tracer.index.PresenceIndex` of the current store
        version (built and persisted on first use after a change). A remote
        store may instead offer ``index_for_sources(sources, linger_s)``: the
        narrow index one trace hop needs (see ``tracer.tracing``)."""

    def person_codes(self, keys: Sequence[str]):
        """int32 codes of person keys, in order; raises
        :class:`~tracer.errors.UnknownPerson` naming unknown keys."""

    def person_keys(self, codes):
        """Person keys (object array) of int codes, in order. A store may
        also offer ``person_key_array(codes)``, the same keys as a pyarrow
        string array, which ``trace`` then uses (no Python strings)."""

    def place_keys(self, codes):
        """Place keys (object array) of int codes, in order (optionally
        also ``place_key_array``, as for persons)."""

    def persons(self, keys: Optional[Sequence[str]] = None) -> pd.DataFrame:
        """The person dictionary (optionally only the given keys)."""

    def places(self, codes: Optional[Sequence[int]] = None) -> pd.DataFrame:
        """The place dictionary (optionally only the given codes)."""

    def aliases(self) -> pd.DataFrame:
        """``key, alias`` for every identifier seen."""

    def save_run(self, run) -> str:
        """Persist a trace run (parameters, contacts, events); return its id."""

    def runs(self) -> pd.DataFrame:
        """One row per saved run: ``id, created, params``."""

    def load_run(self, run_id: Optional[str] = None):
        """A saved run (the latest when ``run_id`` is None). A store that
        can read part of a run's events offers ``load_run(run_id,
        events=False)`` and ``load_run_events(run_id, pairs)`` (the events
        between given ``(case, contact)`` keys), which ``explain`` uses."""

    def close(self) -> None:
        """Release the store."""


def open_store(path=None, read_only=False, create=True):
    """Open the embedded store at ``path`` (default ``$TRACER_STORE``, else
    ``./tracer.duckdb``); ``create=False`` refuses a missing file instead of
    creating it. The Neo4j store lives in ``queries/``."""
    import os

    from .duck import DuckStore

    path = path or os.environ.get("TRACER_STORE") or "tracer.duckdb"
    return DuckStore(path, read_only=read_only, create=create)
