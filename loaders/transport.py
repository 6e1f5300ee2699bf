"""Transport identifiers: licence plates, flight and train numbers, seats.

All functions are vectorised over a pandas Series (Arrow compute and numpy,
no per-row Python). Conventions chosen here, and why:

* Flight numbers: the carrier's IATA designator followed by the flight number
  *without leading zeros* (``CA0123``, ``CA123`` and ``CA 123`` → ``CA123``),
  so that one flight written two ways gets one place key; at most 4
  significant digits; an optional one-letter operational suffix is kept.
  Known Chinese carriers' ICAO codes become IATA (``CCA1234`` → ``CA1234``).
* Flight seats: ``row`` is the printed row number; ``col`` is the seat
  letter's position in ``ABCDEFGHJKL`` (``I`` is never used on aircraft, so
  skipping it keeps letters that are neighbours in a row one apart). Aisles
  are not modelled.
* Train seats: ``section`` is the carriage. Lettered seats (``12F``): ``row``
  is the row number and ``col`` the position in ``ABCDF`` (CR seating has no
  ``E``; ``D`` and ``F`` are neighbours). Berths with a level (``012号上铺``,
  ``9下``): sleeper berth numbers come in facing pairs, so ``row`` is the
  compartment ``(number + 1) // 2`` and ``col`` the level (0 lower,
  1 middle, 2 upper). This is exact for hard sleepers (6 berths per
  compartment, numbers paired) and puts the four berths of a soft-sleeper
  compartment (numbered 4k-3..4k) into two adjacent rows. A bare number
  (``12号``, hard seat) gives ``row`` = number and ``col`` = -1.
  ``无座`` (standing) gives row/col -1 with warning ``seat-standing``.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .normalize import (
    add_warning,
    arrow_text,
    as_series,
    concat,
    finish,
    mask_of,
    matches,
    on_subset,
    set_error,
    start_codes,
    to_ints,
)

__all__ = [
    "PROVINCE_CHARS",
    "ICAO_TO_IATA",
    "Seat",
    "normalize_plate",
    "normalize_flight_no",
    "normalize_train_no",
    "parse_flight_seat",
    "parse_train_seat",
]

#: First character of a civil licence plate (province abbreviations, plus
#: 使 embassy and 领 consulate).
PROVINCE_CHARS = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"

#: ICAO → IATA designators of Chinese (incl. Hong Kong and Macau) carriers.
ICAO_TO_IATA = {
    "CCA": "CA",  # Air China
    "CES": "MU",  # China Eastern
    "CSN": "CZ",  # China Southern
    "CHH": "HU",  # Hainan Airlines
    "CSZ": "ZH",  # Shenzhen Airlines
    "CXA": "MF",  # Xiamen Airlines
    "CSC": "3U",  # Sichuan Airlines
    "CDG": "SC",  # Shandong Airlines
    "CSH": "FM",  # Shanghai Airlines
    "CQH": "9C",  # Spring Airlines
    "CBJ": "JD",  # Beijing Capital Airlines
    "DKH": "HO",  # Juneyao Air
    "HXA": "G5",  # China Express Airlines
    "CHB": "PN",  # West Air
    "GCR": "GS",  # Tianjin Airlines
    "LKE": "8L",  # Lucky Air
    "KNA": "KY",  # Kunming Airlines
    "CUA": "KN",  # China United Airlines
    "OKA": "BK",  # Okay Airways
    "QDA": "QW",  # Qingdao Airlines
    "TBA": "TV",  # Tibet Airlines
    "UEA": "EU",  # Chengdu Airlines
    "FZA": "FU",  # Fuzhou Airlines
    "CQN": "OQ",  # Chongqing Airlines
    "CDC": "GJ",  # Loong Air
    "HBH": "NS",  # Hebei Airlines
    "CPA": "CX",  # Cathay Pacific
    "CRK": "HX",  # Hong Kong Airlines
    "AMU": "NX",  # Air Macau
}

_FLIGHT_COLS = "ABCDEFGHJKL"
_TRAIN_COLS = "ABCDF"


class Seat(NamedTuple):
    """Parsed seats: int16 ``section``/``row``/``col`` (-1 unknown) plus codes."""

    section: pd.Series
    row: pd.Series
    col: pd.Series
    error: pd.Series
    warning: pd.Series


def _squeeze(arr, pattern=r"[\s\-.·・•_]+", ascii_only=False):
    """Upper-case and remove ``pattern``; the regex runs only on cells that
    are not plain alphanumerics (plain ASCII ones if ``ascii_only``)."""
    arr = pc.utf8_upper(arr)
    plain = mask_of(pc.utf8_is_alnum(arr))
    if ascii_only:
        plain &= mask_of(pc.string_is_ascii(arr))
    irregular = ~plain & mask_of(pc.is_valid(arr))
    arr, _ = on_subset(arr, irregular, lambda a: pc.replace_substring_regex(a, pattern, ""))
    return arr


def _group_ints(groups, name):
    """int64 numpy array of a regex group ('' or null → -1)."""
    return to_ints(groups.field(name), -1)


def _extract(arr, pattern):
    """``extract_regex`` anchored, plus a numpy mask of matching cells."""
    groups = pc.extract_regex(arr, f"^(?:{pattern})$")
    return groups, mask_of(pc.is_valid(groups))


# ------------------------------------------------------------------ plates

_PLATE = (
    f"[{PROVINCE_CHARS}][A-Z](?:[A-Z0-9]{{5}}"  # ordinary, 7 characters
    "|[A-Z0-9]{4}[挂学警港澳领试超]"  # trailer, coach, police, HK/Macau, ...
    "|[DF][A-Z0-9][0-9]{4}|[0-9]{5}[DF])"  # new energy, 8 characters
    "|使[0-9]{6}"  # embassy
)


def normalize_plate(cells):
    """Normalise Chinese licence plates (7 characters, new-energy 8).

    Spaces, dots, dashes and middle dots are removed, letters upper-cased,
    full-width forms folded. Valid: province character + letter + 5
    letters/digits; or + 4 and a suffix character (挂学警港澳领试超); or a
    new-energy plate (GA 36-2018): ``D``/``F`` + letter/digit + 4 digits
    (small cars) or 5 digits + ``D``/``F`` (large vehicles). Others get
    ``bad-plate``.

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_plate(pd.Series(["京a·12345", "粤B D12345", "沪A1"])).values.tolist()
    ['京A12345', '粤BD12345', nan]
    """
    s = as_series(cells)
    arr, fold = arrow_text(s)
    errors, warnings = start_codes(arr, fold)
    arr = _squeeze(arr)
    set_error(errors, ~matches(arr, _PLATE), "bad-plate")
    return finish(arr, errors, warnings, s.index, s.name)


# ---------------------------------------------------------- flight numbers

_FLIGHT = "(?P<air>[A-Z]{3}|[A-Z][A-Z0-9]|[0-9][A-Z])0*(?P<num>[0-9]{1,4})(?P<sfx>[A-Z]?)"


def normalize_flight_no(cells):
    """Normalise flight numbers to IATA designator + number (``CA1234``).

    Spaces and dashes are removed, letters upper-cased, leading zeros of the
    number dropped (``CA01234`` and ``CA 1234`` → ``CA1234``, ``CA0123`` →
    ``CA123``); a number of 1-4 significant digits (not 0) and an optional
    one-letter suffix are accepted. ICAO designators of the carriers in
    :data:`ICAO_TO_IATA` are mapped (warning ``icao-mapped-to-iata``); other
    3-letter designators are kept as they are. Others get ``bad-flight-no``.

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_flight_no(pd.Series(["ca 1234", "CA01234", "CES5101", "3u8888"])).values.tolist()
    ['CA1234', 'CA1234', 'MU5101', '3U8888']
    """
    s = as_series(cells)
    arr, fold = arrow_text(s)
    errors, warnings = start_codes(arr, fold)
    groups, ok = _extract(_squeeze(arr), _FLIGHT)
    air, num = groups.field("air"), groups.field("num")
    ok &= mask_of(pc.not_equal(num, "0"))
    set_error(errors, ~ok, "bad-flight-no")
    icao = pa.array(list(ICAO_TO_IATA), pa.large_string())
    where = pc.index_in(air.cast(pa.large_string()), value_set=icao)
    mapped = pc.take(pa.array(list(ICAO_TO_IATA.values()), pa.large_string()), where)
    add_warning(warnings, mask_of(pc.is_valid(mapped)) & ok, "icao-mapped-to-iata")
    air = pc.coalesce(mapped, air.cast(pa.large_string()))
    return finish(concat(air, num, groups.field("sfx")), errors, warnings, s.index, s.name)


# ----------------------------------------------------------- train numbers

_TRAIN = "[GDCZTKYLS][0-9]{1,4}|[0-9]{4}"


def normalize_train_no(cells):
    """Normalise train numbers: ``G1234``, ``D301``, ``K9``, ``1461``.

    Upper-cases, removes spaces and a trailing ``次``; valid forms are a
    G/D/C/Z/T/K/Y/L/S prefix with 1-4 digits, or 4 digits. A through train
    written with both numbers (``K1234/1235``, ``K1234/K1235``) keeps the
    first (warning ``train-no-split``). Others get ``bad-train-no``.

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_train_no(pd.Series(["g 1234次", "k1234/1235", "X12"])).values.tolist()
    ['G1234', 'K1234', nan]
    """
    s = as_series(cells)
    arr, fold = arrow_text(s, strip_float_zero=True)
    errors, warnings = start_codes(arr, fold)
    arr = _squeeze(arr, r"\s+|次$", ascii_only=True)
    has_slash = mask_of(pc.match_substring(arr, "/"))
    arr, split = on_subset(
        arr, has_slash,
        lambda a: pc.replace_substring_regex(a, r"^([A-Z]?[0-9]{1,4})/[A-Z]?[0-9]{1,4}$", r"\1"),
    )
    add_warning(warnings, split, "train-no-split")
    set_error(errors, ~matches(arr, _TRAIN), "bad-train-no")
    return finish(arr, errors, warnings, s.index, s.name)


# ------------------------------------------------------------------- seats


def _letter_index(letters, alphabet):
    """Position of each single-letter cell in ``alphabet`` (-1 if absent)."""
    where = pc.index_in(letters.cast(pa.large_string()), value_set=pa.array(list(alphabet), pa.large_string()))
    return np.asarray(where.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _seat(index, name, section, row, col, errors, warnings):
    """Assemble a :class:`Seat`, with -1 everywhere on rows with an error."""
    bad = ~pd.isna(errors)

    def column(values):
        return pd.Series(np.where(bad, -1, values).astype(np.int16), index=index, name=name)

    return Seat(
        column(section), column(row), column(col),
        pd.Series(errors, index=index, name=name, dtype=object),
        pd.Series(warnings, index=index, name=name, dtype=object),
    )


def parse_flight_seat(cells):
    """Parse flight seats ``23C``, ``023c``, `` 23 C`` → row 23, col 2.

    Returns a :class:`Seat` with ``section`` -1 (cabin unknown), ``row`` the
    row number (1-999) and ``col`` the letter's index in ``ABCDEFGHJKL``.
    Unparseable cells get ``bad-seat`` (blank: ``missing-value``); their
    row/col are -1.

    Examples
    --------
    >>> import pandas as pd
    >>> seat = parse_flight_seat(pd.Series(["23C", " 023 k", "23I"]))
    >>> seat.row.tolist(), seat.col.tolist(), seat.error.tolist()
    ([23, 23, -1], [2, 9, -1], [None, None, 'bad-seat'])
    """
    s = as_series(cells)
    arr, fold = arrow_text(s)
    errors, warnings = start_codes(arr, fold)
    groups, ok = _extract(_squeeze(arr), "0*(?P<row>[0-9]{1,3})(?P<col>[A-HJ-L])")
    row = _group_ints(groups, "row")
    ok &= row >= 1
    set_error(errors, ~ok, "bad-seat")
    col = _letter_index(groups.field("col"), _FLIGHT_COLS)
    return _seat(s.index, s.name, np.full(len(s), -1), row, col, errors, warnings)


_TRAIN_SEAT = (
    "(?:0*(?P<car>[0-9]{1,2})(?:号车厢|号车|车厢|车))?"
    "(?:(?P<none>无座|站票)"
    "|0*(?P<num>[0-9]{1,3})(?:(?P<letter>[A-Z])号?|号?(?P<level>[上中下]?)铺?))"
)


def _carriage(cells, n):
    """Carriage numbers from a separate column (-1 where absent/unparseable)."""
    if cells is None:
        return np.full(n, -1, dtype=np.int64)
    arr, _ = arrow_text(cells, strip_float_zero=True)
    groups, _ = _extract(_squeeze(arr), "0*(?P<car>[0-9]{1,2})(?:号车厢|号车|车厢|车|号)?")
    return _group_ints(groups, "car")


def parse_train_seat(seat, carriage=None):
    """Parse train seats and berths into carriage, row and column.

    Accepts ``05车12F``, ``12F`` (carriage from ``carriage``), ``5车12号``,
    sleeper berths ``05车012号上铺``, ``3车5号中铺``, ``8车09下`` and
    ``无座``; see the module docstring for the row/col convention. A carriage
    inside the seat cell wins over the ``carriage`` column (warning
    ``carriage-mismatch`` when they differ).

    Examples
    --------
    >>> import pandas as pd
    >>> seat = parse_train_seat(pd.Series(["05车12F", "12F", "05车012号上铺", "8车09下"]),
    ...                         carriage=pd.Series([None, "3", None, None]))
    >>> seat.section.tolist(), seat.row.tolist(), seat.col.tolist()
    ([5, 3, 5, 8], [12, 12, 6, 5], [4, 4, 2, 0])
    """
    s = as_series(seat)
    arr, fold = arrow_text(s)
    errors, warnings = start_codes(arr, fold)
    groups, ok = _extract(_squeeze(arr), _TRAIN_SEAT)
    car_in_seat = _group_ints(groups, "car")
    car_column = _carriage(None if carriage is None else as_series(carriage).set_axis(s.index), len(s))
    section = np.where(car_in_seat > 0, car_in_seat, car_column)
    add_warning(warnings, (car_in_seat > 0) & (car_column > 0) & (car_in_seat != car_column), "carriage-mismatch")

    standing = ok & mask_of(pc.not_equal(groups.field("none"), ""))
    num = _group_ints(groups, "num")
    letter = _letter_index(groups.field("letter"), _TRAIN_COLS)
    has_letter = mask_of(pc.not_equal(groups.field("letter"), ""))
    level = _letter_index(groups.field("level"), "下中上")
    ok &= standing | ((num >= 1) & (~has_letter | (letter >= 0)))
    set_error(errors, ~ok, "bad-seat")
    add_warning(warnings, standing, "seat-standing")

    berth = level >= 0
    row = np.where(standing, -1, np.where(berth, (num + 1) // 2, num))
    col = np.where(has_letter, letter, np.where(berth, level, -1))
    return _seat(s.index, s.name, section, row, col, errors, warnings)
