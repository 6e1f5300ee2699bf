"""The canonical presences input: any system can feed tracer with it.

Columns: ``person, place, kind, start, end`` and optional ``section, row,
col`` (-1 or empty when unknown), optional ``name`` and ``district``.
Times are ISO 8601; naive times are local in the configured zone (default
Asia/Shanghai). ``person`` and ``place`` are keys as described in
ARCHITECTURE.md (e.g. an 18-digit ID number, ``venue:V001``).
"""

import numpy as np
import pandas as pd

from tracer.presence import Batch, fingerprint
from tracer.schema import DEFAULT_TZ, FLAG_SEAT_UNKNOWN, KIND_CODES
from tracer.timeutil import parse_times

from .io import REJECT_COLUMNS, make_rejects, read_table

__all__ = ["load_presences", "REQUIRED"]

REQUIRED = ("person", "place", "kind", "start", "end")
_SEATS = ("section", "row", "col")


def load_presences(path, tz=DEFAULT_TZ, encoding=None):
    """Read a canonical presences file (CSV, XLSX or Parquet).

    Returns ``(batch, rejects)``: a :class:`tracer.presence.Batch` of the
    good rows and a rejects frame (``file, line, field, code, message,
    raw``) for the others, so that ``read == len(batch) + len(rejects)``
    (duplicates are counted by the store on append).
    """
    from tracer.errors import LoadError

    frame = read_table(path, encoding)
    frame.columns = [c.lower() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise LoadError(
            f"{path}: missing column(s) {', '.join(missing)}",
            hint="a presences file needs " + ", ".join(REQUIRED) + " (section, row, col optional)",
        )
    rejects = []
    alive = np.ones(len(frame), bool)

    def reject(mask, field, code, message):
        mask = mask & alive
        if mask.any():
            rejects.append(make_rejects(path, frame, mask, field, code, message))
            alive[mask] = False

    for col in ("person", "place"):
        text = frame[col].astype("string").str.strip()
        frame[col] = text
        reject(text.isna().to_numpy() | (text == "").fillna(True).to_numpy(), col, "missing-value", f"{col} is empty")
    kind = frame["kind"].astype("string").str.strip().str.lower().map(KIND_CODES)
    reject(kind.isna().to_numpy(), "kind", "unknown-kind", "kind is not one of " + ", ".join(KIND_CODES))
    start, ok_s = parse_times(frame["start"], tz)
    reject(~ok_s, "start", "bad-timestamp", "start is not an ISO 8601 time")
    end, ok_e = parse_times(frame["end"], tz)
    reject(~ok_e, "end", "bad-timestamp", "end is not an ISO 8601 time")
    reject(end < start, "end", "end-before-start", "end is before start")
    seats = {}
    for col in _SEATS:
        raw = frame[col] if col in frame.columns else pd.Series([None] * len(frame))
        num = pd.to_numeric(pd.Series(raw).reset_index(drop=True), errors="coerce")
        bad = num.notna() & ((num < -1) | (num > 32767) | (num != num.round()))
        bad |= num.isna() & pd.Series(raw).reset_index(drop=True).notna()
        reject(bad.to_numpy(), col, "bad-seat", f"{col} is not a whole number between -1 and 32767")
        seats[col] = num.fillna(-1).clip(-1, 32767).astype(np.int16).to_numpy()
    good = frame[alive]
    seat_unknown = (seats["row"][alive] < 0) | (seats["col"][alive] < 0)
    presences = pd.DataFrame(
        {
            "person_key": good["person"].to_numpy(object),
            "place_key": good["place"].to_numpy(object),
            "start": start[alive],
            "end": end[alive],
            "kind": kind[alive].to_numpy().astype(np.int8),
            "section": seats["section"][alive],
            "row": seats["row"][alive],
            "col": seats["col"][alive],
            "flags": np.where(seat_unknown, FLAG_SEAT_UNKNOWN, 0).astype(np.uint8),
        }
    )
    presences["record"] = fingerprint(
        presences["person_key"], presences["place_key"], presences["start"], presences["end"],
        presences["section"], presences["row"], presences["col"],
    )  # fmt: skip
    persons = _persons(good)
    places = pd.DataFrame({"key": good["place"].to_numpy(object), "kind": kind[alive].to_numpy()}).drop_duplicates(
        "key"
    )
    rejected = pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame(columns=REJECT_COLUMNS)
    return Batch(presences, persons=persons, places=places, source=str(path)), rejected


def _persons(good):
    cols = {"key": good["person"].to_numpy(object)}
    for extra in ("name", "district"):
        cols[extra] = good[extra].to_numpy(object) if extra in good.columns else None
    return pd.DataFrame(cols).drop_duplicates("key")
