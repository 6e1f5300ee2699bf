"""Person identifiers: resident ID numbers, passports, mobile phone numbers.

All functions are vectorised over a pandas Series and return a
:class:`loaders.normalize.Normalized` (values, error, warning).

Resident ID numbers (GB 11643-1999): 6-digit region code, 8-digit birth date
``YYYYMMDD``, 3-digit sequence, ISO 7064 MOD 11-2 check character. Checks run
in this order and the first failure is the row's error: format
(``bad-id-format``), check character (``bad-id-checksum``; any single-digit
typo, including one in the birth date, is caught here), birth date
(``bad-id-birthdate``: a real calendar date from 1900-01-01 to today).
15-digit numbers (issued before 1999, birth year ``YY`` in the 1900s) are
upgraded by inserting ``19`` before the birth date and appending the check
character (warning ``id-upgraded-15-to-18``).
"""

import datetime

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
    byte_lengths,
    byte_matrix,
    distinct_rows,
    from_fixed_width,
    mask_of,
    matches,
    new_codes,
    on_subset,
    set_error,
    start_codes,
)

__all__ = [
    "ID_WEIGHTS",
    "ID_CHECK_CHARS",
    "id_check_char",
    "normalize_id_number",
    "normalize_identity",
    "declared_types",
    "normalize_phone",
    "phone_key",
    "person_key_candidates",
]

#: ISO 7064 MOD 11-2 weights of the first 17 digits (2**(17-i) mod 11).
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
#: Check character for each value of ``sum(weights * digits) % 11``.
ID_CHECK_CHARS = "10X98765432"

_WEIGHTS_I32 = ID_WEIGHTS.astype(np.int32)
_CHECK_BYTES = np.frombuffer(ID_CHECK_CHARS.encode("ascii"), dtype=np.uint8)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def id_check_char(first17):
    """Check character of a 17-digit string (scalar helper for tests/generators).

    >>> id_check_char("11010519491231002")
    'X'
    """
    digits = np.frombuffer(first17.encode("ascii"), dtype=np.uint8) - 48
    return ID_CHECK_CHARS[int(digits.astype(np.int64) @ ID_WEIGHTS) % 11]


def _valid_birthdate(mat, today):
    """Mask of rows whose bytes 6..13 are a date in [1900-01-01, today]."""
    d = mat[:, 6:14].astype(np.int32) - 48
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month = d[:, 4] * 10 + d[:, 5]
    day = d[:, 6] * 10 + d[:, 7]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    dim = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + (leap & (month == 2))
    ymd = year * 10000 + month * 100 + day
    year, month, day = year.astype(np.int64), month.astype(np.int64), day.astype(np.int64)
    today_ymd = today.year * 10000 + today.month * 100 + today.day
    return month_ok & (day >= 1) & (day <= dim) & (ymd >= 19000101) & (ymd <= today_ymd)


def _id_matrix(arr):
    """Shape-check ID cells on bytes: (18-byte matrix, row mask, masks).

    Returns ``mat`` (k, 18) for the k rows of byte length 15 or 18 (``rows``),
    with 15-digit rows already rewritten to 18 (check byte still to be set),
    and per-row masks over those k rows: ``ok18``, ``ok15``, ``lower_x``.
    """
    lengths = byte_lengths(arr)
    rows = (lengths == 18) | (lengths == 15)
    mat = byte_matrix(arr, 18, rows)
    digit = (mat >= 48) & (mat <= 57)
    len18 = lengths[rows] == 18
    lower_x = len18 & (mat[:, 17] == ord("x"))
    mat[lower_x, 17] = ord("X")
    ok18 = len18 & digit[:, :17].all(axis=1) & (digit[:, 17] | (mat[:, 17] == ord("X")))
    ok15 = ~len18 & digit[:, :15].all(axis=1)
    # 15 → 18: region(6) + '19' + YYMMDD + seq(3) + check byte
    mat[ok15, 8:17] = mat[ok15, 6:15]
    mat[ok15, 6:8] = (ord("1"), ord("9"))
    return mat, rows, ok18, ok15, lower_x


# inner spaces and dashes, and the apostrophe spreadsheets use to force text
_ID_JUNK = r"[\s\-'‘’`]+"


def _clean_id_text(cells):
    """Raw cells → (Arrow text without inner spaces/dashes, errors, warnings)."""
    arr, fold = arrow_text(cells, strip_float_zero=True)
    errors, warnings = start_codes(arr, fold)
    irregular = ~mask_of(pc.utf8_is_alnum(arr)) & mask_of(pc.is_valid(arr))
    arr, _ = on_subset(arr, irregular, lambda a: pc.replace_substring_regex(a, _ID_JUNK, ""))
    return arr, errors, warnings


def normalize_id_number(cells, today=None):
    """Validate and normalise 18-digit resident ID numbers (vectorised).

    Parameters
    ----------
    cells : Series of raw cells (str, numbers, NaN/None).
    today : datetime.date, optional
        Latest plausible birth date (default: today's date).

    Returns
    -------
    Normalized
        ``values`` the 18-character ID (``X`` upper-case) where valid; errors
        ``missing-value``, ``bad-id-format``, ``bad-id-checksum``,
        ``bad-id-birthdate``; warnings ``id-lowercase-x``,
        ``id-upgraded-15-to-18``, ``fullwidth-normalised``.

    Examples
    --------
    >>> import pandas as pd
    >>> r = normalize_id_number(pd.Series(["11010519491231002x", "110105491231002", "123"]))
    >>> r.values.tolist(), r.error.tolist()
    (['11010519491231002X', '11010519491231002X', nan], [None, None, 'bad-id-format'])

    Cells that are exactly 18 bytes ``[0-9]{17}[0-9X]`` (the bulk of an
    export) are decided from their bytes by :func:`loaders.idfast.fast_id_codes`;
    the others go through the general path, with the same result.
    """
    from .idfast import FAST_ERRORS, GENERAL, fast_id_codes  # here: idfast imports this module

    s = as_series(cells)
    today = today or datetime.date.today()
    if s.dtype != "str":
        s = s.astype("str")  # as arrow_text does: both paths read the same text
    arr = pa.array(s, type=pa.large_string())
    codes = fast_id_codes(arr, today)
    rest = codes == GENERAL
    if rest.all():
        return _normalize_id_number_general(s, today)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()  # replace_with_mask needs one array
    errors, warnings = FAST_ERRORS[codes], new_codes(len(s))
    if rest.any():
        sub = _normalize_id_number_general(s[rest], today)
        errors[rest], warnings[rest] = sub.error.to_numpy(), sub.warning.to_numpy()
        values = pa.array(sub.values.array, type=pa.large_string())
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        arr = pc.replace_with_mask(arr, pa.array(rest), values)
    return finish(arr, errors, warnings, s.index, s.name)


def _normalize_id_number_general(cells, today=None):
    """:func:`normalize_id_number` of any cells, in Arrow and numpy passes
    over the whole column (the path of the cells the fast path leaves)."""
    s = as_series(cells)
    today = today or datetime.date.today()
    arr, errors, warnings = _clean_id_text(s)
    mat, rows, ok18, ok15, lower_x = _id_matrix(arr)
    # integer matmul (numpy's own loop): a float32 one goes to BLAS, whose
    # worker threads then spin for a while and take a core from the load
    weighted = mat[:, :17].astype(np.int32) @ _WEIGHTS_I32 - 48 * int(ID_WEIGHTS.sum())
    expected = _CHECK_BYTES[weighted.astype(np.int64) % 11]
    bad_check = ok18 & (mat[:, 17] != expected)
    mat[ok15, 17] = expected[ok15]
    bad_date = (ok18 | ok15) & ~bad_check & ~_valid_birthdate(mat, today)

    def spread(sub_mask):
        full = np.zeros(len(rows), dtype=bool)
        full[rows] = sub_mask
        return full

    set_error(errors, ~spread(ok18 | ok15), "bad-id-format")
    set_error(errors, spread(bad_check), "bad-id-checksum")
    set_error(errors, spread(bad_date), "bad-id-birthdate")
    fine = pd.isna(errors)
    add_warning(warnings, spread(lower_x) & fine, "id-lowercase-x")
    add_warning(warnings, spread(ok15) & fine, "id-upgraded-15-to-18")
    good = spread(ok18 | ok15)
    arr = pc.replace_with_mask(arr, pa.array(good), from_fixed_width(mat[(ok18 | ok15)]))
    return finish(arr, errors, warnings, s.index, s.name)


# ------------------------------------------------------------- identity

#: ``id_type`` values (after NFKC, trimming and lower-casing) that declare a
#: passport or another travel document keyed as ``passport:``.
_PASSPORT_TYPES = (
    "passport|pp|p|b|护照|普通护照|外国护照|中国护照|.*通行证|台胞证|回乡证|旅行证"
    "|外国人永久居留.*|travel document|travel permit|permit"
)
#: ``id_type`` values that declare a resident ID card.
_RESIDENT_TYPES = "身份证|居民身份证|二代身份证|身份证号|1|01|i|id|id card|id_card|identity card|resident id"


def declared_types(id_type, n):
    """(declared passport, declared resident ID) masks from an id_type column.

    >>> import pandas as pd
    >>> [m.tolist() for m in declared_types(pd.Series(["护照", "身份证", None]), 3)]
    [[True, False, False], [False, True, False]]
    """
    if id_type is None:
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    # a handful of distinct types: match those, then spread
    codes, first = distinct_rows(id_type)
    arr, _ = arrow_text(as_series(id_type).iloc[first].reset_index(drop=True), strip_float_zero=True)
    arr = pc.utf8_lower(pc.replace_substring_regex(arr, r"\s+", " "))
    return matches(arr, _PASSPORT_TYPES)[codes], matches(arr, _RESIDENT_TYPES)[codes]


def normalize_identity(id_type, id_number, today=None):
    """Person identity from a document type and number: ID or passport.

    A number that is a valid resident ID is always the 18-digit ID (if the
    type column said passport, warning ``id-type-mismatch``). Otherwise it is
    read as a passport/travel document, giving ``passport:<NUMBER>``
    (upper-case, spaces and dashes removed, 5-20 letters/digits with at least
    one digit), when the type column declares a passport or travel permit,
    or when the type is not given and the number contains a letter and is
    not ID-shaped. Everything else keeps its resident-ID error.

    Parameters
    ----------
    id_type : Series or None
        Document type cells (``护照``, ``passport``, ``身份证``, …).
    id_number : Series
        Document numbers.
    today : datetime.date, optional

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_identity(pd.Series(["护照", None]),
    ...                    pd.Series(["e1234 5678", "11010519491231002X"])).values.tolist()
    ['passport:E12345678', '11010519491231002X']
    """
    number = as_series(id_number)
    if id_type is not None:
        id_type = as_series(id_type).set_axis(number.index)
    ids = normalize_id_number(number, today=today)
    ok_id = pd.isna(ids.error.to_numpy())
    said_pp, said_id = declared_types(id_type, len(number))
    values = pa.array(ids.values, type=pa.large_string())
    err, warn = ids.error.to_numpy().copy(), ids.warning.to_numpy().copy()
    rest = ~ok_id
    if rest.any():
        as_pp_sub, keys, sub_err, sub_warn = _passports(number[rest], said_pp[rest], said_id[rest])
        as_pp = np.zeros(len(number), dtype=bool)
        as_pp[rest] = as_pp_sub
        values = pc.replace_with_mask(values, pa.array(as_pp), pc.filter(keys, pa.array(as_pp_sub)))
        err[as_pp], warn[as_pp] = sub_err[as_pp_sub], sub_warn[as_pp_sub]
    add_warning(warn, said_pp & ok_id, "id-type-mismatch")
    return finish(values, err, warn, number.index, number.name)


def _passports(number, said_pp, said_id):
    """Passport reading of cells that are not valid IDs: (used, keys, errors, warnings)."""
    arr, errors, warnings = _clean_id_text(number)
    arr = pc.utf8_upper(arr)
    id_shaped = matches(arr, "[0-9]{15}|[0-9]{17}[0-9X]")
    has_letter = matches(arr, ".*[A-Z].*")
    valid = matches(arr, "[A-Z0-9]{5,20}") & matches(arr, ".*[0-9].*")
    used = mask_of(pc.is_valid(arr)) & (said_pp | (~said_id & has_letter & ~id_shaped))
    set_error(errors, ~valid, "bad-id-format")
    return used, concat("passport:", arr), errors, warnings


# ---------------------------------------------------------------- phones

_PHONE_SEPARATORS = r"[\s\-.()\[\]/_'‘’`]+"


def normalize_phone(cells):
    """Normalise Chinese mobile numbers to 11 digits (vectorised).

    Spaces, dashes, dots, slashes and brackets are removed, full-width digits
    folded, and a ``+86`` / ``0086`` / ``86`` country code in front of 11
    digits stripped (warning ``phone-country-code-stripped``). Valid numbers
    are 11 digits ``1[3-9]xxxxxxxxx``; others get ``bad-phone``.

    Examples
    --------
    >>> import pandas as pd
    >>> r = normalize_phone(pd.Series(["+86 138-1234-5678", "１３８１２３４５６７８", "12345"]))
    >>> r.values.tolist(), r.error.tolist()
    (['13812345678', '13812345678', nan], [None, None, 'bad-phone'])
    """
    s = as_series(cells)
    arr, fold = arrow_text(s, strip_float_zero=True)
    errors, warnings = start_codes(arr, fold)
    arr = pc.replace_substring_regex(arr, _PHONE_SEPARATORS, "")
    stripped = pc.replace_substring_regex(arr, r"^(?:\+|00)?86(1[0-9]{10})$", r"\1")
    add_warning(warnings, mask_of(pc.not_equal(stripped, arr)), "phone-country-code-stripped")
    set_error(errors, ~matches(stripped, "1[3-9][0-9]{9}"), "bad-phone")
    return finish(stripped, errors, warnings, s.index, s.name)


def person_key_candidates(cells):
    """The person key each raw identifier would be loaded under (vectorised):
    a valid ID number normalised (upper-case ``X``, 15 digits upgraded to 18,
    full-width digits folded), else a valid mobile number as
    ``phone:+86…``; NA otherwise. For keys typed by hand (``tracer trace
    --case``), which the store holds in these forms.

    >>> import pandas as pd
    >>> person_key_candidates(pd.Series(["11010519491231002x", "+86 138-1234-5678", "x"])).tolist()
    ['11010519491231002X', 'phone:+8613812345678', nan]
    """
    s = as_series(cells)
    ids = pd.Series(normalize_id_number(s).values, index=s.index, dtype=object)
    phones = pd.Series(phone_key(s), index=s.index, dtype=object)
    return ids.where(ids.notna(), phones)


def phone_key(cells):
    """Person keys ``phone:+86<11 digits>`` (NA where the phone is invalid).

    Accepts raw cells or already normalised numbers.

    >>> import pandas as pd
    >>> phone_key(pd.Series(["0086 13812345678", "x"])).tolist()
    ['phone:+8613812345678', nan]
    """
    values = normalize_phone(cells).values
    return "phone:+86" + values
