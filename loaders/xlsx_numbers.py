"""Number cells of an XLSX sheet as the strings the calamine path gives.

python-calamine turns a number cell into a float, or, when the cell's
number format is a date or time format, into a ``date``, ``datetime``,
``time`` or ``timedelta``; :mod:`loaders.xlsx` then writes them as
``pandas.read_excel(dtype=str)`` would. This module does both steps
straight from the cell's raw ``<v>`` text, one distinct value at a time,
following calamine's rules: which formats are dates
(:func:`format_kind`, built-in ids 14–22, 45–47 and custom codes with
date letters outside quotes and brackets), Excel's 1900 leap-year bug,
the 1904 epoch, rounding to the millisecond. Values it would have to
guess about (not a plain decimal number, a date beyond ±10 million days)
raise :class:`ValueError`.

Examples
--------
>>> number_text(PLAIN, "43862"), number_text(PLAIN, "0.5"), number_text(DATE, "43862")
('43862', '0.5', '2020-02-01 00:00:00')
>>> number_text(DATE, "43862.25"), number_text(DATE, "0.5"), number_text(DURATION, "1.5")
('2020-02-01 06:00:00', '12:00:00', '1 day, 12:00:00')
>>> format_kind("yyyy-mm-dd"), format_kind('0.00" m"'), format_kind("[h]:mm")
(1, 0, 2)
"""

import datetime
import math
import re

__all__ = ["number_text", "format_kind", "builtin_kind", "PLAIN", "DATE", "DURATION"]

#: Number format kinds (the byte the sheet kernel stores before each number).
PLAIN, DATE, DURATION = 0, 1, 2

_NUMBER = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")
_EPOCH = datetime.datetime(1899, 12, 30)
_DAY_MS = 86_400_000
_MS_PER_DAY = 24.0 * 60.0 * 60.0 * 1e3
_1904_DAYS = 1462.0
#: Date values beyond this many days are left to calamine (its conversions overflow there).
_MAX_DAYS = 1e7


def builtin_kind(num_fmt_id):
    """Kind of a built-in number format id (as its attribute text)."""
    if num_fmt_id in ("14", "15", "16", "17", "18", "19", "20", "21", "22", "45", "47"):
        return DATE
    return DURATION if num_fmt_id == "46" else PLAIN


def format_kind(code):
    """Kind of a custom number format code: calamine's reading of its
    first section (date letters ``d m h y s`` outside quotes, brackets and
    escapes; ``a/p`` after an ``a``; ``[h]``, ``[mm]``, ``[s]`` durations)."""
    escaped = quoted = hms = ampm = False
    brackets, prev = 0, " "
    for ch in code:
        if escaped:
            escaped = False
        elif ch in "_\\*":
            escaped = True  # the next character is a literal
        elif quoted:
            quoted = ch != '"'
        elif ch == '"':
            quoted = True
        elif ch == ";":
            return PLAIN
        elif ch == "[":
            brackets += 1
        elif ch == "]" and brackets == 1 and hms:
            return DURATION
        elif ch == "]":
            brackets = max(brackets - 1, 0)
        elif ch in "aA" and not ampm and brackets == 0:
            ampm = True
        elif ch in "pm/PM" and ampm and brackets == 0:
            return DATE
        elif ch in "dmhysDMHYS" and not ampm and brackets == 0:
            return DATE
        elif not (hms and ch.lower() == prev.lower()):
            hms = prev == "[" and ch in "mhsMHS"
        prev = ch
    return PLAIN


def number_text(kind, raw, is_1904=False):
    """The text the calamine path gives for a number cell whose ``<v>``
    holds ``raw`` (str) under a format of ``kind``."""
    if not _NUMBER.match(raw):
        raise ValueError("not a plain decimal number")
    value = float(raw)
    if kind == PLAIN or (kind == DATE and value >= _MAX_DAYS):
        return _float_text(value)  # far beyond year 9999 calamine keeps the float
    if not abs(value) < _MAX_DAYS:
        raise ValueError("date value out of range")
    if kind == DURATION:
        return str(datetime.timedelta(milliseconds=_round(value * _MS_PER_DAY)))
    days = value + _1904_DAYS if is_1904 else value
    ms = _round((days if days >= 60.0 else days + 1.0) * _MS_PER_DAY)  # Excel's 1900-02-29
    if value < 1.0:
        return str(datetime.time(*_hms(ms % _DAY_MS)))
    try:
        moment = _EPOCH + datetime.timedelta(milliseconds=ms)
    except OverflowError:
        return _float_text(value)  # out of datetime's years: calamine keeps the float
    if value.is_integer() and value < 2.0**64:
        return str(datetime.datetime(moment.year, moment.month, moment.day))
    return str(moment)


def _hms(ms):
    seconds, ms = divmod(ms, 1000)
    return seconds // 3600, seconds // 60 % 60, seconds % 60, ms * 1000


def _round(x):
    """Round half away from zero, as Rust's ``f64::round``."""
    a = abs(x)
    r = math.floor(a)
    r += a - r >= 0.5
    return int(r) if x >= 0 else -int(r)


def _float_text(value):
    return str(int(value)) if value.is_integer() else str(value)
