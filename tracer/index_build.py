"""Building a presence index: validation, grouping and sorting kernels.

:func:`build_arrays` turns canonical presences into the arrays of a
:class:`tracer.index.PresenceIndex` (use :func:`tracer.index.build_index`,
which wraps it). Rows are grouped by place with an LSD radix sort on the
place code, each place's rows sorted by (duration bucket, start), cut into
segments, then grouped by person and sorted by start for the postings.
Large inputs take the parallel paths; ``parallel_min`` (rows) is passed in
by the caller, never read from configuration inside a kernel.

Examples
--------
>>> import pandas as pd
>>> arrays = build_arrays(pd.DataFrame({"person": [0, 1], "place": [5, 5],
...     "start": [0, 600], "end": [3600, 900]}), parallel_min=1 << 16)
>>> arrays["start"].tolist(), arrays["person_off"].tolist()
([600, 0], [0, 1, 2])
"""

import numpy as np
from numba import njit, prange

from .errors import ValidationError
from .jit import JIT, JIT_PARALLEL
from .schema import PRESENCE_COLUMNS

__all__ = ["build_arrays", "duration_bucket", "FRAME_COLUMNS"]

#: Columns of :meth:`tracer.index.PresenceIndex.to_frame`, which are also the
#: columns a build reads (canonical, without provenance).
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


def _unpack_columns(rows, parallel_min):
    """The index columns from packed place rows (all threads from
    ``parallel_min`` rows)."""
    n = rows.shape[0]
    out = (np.empty(n, np.int64), np.empty(n, np.int32), np.empty(n, np.int32), np.empty(n, np.int16),
           np.empty(n, np.int16), np.empty(n, np.int16), np.empty(n, np.uint8))
    if n < parallel_min:
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


def _chunks(off, parallel_min, n_chunks=64):
    """Split the runs described by ``off`` into chunks of about equal rows,
    so parallel threads share the work and reuse their buffers; one chunk
    when the rows (fewer than ``parallel_min``) are too few to repay waking
    the threads."""
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


def _sort_places(place_off, rows, parallel_min):
    chunks = _chunks(place_off, parallel_min)
    if chunks.size == 2:
        _sort_place_chunk(place_off, 0, place_off.size - 1, rows)
    else:
        _sort_places_parallel(place_off, chunks, rows)


def _sort_persons(by_person, person_off, start, parallel_min):
    chunks = _chunks(person_off, parallel_min)
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




def build_arrays(presences, n_persons=None, n_places=None, *, parallel_min):
    """The arrays of a :class:`tracer.index.PresenceIndex`, as a dict.

    Parameters are those of :func:`tracer.index.build_index` (without
    ``version``); ``parallel_min`` is the row count from which the sorts and
    the unpacking run on all threads.

    Examples
    --------
    >>> import pandas as pd
    >>> arrays = build_arrays(pd.DataFrame({"person": [0], "place": [1],
    ...     "start": [0], "end": [60]}), parallel_min=1 << 16)
    >>> arrays["seg_place"].tolist(), arrays["place_kind"].tolist()
    ([1], [-1, 0])
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
    _sort_places(place_off, rows, parallel_min)
    arrays = _unpack_columns(rows, parallel_min)
    del rows
    seg_place, seg_lo, seg_maxdur, place_seg = _segments(place_off, arrays["dur"])
    person_off, rows = _group_rows(_scatter_persons_first, arrays["person"], n_persons, 2, arrays["start"])
    by_person, start_by_person = rows[:, 0].astype(np.int32), np.ascontiguousarray(rows[:, 1])
    del rows
    _sort_persons(by_person, person_off, start_by_person, parallel_min)
    return dict(arrays, seg_place=seg_place, seg_lo=seg_lo, seg_maxdur=seg_maxdur, place_seg=place_seg,
                place_kind=place_kind, by_person=by_person, person_off=person_off)
