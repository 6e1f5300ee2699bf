"""Canonical presence batches: construction, validation, fingerprints.

A :class:`Batch` is what every loader produces and every store appends:
presences keyed by person and place *keys* (strings), plus the person and
place dictionary entries and aliases seen in the same input. The store turns
keys into int32 codes.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import ValidationError
from .schema import BATCH_COLUMNS, KINDS

__all__ = ["Batch", "validate_presences", "fingerprint", "fingerprint_coded", "rekeyed_records", "empty_batch_presences"]

PERSON_COLUMNS = ["key", "name", "district"]
PLACE_COLUMNS = ["key", "kind", "name", "district", "lat", "lon"]
ALIAS_COLUMNS = ["key", "alias"]


def empty_batch_presences():
    """An empty presences frame with the batch dtypes."""
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in BATCH_COLUMNS.items()})


@dataclass
class Batch:
    """One unit of appending: presences plus the dictionary entries they use.

    Attributes
    ----------
    presences : DataFrame with :data:`tracer.schema.BATCH_COLUMNS`.
    persons : DataFrame ``key, name, district`` (optional entries; a person
        key used by a presence but absent here is created with no name).
    places : DataFrame ``key, kind, name, district, lat, lon`` (likewise).
    aliases : DataFrame ``key, alias``: every identifier seen for a person.
    source : a label for provenance (usually the file name).
    validated : True only for batches built by :mod:`loaders` (key columns
        categorical over the ``persons``/``places`` keys, one dictionary row
        per key, distinct records, exact dtypes, checked values); a store may
        then skip its own validation. Leave it False for any other batch.
    """

    presences: pd.DataFrame
    persons: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PERSON_COLUMNS))
    places: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PLACE_COLUMNS))
    aliases: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ALIAS_COLUMNS))
    source: str = ""
    validated: bool = False

    def __len__(self):
        return len(self.presences)


def fingerprint(person_key, place_key, start, end, section, row, col):
    """Stable int64 fingerprint of normalised presences (vectorised).

    Two rows that describe the same person at the same place over the same
    interval and seat get the same fingerprint in every run and process,
    which is what makes loading idempotent. Strings are hashed once per
    distinct value (SipHash with a fixed key), numbers with pandas' integer
    mixer; the column hashes are combined in a fixed order.

    >>> a = fingerprint(["p"], ["venue:1"], [0], [60], [-1], [-1], [-1])
    >>> b = fingerprint(["p"], ["venue:1"], [0], [61], [-1], [-1], [-1])
    >>> bool(a[0] == fingerprint(["p"], ["venue:1"], [0], [60], [-1], [-1], [-1])[0]), bool(a[0] == b[0])
    (True, False)
    """
    from pandas.util import hash_array

    def strings(values):
        codes, uniq = pd.factorize(np.asarray(values, dtype=object))
        return hash_array(np.asarray(uniq, dtype=object), hash_key=_HASH_KEY)[codes]

    h = strings(person_key)
    parts = [strings(place_key)] + [
        hash_array(np.asarray(v, dtype=np.int64).view(np.uint64)) for v in (start, end, section, row, col)
    ]
    with np.errstate(over="ignore"):
        for part in parts:
            h = (h * np.uint64(1_000_003)) ^ part
    return h.view(np.int64)


def fingerprint_coded(person_codes, person_keys, place_codes, place_keys, start, end, section, row, col):
    """:func:`fingerprint` of keys given as integer codes into distinct keys.

    ``person_keys[person_codes]`` and ``place_keys[place_codes]`` are the
    keys; each distinct key is hashed once (no per-row strings). The result
    equals ``fingerprint(person_keys[person_codes], place_keys[place_codes], ...)``.

    >>> import numpy as np
    >>> keys, places = np.array(["p", "q"], object), np.array(["venue:1"], object)
    >>> a = fingerprint_coded([1, 0], keys, [0, 0], places, [0, 0], [60, 60], [-1, -1], [-1, -1], [-1, -1])
    >>> bool(a[0] == fingerprint(["q"], ["venue:1"], [0], [60], [-1], [-1], [-1])[0])
    True
    """
    from pandas.util import hash_array

    from .jit import jit_pays

    def strings(keys):
        # distinct keys: no point in hash_array factorizing them first (same hashes, 4x faster)
        keys = np.asarray(keys, dtype=object)
        return hash_array(keys, hash_key=_HASH_KEY, categorize=False) if len(keys) else np.zeros(0, dtype=np.uint64)

    ints = [np.asarray(v, dtype=np.int64) for v in (person_codes, place_codes, start, end, section, row, col)]
    if not jit_pays(len(ints[2])):
        return _combine_numpy(strings(person_keys), ints[0], strings(place_keys), *ints[1:]).view(np.int64)
    from .hashing import combine_fingerprints  # numba, imported on first use

    return combine_fingerprints(strings(person_keys), ints[0], strings(place_keys), *ints[1:]).view(np.int64)


def rekeyed_records(old_key, new_key, place_key, start, end, flags, section, row, col, old_record):
    """Records of stored presences moved from person ``old_key`` to ``new_key``
    (all arrays of one length): what loading them under ``new_key`` would
    have given.

    The loaders fingerprint a scan with no exit by its start alone (end -1),
    so that a modelled dwell does not make a repeat load look new; that
    convention is kept wherever ``old_record`` shows it was used (the row is
    flagged end-estimated and its old record matches the end -1 form).

    >>> r = fingerprint(["phone:+8613800000000"], ["venue:1"], [0], [-1], [-1], [-1], [-1])
    >>> new = rekeyed_records(["phone:+8613800000000"], ["p"], ["venue:1"], [0], [3600], [1], [-1], [-1], [-1], r)
    >>> bool(new[0] == fingerprint(["p"], ["venue:1"], [0], [-1], [-1], [-1], [-1])[0])
    True
    """
    from .schema import FLAG_END_ESTIMATED

    start, end = np.asarray(start, dtype=np.int64), np.asarray(end, dtype=np.int64)
    seat = [np.asarray(v, dtype=np.int64) for v in (section, row, col)]
    estimated = (np.asarray(flags, dtype=np.int64) & FLAG_END_ESTIMATED) != 0
    as_open = np.where(estimated, -1, end)
    open_used = estimated & (fingerprint(old_key, place_key, start, as_open, *seat)
                             == np.asarray(old_record, dtype=np.int64))  # fmt: skip
    return fingerprint(new_key, place_key, start, np.where(open_used, -1, end), *seat)


def _combine_numpy(person_hash, person_codes, place_hash, place_codes, *numbers):
    """:func:`tracer.hashing.combine_fingerprints` in numpy (its twin)."""
    from pandas.util import hash_array

    h = person_hash[person_codes]
    parts = [place_hash[place_codes]] + [hash_array(v.view(np.uint64)) for v in numbers]
    with np.errstate(over="ignore"):
        for part in parts:
            h = (h * np.uint64(1_000_003)) ^ part
    return h


_HASH_KEY = "tracer-presence1"  # 16 bytes: SipHash key; changing it changes every fingerprint


def validate_presences(df, where="presences"):
    """Check a batch presences frame and return it with exact dtypes.

    Raises :class:`~tracer.errors.ValidationError` naming the first offending
    row (0-based position in ``df``) and column.
    """
    missing = [c for c in BATCH_COLUMNS if c not in df.columns]
    if missing:
        raise ValidationError(
            f"{where}: missing column(s) {', '.join(missing)}",
            hint="a batch needs " + ", ".join(BATCH_COLUMNS),
        )
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    for col, dtype in BATCH_COLUMNS.items():
        values = df[col].to_numpy()
        if dtype is object:
            series = df[col]
            if not (pd.api.types.is_string_dtype(series.dtype) or series.dtype == object):
                series = series.astype(str)
            bad = series.isna().to_numpy() | (series.str.len() == 0).fillna(True).to_numpy()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValidationError(f"{where}: row {i}: {col} is empty or not text")
            out[col] = series.to_numpy(dtype=object) if series.dtype == object else series.array
            continue
        if values.dtype == dtype:
            out[col] = values
            continue
        try:
            num = pd.to_numeric(pd.Series(values), errors="raise")
        except (ValueError, TypeError) as exc:
            raise ValidationError(f"{where}: column {col} is not numeric: {exc}") from None
        if num.isna().any():
            i = int(np.flatnonzero(num.isna().to_numpy())[0])
            raise ValidationError(f"{where}: row {i}: {col} is missing")
        info = np.iinfo(dtype)
        arr = num.to_numpy()
        bad = (arr < info.min) | (arr > info.max) | (arr != np.floor(arr))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValidationError(f"{where}: row {i}: {col}={arr[i].item()!r} does not fit {np.dtype(dtype).name}")
        out[col] = arr.astype(dtype)
    bad = out["end"].to_numpy() < out["start"].to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"{where}: row {i}: end {out['end'].iat[i]} is before start {out['start'].iat[i]}",
            hint="end must be >= start",
        )
    bad = (out["kind"].to_numpy() < 0) | (out["kind"].to_numpy() >= len(KINDS))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"{where}: row {i}: unknown kind code {out['kind'].iat[i]}",
            hint="kinds are 0..7: " + ", ".join(KINDS),
        )
    return out
