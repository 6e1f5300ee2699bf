"""Resident ID numbers: a byte-level fast path for the cells already clean.

Most ID cells of an export are exactly 18 ASCII bytes ``[0-9]{17}[0-9X]``.
:func:`fast_id_codes` reads those straight from the Arrow string buffers
(one pass of a numba kernel: shape, ISO 7064 MOD 11-2 check character and
birth date per cell, no intermediate arrays) and says for each cell whether
it is a valid ID, a known error, or one for the general path of
:func:`loaders.ids.normalize_id_number` (lower-case ``x``, full-width
digits, spaces, 15 digits, numbers, anything else). A cell the fast path
decides gets what the general path gives it: the cell itself, or the error
``bad-id-checksum`` / ``bad-id-birthdate``, and no warning.

The kernel is compiled on first use (importing :mod:`loaders` stays free of
numba); below :data:`tracer.jit.JIT_MIN_ROWS` rows, unless numba is loaded
already, its numpy twin runs instead.

Examples
--------
>>> import datetime, pyarrow as pa
>>> cells = pa.array(["11010519491231002X", "11010519491231002x", "110105194912310021",
...                   "110105204912310026", None], pa.large_string())
>>> fast_id_codes(cells, datetime.date(2024, 6, 30)).tolist()
[1, 0, 2, 3, 0]
"""

import datetime

import numpy as np
import pyarrow as pa

from tracer.jit import JIT, jit_pays

from .ids import _CHECK_BYTES, _WEIGHTS_I32, ID_WEIGHTS, _valid_birthdate
from .timefast import _buffers
from .timeparse import _DAYS_IN_MONTH

__all__ = ["GENERAL", "VALID", "BAD_CHECKSUM", "BAD_BIRTHDATE", "FAST_ERRORS", "fast_id_codes", "scan_ids",
           "scan_ids_numpy"]  # fmt: skip

#: Per-cell codes of :func:`fast_id_codes`.
GENERAL, VALID, BAD_CHECKSUM, BAD_BIRTHDATE = 0, 1, 2, 3
#: Error code of each per-cell code (None: no error, or not decided here).
FAST_ERRORS = np.array([None, None, "bad-id-checksum", "bad-id-birthdate"], dtype=object)

# frozen into the compiled kernel
_WEIGHTS = ID_WEIGHTS.copy()
_CHECK = _CHECK_BYTES.astype(np.int64)
_MONTH_DAYS = _DAYS_IN_MONTH.copy()
_X = ord("X")
_kernel = None  # scan_ids compiled by numba, on first use


def fast_id_codes(arr, today):
    """Per-cell code (int8: ``GENERAL``, ``VALID``, ``BAD_CHECKSUM``,
    ``BAD_BIRTHDATE``) of the cells of an Arrow string array (chunked or
    not); birth dates after ``today`` (a ``datetime.date``) are errors."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    codes = np.zeros(len(arr), dtype=np.int8)
    scan = _compiled() if jit_pays(len(arr)) else scan_ids_numpy
    today_ymd = today.year * 10000 + today.month * 100 + today.day
    at = 0
    for chunk in chunks:
        offsets, data, valid = _buffers(chunk)
        if len(data):
            scan(offsets, data, valid, today_ymd, codes[at : at + len(chunk)])
        at += len(chunk)
    return codes


def _compiled():
    """:func:`scan_ids` compiled by numba (from its on-disk cache after the
    first process)."""
    global _kernel
    if _kernel is None:
        from numba import njit  # imported on first use

        _kernel = njit(**JIT)(scan_ids)
    return _kernel


def scan_ids(offsets, data, valid, today_ymd, codes):
    """Set ``codes`` of the valid cells of exactly 18 bytes ``[0-9]{17}[0-9X]``
    (leave the others ``GENERAL``); checks in the order of the general path:
    check character, then a birth date from 1900-01-01 to ``today_ymd``
    (``YYYYMMDD``). Plain Python, compiled by :func:`_compiled`."""
    for i in range(len(valid)):
        lo = offsets[i]
        if not valid[i] or offsets[i + 1] - lo != 18:
            continue
        total = np.int64(0)
        for k in range(17):
            digit = np.int64(data[lo + k]) - 48
            if digit < 0 or digit > 9:
                total = -1
                break
            total += _WEIGHTS[k] * digit
        last = np.int64(data[lo + 17])
        if total < 0 or not (48 <= last <= 57 or last == _X):
            continue
        if last != _CHECK[total % 11]:
            codes[i] = BAD_CHECKSUM
            continue
        year = np.int64(0)
        for k in range(6, 10):
            year = year * 10 + np.int64(data[lo + k]) - 48
        month = (np.int64(data[lo + 10]) - 48) * 10 + np.int64(data[lo + 11]) - 48
        day = (np.int64(data[lo + 12]) - 48) * 10 + np.int64(data[lo + 13]) - 48
        ymd = year * 10000 + month * 100 + day
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        good = 1 <= month <= 12 and day >= 1 and 19000101 <= ymd <= today_ymd
        if good and day > _MONTH_DAYS[month] + (1 if leap and month == 2 else 0):
            good = False
        codes[i] = VALID if good else BAD_BIRTHDATE


def scan_ids_numpy(offsets, data, valid, today_ymd, codes):
    """:func:`scan_ids` in numpy (its twin)."""
    rows = np.flatnonzero(valid & (np.diff(offsets) == 18))
    if not len(rows):
        return
    # byte k of every cell in row k: gathers and arithmetic on long 1-d runs
    cols = np.empty((18, len(rows)), dtype=np.uint8)
    for k in range(18):
        np.take(data, offsets[rows] + k, out=cols[k])
    digits = cols - np.uint8(48)  # non-digits wrap above 9
    shaped = (digits[:17] <= 9).all(axis=0) & ((digits[17] <= 9) | (cols[17] == _X))
    bad_check = cols[17] != _CHECK_BYTES[(_WEIGHTS_I32 @ digits[:17]) % 11]
    today = datetime.date(today_ymd // 10000, today_ymd // 100 % 100, today_ymd % 100)
    out = np.where(bad_check, BAD_CHECKSUM, np.where(_valid_birthdate(cols.T, today), VALID, BAD_BIRTHDATE))
    codes[rows] = np.where(shaped, out, GENERAL)
