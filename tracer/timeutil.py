"""Time helpers: everything internal is int64 UTC epoch seconds.

Naive times (no offset) are local time in the configured zone, default
``Asia/Shanghai``; a date without a time means local midnight.
"""

import numpy as np
import pandas as pd

from .errors import ValidationError
from .schema import DEFAULT_TZ

__all__ = ["to_epoch_s", "parse_times", "from_epoch_s", "DAY_S"]

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
