"""The canonical presences input: any system can feed tracer with it.

Columns: ``person, place, kind, start, end`` and optional ``section, row,
col`` (-1 or empty when unknown), optional ``name`` and ``district``.
Times are in any format :func:`loaders.timeparse.parse_timestamp` reads
(ISO 8601 first of all); naive times are local in the configured zone
(default Asia/Shanghai). ``person`` and ``place`` are keys as described in
ARCHITECTURE.md (e.g. an 18-digit ID number, ``venue:V001``) and are used
as given: a canonical file is already resolved.
"""

import numpy as np
import pandas as pd

from tracer.schema import DEFAULT_TZ, FLAG_SEAT_UNKNOWN, KIND_CODES

from .fields import texts, timestamp_field

__all__ = ["load_presences", "parse_presences", "REQUIRED"]

REQUIRED = ("person", "place", "kind", "start", "end")
_SEATS = ("section", "row", "col")


def load_presences(path, tz=DEFAULT_TZ, encoding=None):
    """Read a canonical presences file (CSV, XLSX or Parquet), without a store.

    Returns ``(batch, rejects)``: a :class:`tracer.presence.Batch` of the
    good rows and a rejects frame (``file, line, field, code, message,
    raw``) for the others, so that ``read == len(batch) + len(rejects)``
    (duplicates are counted by the store on append). Prefer
    :func:`loaders.load_files`, which also counts duplicates.

    Examples
    --------
    >>> import os
    >>> here = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "presences_small.csv")
    >>> batch, rejects = load_presences(here)
    >>> len(batch) + len(rejects)
    11
    """
    from .api import prepare

    prepared = prepare("presences", [path], tz=tz, encoding=encoding)
    return prepared.full_batch(), prepared.rejects()


def _trimmed(cells):
    out = texts(pd.Series(cells, dtype=object).astype("string").str.strip())
    out[pd.Series(out, dtype=object).fillna("").to_numpy(str) == ""] = None
    return out


def parse_presences(t, led, opts):
    """Parser of the ``presences`` kind (see :mod:`loaders.sources`)."""
    from .sources import Parsed

    person, place = _trimmed(t.cells("person")), _trimmed(t.cells("place"))
    led.reject(pd.isna(person), "person", "missing-value", "person is empty")
    led.reject(pd.isna(place), "place", "unknown-place", "place is empty")
    kind = pd.Series(t.cells("kind"), dtype=object).astype("string").str.strip().str.lower().map(KIND_CODES)
    led.reject(kind.isna().to_numpy(), "kind", "unknown-kind", "kind is not one of " + ", ".join(KIND_CODES))
    start, _ = timestamp_field(t, led, "start", opts.tz)
    end, _ = timestamp_field(t, led, "end", opts.tz)
    led.reject(end < start, "end", "end-before-start")
    seats = {}
    for col in _SEATS:
        raw = pd.Series(t.cells(col), dtype=object).reset_index(drop=True)
        num = pd.to_numeric(raw.astype("string").str.strip(), errors="coerce")
        bad = num.notna() & ((num < -1) | (num > 32767) | (num != num.round()))
        bad |= num.isna() & _trimmed(raw).astype(bool)
        led.reject(bad.to_numpy(), col, "bad-seat", f"{col} is not a whole number between -1 and 32767")
        seats[col] = num.where(~bad, -1).fillna(-1).clip(-1, 32767).astype(np.int16).to_numpy()
    unknown = (seats["row"] < 0) | (seats["col"] < 0)
    n = t.n
    presences = pd.DataFrame({
        "pos": np.arange(n, dtype=np.int64), "place_key": place,
        "kind": kind.fillna(0).to_numpy().astype(np.int8), "start": start, "end": end,
        "section": seats["section"], "row": seats["row"], "col": seats["col"],
        "flags": np.where(unknown, FLAG_SEAT_UNKNOWN, 0).astype(np.uint8),
        "open_end": np.zeros(n, bool), "estimate": np.zeros(n, bool),
        "place_name": np.full(n, None, object), "place_district": np.full(n, None, object),
    })  # fmt: skip
    idents = pd.DataFrame({"key": person, "name": _trimmed(t.cells("name")), "district": _trimmed(t.cells("district"))})
    alive = led.alive
    idents = idents.assign(pos=np.arange(n, dtype=np.int64))[alive].reset_index(drop=True)
    return Parsed(idents, presences[alive].reset_index(drop=True))
