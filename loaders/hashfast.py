"""Arrow string columns factorized straight from their buffers (numba;
imported on first use, so that importing :mod:`loaders` stays light).

``pd.factorize`` of an Arrow-backed ``str`` column dictionary-encodes each
chunk, unifies the dictionaries and converts the indices: 20-60 ms for a
million IDs or phones. :func:`factorize_text` reads the offsets and bytes of
every chunk once and looks each cell up in one open-addressing hash table
(a 64-bit hash over 8 bytes at a time, the bytes compared on a hash match),
so the codes come out in order of first appearance across all chunks, as
``pd.factorize`` numbers them, together with the first row of each code.

Examples
--------
>>> import pandas as pd
>>> codes, first = factorize_text(text_chunks(pd.Series(["b", None, "a", "b"], dtype="str")))
>>> codes.tolist(), first.tolist()
([0, -1, 1, 0], [0, 2])
>>> codes, first = factorize_text(text_chunks(pd.Series(["b", None, "a", None], dtype="str")), missing=True)
>>> codes.tolist(), first.tolist()
([0, 1, 2, 1], [0, 1, 2])
"""

import numpy as np
import pandas as pd
from numba import njit

from tracer.jit import JIT

from .timefast import _buffers, _chunks

__all__ = ["text_chunks", "factorize_text", "hash_cells", "first_probes", "factorize_chunk"]

_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)  # first word of a free slot
_HIGH = np.uint64(0xFFFFFFFF00000000)  # a slot's first word: high half of the hash | code
_LOW = np.uint64(0x00000000FFFFFFFF)  # its second word: length << 32 | where in the pool
_LIMIT = 0xFFFFFFFF - 1  # cells and bytes of a column: a code or place fits a half word
_BLOCK = 1024  # cells looked up together (see first_probes)
_START_SLOTS = 4 * _BLOCK  # a block's new values never fill a half-full table
# the hash: words folded in by an odd multiplier, then murmur3's finaliser
_P1 = np.uint64(0x9E3779B185EBCA87)
_P2 = np.uint64(0x85EBCA77C2B2AE63)
_F1 = np.uint64(0xFF51AFD7ED558CCD)
_F2 = np.uint64(0xC4CEB9FE1A85EC53)
_U1, _U2, _U3, _U4, _U5, _U6, _U7 = (np.uint64(k) for k in range(1, 8))
_U8, _U16, _U24, _U32, _U40, _U48, _U56 = (np.uint64(k) for k in range(8, 64, 8))
_U33 = np.uint64(33)


def text_chunks(cells):
    """Arrow chunks of a pandas ``str`` Series stored by pyarrow that
    :func:`factorize_text` takes (fewer than 4 Gi cells and bytes), else None."""
    if not isinstance(cells.dtype, pd.StringDtype) or cells.dtype.storage != "pyarrow" or len(cells) >= _LIMIT:
        return None
    chunks = _chunks(cells)
    return chunks if sum(chunk.nbytes for chunk in chunks) < _LIMIT else None


def factorize_text(chunks, limit=None, missing=False):
    """(int64 codes in order of first appearance, int64 first row of each
    code) of Arrow string ``chunks`` read as one column.

    A missing cell gets -1 (as ``pd.factorize`` gives), or with ``missing``
    a code of its own like any value. Returns None as soon as more than
    ``limit`` distinct non-missing values are seen.
    """
    parts = [_buffers(chunk) for chunk in chunks]
    n = sum(len(valid) for _, _, valid in parts)
    n_bytes = sum(int(offsets[-1] - offsets[0]) for offsets, _, _ in parts)
    if n >= _LIMIT or n_bytes >= _LIMIT:
        raise ValueError(f"factorize_text takes fewer than {_LIMIT} cells and bytes, not {n} and {n_bytes}")
    limit = n if limit is None else int(min(limit, n))
    codes = np.empty(n, dtype=np.int64)
    # sized for the worst case (all distinct): np.empty only reserves, the
    # pages written (a row or a few bytes per distinct value) are the memory used
    first = np.empty(n, dtype=np.int64)
    pool = np.empty(n_bytes + 32, dtype=np.uint8)  # + 32: see first_probes
    table = _new_table(_START_SLOTS)
    state = np.array([0, -1, 0], dtype=np.int64)  # codes given, code of missing, bytes pooled
    at = 0
    for offsets, data, valid in parts:
        rows = len(valid)
        if len(data) < 8:  # the kernels read 8 bytes at a time
            data = np.concatenate([data, np.zeros(8 - len(data), dtype=np.uint8)])
        done = 0
        while done < rows:
            done = factorize_chunk(offsets, data, valid, done, at, codes[at : at + rows], table, first, pool, state,
                                   missing, limit)  # fmt: skip
            if done < 0:
                return None
            if done < rows:  # half full: twice the size
                bigger = _new_table(2 * len(table))
                _move(table, bigger)
                table = bigger
        at += rows
    return codes, first[: state[0]].copy()


# Kernels that take an array are loop-free unless they run once per block:
# numba counts references to an array passed to a function, and only around
# straight-line code are the atomic increments optimised away (a loop in a
# helper called per cell costs ~15 ns a cell).


@njit(**JIT)
def _word(data, at):
    """The 8 bytes ``data[at:at + 8]`` as a little-endian uint64."""
    at = np.uint64(at)  # unsigned: no wrap-around check, the 8 loads fuse into one
    return (np.uint64(data[at]) | (np.uint64(data[at + _U1]) << _U8) | (np.uint64(data[at + _U2]) << _U16)
            | (np.uint64(data[at + _U3]) << _U24) | (np.uint64(data[at + _U4]) << _U32)
            | (np.uint64(data[at + _U5]) << _U40) | (np.uint64(data[at + _U6]) << _U48)
            | (np.uint64(data[at + _U7]) << _U56))  # fmt: skip


@njit(**JIT)
def _tail(data, lo, hi):
    """The ``hi - lo`` (0-7) bytes ``data[lo:hi]`` as a uint64 (zero-padded;
    ``data`` holds at least 8 bytes)."""
    if hi == lo:
        return np.uint64(0)
    if hi >= 8:  # the 8 bytes ending at hi, those before lo shifted out
        return _word(data, hi - 8) >> np.uint64(64 - 8 * (hi - lo))
    return (_word(data, 0) >> np.uint64(8 * lo)) & ((_U1 << np.uint64(8 * (hi - lo))) - _U1)


@njit(**JIT)
def _mix(h, w):
    """Fold one 8-byte word into the running hash: a multiply by an odd
    constant is a bijection, so different words give different states;
    :func:`_finish` spreads the bits afterwards."""
    return (h ^ w) * _P1


@njit(**JIT)
def _finish(h):
    """Murmur3's finaliser: every bit of ``h`` reaches the high bits that
    pick the slot."""
    h = (h ^ (h >> _U33)) * _F1
    h = (h ^ (h >> _U33)) * _F2
    return h ^ (h >> _U33)


@njit(**JIT)
def hash_cells(offsets, data, valid, out):
    """Write the 64-bit hash of each valid cell's bytes (length included)
    to ``out`` (``data`` holds at least 8 bytes; other cells: unchanged)."""
    for i in range(len(valid)):
        if not valid[i]:
            continue
        lo, hi = offsets[i], offsets[i + 1]
        h = _P2 ^ (np.uint64(hi - lo) * _P1)
        if hi - lo < 8:
            h = _mix(h, _tail(data, lo, hi))
        else:  # whole words, the last one overlapping the one before
            while lo + 8 < hi:
                h = _mix(h, _word(data, lo))
                lo += 8
            h = _mix(h, _word(data, hi - 8))
        out[i] = _finish(h)


@njit(**JIT)
def _same_short(pool, p, data, lo, hi):
    """Whether ``data[lo:hi]`` (at most 24 bytes) equals the bytes at
    ``pool[p:]``: one to three words, the last ones overlapping (no loop,
    no branch but on the length); False for longer values."""
    size = hi - lo
    if size < 8:
        return _tail(pool, p, p + size) == _tail(data, lo, hi)
    if size > 24:
        return False
    mid = min(8, size - 8)
    return ((_word(pool, p) == _word(data, lo)) & (_word(pool, p + mid) == _word(data, lo + mid))
            & (_word(pool, p + size - 8) == _word(data, hi - 8)))  # fmt: skip


@njit(**JIT)
def _shift(slots):
    """How far to shift a hash right to keep the bits that pick one of
    ``slots`` (a power of 2) slots."""
    shift = 64
    while slots > 1:
        slots >>= 1
        shift -= 1
    return np.uint64(shift)


def _new_table(slots):
    """An empty table of ``slots`` (a power of 2) slots: first word _EMPTY,
    second word 0 (where :func:`first_probes` reads, harmlessly); np.tile
    writes it in one pass, faster than a fill in a kernel."""
    return np.tile(np.array([_EMPTY, 0], dtype=np.uint64), slots).reshape(slots, 2)


@njit(**JIT)
def _move(table, bigger):
    """Place the entries of ``table`` in the empty, larger ``bigger``. A slot
    holds the high half of its hash, which picks the slot: the entries are
    read and written in order, no value is hashed again."""
    shift, mask = _shift(len(bigger)), np.uint64(len(bigger) - 1)
    for j in range(len(table)):
        if table[j, 0] == _EMPTY:
            continue
        k = table[j, 0] >> shift
        while bigger[k, 0] != _EMPTY:
            k = (k + _U1) & mask
        bigger[k, 0], bigger[k, 1] = table[j, 0], table[j, 1]


@njit(**JIT)
def first_probes(offsets, data, cell_hash, table, pool, guess, hit):
    """``guess[r]``: the code in the first slot cell ``r``'s hash points at;
    ``hit[r]``: whether that slot holds the cell's bytes.

    The common case of a lookup, made for a block of cells at once: the
    loads of different cells do not depend on each other, so their cache
    misses overlap instead of queueing (the slots alone first: a short
    loop keeps many in flight). Hence no branch on what is loaded either
    (a mispredicted one would wait for its load): a slot that holds
    another value, or none (second word 0), is compared all the same,
    which ``pool`` has 32 bytes to spare for."""
    shift = _shift(len(table))
    m = len(offsets) - 1
    for r in range(m):
        guess[r] = np.int64(table[cell_hash[r] >> shift, 1] & _LOW)
    for r in range(m):
        lo, hi, h = offsets[r], offsets[r + 1], cell_hash[r]
        slot, span = table[h >> shift, 0], table[h >> shift, 1]
        same = (slot != _EMPTY) & (slot & _HIGH == h & _HIGH) & (np.int64(span >> _U32) == hi - lo)
        hit[r] = same & _same_short(pool, guess[r], data, lo, hi)
        guess[r] = np.int64(slot & _LOW)


@njit(**JIT)
def factorize_chunk(offsets, data, valid, start, row0, codes, table, first, pool, state, missing, limit):
    """Number the cells ``start:`` of one chunk (``offsets``, ``data``,
    ``valid``; its first row is row ``row0`` of the column) into ``codes``,
    going on from the earlier cells.

    ``state`` holds (codes given, code of missing, bytes pooled); the bytes
    of each distinct value are copied to ``pool``, a slot of ``table``
    holds (high half of the hash | code, length << 32 | where in the pool)
    and ``first`` has a row per code. Returns where it stopped: the chunk's
    length when done, -1 when more than ``limit`` distinct non-missing
    values are seen, else the next cell once the table is half full (move
    it to a larger one, then go on)."""
    n_codes, na_code, pooled = state[0], state[1], state[2]
    n_text = n_codes - (1 if na_code >= 0 else 0)
    shift, mask = _shift(len(table)), np.uint64(len(table) - 1)
    cell_hash, guess, hit = np.empty(_BLOCK, np.uint64), np.empty(_BLOCK, np.int64), np.empty(_BLOCK, np.bool_)
    n = len(valid)
    i = start
    while i < n and 2 * n_text <= len(table):  # at most about half full: short probes
        end = min(i + _BLOCK, n)
        hash_cells(offsets[i : end + 1], data, valid[i:end], cell_hash)
        first_probes(offsets[i : end + 1], data, cell_hash, table, pool, guess, hit)
        for r in range(end - i):
            row = i + r
            if not valid[row]:
                if missing and na_code < 0:
                    na_code, first[n_codes] = n_codes, row0 + row
                    n_codes += 1
                codes[row] = na_code if missing else -1
                continue
            if hit[r]:
                codes[row] = guess[r]
                continue
            # the long way: a value first seen in this block, one that
            # another pushed from its slot, a long one, or a new one
            lo, hi = offsets[row], offsets[row + 1]
            h, size = cell_hash[r], hi - lo
            j = h >> shift
            code = -1
            while table[j, 0] != _EMPTY:
                if table[j, 0] & _HIGH == h & _HIGH and np.int64(table[j, 1] >> _U32) == size:
                    # the same high half of the hash and length: compare the bytes
                    p = np.int64(table[j, 1] & _LOW)
                    if size < 8:
                        same = _tail(pool, p, p + size) == _tail(data, lo, hi)
                    else:  # 8 bytes at a time, the last word overlapping the others
                        at = 0
                        while at + 8 < size and _word(pool, p + at) == _word(data, lo + at):
                            at += 8
                        same = at + 8 >= size and _word(pool, p + size - 8) == _word(data, hi - 8)
                    if same:
                        code = np.int64(table[j, 0] & _LOW)
                        break
                j = (j + _U1) & mask
            if code < 0:  # a value not seen before: the next code
                n_text += 1
                if n_text > limit:
                    return -1
                code = n_codes
                table[j, 0], table[j, 1] = (h & _HIGH) | np.uint64(code), (np.uint64(size) << _U32) | np.uint64(pooled)
                first[code] = row0 + row
                for k in range(size):
                    pool[pooled + k] = data[lo + k]
                pooled += size
                n_codes += 1
            codes[row] = code
        i = end
    state[0], state[1], state[2] = n_codes, na_code, pooled
    return i
