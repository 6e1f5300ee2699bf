"""Numba kernels of the loaders (imported on first use, so that importing
:mod:`loaders` stays free of numba): one pass per column or per sorted
array, no intermediate arrays.

- :func:`scan_common_layout`: timestamps in the layout machines write
  (:func:`loaders.timefast.common_layout`).
- :func:`ends_in_order`: estimated ends of venue scans
  (:func:`loaders.dwell.estimate_ends`).
- :func:`first_appearance`: small non-negative codes renumbered in order of
  first appearance (:func:`loaders.coded.renumber`).
- :func:`count_byte`: occurrences of one byte (line breaks of a CSV file,
  :func:`loaders.io.read_table`).

Examples
--------
>>> data = np.frombuffer(b"2020-02-01 08:05:00", dtype=np.uint8)
>>> ok, local_s = np.zeros(1, bool), np.zeros(1, np.int64)
>>> scan_common_layout(np.array([0, 19]), data, np.ones(1, bool), ok, local_s)
>>> ok.tolist(), local_s.tolist()
([True], [1580544300])
>>> ends_in_order(np.array([0, 1]), np.array([0, 0]), np.array([0, 1]), np.array([0, 600]),
...               np.array([3600, 3600]), np.array([True, True])).tolist()
[600, 4200]
"""

import numpy as np
from numba import njit

from tracer.jit import JIT

from .timeparse import DAY_S, _DAYS_IN_MONTH

__all__ = ["scan_common_layout", "ends_in_order", "first_appearance", "count_byte"]

_MONTH_DAYS = _DAYS_IN_MONTH.copy()  # frozen into the compiled kernel
_NEVER = np.iinfo(np.int64).max  # no next scan to cut a stay short


@njit(**JIT)
def _two(data, at):
    """Value of the two decimal digits at ``data[at:at + 2]`` (-1 if not digits)."""
    a, b = np.int64(data[at]) - 48, np.int64(data[at + 1]) - 48
    if a < 0 or a > 9 or b < 0 or b > 9:
        return -1
    return a * 10 + b


@njit(**JIT)
def scan_common_layout(offsets, data, valid, ok, local_s):
    """Set ``ok``/``local_s`` of the cells in ``YYYY-MM-DD HH:MM:SS`` (any
    of ``-/.`` between the date parts, space or ``T`` before the time) that
    are real calendar dates of 1900-2099 with a valid time of day; days are
    counted as :func:`loaders.timeparse.days_from_civil` does."""
    for i in range(len(valid)):
        lo = offsets[i]
        if not valid[i] or offsets[i + 1] - lo != 19:
            continue
        sep = data[lo + 4]
        if not (sep == 45 or sep == 47 or sep == 46) or data[lo + 7] != sep:
            continue
        if not (data[lo + 10] == 32 or data[lo + 10] == 84) or data[lo + 13] != 58 or data[lo + 16] != 58:
            continue
        hi_y, lo_y = _two(data, lo), _two(data, lo + 2)
        mo, d = _two(data, lo + 5), _two(data, lo + 8)
        h, mi, sec = _two(data, lo + 11), _two(data, lo + 14), _two(data, lo + 17)
        if hi_y < 0 or lo_y < 0 or mo < 0 or d < 0 or h < 0 or mi < 0 or sec < 0:
            continue
        y = hi_y * 100 + lo_y
        if y < 1900 or y >= 2100 or mo < 1 or mo > 12 or d < 1 or h > 23 or mi > 59 or sec > 59:
            continue
        leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
        if d > _MONTH_DAYS[mo] + (1 if leap and mo == 2 else 0):
            continue
        yy = y - (1 if mo <= 2 else 0)  # days_from_civil (yy >= 1899: no negative eras)
        era = yy // 400
        yoe = yy - era * 400
        doy = (153 * ((mo + 9) % 12) + 2) // 5 + d - 1
        days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
        ok[i] = True
        local_s[i] = days * DAY_S + h * 3600 + mi * 60 + sec


@njit(**JIT)
def ends_in_order(order, person, place, start, dwell_s, estimate):
    """Walk the scans in ``order`` (by person, time, venue) from the last:
    a run of consecutive scans of one person at one venue is cut at the
    start of that person's next run; unselected scans keep their start."""
    n = len(order)
    end = start.copy()
    cut = _NEVER
    for k in range(n - 1, -1, -1):
        i = order[k]
        if k < n - 1:
            j = order[k + 1]
            if person[j] != person[i]:
                cut = _NEVER  # the person's last run
            elif place[j] != place[i]:
                cut = start[j]  # the first scan of the next run
        if estimate[i]:
            end[i] = min(start[i] + dwell_s[i], cut)
    return end


@njit(**JIT)
def first_appearance(values, upper):
    """(codes of ``values`` (ints in ``[0, upper)``) numbered in order of
    first appearance, how many distinct): one pass with a lookup table."""
    table = np.full(upper, -1, dtype=np.int64)
    codes = np.empty(len(values), dtype=np.int64)
    n = 0
    for i in range(len(values)):
        code = table[values[i]]
        if code < 0:
            code = table[values[i]] = n
            n += 1
        codes[i] = code
    return codes, n


@njit(**JIT)
def count_byte(data, byte):
    """How many of the uint8 ``data`` equal ``byte`` (a vectorised loop)."""
    n = 0
    for i in range(len(data)):
        n += data[i] == byte
    return n
