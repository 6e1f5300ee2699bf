"""Numba overlap kernels over a :class:`tracer.index.PresenceIndex`.

Two questions, each in three layers (serial ``@njit`` kernel, parallel or
chunking driver, public wrapper that validates and converts):

- :func:`find_copresences`: for given source intervals, who else was at the
  same place at an overlapping time.
- :func:`self_join` / :func:`count_self_join`: every co-presence pair of the
  whole index, in bounded chunks.

Two intervals are co-present when they overlap strictly,
``min(ends) - max(starts) > 0``: touching intervals and zero-length
intervals never are. Only the (place, duration bucket) segments of a place
are visited, each through a window of starts ``(a - seg_maxdur, b)``, so the
cost follows the output rather than the crowd of a busy place or the length
of a residence.

Examples
--------
>>> import pandas as pd
>>> from tracer.index import build_index
>>> index = build_index(pd.DataFrame({"person": [0, 1, 2], "place": [0, 0, 0],
...     "start": [0, 50, 100], "end": [100, 80, 200]}))
>>> src_i, pos, ov_start, ov_end = find_copresences(index, [0], [0], [100], [0])
>>> index.to_frame(pos).person.tolist(), ov_start.tolist(), ov_end.tolist()
([1], [50], [80])
>>> count_self_join(index)
1
"""

import numpy as np
from numba import njit, prange

from .errors import ValidationError
from .jit import JIT, JIT_PARALLEL

__all__ = ["find_copresences", "self_join", "count_self_join"]

#: Fewer sources than this are scanned by one thread (waking threads costs more).
PARALLEL_SOURCES = 64
#: Indexes with fewer presences than this are counted by one thread.
PARALLEL_ROWS = 1 << 16


# ---------------------------------------------------------------- helpers


@njit(**JIT)
def _lower_bound(values, lo, hi, x):
    """First ``i`` in ``[lo, hi)`` with ``values[i] >= x`` (``hi`` if none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if values[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(**JIT)
def _window(start, seg_lo, seg_maxdur, s, a, b):
    """Positions of segment ``s`` whose start lies in ``(a - maxdur, b)``:
    every presence there that can overlap ``[a, b)``."""
    lo = _lower_bound(start, seg_lo[s], seg_lo[s + 1], a - seg_maxdur[s] + 1)
    hi = _lower_bound(start, lo, seg_lo[s + 1], b)
    return lo, hi


# ---------------------------------------------------------- co-presences


@njit(**JIT)
def _scan_source(start, dur, person, seg_lo, seg_maxdur, place_seg,
                 place, a, b, src_person, out_pos, out_start, out_end, k):
    """Visit the co-presences of one source interval; write them from
    ``out_*[k]`` on when ``out_pos`` is not empty; return the count."""
    count = 0
    if b <= a or place < 0 or place >= place_seg.size - 1:
        return 0
    fill = out_pos.size > 0
    for s in range(place_seg[place], place_seg[place + 1]):
        lo, hi = _window(start, seg_lo, seg_maxdur, s, a, b)
        for j in range(lo, hi):
            end_j = start[j] + dur[j]
            if end_j <= a or dur[j] == 0 or person[j] == src_person:
                continue
            if fill:
                out_pos[k + count] = j
                out_start[k + count] = max(start[j], a)
                out_end[k + count] = min(end_j, b)
            count += 1
    return count


@njit(**JIT)
def _count_sources(start, dur, person, seg_lo, seg_maxdur, place_seg,
                   src_place, src_start, src_end, src_person, i0, i1, counts):
    """``counts[i + 1]`` = number of co-presences of source ``i`` in ``[i0, i1)``."""
    none = np.empty(0, np.int64)
    for i in range(i0, i1):
        counts[i + 1] = _scan_source(start, dur, person, seg_lo, seg_maxdur, place_seg, src_place[i],
                                     src_start[i], src_end[i], src_person[i], none, none, none, 0)


@njit(**JIT)
def _fill_sources(start, dur, person, seg_lo, seg_maxdur, place_seg,
                  src_place, src_start, src_end, src_person, i0, i1, offsets,
                  out_src, out_pos, out_start, out_end):
    """Write the co-presences of sources ``[i0, i1)`` at their offsets."""
    for i in range(i0, i1):
        k = offsets[i]
        if offsets[i + 1] > k:
            out_src[k:offsets[i + 1]] = i
            _scan_source(start, dur, person, seg_lo, seg_maxdur, place_seg, src_place[i],
                         src_start[i], src_end[i], src_person[i], out_pos, out_start, out_end, k)


@njit(**JIT_PARALLEL)
def _count_sources_parallel(start, dur, person, seg_lo, seg_maxdur, place_seg,
                            src_place, src_start, src_end, src_person, chunks, counts):
    """:func:`_count_sources` over chunks of sources, in parallel."""
    for c in prange(chunks.size - 1):
        _count_sources(start, dur, person, seg_lo, seg_maxdur, place_seg, src_place, src_start,
                       src_end, src_person, chunks[c], chunks[c + 1], counts)


@njit(**JIT_PARALLEL)
def _fill_sources_parallel(start, dur, person, seg_lo, seg_maxdur, place_seg,
                           src_place, src_start, src_end, src_person, chunks, offsets,
                           out_src, out_pos, out_start, out_end):
    """:func:`_fill_sources` over chunks of sources, in parallel."""
    for c in prange(chunks.size - 1):
        _fill_sources(start, dur, person, seg_lo, seg_maxdur, place_seg, src_place, src_start,
                      src_end, src_person, chunks[c], chunks[c + 1], offsets,
                      out_src, out_pos, out_start, out_end)


def _copresences_driver(arrays, sources):
    """Count per source, then fill at the prefix-sum offsets, so the output
    is sorted by (source, position); in parallel over chunks of sources
    when there are enough of them to repay waking the threads."""
    n_src = sources[0].size
    counts = np.zeros(n_src + 1, np.int64)
    parallel = n_src >= PARALLEL_SOURCES
    chunks = np.linspace(0, n_src, min(n_src, 64) + 1).astype(np.int64) if parallel else None
    if parallel:
        _count_sources_parallel(*arrays, *sources, chunks, counts)
    else:
        _count_sources(*arrays, *sources, 0, n_src, counts)
    offsets = np.cumsum(counts)
    out = tuple(np.empty(offsets[-1], np.int64) for _ in range(4))
    if parallel:
        _fill_sources_parallel(*arrays, *sources, chunks, offsets, *out)
    else:
        _fill_sources(*arrays, *sources, 0, n_src, offsets, *out)
    return out


def _source_arrays(src_place, src_start, src_end, src_person):
    """Validate and convert the source columns to contiguous int64 arrays."""
    arrays = []
    for name, values in (("src_place", src_place), ("src_start", src_start),
                         ("src_end", src_end), ("src_person", src_person)):
        arr = np.asarray(values)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise ValidationError(f"{name} must be a 1-D array of integers, got dtype {arr.dtype} "
                                  f"and shape {arr.shape}", hint="pass codes and UTC epoch seconds")
        arrays.append(np.ascontiguousarray(arr, dtype=np.int64))
    if len({arr.size for arr in arrays}) > 1:
        raise ValidationError("src_place, src_start, src_end and src_person differ in length: "
                              + ", ".join(str(arr.size) for arr in arrays),
                              hint="pass one value of each per source interval")
    if arrays[0].size and arrays[0].min() < 0:
        raise ValidationError(f"src_place has a negative place code {arrays[0].min()}",
                              hint="place codes are >= 0")
    return arrays


def find_copresences(index, src_place, src_start, src_end, src_person):
    """Every presence that strictly overlaps a source interval at its place.

    Parameters
    ----------
    index : PresenceIndex
    src_place, src_start, src_end, src_person : array_like of int
        One source interval ``[src_start[i], src_end[i])`` per ``i`` at place
        ``src_place[i]``, already clipped and padded by the caller. Presences
        of ``src_person[i]`` itself are skipped. Intervals with
        ``src_end <= src_start`` and places outside the index give nothing.

    Returns
    -------
    src_i, pos, ov_start, ov_end : int64 arrays
        Source number, index position of the co-present presence, and the
        overlap ``[ov_start, ov_end)`` (always ``ov_end > ov_start``), sorted
        by ``(src_i, pos)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from tracer.index import build_index
    >>> index = build_index(pd.DataFrame({"person": [0, 1], "place": [3, 3],
    ...     "start": [0, 100], "end": [100, 200]}))
    >>> [a.tolist() for a in find_copresences(index, [3], [0], [101], [7])]
    [[0, 0], [0, 1], [0, 100], [100, 101]]
    """
    place, start, end, person = _source_arrays(src_place, src_start, src_end, src_person)
    return _copresences_driver(_index_arrays(index), (place, start, end, person))


def _index_arrays(index):
    """The arrays the kernels read, in kernel argument order."""
    return (np.asarray(index.start), np.asarray(index.dur), np.asarray(index.person),
            np.asarray(index.seg_lo), np.asarray(index.seg_maxdur), np.asarray(index.place_seg))


# ------------------------------------------------------------- self-join


@njit(**JIT)
def _pair_range(start, seg_lo, seg_maxdur, s, a, t, start_a, end_a):
    """Candidate partners of position ``a`` (segment ``s``) in segment ``t``.

    In its own segment only later positions, starting before ``end_a``
    (they start at or after ``start_a``); in later segments of the place the
    window of :func:`_window`. Pairs with an earlier segment are found from
    that segment, so each pair is visited once, as ``(a, b)`` with ``a < b``.
    """
    if t == s:
        return a + 1, _lower_bound(start, a + 1, seg_lo[s + 1], end_a)
    return _window(start, seg_lo, seg_maxdur, t, start_a, end_a)


@njit(**JIT)
def _self_join_fill(start, dur, person, seg_place, seg_lo, seg_maxdur, place_seg,
                    cursor, out_a, out_b, out_start, out_end):
    """Write pairs from ``cursor = (s, a, t, j)`` on until the buffers are
    full or the join is done; update ``cursor`` in place; return the count.

    ``cursor[0] == n_segments`` once every pair has been written. A fresh
    join starts from ``(0, -1, -1, -1)``.
    """
    cap = out_a.size
    k = 0
    n_seg = seg_place.size
    s, a, t, j = cursor[0], cursor[1], cursor[2], cursor[3]
    resume = a >= 0
    while s < n_seg:
        if not resume:
            a = seg_lo[s]
        t_end = place_seg[seg_place[s] + 1]
        while a < seg_lo[s + 1]:
            if dur[a] > 0:
                start_a = start[a]
                end_a = start_a + dur[a]
                if not resume:
                    t = s
                while t < t_end:
                    lo, hi = _pair_range(start, seg_lo, seg_maxdur, s, a, t, start_a, end_a)
                    if resume:
                        lo = max(lo, j)
                        resume = False
                    for b in range(lo, hi):
                        end_b = start[b] + dur[b]
                        if end_b <= start_a or dur[b] == 0 or person[b] == person[a]:
                            continue
                        if k == cap:
                            cursor[0], cursor[1], cursor[2], cursor[3] = s, a, t, b
                            return k
                        out_a[k] = a
                        out_b[k] = b
                        out_start[k] = max(start_a, start[b])
                        out_end[k] = min(end_a, end_b)
                        k += 1
                    t += 1
            resume = False
            a += 1
        s += 1
    cursor[0], cursor[1], cursor[2], cursor[3] = n_seg, -1, -1, -1
    return k


@njit(**JIT)
def _count_pairs(start, dur, person, seg_place, seg_lo, seg_maxdur, place_seg, s0, s1):
    """Number of co-presence pairs whose first position is in segments ``[s0, s1)``."""
    total = 0
    for s in range(s0, s1):
        t_end = place_seg[seg_place[s] + 1]
        for a in range(seg_lo[s], seg_lo[s + 1]):
            if dur[a] == 0:
                continue
            start_a = start[a]
            end_a = start_a + dur[a]
            for t in range(s, t_end):
                lo, hi = _pair_range(start, seg_lo, seg_maxdur, s, a, t, start_a, end_a)
                for b in range(lo, hi):
                    if start[b] + dur[b] > start_a and dur[b] > 0 and person[b] != person[a]:
                        total += 1
    return total


@njit(**JIT_PARALLEL)
def _count_pairs_parallel(start, dur, person, seg_place, seg_lo, seg_maxdur, place_seg, chunks):
    """:func:`_count_pairs` over chunks of segments, in parallel (sum reduction)."""
    total = 0
    for c in prange(chunks.size - 1):
        total += _count_pairs(start, dur, person, seg_place, seg_lo, seg_maxdur, place_seg,
                              chunks[c], chunks[c + 1])
    return total


def _join_arrays(index):
    """The arrays the self-join kernels read, in kernel argument order."""
    return (np.asarray(index.start), np.asarray(index.dur), np.asarray(index.person),
            np.asarray(index.seg_place), np.asarray(index.seg_lo), np.asarray(index.seg_maxdur),
            np.asarray(index.place_seg))


def self_join(index, chunk_pairs=1 << 22):
    """Every co-presence pair of the index, in chunks of at most ``chunk_pairs``.

    Yields ``(pos_a, pos_b, ov_start, ov_end)`` int64 arrays: ``pos_a < pos_b``
    at the same place, different persons, overlap ``[ov_start, ov_end)`` with
    ``ov_end > ov_start``. Pairs come in ``(pos_a, pos_b)`` order; memory is
    bounded by the chunk size whatever the crowd at one place.

    Examples
    --------
    >>> import pandas as pd
    >>> from tracer.index import build_index
    >>> index = build_index(pd.DataFrame({"person": [0, 1, 2], "place": [0, 0, 0],
    ...     "start": [0, 10, 20], "end": [100, 30, 40]}))
    >>> [len(chunk[0]) for chunk in self_join(index, chunk_pairs=2)]
    [2, 1]
    """
    chunk_pairs = int(chunk_pairs)
    if chunk_pairs < 1:
        raise ValidationError(f"chunk_pairs must be at least 1, got {chunk_pairs}",
                              hint="use a chunk of a few million pairs")
    arrays = _join_arrays(index)
    cursor = np.array([0, -1, -1, -1], np.int64)
    n_seg = index.n_segments
    while cursor[0] < n_seg:
        out = tuple(np.empty(chunk_pairs, np.int64) for _ in range(4))
        k = _self_join_fill(*arrays, cursor, *out)
        if k:
            yield tuple(column[:k] if k == chunk_pairs else column[:k].copy() for column in out)


def count_self_join(index):
    """Number of pairs :func:`self_join` would yield, without materialising them.

    >>> import pandas as pd
    >>> from tracer.index import build_index
    >>> count_self_join(build_index(pd.DataFrame({"person": [0, 1], "place": [0, 0],
    ...     "start": [0, 60], "end": [60, 120]})))
    0
    """
    arrays = _join_arrays(index)
    n_seg = index.n_segments
    if index.n < PARALLEL_ROWS:
        return int(_count_pairs(*arrays, 0, n_seg))
    # chunks of about equal presences; hot places make some chunks heavier
    bounds = np.searchsorted(index.seg_lo, np.linspace(0, index.n, 257).astype(np.int64))
    chunks = np.unique(np.concatenate(([0], bounds.clip(0, n_seg), [n_seg])))
    return int(_count_pairs_parallel(*arrays, chunks))
