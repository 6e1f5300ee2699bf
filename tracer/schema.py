"""The canonical presence schema: kinds, flags, column dtypes, zones.

One canonical presence is one person at one place during one interval
``[start, end)`` in UTC epoch seconds. Everything that crosses a module
boundary (loaders → store → engine) uses these names and dtypes.
"""

import numpy as np

__all__ = [
    "KINDS",
    "KIND_CODES",
    "KIND_NAMES",
    "FLAG_END_ESTIMATED",
    "FLAG_SEAT_UNKNOWN",
    "FLAG_TIME_APPROX",
    "PRESENCE_COLUMNS",
    "BATCH_COLUMNS",
    "DEFAULT_TZ",
    "kind_code",
]

#: Source kinds, in code order (the int8 stored in ``kind``).
KINDS = ("venue", "flight", "train", "bus", "vehicle", "checkpoint", "grid", "residence")
KIND_CODES = {name: code for code, name in enumerate(KINDS)}
KIND_NAMES = dict(enumerate(KINDS))

#: Bits of the uint8 ``flags`` column.
FLAG_END_ESTIMATED = 1  # no exit scan; the end is a modelled dwell time
FLAG_SEAT_UNKNOWN = 2  # section/row/col missing or unparseable
FLAG_TIME_APPROX = 4  # a time was repaired or is only known to the day

#: Naive source times are local time in this zone unless configured otherwise.
DEFAULT_TZ = "Asia/Shanghai"

#: The stored canonical presence (person and place as dictionary codes).
PRESENCE_COLUMNS = {
    "person": np.int32,
    "place": np.int32,
    "start": np.int64,
    "end": np.int64,
    "kind": np.int8,
    "section": np.int16,
    "row": np.int16,
    "col": np.int16,
    "flags": np.uint8,
    "source": np.int16,
    "record": np.int64,
}

#: A batch on its way into a store: person and place as string keys; the
#: store assigns the codes. ``record`` is the stable fingerprint
#: (:func:`tracer.presence.fingerprint`).
BATCH_COLUMNS = {
    "person_key": object,
    "place_key": object,
    "start": np.int64,
    "end": np.int64,
    "kind": np.int8,
    "section": np.int16,
    "row": np.int16,
    "col": np.int16,
    "flags": np.uint8,
    "record": np.int64,
}


def kind_code(name):
    """Return the int8 code of a kind name, case-insensitively.

    >>> kind_code("Flight")
    1
    """
    from .errors import ValidationError

    try:
        return KIND_CODES[str(name).strip().lower()]
    except KeyError:
        raise ValidationError(
            f"unknown kind {name!r}", hint="use one of " + ", ".join(KINDS)
        ) from None
