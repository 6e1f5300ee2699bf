"""Timestamp columns: a byte-level fast path for the layout machines write.

Most cells of a large export share one layout, ``YYYY-MM-DD HH:MM:SS``
(any of ``-/.`` between the date parts, a space or ``T`` before the time).
:func:`parse_timestamp_column` reads those cells straight from the Arrow
string buffers (one pass of a numba kernel: layout, numbers and calendar
checks per cell, no intermediate arrays) and hands every other cell to
:func:`loaders.timeparse.parse_timestamp`, once per distinct cell. The
result is cell for cell what :func:`~loaders.timeparse.parse_timestamp`
gives (a cell the fast path does not accept is parsed by it).

Examples
--------
>>> import pandas as pd
>>> r = parse_timestamp_column(pd.Series(["2020-02-01 08:05:00", "2020年2月1日 8时5分", None], dtype="str"))
>>> r.values.tolist(), r.error.tolist()
([1580515500, 1580515500, <NA>], [nan, nan, 'missing-value'])
"""

import numpy as np
import pandas as pd
import pyarrow as pa

from tracer.jit import jit_pays
from tracer.schema import DEFAULT_TZ

from .coded import category_codes, coded_series
from .normalize import Normalized, as_series, per_distinct
from .timeparse import DAY_S, _DAYS_IN_MONTH, _localize, days_from_civil, parse_timestamp

__all__ = ["parse_timestamp_column", "common_layout"]

_MIN_ROWS = 256  # below this the general parser is as fast
_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
# (first, last) digit column of year, month, day, hour, minute, second
_FIELDS = ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19))


def _chunks(cells):
    """Arrow chunks of a pandas ``str`` Series (None when it has none)."""
    if not (pd.api.types.is_string_dtype(cells.dtype) and cells.dtype != object):
        return None
    arr = pa.array(cells.array)
    return arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]


def _buffers(chunk):
    """(int64 offsets, uint8 data, bool validity) of one Arrow string chunk."""
    chunk = chunk.cast(pa.large_string()) if chunk.type != pa.large_string() else chunk
    n = len(chunk)
    _, offsets_buf, data_buf = chunk.buffers()
    if offsets_buf is None or data_buf is None or n == 0:
        return np.zeros(n + 1, np.int64), np.zeros(0, np.uint8), np.zeros(n, bool)
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[chunk.offset : chunk.offset + n + 1]
    if chunk.null_count:
        valid = np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    else:
        valid = np.ones(n, dtype=bool)
    return offsets, np.frombuffer(data_buf, dtype=np.uint8), valid


def common_layout(cells):
    """(mask, naive local seconds) of the cells in the common layout.

    ``cells`` is a pandas Series; only Arrow-backed ``str`` columns are
    read (other dtypes give an all-False mask).

    >>> m, s = common_layout(pd.Series(["2020-02-01 08:05:00", "2020-02-30 08:05:00"], dtype="str"))
    >>> m.tolist(), int(s[0])
    ([True, False], 1580544300)
    """
    n = len(cells)
    mask, local_s = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
    chunks = _chunks(cells)
    if chunks is None:
        return mask, local_s
    if jit_pays(n):
        from .kernels import scan_common_layout as scan  # numba, imported on first use
    else:
        scan = scan_common_layout_numpy
    at = 0
    for chunk in chunks:
        offsets, data, valid = _buffers(chunk)
        if len(data):
            scan(offsets, data, valid, mask[at : at + len(chunk)], local_s[at : at + len(chunk)])
        at += len(chunk)
    return mask, local_s


def scan_common_layout_numpy(offsets, data, valid, ok, local_s):
    """:func:`loaders.kernels.scan_common_layout` in numpy (its twin)."""
    rows = np.flatnonzero(valid & (np.diff(offsets) == 19))
    if not len(rows):
        return
    mat = data[offsets[rows][:, None] + np.arange(19)]
    digits = mat[:, _DIGITS] - np.uint8(48)  # non-digits wrap above 9
    sep = mat[:, 4]
    good = (digits <= 9).all(axis=1) & ((sep == 45) | (sep == 47) | (sep == 46)) & (mat[:, 7] == sep)
    good &= ((mat[:, 10] == 32) | (mat[:, 10] == 84)) & (mat[:, 13] == 58) & (mat[:, 16] == 58)
    y, mo, d, h, mi, sec = (_number(mat, lo, hi) for lo, hi in _FIELDS)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    month_ok = (mo >= 1) & (mo <= 12)
    dim = _DAYS_IN_MONTH[np.where(month_ok, mo, 0)] + (leap & (mo == 2))
    good &= month_ok & (d >= 1) & (d <= dim) & (y >= 1900) & (y < 2100) & (h <= 23) & (mi <= 59) & (sec <= 59)
    ok[rows] = good
    local_s[rows[good]] = (days_from_civil(y, mo, d) * DAY_S + h * 3600 + mi * 60 + sec)[good]


def _number(mat, lo, hi):
    """Decimal value of byte columns ``lo:hi`` (int64; junk where not digits)."""
    out = mat[:, lo].astype(np.int64) - 48
    for c in range(lo + 1, hi):
        out = out * 10 + (mat[:, c].astype(np.int64) - 48)
    return out


def parse_timestamp_column(cells, tz=DEFAULT_TZ, base_date=None):
    """:func:`loaders.timeparse.parse_timestamp` of a whole column, fast.

    Cells in the common layout are read from their bytes; the others (and
    all cells of a column that is not Arrow-backed text) go to
    ``parse_timestamp`` once per distinct cell, and those that fail once
    more per distinct (cell, base date) when ``base_date`` is given. Returns a
    :class:`~loaders.normalize.Normalized` on a RangeIndex whose error and
    warning Series are categorical.
    """
    s = as_series(cells).reset_index(drop=True)
    base = None if base_date is None else as_series(base_date).reset_index(drop=True)
    fast, local_s = common_layout(s) if len(s) >= _MIN_ROWS else (np.zeros(len(s), bool), np.zeros(len(s), np.int64))

    def general(c, b):
        return parse_timestamp(c, tz=tz, base_date=b)

    n = len(s)
    values = np.zeros(n, dtype=np.int64)
    values[fast] = _localize(local_s[fast], tz)
    err_codes, warn_codes = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
    err_uniq = warn_uniq = np.zeros(0, dtype=object)
    null = s.isna().to_numpy() & ~fast  # a missing cell is only 'missing-value'
    rest = np.flatnonzero(~fast & ~null)
    if null.any():
        err_uniq = np.array(["missing-value"], dtype=object)
        err_codes[null] = 0
    todo, with_base = rest, False
    while len(todo):
        sub = per_distinct(general, s.iloc[todo].reset_index(drop=True),
                           base.iloc[todo].reset_index(drop=True) if with_base else None)  # fmt: skip
        values[todo] = sub.values.to_numpy(dtype=np.int64, na_value=0)
        codes, uniq = category_codes(sub.error)
        err_codes[todo] = np.where(codes >= 0, codes + len(err_uniq), -1)
        err_uniq = np.concatenate([err_uniq, uniq])
        w_codes, uniq = category_codes(sub.warning)
        warn_codes[todo] = np.where(w_codes >= 0, w_codes + len(warn_uniq), -1)
        warn_uniq = np.concatenate([warn_uniq, uniq])
        if base is None or with_base:
            break
        # a base date only serves a bare time of day, which fails without
        # one: parse per distinct cell first (far fewer than distinct
        # (cell, date) pairs), then only the failures with their dates
        todo, with_base = todo[codes >= 0], True
    bad = err_codes >= 0
    return Normalized(
        pd.Series(pd.arrays.IntegerArray(np.where(bad, 0, values), bad)),
        coded_series(err_codes, err_uniq),
        coded_series(warn_codes, warn_uniq),
    )
