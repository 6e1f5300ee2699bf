"""Sorting the runs of a grouped index: places by (duration bucket, start),
persons by start.

After :func:`tracer.grouping.group_rows`, each place's (person's) rows are
contiguous in input order. :func:`sort_places` orders every place's rows by
(duration bucket, start) and unpacks them into the index columns in the same
pass; :func:`sort_persons` orders every person's positions by start. Both are
stable, run on all threads from ``parallel_min`` rows (chunks of whole runs
of about equal rows), and skip a run that is already in order.

Examples
--------
>>> import numpy as np
>>> person_off = np.array([0, 3])
>>> rows = np.array([[7, 300], [8, 100], [9, 200]])     # (position, start)
>>> sort_persons(person_off, rows, parallel_min=1 << 16).tolist()
[8, 9, 7]
"""

import numpy as np
from numba import njit, prange

from .jit import JIT, JIT_PARALLEL

__all__ = ["sort_places", "sort_persons", "chunks_of_runs", "duration_bucket", "PLACE_COLUMNS"]

#: Runs of at most this many rows use an insertion sort, longer runs a radix
#: sort with digits of at most RADIX_BITS bits.
SMALL_SORT = 16
RADIX_BITS = 11
RADIX = 1 << RADIX_BITS

#: The index columns :func:`sort_places` unpacks, with their dtypes.
PLACE_COLUMNS = {"start": np.int64, "dur": np.int32, "person": np.int32, "section": np.int16,
                 "row": np.int16, "col": np.int16, "flags": np.uint8}


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
def _bit_length(x):
    b = 0
    while x > 0:
        x >>= 1
        b += 1
    return b


@njit(**JIT)
def _run_perm(keys, k, perm, tmp_keys, tmp_perm, count):
    """Stable order of the non-negative ``keys[:k]`` into ``perm[:k]``.

    Already ordered keys: the identity. Short runs: insertion sort. Longer
    runs: LSD radix sort with digits of about ``log2(k)`` bits (measured
    faster than numba's sorts from ~30 keys up). ``keys`` is clobbered; the
    buffers hold at least ``k`` items (``count`` at least ``RADIX + 1``).
    """
    ordered = True
    for i in range(k):
        perm[i] = i
        if i and keys[i] < keys[i - 1]:
            ordered = False
    if ordered:
        return
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
    while shift < 63 and (top >> shift) > 0:  # keys are below 2**63; a shift of 64+ is undefined
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


def chunks_of_runs(off, parallel_min, n_chunks=64):
    """Split the runs described by ``off`` into chunks of about equal rows,
    so parallel threads share the work and reuse their buffers; one chunk
    when the rows (fewer than ``parallel_min``) are too few to repay waking
    the threads.

    >>> chunks_of_runs(np.array([0, 5, 6, 10]), parallel_min=0, n_chunks=2).tolist()
    [0, 1, 3]
    """
    n = int(off[-1])
    if n < parallel_min:
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
def _unpack_row(rows, r, i, start, dur, person, section, row, col, flags):
    """Packed place row ``r`` (see :mod:`tracer.grouping`) into position ``i``."""
    start[i] = rows[r, 0]
    dur[i] = np.int32(rows[r, 1] >> 32)
    person[i] = np.int32(rows[r, 1] & 0xFFFFFFFF)
    seat = rows[r, 2]
    section[i] = np.int16(seat & 0xFFFF)
    row[i] = np.int16((seat >> 16) & 0xFFFF)
    col[i] = np.int16((seat >> 32) & 0xFFFF)
    flags[i] = np.uint8(seat >> 48)


@njit(**JIT)
def _sort_place_chunk(place_off, p0, p1, rows, start, dur, person, section, row, col, flags):
    """Rows of places ``p0 .. p1 - 1`` ordered by (duration bucket, start),
    stably, unpacked into the columns."""
    size = _longest_run(place_off, p0, p1)
    keys = np.empty(size, np.int64)
    perm = np.empty(size, np.int64)
    tmp = np.empty(size, np.int64)
    tmp_perm = np.empty(size, np.int64)
    count = np.empty(RADIX + 1, np.int64)
    for p in range(p0, p1):
        lo = place_off[p]
        k = place_off[p + 1] - lo
        if k == 1:
            _unpack_row(rows, lo, lo, start, dur, person, section, row, col, flags)
            continue
        t0 = rows[lo, 0] if k else 0
        t1 = t0
        for i in range(lo + 1, lo + k):
            t0 = min(t0, rows[i, 0])
            t1 = max(t1, rows[i, 0])
        for i in range(k):
            keys[i] = duration_bucket(rows[lo + i, 1] >> 32) * (t1 - t0 + 1) + (rows[lo + i, 0] - t0)
        _run_perm(keys, k, perm, tmp, tmp_perm, count)
        for i in range(k):
            _unpack_row(rows, lo + perm[i], lo + i, start, dur, person, section, row, col, flags)


@njit(**JIT_PARALLEL)
def _sort_places_parallel(place_off, chunks, rows, start, dur, person, section, row, col, flags):
    for c in prange(chunks.size - 1):
        _sort_place_chunk(place_off, chunks[c], chunks[c + 1], rows, start, dur, person, section, row, col,
                          flags)


def sort_places(place_off, rows, parallel_min):
    """The index columns (dict of :data:`PLACE_COLUMNS`) from packed place
    rows grouped by ``place_off``, each place ordered by (duration bucket,
    start)."""
    n = rows.shape[0]
    columns = {name: np.empty(n, dtype) for name, dtype in PLACE_COLUMNS.items()}
    chunks = chunks_of_runs(place_off, parallel_min)
    if chunks.size == 2:
        _sort_place_chunk(place_off, 0, place_off.size - 1, rows, *columns.values())
    else:
        _sort_places_parallel(place_off, chunks, rows, *columns.values())
    return columns


@njit(**JIT)
def _sort_person_chunk(person_off, q0, q1, rows, by_person):
    """Positions of persons ``q0 .. q1 - 1`` ordered by start (ties by
    position: stable) from rows of (position, start)."""
    size = _longest_run(person_off, q0, q1)
    keys = np.empty(size, np.int64)
    perm = np.empty(size, np.int64)
    tmp_keys = np.empty(size, np.int64)
    tmp_perm = np.empty(size, np.int64)
    count = np.empty(RADIX + 1, np.int64)
    for q in range(q0, q1):
        lo = person_off[q]
        k = person_off[q + 1] - lo
        t0 = rows[lo, 1] if k else 0
        for i in range(lo + 1, lo + k):
            t0 = min(t0, rows[i, 1])
        for i in range(k):
            keys[i] = rows[lo + i, 1] - t0
        _run_perm(keys, k, perm, tmp_keys, tmp_perm, count)
        for i in range(k):
            by_person[lo + i] = np.int32(rows[lo + perm[i], 0])


@njit(**JIT_PARALLEL)
def _sort_persons_parallel(person_off, chunks, rows, by_person):
    for c in prange(chunks.size - 1):
        _sort_person_chunk(person_off, chunks[c], chunks[c + 1], rows, by_person)


def sort_persons(person_off, rows, parallel_min):
    """``by_person`` (int32 positions) from rows of (position, start)
    grouped by ``person_off``, each person's positions in start order."""
    by_person = np.empty(rows.shape[0], np.int32)
    chunks = chunks_of_runs(person_off, parallel_min)
    if chunks.size == 2:
        _sort_person_chunk(person_off, 0, person_off.size - 1, rows, by_person)
    else:
        _sort_persons_parallel(person_off, chunks, rows, by_person)
    return by_person
