"""Time helpers: everything internal is int64 UTC epoch seconds.

Naive times (no offset) are local time in the configured zone, default
``Asia/Shanghai``; a date without a time means local midnight.
"""

import numpy as np
import pandas as pd

from .errors import ValidationError
from .schema import DEFAULT_TZ

__all__ = ["to_epoch_s", "parse_times", "from_epoch_s", "time_texts", "DAY_S"]

DAY_S = 86_400
_AWARE = r"(?:Z|[+-]\d\d:?\d\d)$"


def parse_times(values, tz=DEFAULT_TZ):
    """Parse times leniently: returns ``(seconds int64, ok bool)`` arrays.

    Accepts ISO 8601 (with or without an offset; naive = local in ``tz``),
    pandas/numpy timestamps, and integers (already epoch seconds). Rows that
    cannot be read have ``ok == False`` and seconds 0.

    >>> s, ok = parse_times(["2020-02-01", "nonsense"])
    >>> s.tolist(), ok.tolist()
    ([1580486400, 0], [True, False])
    """
    series = pd.Series(values).reset_index(drop=True)
    if series.empty:
        return np.zeros(0, np.int64), np.zeros(0, bool)
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.to_numpy(np.int64), np.ones(len(series), bool)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        parsed = series.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(series.dtype):
        parsed = _localize(series, tz)
    else:
        text = series.astype("string").str.strip()
        aware = text.str.contains(_AWARE, regex=True).fillna(False).to_numpy(bool)
        parsed = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
        if aware.any():
            parsed[aware] = _parse(text[aware], utc=True)
        if (~aware).any():
            parsed[~aware] = _localize(_parse(text[~aware], utc=False), tz)
    ok = parsed.notna().to_numpy()
    seconds = np.zeros(len(series), np.int64)
    seconds[ok] = parsed[ok].astype("datetime64[ns, UTC]").astype("int64").to_numpy() // 1_000_000_000
    return seconds, ok


def to_epoch_s(values, tz=DEFAULT_TZ, what="time"):
    """Convert timestamps/strings/dates to int64 UTC epoch seconds, strictly.

    Raises :class:`~tracer.errors.ValidationError` naming the first row that
    is empty or unreadable.

    >>> int(to_epoch_s(["2020-02-01"])[0])  # local midnight in Shanghai
    1580486400
    """
    series = pd.Series(values).reset_index(drop=True)
    seconds, ok = parse_times(series, tz)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise ValidationError(
            f"{what}: row {i + 1}: cannot read {series.iat[i]!r} as a time",
            hint="use ISO 8601, e.g. 2020-02-01 or 2020-02-01T08:30",
        )
    return seconds


def from_epoch_s(seconds, tz=DEFAULT_TZ):
    """int64 UTC epoch seconds → tz-aware pandas timestamps in ``tz``."""
    arr = np.asarray(seconds, dtype=np.int64)
    return pd.to_datetime(arr, unit="s", utc=True).tz_convert(tz)


def _parse(text, utc):
    parsed = pd.to_datetime(text, format="ISO8601", utc=utc, errors="coerce")
    retry = parsed.isna() & text.notna()
    if retry.any():
        parsed[retry] = pd.to_datetime(text[retry], format="mixed", utc=utc, errors="coerce")
    return parsed


def _localize(parsed, tz):
    local = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    return local.dt.tz_convert("UTC")


def time_texts(values, style="csv"):
    """Text of tz-aware timestamps, exactly as pandas writes them, vectorised.

    pandas formats a tz-aware column one Python object at a time (about
    20 us a row); this gives the same text from whole-second numpy
    arithmetic. ``style="csv"``: local time with its offset, as
    ``DataFrame.to_csv`` writes (``2020-02-01 08:30:00+08:00``);
    ``style="json"``: UTC with milliseconds, as ``DataFrame.to_json(
    date_format="iso")`` writes (``2020-02-01T00:30:00.000Z``). Missing
    times give None. Returns None when a value has a fraction of a second
    (pandas then prints microseconds; let pandas format such a column).

    >>> t = from_epoch_s([1580517000])
    >>> time_texts(t).tolist(), time_texts(t, "json").tolist()
    (['2020-02-01 08:30:00+08:00'], ['2020-02-01T00:30:00.000Z'])
    """
    series = pd.Series(values).reset_index(drop=True)
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        raise TypeError(f"time_texts needs tz-aware timestamps, not {series.dtype}")
    missing = series.isna().to_numpy()
    utc = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()  # its own unit: s, ms, us or ns
    per_s = int(np.timedelta64(1, "s") // np.timedelta64(1, np.datetime_data(utc.dtype)[0]))
    if ((utc.view(np.int64)[~missing] % per_s) != 0).any():
        return None
    utc_s = utc.astype("datetime64[s]")  # whole seconds: exact, whatever the year
    if style == "json":
        text = np.char.add(np.datetime_as_string(utc_s.astype("datetime64[ms]"), unit="ms"), "Z")
    else:
        local = series.dt.tz_localize(None).to_numpy().astype("datetime64[s]")
        offset_s = local.astype(np.int64) - utc_s.astype(np.int64)
        distinct, codes = np.unique(offset_s, return_inverse=True)
        suffix = np.array([_offset_text(int(o)) for o in distinct], dtype="<U9")
        wall = np.datetime_as_string(local, unit="s")
        # 'YYYY-MM-DDTHH:MM:SS' -> 'YYYY-MM-DD HH:MM:SS': the T sits at character 10
        chars = wall.view(np.uint32).reshape(len(wall), -1) if len(wall) else np.zeros((0, 19), np.uint32)
        chars[:, 10] = ord(" ")
        text = np.char.add(wall, suffix[codes.ravel()] if len(wall) else suffix[:0])
    out = text.astype(object)
    out[missing] = None
    return out


def _offset_text(offset_s):
    """A UTC offset as Python prints it: ``+08:00``, ``-03:30:52``.

    >>> _offset_text(28800), _offset_text(-12652)
    ('+08:00', '-03:30:52')
    """
    sign, a = ("+" if offset_s >= 0 else "-"), abs(offset_s)
    text = f"{sign}{a // 3600:02d}:{a % 3600 // 60:02d}"
    return text + f":{a % 60:02d}" if a % 60 else text
