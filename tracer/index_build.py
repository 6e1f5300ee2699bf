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

import numba
import numpy as np
from numba import njit, prange

from .errors import ValidationError
from .grouping import group_rows
from .index_sort import chunks_of_runs, duration_bucket, sort_persons, sort_places
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


#: Longest indexed duration: 2**31 - 1 s, about 68 years. A longer presence
#: (an open-ended household registration ends in 2100) is indexed as ending
#: 68 years after its start, which changes nothing for any infectious window
#: before then.
MAX_DURATION_S = 2147483647


@njit(**JIT)
def _durations_chunk(start, end, lo, hi, dur, out):
    """``dur[lo:hi] = end - start`` as int32, at most MAX_DURATION_S; ``out``
    gets (first bad row or -1, problem, min start, max start) with problem 0
    none, 1 end before start."""
    t0 = start[lo] if hi > lo else 0
    t1 = t0
    for i in range(lo, hi):
        d = end[i] - start[i]
        if d < 0:
            out[0], out[1] = i, 1
            return
        dur[i] = min(d, MAX_DURATION_S)
        t0 = min(t0, start[i])
        t1 = max(t1, start[i])
    out[0], out[1], out[2], out[3] = -1, 0, t0, t1


@njit(**JIT_PARALLEL)
def _durations_parallel(start, end, bounds, dur, out):
    for t in prange(bounds.size - 1):
        _durations_chunk(start, end, bounds[t], bounds[t + 1], dur, out[t])


def _durations_kernel(start, end, parallel_min):
    """``end - start`` as int32 (at most MAX_DURATION_S) and the first row
    that breaks the contract: ``(dur, row, problem)`` with problem 0 none, 1
    end before start, 3 starts spanning 2**58 seconds or more."""
    n = start.size
    dur = np.empty(n, np.int32)
    n_chunks = numba.get_num_threads() if n >= parallel_min else 1
    bounds = np.linspace(0, n, n_chunks + 1).astype(np.int64)
    out = np.zeros((n_chunks, 4), np.int64)
    if n_chunks > 1:
        _durations_parallel(start, end, bounds, dur, out)
    else:
        _durations_chunk(start, end, 0, n, dur, out[0])
    for row, problem, _, _ in out:
        if problem:
            return dur, int(row), int(problem)
    filled = bounds[1:] > bounds[:-1]
    if filled.any() and int(out[filled, 3].max()) - int(out[filled, 2].min()) >= 1 << START_BITS:
        return dur, 0, 3
    return dur, -1, 0


@njit(**JIT)
def _count_segments(place_off, p0, p1, dur_sorted):
    """How many segments places ``p0 .. p1 - 1`` have."""
    n_seg = 0
    for p in range(p0, p1):
        prev_b = -1
        for i in range(place_off[p], place_off[p + 1]):
            b = duration_bucket(dur_sorted[i])
            if b != prev_b:
                n_seg += 1
                prev_b = b
    return n_seg


@njit(**JIT)
def _fill_segments(place_off, p0, p1, dur_sorted, s0, seg_place, seg_lo, seg_maxdur, place_seg):
    """Segments of places ``p0 .. p1 - 1``, the first one numbered ``s0``."""
    s = s0 - 1
    for p in range(p0, p1):
        place_seg[p] = s + 1
        prev_b = -1
        for i in range(place_off[p], place_off[p + 1]):
            b = duration_bucket(dur_sorted[i])
            if b != prev_b:
                s += 1
                seg_place[s] = p
                seg_lo[s] = i
                seg_maxdur[s] = 0
                prev_b = b
            seg_maxdur[s] = max(seg_maxdur[s], dur_sorted[i])


@njit(**JIT_PARALLEL)
def _segments_kernel(place_off, chunks, dur_sorted):
    """Segments of the sorted rows: ``(seg_place, seg_lo, seg_maxdur,
    place_seg)``; each chunk of places counts, then fills, its own."""
    n_chunks = chunks.size - 1
    first = np.zeros(n_chunks + 1, np.int64)
    for c in prange(n_chunks):
        first[c + 1] = _count_segments(place_off, chunks[c], chunks[c + 1], dur_sorted)
    for c in range(n_chunks):
        first[c + 1] += first[c]
    n_seg = first[n_chunks]
    n_places = place_off.size - 1
    seg_place = np.empty(n_seg, np.int32)
    seg_lo = np.empty(n_seg + 1, np.int64)
    seg_maxdur = np.empty(n_seg, np.int64)
    place_seg = np.empty(n_places + 1, np.int64)
    for c in prange(n_chunks):
        _fill_segments(place_off, chunks[c], chunks[c + 1], dur_sorted, first[c], seg_place, seg_lo,
                       seg_maxdur, place_seg)
    place_seg[n_places] = n_seg
    seg_lo[n_seg] = dur_sorted.size
    return seg_place, seg_lo, seg_maxdur, place_seg


@njit(**JIT)
def _segments_serial(place_off, dur_sorted):
    """:func:`_segments_kernel` on one thread."""
    n_places = place_off.size - 1
    n_seg = _count_segments(place_off, 0, n_places, dur_sorted)
    seg_place = np.empty(n_seg, np.int32)
    seg_lo = np.empty(n_seg + 1, np.int64)
    seg_maxdur = np.empty(n_seg, np.int64)
    place_seg = np.empty(n_places + 1, np.int64)
    _fill_segments(place_off, 0, n_places, dur_sorted, 0, seg_place, seg_lo, seg_maxdur, place_seg)
    place_seg[n_places] = n_seg
    seg_lo[n_seg] = dur_sorted.size
    return seg_place, seg_lo, seg_maxdur, place_seg


def _segments(place_off, dur_sorted, parallel_min):
    chunks = chunks_of_runs(place_off, parallel_min)
    if chunks.size == 2:
        return _segments_serial(place_off, dur_sorted)
    return _segments_kernel(place_off, chunks, dur_sorted)


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


def _durations(start, end, parallel_min):
    """``end - start`` as int32 after checking the interval contract; a
    presence longer than MAX_DURATION_S (68 years) is indexed as that long."""
    dur, i, problem = _durations_kernel(start, end, parallel_min)
    if problem == 1:
        raise ValidationError(f"presences: row {i}: end {end[i]} is before start {start[i]}",
                              hint="end must be >= start")
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
    dur = _durations(cols["start"], _column(presences, "end", n), parallel_min)
    n_places = _code_space(cols["place"], n_places, "place")
    n_persons = _code_space(cols["person"], n_persons, "person")
    place_kind, bad = _place_kinds(cols["place"], cols["kind"], n_places)
    if bad >= 0:
        p = int(cols["place"][bad])
        raise ValidationError(f"presences: row {bad}: place {p} has kinds {place_kind[p]} and {cols['kind'][bad]}",
                              hint="a place code has exactly one kind; check the place dictionary")
    place_off, rows = group_rows("places", cols["place"], n_places, cols["start"], dur,
                                 *(cols[c] for c in ("person", "section", "row", "col", "flags")),
                                 parallel_min=parallel_min)
    arrays = sort_places(place_off, rows, parallel_min)
    seg_place, seg_lo, seg_maxdur, place_seg = _segments(place_off, arrays["dur"], parallel_min)
    person_off, rows = group_rows("persons", arrays["person"], n_persons, arrays["start"],
                                  parallel_min=parallel_min, scratch=rows)  # the place rows are done with
    by_person = sort_persons(person_off, rows, parallel_min)
    return dict(arrays, seg_place=seg_place, seg_lo=seg_lo, seg_maxdur=seg_maxdur, place_seg=place_seg,
                place_kind=place_kind, by_person=by_person, person_off=person_off)
