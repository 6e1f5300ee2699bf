"""Stable grouping of rows by an integer code (place, person): radix passes.

Grouping rows by a code is an LSD radix sort on the code: stable scatter
passes of at most ``GROUP_BITS`` bits each, so one pass for code spaces up
to ``2**GROUP_BITS`` (a city's places and persons). On the 10**7-presence
benchmark city (841k places, 220k persons) one pass of 2**20 buckets beat
two passes of 2**10 or 2**12 by 15-25%: the extra pass costs more than the
cache misses of the wide fan-out. A row's columns travel together as one
row of an ``(n, m)`` int64 block.

Each pass runs on ``T`` equal chunks of the input (``T`` threads from
``parallel_min`` rows, else one): per-chunk digit counts, then cursors laid
out digit by digit and chunk by chunk within a digit, so that every chunk
writes its own disjoint slots and the pass stays stable. The first pass
packs the input columns into rows on the way (``pack_places`` or
``pack_persons``), later passes move packed rows.

Examples
--------
>>> import numpy as np
>>> off, rows = group_rows("persons", np.array([2, 0, 2], np.int32), 3,
...                        np.array([30, 10, 20]), parallel_min=1 << 16)
>>> off.tolist(), rows.tolist()
([0, 1, 1, 3], [[1, 10], [0, 30], [2, 20]])
"""

import numba
import numpy as np
from numba import njit, prange

from .jit import JIT, JIT_PARALLEL

__all__ = ["group_rows", "GROUP_BITS"]

#: Bits of a place or person code handled per grouping pass (fan-out 2**20).
GROUP_BITS = 20

#: Bytes the per-chunk digit counts and cursors may take: a chunk per
#: thread, up to this (64 chunks of 2**20 digits would take 1 GiB).
COUNT_BYTES = 256 << 20


@njit(**JIT)
def _count_digits(codes, lo, hi, shift, mask, count):
    for i in range(lo, hi):
        count[(codes[i] >> shift) & mask] += 1


@njit(**JIT_PARALLEL)
def _count_digits_parallel(codes, bounds, shift, mask, counts):
    for t in prange(bounds.size - 1):
        _count_digits(codes, bounds[t], bounds[t + 1], shift, mask, counts[t])


@njit(**JIT)
def _cursors(counts):
    """Exclusive prefix sums of ``counts`` (chunks x digits) in digit-major
    order: where chunk ``t``'s first row of each digit goes."""
    cursor = np.empty_like(counts)
    run = 0
    for d in range(counts.shape[1]):
        for t in range(counts.shape[0]):
            cursor[t, d] = run
            run += counts[t, d]
    return cursor


@njit(**JIT)
def _move_rows(codes, rows, lo, hi, shift, mask, cursor, out_codes, out_rows):
    """A later pass: move packed rows ``lo .. hi - 1`` to their slots."""
    for i in range(lo, hi):
        d = (codes[i] >> shift) & mask
        j = cursor[d]
        cursor[d] = j + 1
        out_codes[j] = codes[i]
        for c in range(rows.shape[1]):
            out_rows[j, c] = rows[i, c]


@njit(**JIT)
def _pack_places(place, lo, hi, mask, cursor, out_codes, out_rows, start, dur, person, section, row, col,
                 flags):
    """The first pass of the place grouping, packing each row on the way:
    start, ``dur << 32 | person``, and section, row, col, flags in one int64.
    The codes are written only when ``out_codes`` is not empty (a later pass
    needs them)."""
    keep_codes = out_codes.size > 0
    for i in range(lo, hi):
        d = place[i] & mask
        j = cursor[d]
        cursor[d] = j + 1
        if keep_codes:
            out_codes[j] = place[i]
        out_rows[j, 0] = start[i]
        out_rows[j, 1] = (np.int64(dur[i]) << 32) | np.int64(person[i])
        out_rows[j, 2] = ((np.int64(section[i]) & 0xFFFF) | ((np.int64(row[i]) & 0xFFFF) << 16)
                          | ((np.int64(col[i]) & 0xFFFF) << 32) | (np.int64(flags[i]) << 48))


@njit(**JIT)
def _pack_persons(person, lo, hi, mask, cursor, out_codes, out_rows, start):
    """The first pass of the person grouping: rows of (position, start);
    codes as in :func:`_pack_places`."""
    keep_codes = out_codes.size > 0
    for i in range(lo, hi):
        d = person[i] & mask
        j = cursor[d]
        cursor[d] = j + 1
        if keep_codes:
            out_codes[j] = person[i]
        out_rows[j, 0] = i
        out_rows[j, 1] = start[i]


@njit(**JIT_PARALLEL)
def _move_rows_parallel(codes, rows, bounds, shift, mask, cursors, out_codes, out_rows):
    for t in prange(bounds.size - 1):
        _move_rows(codes, rows, bounds[t], bounds[t + 1], shift, mask, cursors[t], out_codes, out_rows)


@njit(**JIT_PARALLEL)
def _pack_places_parallel(place, bounds, mask, cursors, out_codes, out_rows, start, dur, person, section,
                          row, col, flags):
    for t in prange(bounds.size - 1):
        _pack_places(place, bounds[t], bounds[t + 1], mask, cursors[t], out_codes, out_rows, start, dur,
                     person, section, row, col, flags)


@njit(**JIT_PARALLEL)
def _pack_persons_parallel(person, bounds, mask, cursors, out_codes, out_rows, start):
    for t in prange(bounds.size - 1):
        _pack_persons(person, bounds[t], bounds[t + 1], mask, cursors[t], out_codes, out_rows, start)


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


#: name -> (row width, serial first pass, parallel first pass)
_PACKERS = {"places": (3, _pack_places, _pack_places_parallel),
            "persons": (2, _pack_persons, _pack_persons_parallel)}


def _counts(codes, bounds, shift, mask, parallel):
    """Per-chunk digit counts and the cursors they give."""
    counts = np.zeros((bounds.size - 1, mask + 1), np.int64)
    if parallel:
        _count_digits_parallel(codes, bounds, shift, mask, counts)
    else:
        _count_digits(codes, 0, codes.size, shift, mask, counts[0])
    return counts, _cursors(counts)


def _buffers(n, n_columns, scratch, n_codes):
    """Codes (``n_codes`` int32, 0 or ``n``) and rows ``(n, n_columns)``
    int64, carved out of ``scratch`` when it holds them."""
    words = n * n_columns + (n_codes + 1) // 2
    if scratch is None or scratch.dtype != np.int64 or not scratch.flags.c_contiguous or scratch.size < words:
        return np.empty(n_codes, np.int32), np.empty((n, n_columns), np.int64)
    flat = scratch.reshape(-1)
    return flat[n * n_columns:words].view(np.int32)[:n_codes], flat[:n * n_columns].reshape(n, n_columns)


def group_rows(packer, codes, n_codes, *columns, parallel_min, scratch=None):
    """Stable grouping of rows by ``codes`` (int32, ``0 <= code < n_codes``):
    ``(offsets, packed rows)``, rows of code ``c`` at
    ``rows[offsets[c]:offsets[c + 1]]`` in input order.

    ``packer`` names the first pass: ``"places"`` packs ``start, dur,
    person, section, row, col, flags`` into three int64 columns,
    ``"persons"`` packs ``(position, start)``. All threads work from
    ``parallel_min`` rows. ``scratch``, a C-contiguous int64 array no
    longer needed, is used for the output when it is large enough: memory
    already touched costs no page faults (a fresh 10**7-row block costs
    about as much as a grouping pass).
    """
    n_columns, pack, pack_parallel = _PACKERS[packer]
    n = codes.size
    bits = max(int(n_codes - 1).bit_length(), 1)
    passes = -(-bits // GROUP_BITS)
    digit_bits = -(-bits // passes)
    mask = (1 << digit_bits) - 1
    parallel = n >= parallel_min and numba.get_num_threads() > 1
    n_chunks = min(numba.get_num_threads(), max(1, COUNT_BYTES // (16 * (mask + 1)))) if parallel else 1
    bounds = np.linspace(0, n, n_chunks + 1).astype(np.int64)
    # One pass: the digit is the code, so the counts give the offsets and
    # the grouped codes need not be written at all.
    out_codes, out_rows = _buffers(n, n_columns, scratch, n if passes > 1 else 0)
    counts, cursors = _counts(codes, bounds, 0, mask, parallel)
    if parallel:
        pack_parallel(codes, bounds, mask, cursors, out_codes, out_rows, *columns)
    else:
        pack(codes, 0, n, mask, cursors[0], out_codes, out_rows, *columns)
    if passes == 1:
        offsets = np.zeros(n_codes + 1, np.int64)
        offsets[1:] = np.cumsum(counts.sum(axis=0)[:n_codes])
        return offsets, out_rows
    codes, rows = out_codes, out_rows
    out_codes, out_rows = np.empty_like(codes), np.empty_like(rows)
    for p in range(1, passes):
        shift = p * digit_bits
        _, cursors = _counts(codes, bounds, shift, mask, parallel)
        if parallel:
            _move_rows_parallel(codes, rows, bounds, shift, mask, cursors, out_codes, out_rows)
        else:
            _move_rows(codes, rows, 0, n, shift, mask, cursors[0], out_codes, out_rows)
        codes, out_codes, rows, out_rows = out_codes, codes, out_rows, rows
    return _run_offsets(codes, n_codes), rows
