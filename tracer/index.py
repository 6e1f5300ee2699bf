"""The presence index: presences sorted for fast place-and-window queries.

A :class:`PresenceIndex` holds canonical presences as numpy arrays, sorted by
``(place, duration bucket, start)``. The bucket of a presence is
``floor(log2(duration_s + 1))``; a run of one place and one bucket is a
*segment*. Inside a segment every duration is at most ``seg_maxdur``, so the
presences overlapping ``[a, b)`` are among those whose start lies in
``(a - seg_maxdur, b)``: two binary searches per segment, and at most about
twice the true output is scanned whatever the mix of minutes and weeks.
Residences lasting weeks therefore never slow down a query at a busy station.

Person postings (``by_person``, ``person_off``) list each person's positions
in start order, so a trace finds a case's own presences without a scan.

Examples
--------
>>> import pandas as pd
>>> from tracer.index import build_index
>>> frame = pd.DataFrame({"person": [0, 1], "place": [5, 5],
...                       "start": [0, 600], "end": [3600, 900]})
>>> index = build_index(frame)
>>> index.n, index.n_places, index.n_persons
(2, 6, 2)
>>> index.to_frame()[["person", "place", "start", "end"]].values.tolist()
[[1, 5, 600, 900], [0, 5, 0, 3600]]
"""


import json
import os
import shutil
import tempfile
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import StoreError, ValidationError
from .index_build import FRAME_COLUMNS, build_arrays, duration_bucket
from .schema import PRESENCE_COLUMNS

__all__ = ["PresenceIndex", "build_index", "duration_bucket", "INDEX_ARRAYS", "FRAME_COLUMNS"]

#: The arrays of an index, with their dtypes (names are the contract).
INDEX_ARRAYS = {
    "start": np.int64,
    "dur": np.int32,
    "person": np.int32,
    "section": np.int16,
    "row": np.int16,
    "col": np.int16,
    "flags": np.uint8,
    "seg_place": np.int32,
    "seg_lo": np.int64,
    "seg_maxdur": np.int64,
    "place_seg": np.int64,
    "place_kind": np.int8,
    "by_person": np.int32,
    "person_off": np.int64,
}

#: Fewer rows than this are sorted by one thread (waking threads costs more);
#: read by :func:`build_index` at each call (tests lower it).
PARALLEL_MIN = 1 << 16
_FORMAT = 1
_META = "index.json"


@dataclass(eq=False)
class PresenceIndex:
    """Presences sorted by (place, duration bucket, start), as numpy arrays.

    Per presence, in index order: ``start`` (int64 UTC seconds), ``dur``
    (int32 seconds, ``end = start + dur``; at most 68 years,
    :data:`tracer.index_build.MAX_DURATION_S`), ``person``, ``section``, ``row``,
    ``col``, ``flags``. Segments: ``seg_place``, ``seg_lo`` (``n_seg + 1``
    offsets, last is ``n``), ``seg_maxdur``. ``place_seg`` (``n_places + 1``)
    gives the segments of each place, ``place_kind`` its kind (-1 when the
    place has no presence). ``by_person[person_off[q]:person_off[q + 1]]``
    are the positions of person ``q`` in start order. ``version`` is the
    store version the index was built from (0 when built from a frame).

    Examples
    --------
    >>> import pandas as pd
    >>> index = build_index(pd.DataFrame({"person": [3], "place": [0],
    ...                                   "start": [10], "end": [70]}))
    >>> index.person_positions([3]).tolist(), index.nbytes > 0
    ([0], True)
    """

    start: np.ndarray
    dur: np.ndarray
    person: np.ndarray
    section: np.ndarray
    row: np.ndarray
    col: np.ndarray
    flags: np.ndarray
    seg_place: np.ndarray
    seg_lo: np.ndarray
    seg_maxdur: np.ndarray
    place_seg: np.ndarray
    place_kind: np.ndarray
    by_person: np.ndarray
    person_off: np.ndarray
    version: int = 0

    @property
    def n(self):
        """Number of presences."""
        return int(self.start.size)

    @property
    def n_segments(self):
        """Number of (place, duration bucket) segments."""
        return int(self.seg_place.size)

    @property
    def n_places(self):
        """Size of the place code space (``max place + 1`` or as given)."""
        return int(self.place_kind.size)

    @property
    def n_persons(self):
        """Size of the person code space (``max person + 1`` or as given)."""
        return int(self.person_off.size - 1)

    @property
    def nbytes(self):
        """Total bytes of all arrays."""
        return int(sum(getattr(self, name).nbytes for name in INDEX_ARRAYS))

    def __len__(self):
        return self.n

    def places_of(self, positions):
        """Place code of each index position (int32)."""
        positions = np.asarray(positions, dtype=np.int64)
        seg = np.searchsorted(self.seg_lo, positions, side="right") - 1
        return np.asarray(self.seg_place)[seg]

    def to_frame(self, positions=None):
        """Canonical presence columns for the given positions (all if None).

        Returns a DataFrame with :data:`FRAME_COLUMNS` and the dtypes of
        :data:`tracer.schema.PRESENCE_COLUMNS`, one row per position, in the
        order given.
        """
        if positions is None:
            positions = np.arange(self.n, dtype=np.int64)
        positions = np.asarray(positions, dtype=np.int64).ravel()
        if positions.size and (positions.min() < 0 or positions.max() >= self.n):
            raise ValidationError(
                f"index positions must be in [0, {self.n})",
                hint="use positions returned by this index",
            )
        start = np.asarray(self.start)[positions]
        place = self.places_of(positions)
        cols = {
            "person": np.asarray(self.person)[positions],
            "place": place,
            "start": start,
            "end": start + np.asarray(self.dur)[positions],
            "kind": np.asarray(self.place_kind)[place],
            "section": np.asarray(self.section)[positions],
            "row": np.asarray(self.row)[positions],
            "col": np.asarray(self.col)[positions],
            "flags": np.asarray(self.flags)[positions],
        }
        return pd.DataFrame({c: cols[c].astype(PRESENCE_COLUMNS[c], copy=False) for c in FRAME_COLUMNS})

    def person_positions(self, person_codes):
        """Index positions of all presences of the given persons.

        Grouped by person code (ascending, duplicates ignored), each person's
        positions in start order. Codes without presences contribute nothing.
        """
        codes = np.unique(np.asarray(person_codes, dtype=np.int64).ravel())
        if codes.size and codes[0] < 0:
            raise ValidationError(f"person code {codes[0]} is negative", hint="person codes are >= 0")
        codes = codes[codes < self.n_persons]
        off = np.asarray(self.person_off)
        lo, hi = off[codes], off[codes + 1]
        counts = hi - lo
        if counts.sum() == 0:
            return np.empty(0, np.int64)
        # positions of every run [lo, hi) without a Python loop
        run_start = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
        take = run_start + np.arange(counts.sum())
        return np.asarray(self.by_person)[take].astype(np.int64)

    def save(self, directory):
        """Write one ``.npy`` per array plus ``index.json``, atomically.

        The files are written to a temporary sibling directory that is then
        renamed to ``directory`` (an existing index there is replaced).
        """
        directory = os.path.abspath(os.fspath(directory))
        parent = os.path.dirname(directory)
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".index-", dir=parent)
        try:
            for name in INDEX_ARRAYS:
                np.save(os.path.join(tmp, name + ".npy"), np.asarray(getattr(self, name)))
            meta = {"format": _FORMAT, "version": int(self.version), "n": self.n,
                    "n_segments": self.n_segments, "n_places": self.n_places,
                    "n_persons": self.n_persons}
            with open(os.path.join(tmp, _META), "w") as fh:
                json.dump(meta, fh)
            _replace_dir(tmp, directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @classmethod
    def load(cls, directory, mmap=True):
        """Read an index written by :meth:`save` (memory-mapped by default)."""
        directory = os.fspath(directory)
        try:
            with open(os.path.join(directory, _META)) as fh:
                meta = json.load(fh)
            arrays = {
                name: np.load(os.path.join(directory, name + ".npy"), mmap_mode="r" if mmap else None)
                for name in INDEX_ARRAYS
            }
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read the presence index in {directory}: {exc}",
                             hint="delete that directory and rebuild the index") from None
        if meta.get("format") != _FORMAT or arrays["start"].size != meta.get("n"):
            raise StoreError(f"the presence index in {directory} has an unknown format or is damaged",
                             hint="delete that directory and rebuild the index")
        return cls(**arrays, version=int(meta["version"]))


def _replace_dir(tmp, directory):
    """Rename ``tmp`` to ``directory``; an old directory is moved aside first."""
    if not os.path.exists(directory):
        os.rename(tmp, directory)
        return
    old = tempfile.mkdtemp(prefix=".index-old-", dir=os.path.dirname(directory))
    os.rmdir(old)
    os.rename(directory, old)
    os.rename(tmp, directory)
    shutil.rmtree(old, ignore_errors=True)


def build_index(presences, n_persons=None, n_places=None, version=0):
    """Build a :class:`PresenceIndex` from canonical presences.

    Parameters
    ----------
    presences : DataFrame
        Columns ``person, place, start, end`` and optionally ``kind, section,
        row, col, flags`` (defaults 0, -1, -1, -1, 0); other columns are
        ignored. Each place must have a single kind.
    n_persons, n_places : int, optional
        Sizes of the code spaces (default: largest code + 1).
    version : int
        The store version the presences come from.

    Examples
    --------
    >>> import pandas as pd
    >>> index = build_index(pd.DataFrame({"person": [0, 1, 0], "place": [1, 1, 0],
    ...     "start": [0, 0, 100], "end": [86400 * 14, 60, 200]}), version=3)
    >>> index.seg_place.tolist(), index.seg_lo.tolist(), index.version
    ([0, 1, 1], [0, 1, 2, 3], 3)
    """
    arrays = build_arrays(presences, n_persons, n_places, parallel_min=PARALLEL_MIN)
    return PresenceIndex(**arrays, version=int(version))
