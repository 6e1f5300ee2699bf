"""An in-memory store over a presences DataFrame.

Lets ``tracer.trace`` run on a plain frame (tests, notebooks, other systems)
without a database. It implements the read side of the ``Store`` protocol
that the engine uses.
"""

import numpy as np
import pandas as pd

from .errors import UnknownPerson, ValidationError
from .schema import KIND_CODES

__all__ = ["FrameStore"]

_OPTIONAL = {"section": -1, "row": -1, "col": -1, "flags": 0}


class FrameStore:
    """Read-only store over presences keyed by string person/place keys.

    ``frame`` has ``person, place, kind, start, end`` and optionally
    ``section, row, col, flags``; ``kind`` as code or name; ``start``/``end``
    as epoch seconds (int) or timestamps (naive = local in ``tz``).

    >>> fs = FrameStore(pd.DataFrame({"person": ["a", "b"], "place": ["venue:1"] * 2,
    ...     "kind": "venue", "start": [0, 60], "end": [120, 180]}))
    >>> fs.person_codes(["b"]).tolist()
    [1]
    """

    def __init__(self, frame, tz="Asia/Shanghai"):
        from .index import build_index
        from .timeutil import to_epoch_s

        missing = [c for c in ("person", "place", "kind", "start", "end") if c not in frame.columns]
        if missing:
            raise ValidationError(f"presences frame lacks column(s) {', '.join(missing)}")
        person_codes, self._person_keys = pd.factorize(frame["person"].astype(str), sort=True)
        place_codes, self._place_keys = pd.factorize(frame["place"].astype(str), sort=True)
        kind = frame["kind"]
        if not pd.api.types.is_integer_dtype(kind.dtype):
            kind = kind.astype(str).str.strip().str.lower().map(KIND_CODES)
            if kind.isna().any():
                i = int(np.flatnonzero(kind.isna().to_numpy())[0])
                raise ValidationError(f"presences frame: row {i}: unknown kind {frame['kind'].iat[i]!r}")
        canon = pd.DataFrame(
            {
                "person": person_codes.astype(np.int32),
                "place": place_codes.astype(np.int32),
                "start": to_epoch_s(frame["start"], tz, "start"),
                "end": to_epoch_s(frame["end"], tz, "end"),
                "kind": kind.to_numpy().astype(np.int8),
            }
        )
        for col, default in _OPTIONAL.items():
            values = frame[col] if col in frame.columns else default
            canon[col] = np.asarray(values if np.ndim(values) else np.full(len(frame), values))
        canon = canon.astype({"section": np.int16, "row": np.int16, "col": np.int16, "flags": np.uint8})
        bad = canon["end"].to_numpy() < canon["start"].to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValidationError(f"presences frame: row {i}: end is before start")
        self._index = build_index(canon, n_persons=len(self._person_keys), n_places=len(self._place_keys))
        self._lookup = pd.Index(self._person_keys)

    def index(self):
        return self._index

    def person_codes(self, keys):
        keys = pd.Index(pd.Series(keys, dtype=object).astype(str))
        codes = self._lookup.get_indexer(keys)
        if (codes < 0).any():
            unknown = list(keys[codes < 0][:5])
            raise UnknownPerson(
                f"{int((codes < 0).sum())} person key(s) not in the presences: {', '.join(unknown)}",
                hint="check the case list against the loaded keys",
                keys=unknown,
            )
        return codes.astype(np.int32)

    def person_keys(self, codes):
        return np.asarray(self._person_keys)[np.asarray(codes, dtype=np.int64)]

    def place_keys(self, codes):
        return np.asarray(self._place_keys)[np.asarray(codes, dtype=np.int64)]
