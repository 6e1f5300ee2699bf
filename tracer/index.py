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
from numba import njit, prange

from .errors import StoreError, ValidationError
from .jit import JIT, JIT_PARALLEL
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

#: Columns of :meth:`PresenceIndex.to_frame` (canonical, without provenance).
FRAME_COLUMNS = ["person", "place", "start", "end", "kind", "section", "row", "col", "flags"]

#: Optional input columns and their value when absent.
_DEFAULTS = {"kind": 0, "section": -1, "row": -1, "col": -1, "flags": 0}

#: Starts must span less than 2**START_BITS seconds, so that the per-place
#: sort key ``bucket * (span + 1) + (start - min start)`` fits in an int64.
START_BITS = 58
#: Places (or persons) with at most this many rows use an insertion sort,
#: longer runs a radix sort with digits of at most RADIX_BITS bits.
SMALL_SORT = 16
RADIX_BITS = 11
RADIX = 1 << RADIX_BITS
#: Bits of a place or person code handled per grouping pass (fan-out 2**12).
GROUP_BITS = 12
#: Fewer rows than this are sorted by one thread (waking threads costs more).
PARALLEL_MIN = 1 << 16
_FORMAT = 1
_META = "index.json"


@njit(**JIT)
def duration_bucket(dur_s):
    """``floor(log2(dur_s + 1))`` for ``0 <= dur_s < 2**32``, by integer
    comparisons (exact, no floats).

    >>> [duration_bucket(d) for d in (0, 1, 2, 3, 59, 60, 3600)]
    [0, 1, 1, 2, 5, 5, 11]
    """
    x = np.int64(dur_s) + 1
    b = 0
    if x >= 1 << 16:
        x >>= 16
        b += 16
    if x >= 1 << 8:
        x >>= 8
        b += 8
    if x >= 1 << 4:
        x >>= 4
        b += 4
    if x >= 1 << 2:
        x >>= 2
        b += 2
    if x >= 1 << 1:
        b += 1
    return b


@njit(**JIT)
def _durations_kernel(start, end):
    """``end - start`` as int32 and the first row that breaks the contract:
    ``(dur, row, problem)`` with problem 0 none, 1 end before start, 2 too
    long for int32, 3 starts spanning 2**58 seconds or more."""
    dur = np.empty(start.size, np.int32)
    t0 = start[0] if start.size else 0
    t1 = t0
    for i in range(start.size):
        d = end[i] - start[i]
        if d < 0:
            return dur, i, 1
        if d > 2147483647:
            return dur, i, 2
        dur[i] = d
        t0 = min(t0, start[i])
        t1 = max(t1, start[i])
    if t1 - t0 >= 1 << START_BITS:
        return dur, 0, 3
    return dur, -1, 0


# Grouping rows by a code (place, person) is an LSD radix sort on the code:
# one or two stable scatter passes whose fan-out (at most 2**12 buckets for
# realistic code spaces) stays in cache, where a single counting-sort pass
# over 10**6 codes would miss the cache on every row. A row's columns
# travel together as one row of an (n, m) int64 block.


@njit(**JIT)
def _digit_cursors(codes, shift, digit_bits):
    """Where each digit value's rows start in a stable counting-sort pass."""
    radix = 1 << digit_bits
    count = np.zeros(radix + 1, np.int64)
    for i in range(codes.size):
        count[((codes[i] >> shift) & (radix - 1)) + 1] += 1
    for d in range(radix):
        count[d + 1] += count[d]
    return count


@njit(**JIT)
def _scatter_pass(codes, rows, shift, digit_bits, out_codes, out_rows):
    """One stable counting-sort pass of packed rows on bits
    ``[shift, shift + digit_bits)`` of the codes."""
    cursor = _digit_cursors(codes, shift, digit_bits)
    mask = (1 << digit_bits) - 1
    for i in range(codes.size):
        d = (codes[i] >> shift) & mask
        j = cursor[d]
        cursor[d] = j + 1
        out_codes[j] = codes[i]
        for c in range(rows.shape[1]):
            out_rows[j, c] = rows[i, c]


@njit(**JIT)
def _scatter_places_first(place, digit_bits, start, dur, person, section, row, col, flags,
                          out_codes, out_rows):
    """The first pass of the place grouping, packing each row on the way:
    start, ``dur << 32 | person``, and section, row, col, flags in one int64."""
    cursor = _digit_cursors(place, 0, digit_bits)
    mask = (1 << digit_bits) - 1
    for i in range(place.size):
        d = place[i] & mask
        j = cursor[d]
        cursor[d] = j + 1
        out_codes[j] = place[i]
        out_rows[j, 0] = start[i]
        out_rows[j, 1] = (np.int64(dur[i]) << 32) | np.int64(person[i])
        out_rows[j, 2] = ((np.int64(section[i]) & 0xFFFF) | ((np.int64(row[i]) & 0xFFFF) << 16)
                          | ((np.int64(col[i]) & 0xFFFF) << 32) | (np.int64(flags[i]) << 48))


@njit(**JIT)
def _scatter_persons_first(person, digit_bits, start, out_codes, out_rows):
    """The first pass of the person grouping: rows of (position, start)."""
    cursor = _digit_cursors(person, 0, digit_bits)
    mask = (1 << digit_bits) - 1
    for i in range(person.size):
        d = person[i] & mask
        j = cursor[d]
        cursor[d] = j + 1
        out_codes[j] = person[i]
        out_rows[j, 0] = i
        out_rows[j, 1] = start[i]


@njit(**JIT)
def _run_offsets(sorted_codes, n_codes):
    """``n_codes + 1`` offsets of the runs of sorted codes."""
    off = np.empty(n_codes + 1, np.int64)
    j = 0
    for c in range(n_codes + 1):
        while j < sorted_codes.size and sorted_codes[j] < c:
            j += 1
        off[c] = j
    return off


def _group_rows(first_pass, codes, n_codes, n_columns, *columns):
    """Stable grouping of rows by ``codes``: ``(offsets, packed rows)``.

    ``first_pass`` (one of the ``_scatter_*_first`` kernels) scatters and
    packs the ``columns``; later passes move packed rows.
    """
    bits = max(int(n_codes - 1).bit_length(), 1)
    passes = -(-bits // GROUP_BITS)
    digit_bits = -(-bits // passes)
    out_codes = np.empty(codes.size, np.int32)
    out_rows = np.empty((codes.size, n_columns), np.int64)
    first_pass(codes, digit_bits, *columns, out_codes, out_rows)
    codes, rows = out_codes, out_rows
    if passes > 1:
        out_codes, out_rows = np.empty_like(codes), np.empty_like(rows)
    for p in range(1, passes):
        _scatter_pass(codes, rows, p * digit_bits, digit_bits, out_codes, out_rows)
        codes, out_codes, rows, out_rows = out_codes, codes, out_rows, rows
    return _run_offsets(codes, n_codes), rows


@njit(**JIT)
def _unpack(i0, i1, rows, start, dur, person, section, row, col, flags):
    for i in range(i0, i1):
        start[i] = rows[i, 0]
        dur[i] = np.int32(rows[i, 1] >> 32)
        person[i] = np.int32(rows[i, 1] & 0xFFFFFFFF)
        seat = rows[i, 2]
        section[i] = np.int16(seat & 0xFFFF)
        row[i] = np.int16((seat >> 16) & 0xFFFF)
        col[i] = np.int16((seat >> 32) & 0xFFFF)
        flags[i] = np.uint8(seat >> 48)


@njit(**JIT_PARALLEL)
def _unpack_parallel(bounds, rows, start, dur, person, section, row, col, flags):
    for t in prange(bounds.size - 1):
        _unpack(bounds[t], bounds[t + 1], rows, start, dur, person, section, row, col, flags)


def _unpack_columns(rows):
    """The index columns from packed place rows."""
    n = rows.shape[0]
    out = (np.empty(n, np.int64), np.empty(n, np.int32), np.empty(n, np.int32), np.empty(n, np.int16),
           np.empty(n, np.int16), np.empty(n, np.int16), np.empty(n, np.uint8))
    if n < PARALLEL_MIN:
        _unpack(0, n, rows, *out)
    else:
        _unpack_parallel(np.linspace(0, n, 9).astype(np.int64), rows, *out)
    return dict(zip(("start", "dur", "person", "section", "row", "col", "flags"), out))


@njit(**JIT)
def _bit_length(x):
    b = 0
    while x > 0:
        x >>= 1
        b += 1
    return b


@njit(**JIT)
def _run_perm(keys, k, perm, tmp_keys, tmp_perm, count):
    """Stable order of the non-negative ``keys[:k]`` into ``perm[:k]``.

    Short runs: insertion sort. Longer runs: LSD radix sort with digits of
    about ``log2(k)`` bits (measured faster than numba's sorts from ~30
    keys up). ``keys`` is clobbered; the buffers hold at least ``k`` items
    (``count`` at least ``RADIX + 1``).
    """
    for i in range(k):
        perm[i] = i
    if k <= SMALL_SORT:
        for i in range(1, k):
            key = keys[i]
            j = i - 1
            while j >= 0 and keys[perm[j]] > key:
                perm[j + 1] = perm[j]
                j -= 1
            perm[j + 1] = i
        return
    top = 0
    for i in range(k):
        top = max(top, keys[i])
    digit_bits = min(max(_bit_length(k), 4), RADIX_BITS)
    radix = 1 << digit_bits
    src_k, dst_k, src_p, dst_p = keys, tmp_keys, perm, tmp_perm
    passes = 0
    shift = 0
    while (top >> shift) > 0:
        count[:radix + 1] = 0
        for i in range(k):
            count[((src_k[i] >> shift) & (radix - 1)) + 1] += 1
        for d in range(radix):
            count[d + 1] += count[d]
        for i in range(k):
            d = (src_k[i] >> shift) & (radix - 1)
            j = count[d]
            count[d] = j + 1
            dst_k[j] = src_k[i]
            dst_p[j] = src_p[i]
        src_k, dst_k, src_p, dst_p = dst_k, src_k, dst_p, src_p
        passes += 1
        shift += digit_bits
    if passes % 2 == 1:
        perm[:k] = tmp_perm[:k]


@njit(**JIT)
def _permute_run(arr, lo, perm, k, tmp):
    """``arr[lo:lo + k] = arr[lo:lo + k][perm[:k]]`` using the buffer ``tmp``."""
    for i in range(k):
        tmp[i] = arr[lo + i]
    for i in range(k):
        arr[lo + i] = tmp[perm[i]]


def _chunks(off, n_chunks=64):
    """Split the runs described by ``off`` into chunks of about equal rows,
    so parallel threads share the work and reuse their buffers; one chunk
    when the rows are too few to repay waking the threads."""
    n = int(off[-1])
    if n < PARALLEL_MIN:
        return np.array([0, off.size - 1], np.int64)
    bounds = np.searchsorted(off, np.linspace(0, n, n_chunks + 1).astype(np.int64), side="left")
    bounds[0], bounds[-1] = 0, off.size - 1
    return np.unique(bounds)


@njit(**JIT)
def _longest_run(off, c0, c1):
    longest = 0
    for c in range(c0, c1):
        longest = max(longest, off[c + 1] - off[c])
    return longest


@njit(**JIT)
def _sort_place_chunk(place_off, p0, p1, rows):
    """Sort the runs of places ``p0 .. p1 - 1`` of the packed ``rows`` by
    (duration bucket, start), stably, in place."""
    size = _longest_run(place_off, p0, p1)
    keys = np.empty(size, np.int64)
    perm = np.empty(size, np.int64)
    tmp = np.empty(size, np.int64)
    tmp_perm = np.empty(size, np.int64)
    tmp_rows = np.empty((size, rows.shape[1]), np.int64)
    count = np.empty(RADIX + 1, np.int64)
    for p in range(p0, p1):
        lo = place_off[p]
        k = place_off[p + 1] - lo
        if k < 2:
            continue
        t0 = rows[lo, 0]
        t1 = rows[lo, 0]
        for i in range(lo + 1, lo + k):
            t0 = min(t0, rows[i, 0])
            t1 = max(t1, rows[i, 0])
        for i in range(k):
            keys[i] = duration_bucket(rows[lo + i, 1] >> 32) * (t1 - t0 + 1) + (rows[lo + i, 0] - t0)
        _run_perm(keys, k, perm, tmp, tmp_perm, count)
        for i in range(k):
            for c in range(rows.shape[1]):
                tmp_rows[i, c] = rows[lo + i, c]
        for i in range(k):
            for c in range(rows.shape[1]):
                rows[lo + i, c] = tmp_rows[perm[i], c]


@njit(**JIT_PARALLEL)
def _sort_places_parallel(place_off, chunks, rows):
    """:func:`_sort_place_chunk` over the chunks, in parallel."""
    for c in prange(chunks.size - 1):
        _sort_place_chunk(place_off, chunks[c], chunks[c + 1], rows)


@njit(**JIT)
def _sort_person_chunk(by_person, person_off, q0, q1, start):
    """Sort the positions of persons ``q0 .. q1 - 1`` by start (ties by
    position: stable); ``start`` is aligned with ``by_person``."""
    size = _longest_run(person_off, q0, q1)
    keys = np.empty(size, np.int64)
    perm = np.empty(size, np.int64)
    tmp = np.empty(size, np.int32)
    tmp_keys = np.empty(size, np.int64)
    tmp_perm = np.empty(size, np.int64)
    count = np.empty(RADIX + 1, np.int64)
    for q in range(q0, q1):
        lo = person_off[q]
        k = person_off[q + 1] - lo
        if k < 2:
            continue
        t0 = start[lo]
        for i in range(lo + 1, lo + k):
            t0 = min(t0, start[i])
        for i in range(k):
            keys[i] = start[lo + i] - t0
        _run_perm(keys, k, perm, tmp_keys, tmp_perm, count)
        _permute_run(by_person, lo, perm, k, tmp)


@njit(**JIT_PARALLEL)
def _sort_persons_parallel(by_person, person_off, chunks, start):
    """:func:`_sort_person_chunk` over the chunks, in parallel."""
    for c in prange(chunks.size - 1):
        _sort_person_chunk(by_person, person_off, chunks[c], chunks[c + 1], start)


def _sort_places(place_off, rows):
    chunks = _chunks(place_off)
    if chunks.size == 2:
        _sort_place_chunk(place_off, 0, place_off.size - 1, rows)
    else:
        _sort_places_parallel(place_off, chunks, rows)


def _sort_persons(by_person, person_off, start):
    chunks = _chunks(person_off)
    if chunks.size == 2:
        _sort_person_chunk(by_person, person_off, 0, person_off.size - 1, start)
    else:
        _sort_persons_parallel(by_person, person_off, chunks, start)


@njit(**JIT)
def _segments(place_off, dur_sorted):
    """Segments of the sorted rows: ``(seg_place, seg_lo, seg_maxdur, place_seg)``."""
    n_places = place_off.size - 1
    n_seg = 0
    for p in range(n_places):
        prev_b = -1
        for i in range(place_off[p], place_off[p + 1]):
            b = duration_bucket(dur_sorted[i])
            if b != prev_b:
                n_seg += 1
                prev_b = b
    seg_place = np.empty(n_seg, np.int32)
    seg_lo = np.empty(n_seg + 1, np.int64)
    seg_maxdur = np.zeros(n_seg, np.int64)
    place_seg = np.empty(n_places + 1, np.int64)
    s = -1
    for p in range(n_places):
        place_seg[p] = s + 1
        prev_b = -1
        for i in range(place_off[p], place_off[p + 1]):
            b = duration_bucket(dur_sorted[i])
            if b != prev_b:
                s += 1
                seg_place[s] = p
                seg_lo[s] = i
                prev_b = b
            seg_maxdur[s] = max(seg_maxdur[s], dur_sorted[i])
    place_seg[n_places] = n_seg
    seg_lo[n_seg] = dur_sorted.size
    return seg_place, seg_lo, seg_maxdur, place_seg


@njit(**JIT)
def _place_kinds(place, kind, n_places):
    """Kind of each place (-1 when absent) and the first row whose kind
    disagrees with an earlier row of the same place (-1 when none)."""
    place_kind = np.full(n_places, -1, np.int8)
    for i in range(place.size):
        p = place[i]
        if place_kind[p] == -1:
            place_kind[p] = kind[i]
        elif place_kind[p] != kind[i]:
            return place_kind, i
    return place_kind, -1


@dataclass(eq=False)
class PresenceIndex:
    """Presences sorted by (place, duration bucket, start), as numpy arrays.

    Per presence, in index order: ``start`` (int64 UTC seconds), ``dur``
    (int32 seconds, ``end = start + dur``), ``person``, ``section``, ``row``,
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


def _column(presences, name, n):
    """A column as a contiguous array of its canonical dtype (default if absent)."""
    dtype = PRESENCE_COLUMNS[name]
    if name not in presences.columns:
        if name not in _DEFAULTS:
            raise ValidationError(f"presences: missing column {name}",
                                  hint="an index needs " + ", ".join(FRAME_COLUMNS))
        return np.full(n, _DEFAULTS[name], dtype)
    values = presences[name].to_numpy()
    if values.dtype != dtype:
        if values.dtype.kind not in "iub" or (values.size and (
                values.min() < np.iinfo(dtype).min or values.max() > np.iinfo(dtype).max)):
            raise ValidationError(f"presences: column {name} does not fit {np.dtype(dtype).name}",
                                  hint="pass canonical presences (tracer.schema.PRESENCE_COLUMNS)")
        values = values.astype(dtype)
    return np.ascontiguousarray(values)


def _code_space(codes, given, what):
    """Check codes are >= 0 and below ``given``; return the code-space size."""
    top = int(codes.max()) + 1 if codes.size else 0
    if codes.size and codes.min() < 0:
        raise ValidationError(f"presences: negative {what} code {int(codes.min())}",
                              hint=f"{what} codes come from the store's dictionary and are >= 0")
    if given is None:
        return top
    if given < top:
        raise ValidationError(f"presences: {what} code {top - 1} is not below n_{what}s={given}",
                              hint=f"pass n_{what}s larger than every {what} code, or leave it None")
    return int(given)


def _durations(start, end):
    """``end - start`` as int32 after checking the interval contract."""
    dur, i, problem = _durations_kernel(start, end)
    if problem == 1:
        raise ValidationError(f"presences: row {i}: end {end[i]} is before start {start[i]}",
                              hint="end must be >= start")
    if problem == 2:
        raise ValidationError(f"presences: row {i}: lasts {end[i] - start[i]} s, more than 68 years",
                              hint="split or correct the interval")
    if problem == 3:
        raise ValidationError("presences: start times span more than 2**58 seconds",
                              hint="start must be UTC epoch seconds")
    return dur


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
    n = len(presences)
    if n >= np.iinfo(np.int32).max:
        raise ValidationError(f"presences: {n} rows exceed one index (2**31 - 1)",
                              hint="partition the presences by place and build one index per part")
    cols = {c: _column(presences, c, n) for c in FRAME_COLUMNS if c != "end"}
    dur = _durations(cols["start"], _column(presences, "end", n))
    n_places = _code_space(cols["place"], n_places, "place")
    n_persons = _code_space(cols["person"], n_persons, "person")
    place_kind, bad = _place_kinds(cols["place"], cols["kind"], n_places)
    if bad >= 0:
        p = int(cols["place"][bad])
        raise ValidationError(f"presences: row {bad}: place {p} has kinds {place_kind[p]} and {cols['kind'][bad]}",
                              hint="a place code has exactly one kind; check the place dictionary")
    place_off, rows = _group_rows(_scatter_places_first, cols["place"], n_places, 3, cols["start"], dur,
                                  *(cols[c] for c in ("person", "section", "row", "col", "flags")))
    _sort_places(place_off, rows)
    arrays = _unpack_columns(rows)
    del rows
    seg_place, seg_lo, seg_maxdur, place_seg = _segments(place_off, arrays["dur"])
    person_off, rows = _group_rows(_scatter_persons_first, arrays["person"], n_persons, 2, arrays["start"])
    by_person, start_by_person = rows[:, 0].astype(np.int32), np.ascontiguousarray(rows[:, 1])
    del rows
    _sort_persons(by_person, person_off, start_by_person)
    return PresenceIndex(**arrays, seg_place=seg_place, seg_lo=seg_lo,
                         seg_maxdur=seg_maxdur, place_seg=place_seg, place_kind=place_kind,
                         by_person=by_person, person_off=person_off,
                         version=int(version))
