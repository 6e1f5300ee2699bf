"""Timestamps in every format the sources use → UTC epoch seconds (int64).

Accepted forms (naive times are local time in ``tz``):

* ISO 8601 and relatives: ``2020-02-01T08:05:03+08:00``, ``...Z``,
  ``2020-02-01 08:05[:03[.123]]``, ``2020/2/1 8:05``, ``2020.2.1``,
  dates alone (local midnight);
* compact ``YYYYMMDD``, ``YYYYMMDDHHMM``, ``YYYYMMDDHHMMSS``;
* Chinese ``2020年2月1日 8时5分[3秒]``, ``8点5分``, ``8点``, ``8:05``, with
  ``上午``/``下午``/``晚上``;
* Excel serial day numbers of the 1900 date system (``43862.3465``, as a
  number or a string) between 1990 and 2100;
* Unix epoch seconds (10 digits) or milliseconds (13 digits), taken as UTC;
* a bare time of day (``8:05``, ``08:05:30``, or an Excel day fraction such
  as ``0.3465``) on the row's ``base_date``;
* datetime64 columns and cells holding ``datetime``/``Timestamp`` objects
  (tz-aware ones keep their zone).

Parsing runs format by format on the still-unparsed cells with Arrow
regular-expression extraction and numpy date arithmetic; there is no
per-row Python. Local → UTC uses pandas' vectorised ``tz_localize``:
non-existent local times (DST gaps) shift forward, ambiguous ones are read as
standard time.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracer.schema import DEFAULT_TZ

from .normalize import (
    Normalized,
    add_warning,
    arrow_text,
    as_series,
    byte_lengths,
    byte_matrix,
    mask_of,
    new_codes,
    on_subset,
    set_error,
    start_codes,
    to_ints,
)

__all__ = ["Interval", "parse_timestamp", "combine_date_time"]

DAY_S = 86400
_EXCEL_EPOCH_DAYS = 25569  # 1899-12-30 → 1970-01-01
_EXCEL_MIN, _EXCEL_MAX = 32874, 73051  # 1990-01-01, 2100-01-01
_EPOCH_MIN_S, _EPOCH_MAX_S = 631152000, 4102444800  # 1990-01-01, 2100-01-01 UTC
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)

_DATE_SEPS = np.frombuffer(b"-/.", dtype=np.uint8)
_TIME_SEPS = np.frombuffer(b" T", dtype=np.uint8)
_TIME = r"(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{1,2})(?::(?P<s>[0-9]{1,2})(?:[.,][0-9]{1,9})?)?"
_ZONE = r"\s*(?P<tz>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
_FORMATS = (
    # ISO-like, separators - / . (Chinese forms are rewritten into this one)
    r"(?P<y>[0-9]{4})[-/.](?P<mo>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})(?:(?:T|\s+)" + _TIME + ")?" + _ZONE,
    # compact
    r"(?P<y>[0-9]{4})(?P<mo>[0-9]{2})(?P<d>[0-9]{2})"
    r"(?:T?(?P<h>[0-9]{2})(?P<mi>[0-9]{2})(?P<s>[0-9]{2})?)?" + _ZONE,
)


class Interval(NamedTuple):
    """Start/end epoch seconds (nullable Int64) with per-row codes.

    ``field`` names the input column an error belongs to (``date``,
    ``dep_time`` or ``arr_time``).
    """

    start: pd.Series
    end: pd.Series
    error: pd.Series
    warning: pd.Series
    field: pd.Series


class _Parts:
    """Per-row local date-time components filled in format by format."""

    def __init__(self, n):
        self.done = np.zeros(n, dtype=bool)
        self.local_s = np.zeros(n, dtype=np.int64)  # naive local seconds
        self.offset_s = np.zeros(n, dtype=np.int64)  # explicit UTC offset
        self.aware = np.zeros(n, dtype=bool)  # explicit offset or epoch
        self.time_only = np.zeros(n, dtype=bool)  # seconds since midnight

    def fill(self, rows, seconds, aware=None, offset_s=None, time_only=False):
        self.done[rows] = True
        self.local_s[rows] = seconds
        self.time_only[rows] = time_only
        if aware is not None:
            self.aware[rows] = aware
            self.offset_s[rows] = offset_s


def days_from_civil(year, month, day):
    """Days since 1970-01-01 of proleptic Gregorian dates (numpy, vectorised).

    >>> int(days_from_civil(np.array([2020]), np.array([2]), np.array([1]))[0])
    18293
    """
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _ints(groups, name):
    return to_ints(groups.field(name), 0)


def _zone_offsets(groups):
    """(aware mask, offset seconds, plausible mask) from the ``tz`` group."""
    zone = groups.field("tz")
    aware = mask_of(pc.not_equal(zone, ""))
    digits = pc.replace_substring(pc.utf8_slice_codeunits(zone, 1, 10), ":", "")
    hh = to_ints(pc.utf8_slice_codeunits(digits, 0, 2), 0)
    mm = to_ints(pc.utf8_slice_codeunits(digits, 2, 4), 0)
    sign = np.where(mask_of(pc.starts_with(zone, "-")), -1, 1)
    valid = (hh <= 14) & (mm <= 59)
    return aware, sign * (hh * 3600 + mm * 60), valid


def _valid_clock(h, mi, s):
    return (h >= 0) & (h <= 23) & (mi >= 0) & (mi <= 59) & (s >= 0) & (s <= 59)


def _fill_civil(parts, idx, y, mo, d, h, mi, s, aware=None, offset_s=None):
    """Validate calendar/clock fields of rows ``idx`` and fill the valid ones."""
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    month_ok = (mo >= 1) & (mo <= 12)
    dim = _DAYS_IN_MONTH[np.where(month_ok, mo, 0)] + (leap & (mo == 2))
    hit = month_ok & (d >= 1) & (d <= dim) & (y >= 1900) & (y < 2100) & _valid_clock(h, mi, s)
    seconds = days_from_civil(y, mo, d) * DAY_S + h * 3600 + mi * 60 + s
    parts.fill(
        idx[hit], seconds[hit],
        None if aware is None else aware[hit], None if offset_s is None else offset_s[hit],
    )


def _digit_columns(arr, rows, width):
    """Helpers over the first ``width`` bytes of the selected cells:
    (byte matrix, all-digits(cols) test, number(cols) value)."""
    mat = byte_matrix(arr, width, rows)
    v = [mat[:, c] - np.uint8(48) for c in range(width)]  # uint8: non-digits wrap above 9

    def digits(*cols):
        ok = np.ones(len(mat), dtype=bool)
        for c in cols:
            ok &= v[c] <= 9
        return ok

    def number(*cols):
        out = np.zeros(len(mat), dtype=np.int64)
        for c in cols:
            out = out * 10 + v[c]
        return out

    return mat, digits, number


def _try_fixed(arr, parts):
    """Fast path without regular expressions for the machine-written forms
    ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM`` and ``YYYY-MM-DD HH:MM:SS`` (any of
    ``-/.`` as date separator, space or ``T`` before the time) and the times
    of day ``HH:MM`` and ``HH:MM:SS``."""
    lengths = byte_lengths(arr)
    rows = ~parts.done & np.isin(lengths, (10, 16, 19))
    if rows.any():
        mat, digits, number = _digit_columns(arr, rows, 19)
        n_bytes = lengths[rows]
        sep = mat[:, 4]
        ok = digits(0, 1, 2, 3, 5, 6, 8, 9) & np.isin(sep, _DATE_SEPS) & (mat[:, 7] == sep)
        timed = n_bytes >= 16
        ok &= ~timed | (np.isin(mat[:, 10], _TIME_SEPS) & digits(11, 12, 14, 15) & (mat[:, 13] == 58))
        secs = n_bytes == 19
        ok &= ~secs | ((mat[:, 16] == 58) & digits(17, 18))
        h = np.where(timed, number(11, 12), 0)
        mi = np.where(timed, number(14, 15), 0)
        s = np.where(secs, number(17, 18), 0)
        idx = np.flatnonzero(rows)[ok]
        _fill_civil(parts, idx, number(0, 1, 2, 3)[ok], number(5, 6)[ok], number(8, 9)[ok], h[ok], mi[ok], s[ok])
    rows = ~parts.done & np.isin(lengths, (5, 8))
    if rows.any():
        mat, digits, number = _digit_columns(arr, rows, 8)
        secs = lengths[rows] == 8
        ok = digits(0, 1, 3, 4) & (mat[:, 2] == 58) & (~secs | ((mat[:, 5] == 58) & digits(6, 7)))
        h, mi, s = number(0, 1), number(3, 4), np.where(secs, number(6, 7), 0)
        ok &= _valid_clock(h, mi, s)
        parts.fill(np.flatnonzero(rows)[ok], (h * 3600 + mi * 60 + s)[ok], time_only=True)


def _try_dates(arr, parts, pm):
    """Fill rows that match the date(-time) formats (regular expressions)."""
    for pattern in _FORMATS:
        rows = ~parts.done & mask_of(pc.is_valid(arr))
        if not rows.any():
            return
        groups = pc.extract_regex(pc.filter(arr, pa.array(rows)), f"^(?:{pattern})$")
        hit = mask_of(pc.is_valid(groups))
        if not hit.any():
            continue
        groups = pc.filter(groups, pa.array(hit))
        y, mo, d = _ints(groups, "y"), _ints(groups, "mo"), _ints(groups, "d")
        h, mi, s = _ints(groups, "h"), _ints(groups, "mi"), _ints(groups, "s")
        h = np.where(pm[rows][hit] & (h < 12), h + 12, h)
        aware, offset, plausible = _zone_offsets(groups)
        mi = np.where(plausible, mi, -1)  # an impossible offset fails validation
        _fill_civil(parts, np.flatnonzero(rows)[hit], y, mo, d, h, mi, s, aware, offset)


def _try_time_of_day(arr, parts, pm):
    rows = ~parts.done & mask_of(pc.is_valid(arr))
    if not rows.any():
        return
    groups = pc.extract_regex(pc.filter(arr, pa.array(rows)), f"^(?:{_TIME})$")
    hit = mask_of(pc.is_valid(groups))
    h, mi, s = _ints(groups, "h"), _ints(groups, "mi"), _ints(groups, "s")
    h = np.where(pm[rows] & (h < 12), h + 12, h)
    hit &= _valid_clock(h, mi, s)
    idx = np.flatnonzero(rows)[hit]
    parts.fill(idx, (h * 3600 + mi * 60 + s)[hit], time_only=True)


def _try_numbers(arr, parts):
    """Excel serials, Excel day fractions, epoch seconds/milliseconds."""
    rows = ~parts.done & mask_of(pc.is_valid(arr))
    if not rows.any():
        return
    numeric = mask_of(pc.match_substring_regex(pc.filter(arr, pa.array(rows)), r"^[0-9]+(?:\.[0-9]+)?$"))
    rows[rows] = numeric
    if not rows.any():
        return
    sub = pc.filter(arr, pa.array(rows))
    value = np.asarray(pc.cast(sub, pa.float64()).to_numpy(zero_copy_only=False))
    dot = np.asarray(pc.find_substring(sub, ".").to_numpy(zero_copy_only=False))
    int_len = np.where(dot < 0, np.asarray(pc.binary_length(sub).to_numpy(zero_copy_only=False)), dot)
    idx = np.flatnonzero(rows)
    excel = (value >= _EXCEL_MIN) & (value < _EXCEL_MAX) & (int_len == 5)
    parts.fill(idx[excel], np.round((value[excel] - _EXCEL_EPOCH_DAYS) * DAY_S).astype(np.int64))
    fraction = (value >= 0) & (value < 1)
    parts.fill(idx[fraction], np.round(value[fraction] * DAY_S).astype(np.int64), time_only=True)
    for length, scale in ((10, 1), (13, 1000)):
        epoch = (int_len == length) & (dot < 0)
        seconds = (value // scale).astype(np.int64)
        epoch &= (seconds >= _EPOCH_MIN_S) & (seconds < _EPOCH_MAX_S)
        parts.fill(idx[epoch], seconds[epoch], np.ones(epoch.sum(), bool), np.zeros(epoch.sum(), np.int64))


_CHINESE = [
    (r"上午|早上|凌晨|AM|am|下午|晚上|PM|pm", ""),
    (r"([0-9])\s*[年月]\s*", r"\1-"),
    (r"([0-9])\s*[日号]\s*", r"\1 "),
    (r"([0-9])\s*[时点:]\s*", r"\1:"),
    (r"([0-9])\s*分\s*", r"\1:"),
    (r"([0-9])\s*秒", r"\1"),
    (r":$", ":00"),
]


def _rewrite_chinese(arr, rows):
    """Rewrite 年月日时分秒/点 and 上午/下午 into the ISO-like form (+ PM mask)
    in the cells selected by ``rows``."""
    pm = np.zeros(len(arr), dtype=bool)
    candidates = np.zeros(len(arr), dtype=bool)
    if rows.any():
        sub = pc.filter(arr, pa.array(rows))
        candidates[rows] = ~mask_of(pc.string_is_ascii(sub)) | mask_of(pc.match_substring_regex(sub, "[AaPp][Mm]"))
    if not candidates.any():
        return arr, pm
    pm[candidates] = mask_of(pc.match_substring_regex(pc.filter(arr, pa.array(candidates)), "下午|晚上|PM|pm"))

    def rewrite(sub):
        for pattern, repl in _CHINESE:
            sub = pc.replace_substring_regex(sub, pattern, repl)
        return pc.utf8_trim_whitespace(sub)

    arr, _ = on_subset(arr, candidates, rewrite)
    return arr, pm


def _base_days(base_date, index, tz):
    """Local calendar day (days since epoch) of each ``base_date`` cell.

    Returns ``(days, errors)``: days is -1 and errors holds ``missing-value``
    or ``bad-timestamp`` where a cell gives no date.
    """
    if base_date is None:
        errors = np.full(len(index), "missing-value", dtype=object)
        return np.full(len(index), -1, dtype=np.int64), errors
    base = as_series(base_date).set_axis(index)
    parts, fold, arr = _parse_parts(base)
    errors, _ = start_codes(arr, fold)
    set_error(errors, ~parts.done | parts.time_only, "bad-timestamp")
    days = np.floor_divide(parts.local_s, DAY_S)
    if parts.aware.any():  # an aware timestamp as base: its local day in tz
        utc_s = parts.local_s[parts.aware] - parts.offset_s[parts.aware]
        local = pd.DatetimeIndex(utc_s.astype("datetime64[s]")).tz_localize("UTC").tz_convert(tz)
        days[parts.aware] = np.floor_divide(local.tz_localize(None).as_unit("s").asi8, DAY_S)
    return np.where(pd.isna(errors), days, -1), errors


def _parse_parts(cells):
    """Raw cells → (_Parts, fold mask, Arrow text) before zone conversion."""
    arr, fold = arrow_text(cells)
    parts = _Parts(len(arr))
    _try_fixed(arr, parts)
    arr, pm = _rewrite_chinese(arr, ~parts.done & mask_of(pc.is_valid(arr)))
    _try_dates(arr, parts, pm)
    _try_numbers(arr, parts)
    _try_time_of_day(arr, parts, pm)
    return parts, fold, arr


def _localize(local_s, tz):
    """Naive local seconds → UTC epoch seconds in ``tz`` (vectorised)."""
    if len(local_s) == 0:
        return local_s
    naive = pd.DatetimeIndex(local_s.astype("datetime64[s]"))
    aware = naive.tz_localize(tz, ambiguous=np.zeros(len(naive), dtype=bool), nonexistent="shift_forward")
    return aware.as_unit("s").asi8


def _from_datetimes(s, tz):
    """datetime64 Series (naive = local in ``tz``) → Normalized."""
    if s.dt.tz is None:
        s = s.dt.tz_localize(tz, ambiguous=np.zeros(len(s), dtype=bool), nonexistent="shift_forward")
    utc = s.dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("s")
    missing = utc.isna().to_numpy()
    errors, warnings = np.full(len(s), None, object), np.full(len(s), None, object)
    set_error(errors, missing, "missing-value")
    seconds = np.where(missing, 0, utc.to_numpy().astype("datetime64[s]").astype(np.int64))
    return _result(seconds, errors, warnings, s.index, s.name)


def _result(seconds, errors, warnings, index, name):
    bad = ~pd.isna(errors)
    values = pd.arrays.IntegerArray(np.where(bad, 0, seconds).astype(np.int64), bad)
    return Normalized(
        pd.Series(values, index=index, name=name),
        pd.Series(errors, index=index, name=name, dtype=object),
        pd.Series(warnings, index=index, name=name, dtype=object),
    )


def _parse(cells, tz, base_days):
    """Parse cells; returns (Normalized, time_only mask). ``base_days`` is
    an array, or a callable ``(time_only mask) -> array`` (computed lazily)."""
    s = as_series(cells)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return _from_datetimes(s, tz), np.zeros(len(s), dtype=bool)
    parts, fold, arr = _parse_parts(s)
    if callable(base_days):
        base_days = base_days(parts.time_only)
    errors, warnings = start_codes(arr, fold)
    on_base = parts.time_only & (base_days >= 0)
    set_error(errors, ~parts.done | (parts.time_only & ~on_base), "bad-timestamp")
    local_s = np.where(on_base, base_days * DAY_S + parts.local_s, parts.local_s)
    naive = parts.done & ~parts.aware & (on_base | ~parts.time_only)
    utc_s = local_s - parts.offset_s
    utc_s[naive] = _localize(local_s[naive], tz)
    return _result(utc_s, errors, warnings, s.index, s.name), parts.time_only


def parse_timestamp(cells, tz=DEFAULT_TZ, base_date=None):
    """Parse timestamps in any supported format to UTC epoch seconds.

    Parameters
    ----------
    cells : Series of raw cells (str, numbers, datetimes, NaN/None).
    tz : str
        Zone of naive times (default ``Asia/Shanghai``).
    base_date : Series, optional
        Dates (any accepted date format) for cells that hold only a time of
        day; without a usable date such cells get ``bad-timestamp``.

    Returns
    -------
    Normalized
        ``values`` nullable Int64 epoch seconds (NA where ``error`` is set);
        errors ``missing-value`` and ``bad-timestamp``.

    Examples
    --------
    >>> import pandas as pd
    >>> r = parse_timestamp(pd.Series(["2020-02-01 08:05", "2020年2月1日 8时5分", "20200201080500",
    ...                                "43862.33680556", "2020-02-01T00:05:00Z", "8:05"]))
    >>> r.values.tolist(), r.error.tolist()[-1]
    ([1580515500, 1580515500, 1580515500, 1580515500, 1580515500, <NA>], 'bad-timestamp')
    """
    s = as_series(cells)
    if base_date is None:
        return _parse(s, tz, np.full(len(s), -1, dtype=np.int64))[0]
    base = as_series(base_date).set_axis(s.index)

    def base_days(rows):
        # only cells that hold a bare time of day need their row's date
        days = np.full(len(s), -1, dtype=np.int64)
        if rows.any():
            sub = base[rows]
            days[rows] = _base_days(sub, sub.index, tz)[0]
        return days

    return _parse(s, tz, base_days)[0]


def combine_date_time(date, dep_time, arr_time, tz=DEFAULT_TZ):
    """Departure/arrival on a travel date → (start, end) epoch seconds.

    Each time may be a full timestamp or a time of day on ``date``. An
    arrival given as a time of day that is earlier than the departure is on
    the next day (warning ``time-rolled-over-midnight``; one day at most, so
    journeys longer than 24 h need full arrival timestamps). Errors:
    ``missing-value``/``bad-timestamp`` with ``field`` naming the column
    (``date`` when a time of day has no usable date), ``end-before-start``.

    Examples
    --------
    >>> import pandas as pd
    >>> iv = combine_date_time(pd.Series(["2020-02-01"]), pd.Series(["22:30"]), pd.Series(["01:10"]))
    >>> int(iv.end[0] - iv.start[0]), iv.warning[0]
    (9600, 'time-rolled-over-midnight')
    """
    dep = as_series(dep_time)
    index, n = dep.index, len(dep)
    base_days, date_errors = _base_days(date, index, tz)
    start, dep_time_only = _parse(dep, tz, base_days)
    end, arr_time_only = _parse(as_series(arr_time).set_axis(index), tz, base_days)
    errors, warnings, field = new_codes(n), new_codes(n), new_codes(n)
    for name, parsed, time_only in (("dep_time", start, dep_time_only), ("arr_time", end, arr_time_only)):
        no_date = time_only & (base_days < 0) & pd.isna(errors)
        errors[no_date], field[no_date] = date_errors[no_date], "date"
        err = parsed.error.to_numpy()
        own = ~pd.isna(err) & pd.isna(errors)
        errors[own], field[own] = err[own], name
    folded = start.warning.notna().to_numpy() | end.warning.notna().to_numpy()
    add_warning(warnings, folded, "fullwidth-normalised")
    start_s = start.values.to_numpy(dtype=np.int64, na_value=0)
    end_s = end.values.to_numpy(dtype=np.int64, na_value=0)
    roll = arr_time_only & pd.isna(errors) & (end_s < start_s)
    end_s = np.where(roll, end_s + DAY_S, end_s)
    add_warning(warnings, roll, "time-rolled-over-midnight")
    before = pd.isna(errors) & (end_s < start_s)
    set_error(errors, before, "end-before-start")
    field[before] = "arr_time"
    return Interval(
        _result(start_s, errors, warnings, index, None).values,
        _result(end_s, errors, warnings, index, None).values,
        pd.Series(errors, index=index, dtype=object),
        pd.Series(warnings, index=index, dtype=object),
        pd.Series(field, index=index, dtype=object),
    )
