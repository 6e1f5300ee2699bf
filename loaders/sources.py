"""One parser per source kind: a raw table → identities + presences.

Each parser takes a :class:`loaders.fields.Table`, the file's
:class:`loaders.ledger.Ledger` and the load options, rejects and warns on
the ledger, and returns a :class:`Parsed`: the identity fields of every
surviving input row and the presences those rows describe (one per row,
two for a checkpoint pass with a plate). Person keys are resolved later,
across all files of a load (:mod:`loaders.identity`).

Place keys and intervals (ARCHITECTURE.md), and the choices made here:

=============  ==========================================  =====================================
kind           place key                                    interval
=============  ==========================================  =====================================
flights        ``flight:<CA1234>:<local flight date>``      departure → arrival
trains         ``train:<G1234>:<travel date>``              own boarding → own alighting
buses          ``bus:<run>:<travel date>``                  departure → arrival
venues         ``venue:<code>``                             scan → exit, else estimated (below)
checkpoints    ``checkpoint:<id>``                          pass ± :data:`CHECKPOINT_HALF_S`
               ``vehicle:<plate>`` (when the plate is valid) pass ± :data:`VEHICLE_HALF_S`
grid           ``grid:<cell>``                              start → end
residence      ``home:<address code>``                      move_in → move_out, else
                                                            :data:`RESIDENCE_OPEN_END_S`
=============  ==========================================  =====================================

Seats: flights row/col (section -1), trains carriage/row/col
(:func:`loaders.transport.parse_train_seat`), buses ``3A`` like a flight
seat or a seat number ``n`` as row ``(n + 3) // 4``, col ``(n - 1) % 4``
(four seats a row). Vehicle seats are unknown. An unreadable seat is a
warning (``bad-seat``), never a reject.

Open or estimated ends (venue scans without exit, residence without
move_out) are flagged :data:`tracer.schema.FLAG_END_ESTIMATED` and marked
``open_end`` so that their record fingerprint ignores the modelled end.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from tracer.schema import FLAG_END_ESTIMATED, FLAG_SEAT_UNKNOWN, KIND_CODES

from .fields import (
    background,
    identity_fields,
    object_frame,
    per_distinct,
    interval_fields,
    normalize_code,
    seat_flags,
    texts,
    timestamp_field,
)
from .coded import category_codes, coded_series, first_seen
from .normalize import arrow_text, distinct_rows, mask_of, set_error, start_codes, to_ints
from .timefast import parse_timestamp_column
from .transport import Seat, normalize_flight_no, normalize_plate, normalize_train_no, parse_flight_seat, parse_train_seat

__all__ = [
    "Parsed",
    "PARSERS",
    "CHECKPOINT_HALF_S",
    "VEHICLE_HALF_S",
    "RESIDENCE_OPEN_END_S",
    "parse_bus_seat",
]

#: Everyone passing a checkpoint within a few minutes is co-present there:
#: a pass at ``t`` is the presence ``[t - 2 min, t + 2 min]``.
CHECKPOINT_HALF_S = 120
#: Occupants of one vehicle pass share the vehicle ``[t - 5 min, t + 5 min]``
#: (the pass is all we know of the ride).
VEHICLE_HALF_S = 300
#: End of an open-ended residence (no move_out): 2100-01-01T00:00Z, the
#: latest time the timestamp parser accepts, so it is later than any real
#: time and the same whatever else is loaded (loads stay order-independent).
RESIDENCE_OPEN_END_S = 4102444800

_PRESENCE = ("place_key", "kind", "start", "end", "section", "row", "col", "flags")


class Parsed(NamedTuple):
    """Output of a parser (row positions ``pos`` are 0-based in the file).

    ``idents``: ``pos, doc, phone, id_error, name, district`` (or ``key``
    for canonical presences) of the rows not rejected. ``presences``:
    ``pos, place_key, kind, start, end, section, row, col, flags, open_end,
    estimate, place_name, place_district``, possibly also of rejected rows
    (:func:`loaders.api.prepare` keeps those of rows with an identity row
    that are still alive).
    """

    idents: pd.DataFrame
    presences: pd.DataFrame


def _presences(n, place_key, kind, start, end, section=None, row=None, col=None, flags=None, **extra):
    none = np.full(n, -1, np.int16)
    frame = object_frame(**{
        "pos": np.arange(n, dtype=np.int64),
        "place_key": place_key,
        "kind": np.full(n, KIND_CODES[kind], np.int8),
        "start": np.asarray(start, np.int64),
        "end": np.asarray(end, np.int64),
        "section": none if section is None else section,
        "row": none if row is None else row,
        "col": none if col is None else col,
        "flags": np.full(n, FLAG_SEAT_UNKNOWN, np.uint8) if flags is None else flags,
        "open_end": extra.pop("open_end", np.zeros(n, bool)),
        "estimate": extra.pop("estimate", np.zeros(n, bool)),
        "place_name": extra.pop("place_name", np.full(n, None, object)),
        "place_district": extra.pop("place_district", np.full(n, None, object)),
    })  # fmt: skip
    return frame


def _done(led, idents, *presences):
    # only the identities are filtered: a rejected row has no identity row,
    # hence no person key, and prepare drops presences without one (with the
    # rows rejected later); filtering the presences here too cost a pass
    alive = led.alive
    idents = idents.assign(pos=np.arange(len(idents), dtype=np.int64))[alive]
    presences = presences[0] if len(presences) == 1 else pd.concat(presences, ignore_index=True)
    return Parsed(idents.reset_index(drop=True), presences)


def _place(led, t, column, prefix, keys=None):
    """Place keys ``prefix:<code>`` from a code column (rejects blanks),
    as a categorical Series (the distinct keys once); ``keys``: the
    column's ``normalize_code(cells, prefix, coded=True)``, if done."""
    if keys is None:
        keys = normalize_code(t.cells(column), prefix, coded=True)
    led.reject(keys.isna().to_numpy(), column, "unknown-place")
    return keys


def _name_of(t, column, keys=None, first=None):
    """Display names (places, districts): folded and trimmed, blank → None.

    With ``keys`` (or ``first``, the rows :func:`_first_rows` gives for
    them), only each key's first row is read (the dictionary keeps one name
    per place), which spares the string work on the other rows; the result
    is then a categorical Series, missing on the other rows.
    """
    cells = pd.Series(t.cells(column)).reset_index(drop=True)
    if keys is None and first is None:
        return texts(_strip(cells))
    first = _first_rows(keys) if first is None else first
    codes = np.full(len(cells), -1, dtype=np.int64)
    codes[first] = np.arange(len(first))
    return coded_series(codes, texts(_strip(cells.iloc[first])))


def _first_rows(keys):
    """Row of each distinct key's first appearance (and of the first
    missing key), ascending."""
    codes, _ = category_codes(pd.Series(keys) if not isinstance(keys, pd.Series) else keys)
    return np.sort(first_seen(codes)[1])


def _strip(cells):
    arr, _ = arrow_text(pd.Series(cells).reset_index(drop=True))
    return pd.Series(arr.to_pandas(), dtype=object)


def _concat(*parts):
    """Element-wise join of object arrays and strings; None counts as ''.

    Keys repeat (one flight, many passengers): the strings are built once
    per distinct combination of the parts and shared by their rows.

    >>> _concat("flight:", np.array(["CA1", None], object), ":", np.array(["d", "d"], object)).tolist()
    ['flight:CA1:d', 'flight::d']
    """
    arrays = [np.asarray(p, dtype=object) for p in parts if not isinstance(p, str)]
    if not arrays or len(arrays[0]) < 64:
        return _concat_rows(*parts)
    codes, first = distinct_rows(*[pd.Series(a, dtype=object) for a in arrays])
    sub = [p if isinstance(p, str) else np.asarray(p, dtype=object)[first] for p in parts]
    return _concat_rows(*sub)[codes]


def _concat_rows(*parts):
    out = None
    for p in parts:
        if not isinstance(p, str):
            p = np.asarray(p, dtype=object)
            p = np.where(pd.isna(p), "", p).astype(object)
        out = p if out is None else out + p
    return np.asarray(out, dtype=object)


def parse_flights(t, led, opts):
    idents = identity_fields(t, led)
    fno = per_distinct(normalize_flight_no, t.cells("flight_no"))
    led.reject_codes(fno.error.to_numpy(object), "flight_no")
    led.warn_codes(fno.warning.to_numpy(object), "flight_no")
    start, end, date = interval_fields(t, led, "flight_date", opts.tz)
    section, row, col, flags = seat_flags(led, per_distinct(parse_flight_seat, t.cells("seat")), "seat")
    number = texts(fno.values)
    route = _concat(_strip(t.cells("dep_airport")), "-", _strip(t.cells("arr_airport")))
    name = np.where(route == "-", number, _concat(number, " ", route))
    keys = _concat("flight:", number, ":", date)
    pres = _presences(t.n, keys, "flight", start, end, section, row, col, flags, place_name=name)
    return _done(led, idents, pres)


def parse_trains(t, led, opts):
    idents = identity_fields(t, led)
    tno = per_distinct(normalize_train_no, t.cells("train_no"))
    led.reject_codes(tno.error.to_numpy(object), "train_no")
    led.warn_codes(tno.warning.to_numpy(object), "train_no")
    start, end, date = interval_fields(t, led, "travel_date", opts.tz)
    seat = per_distinct(parse_train_seat, t.cells("seat"), t.get("carriage"))
    section, row, col, flags = seat_flags(led, seat, "seat")
    number = texts(tno.values)
    keys = _concat("train:", number, ":", date)
    pres = _presences(t.n, keys, "train", start, end, section, row, col, flags, place_name=number)
    return _done(led, idents, pres)


def parse_bus_seat(cells):
    """Bus seats: ``3A`` (row 3, col 0) or a seat number ``n`` (four seats a
    row: row ``(n + 3) // 4``, col ``(n - 1) % 4``); ``12号`` accepted.

    >>> s = parse_bus_seat(pd.Series(["3A", "12", "07号", "x"]))
    >>> s.row.tolist(), s.col.tolist(), s.error.tolist()[3]
    ([3, 3, 2, -1], [0, 3, 2, -1], 'bad-seat')
    """
    s = pd.Series(cells).reset_index(drop=True)
    lettered = parse_flight_seat(s)
    arr, fold = arrow_text(s, strip_float_zero=True)
    errors, warnings = start_codes(arr, fold)
    groups = pc.extract_regex(arr, r"^0*(?P<n>[0-9]{1,3})\s*号?$")
    number = to_ints(groups.field("n"), -1)
    numbered = mask_of(pc.is_valid(groups)) & (number >= 1)
    ok_letter = pd.isna(lettered.error.to_numpy(object))
    set_error(errors, ~numbered & ~ok_letter, "bad-seat")
    row = np.where(numbered, (number + 3) // 4, lettered.row.to_numpy())
    col = np.where(numbered, (number - 1) % 4, lettered.col.to_numpy())
    bad = ~pd.isna(errors)
    row, col = np.where(bad, -1, row).astype(np.int16), np.where(bad, -1, col).astype(np.int16)
    return Seat(pd.Series(np.full(len(s), -1, np.int16)), pd.Series(row), pd.Series(col),
                pd.Series(errors, dtype=object), pd.Series(warnings, dtype=object))  # fmt: skip


def parse_buses(t, led, opts):
    idents = identity_fields(t, led)
    run = normalize_code(t.cells("bus_no"))
    led.reject(pd.isna(run), "bus_no", "unknown-place")
    start, end, date = interval_fields(t, led, "travel_date", opts.tz)
    section, row, col, flags = seat_flags(led, per_distinct(parse_bus_seat, t.cells("seat")), "seat")
    keys = _concat("bus:", run, ":", date)
    pres = _presences(t.n, keys, "bus", start, end, section, row, col, flags, place_name=run)
    return _done(led, idents, pres)


def parse_venues(t, led, opts):
    # the time and venue columns are parsed on worker threads while the
    # identities are normalised here (numpy and Arrow release the GIL); the
    # ledger is written on this thread, in the same order as ever
    scan = background(parse_timestamp_column, t.cells("scan_time"), opts.tz)
    exit_ = background(parse_timestamp_column, t.cells("exit_time"), opts.tz, t.cells("scan_time"))
    venue = background(_venue_places, t)
    idents = identity_fields(t, led)
    keys, place_name, place_district = venue.result()
    keys = _place(led, t, "venue_code", "venue:", keys=keys)
    start, _ = timestamp_field(t, led, "scan_time", opts.tz, parsed=scan.result())
    end, has_exit = _optional_time(t, led, "exit_time", opts.tz, parsed=exit_.result())
    led.reject(has_exit & (end < start), "exit_time", "end-before-start")
    estimate = ~has_exit
    flags = np.where(estimate, FLAG_END_ESTIMATED, 0).astype(np.uint8) | FLAG_SEAT_UNKNOWN
    pres = _presences(
        t.n, keys, "venue", start, np.where(estimate, start, end), flags=flags, open_end=estimate,
        estimate=estimate, place_name=place_name, place_district=place_district,
    )  # fmt: skip
    return _done(led, idents, pres)


def _venue_places(t):
    """Venue place keys (categorical) and the name and district of each
    key's first row (a worker job: no ledger writes)."""
    keys = normalize_code(t.cells("venue_code"), "venue:", coded=True)
    first = _first_rows(keys)
    return keys, _name_of(t, "venue_name", first=first), _name_of(t, "district", first=first)


def _optional_time(t, led, name, tz, base=None, parsed=None):
    """An optional time: missing → not given; unreadable → warning
    ``bad-exit-time`` (treated as not given). Returns (seconds, given).
    ``parsed``: the column's :func:`parse_timestamp_column`, if done."""
    if parsed is None:
        parsed = parse_timestamp_column(t.cells(name), tz=tz, base_date=base)
    err = parsed.error
    ok = err.isna().to_numpy()
    led.warn(~ok & (err != "missing-value").to_numpy(bool), name, "bad-exit-time")
    return parsed.values.to_numpy(dtype=np.int64, na_value=0), ok


def parse_checkpoints(t, led, opts):
    idents = identity_fields(t, led)
    keys = _place(led, t, "checkpoint_id", "checkpoint:")
    at, _ = timestamp_field(t, led, "pass_time", opts.tz)
    plate = per_distinct(normalize_plate, t.cells("plate"))
    perr = plate.error.to_numpy(object)
    led.warn(~pd.isna(perr) & (perr != "missing-value"), "plate", "bad-plate", "plate is not a licence plate; no vehicle presence")
    led.warn_codes(plate.warning.to_numpy(object), "plate", mask=pd.isna(perr))
    ck = _presences(t.n, keys, "checkpoint", at - CHECKPOINT_HALF_S, at + CHECKPOINT_HALF_S,
                    place_name=_name_of(t, "checkpoint_name", keys))  # fmt: skip
    plates = texts(plate.values)
    vehicle = _presences(t.n, _concat("vehicle:", plates), "vehicle", at - VEHICLE_HALF_S, at + VEHICLE_HALF_S)
    return _done(led, idents, ck, vehicle[~pd.isna(plates)])


def parse_grid(t, led, opts):
    idents = identity_fields(t, led)
    keys = _place(led, t, "grid_id", "grid:")
    start, _ = timestamp_field(t, led, "start_time", opts.tz)
    end, _ = timestamp_field(t, led, "end_time", opts.tz)
    led.reject(end < start, "end_time", "end-before-start")
    return _done(led, idents, _presences(t.n, keys, "grid", start, end))


def parse_residence(t, led, opts):
    idents = identity_fields(t, led)
    idents["district"] = _name_of(t, "district")
    keys = _place(led, t, "address_code", "home:")
    start, _ = timestamp_field(t, led, "move_in", opts.tz)
    end, has_end = timestamp_field(t, led, "move_out", opts.tz, required=False)
    led.reject(has_end & (end < start), "move_out", "end-before-start")
    open_end = ~has_end
    flags = np.where(open_end, FLAG_END_ESTIMATED, 0).astype(np.uint8) | FLAG_SEAT_UNKNOWN
    end = np.where(open_end, np.maximum(RESIDENCE_OPEN_END_S, start), end)
    pres = _presences(t.n, keys, "residence", start, end, flags=flags, open_end=open_end,
                      place_name=_name_of(t, "address"), place_district=idents["district"].to_numpy())  # fmt: skip
    return _done(led, idents, pres)


def _parse_presences(t, led, opts):
    from .presences import parse_presences

    return parse_presences(t, led, opts)


#: kind → parser(table, ledger, options) → :class:`Parsed`.
PARSERS = {
    "flights": parse_flights,
    "trains": parse_trains,
    "buses": parse_buses,
    "venues": parse_venues,
    "checkpoints": parse_checkpoints,
    "grid": parse_grid,
    "residence": parse_residence,
    "presences": _parse_presences,
}
