"""Shared, vectorised normalisation of raw cells: result type, codes, text.

Every helper takes a pandas Series of raw cells (str or object dtype; NaN,
None and numbers allowed) and returns a :class:`Normalized` triple aligned
with the input index:

``values``
    the normalised value, missing (NA) exactly where ``error`` is set;
``error``
    a stable error code (object dtype, ``None`` where the cell is fine);
``warning``
    a stable warning code where a value was repaired (``None`` otherwise;
    several repairs on one cell are joined with ``;``).

A missing or blank cell gets ``missing-value``; whether that is fatal is the
loader's decision (a missing phone is fine when the ID number is valid).

The helpers live in sibling modules and are importable from here too:

========================  ===========================================
:mod:`loaders.ids`        ``normalize_id_number``, ``normalize_identity``,
                          ``normalize_phone``, ``phone_key``
:mod:`loaders.transport`  ``normalize_plate``, ``normalize_flight_no``,
                          ``normalize_train_no``, ``parse_flight_seat``,
                          ``parse_train_seat``
:mod:`loaders.timeparse`  ``parse_timestamp``, ``combine_date_time``
this module               ``normalize_name``, :class:`Normalized`
========================  ===========================================

String work runs on Arrow arrays (``pyarrow.compute``, RE2 regular
expressions), which is 5-30x faster than the regex paths of ``Series.str``
in pandas 3; regular expressions therefore use ``[0-9]`` rather than ``\\d``
and no look-arounds.

Examples
--------
>>> import pandas as pd
>>> from loaders.normalize import normalize_name
>>> normalize_name(pd.Series(["张 三", " Ｌｉ  Ｍｉｎｇ ", None])).values.tolist()
['张三', 'Li Ming', nan]
"""

import importlib
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracer.jit import jit_pays

from .coded import coded_series, renumber

__all__ = [
    "Normalized",
    "ERROR_CODES",
    "WARNING_CODES",
    "normalize_name",
    "distinct_rows",
    "per_distinct",
    # re-exported lazily from the sibling modules (see module docstring)
    "normalize_id_number",
    "normalize_identity",
    "normalize_phone",
    "phone_key",
    "normalize_plate",
    "normalize_flight_no",
    "normalize_train_no",
    "parse_flight_seat",
    "parse_train_seat",
    "parse_timestamp",
    "combine_date_time",
]

#: Stable per-cell error codes.
ERROR_CODES = (
    "missing-value",
    "bad-id-format",
    "bad-id-checksum",
    "bad-id-birthdate",
    "bad-phone",
    "bad-plate",
    "bad-flight-no",
    "bad-train-no",
    "bad-seat",
    "bad-timestamp",
    "end-before-start",
)

#: Stable per-cell warning codes (a value was repaired, or is ambiguous).
WARNING_CODES = (
    "fullwidth-normalised",
    "id-lowercase-x",
    "id-upgraded-15-to-18",
    "id-type-mismatch",
    "phone-country-code-stripped",
    "icao-mapped-to-iata",
    "train-no-split",
    "carriage-mismatch",
    "seat-standing",
    "time-rolled-over-midnight",
)

_LAZY = {
    "normalize_id_number": "ids",
    "normalize_identity": "ids",
    "normalize_phone": "ids",
    "phone_key": "ids",
    "normalize_plate": "transport",
    "normalize_flight_no": "transport",
    "normalize_train_no": "transport",
    "parse_flight_seat": "transport",
    "parse_train_seat": "transport",
    "parse_timestamp": "timeparse",
    "combine_date_time": "timeparse",
}


def __getattr__(name):
    # PEP 562: re-export the sibling helpers without a circular import
    # (they import this module's core at load time).
    if name in _LAZY:
        module = importlib.import_module(f"{__package__}.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Normalized(NamedTuple):
    """Per-cell result of a normalisation helper (all aligned to the input)."""

    values: pd.Series
    error: pd.Series
    warning: pd.Series


# ---------------------------------------------------------------- text core

_ZERO_WIDTH = "[\\x{200B}-\\x{200D}\\x{2060}\\x{FEFF}]"


def as_series(cells):
    """Return ``cells`` as a Series (lists and arrays get a RangeIndex)."""
    if isinstance(cells, pd.Series):
        return cells
    return pd.Series(cells, dtype=object)


def arrow_text(cells, strip_float_zero=False):
    """Raw cells → (Arrow string array, fold mask) ready for parsing.

    Cells become strings (numbers via ``str``), full-width forms and other
    compatibility characters are folded by NFKC, zero-width characters are
    dropped, outer whitespace is trimmed and blank cells become null.
    ``fold`` marks cells that NFKC or zero-width removal changed.
    ``strip_float_zero`` turns ``'13812345678.0'`` (a number that went
    through a float, e.g. in a spreadsheet) back into ``'13812345678'``.
    """
    s = as_series(cells)
    if s.dtype != "str":
        s = s.astype("str")
    arr = pa.array(s, type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        # large files come in chunks; the kernels below (replace_with_mask)
        # need one array: combining copies the buffers once
        arr = arr.combine_chunks()
    fold = np.zeros(len(arr), dtype=bool)
    non_ascii = pc.invert(pc.string_is_ascii(arr))
    if pc.any(non_ascii).as_py():
        sub = pc.filter(arr, non_ascii)
        folded = pc.replace_substring_regex(pc.utf8_normalize(sub, "NFKC"), _ZERO_WIDTH, "")
        fold[mask_of(non_ascii)] = mask_of(pc.not_equal(folded, sub))
        arr = pc.replace_with_mask(arr, non_ascii, folded)
    arr = pc.utf8_trim_whitespace(arr)
    if strip_float_zero:
        dotted = mask_of(pc.match_substring(arr, "."))
        arr, _ = on_subset(arr, dotted, lambda a: pc.replace_substring_regex(a, r"^([0-9]+)\.0+$", r"\1"))
    arr = pc.if_else(pc.equal(pc.binary_length(arr), 0), pa.scalar(None, pa.large_string()), arr)
    return arr, fold


def mask_of(bools):
    """Arrow or pandas booleans → numpy bool array with null as False."""
    if isinstance(bools, (pa.Array, pa.ChunkedArray)):
        return np.asarray(pc.fill_null(bools, False).to_numpy(zero_copy_only=False), dtype=bool)
    return np.asarray(pd.Series(bools).fillna(False), dtype=bool)


def matches(arr, pattern):
    """Numpy mask of cells that match the RE2 ``pattern`` in full."""
    return mask_of(pc.match_substring_regex(arr, f"^(?:{pattern})$"))


def _buffers(arr):
    """(offsets int64, data uint8, valid bool) of an Arrow string array."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    n = len(arr)
    _, offsets_buf, data_buf = arr.buffers()
    if offsets_buf is None:
        return np.zeros(n + 1, np.int64), np.zeros(0, np.uint8), np.zeros(n, bool)
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    return offsets, data, mask_of(pc.is_valid(arr))


def byte_lengths(arr):
    """UTF-8 byte length of each cell; -1 for null cells."""
    offsets, _, valid = _buffers(arr)
    return np.where(valid, np.diff(offsets), -1)


def byte_matrix(arr, width, rows):
    """The first ``width`` bytes of the cells selected by the bool mask
    ``rows`` as a ``(rows.sum(), width)`` uint8 matrix, zero-padded.

    This lets per-character checks (digits, check sums, dates) run as numpy
    array arithmetic instead of regular expressions or Python loops.
    """
    offsets, data, _ = _buffers(arr)
    starts = offsets[:-1][rows]
    lengths = offsets[1:][rows] - starts
    out = np.zeros((len(starts), width), dtype=np.uint8)
    distinct = np.unique(lengths)
    if len(distinct) <= 4:
        # Few lengths (the usual case): per length, the selected cells are
        # a fixed-width block after an Arrow filter, so a reshape suffices.
        for length in distinct:
            same = lengths == length
            full = np.zeros(len(rows), dtype=bool)
            full[np.flatnonzero(rows)[same]] = True
            block = fixed_width_bytes(pc.filter(arr, pa.array(full)), int(length))
            out[same, : min(width, length)] = block[:, :width]
        return out
    cols = np.arange(width, dtype=np.int64)
    inside = cols[None, :] < lengths[:, None]
    idx = np.minimum(starts[:, None] + cols[None, :], max(len(data) - 1, 0))
    if len(data):
        out[inside] = data[idx[inside]]
    return out


def fixed_width_bytes(arr, width):
    """View a null-free Arrow string array of ``width``-byte cells as a
    ``(len, width)`` uint8 matrix (no copy of the character data)."""
    offsets, data, _ = _buffers(arr)
    if len(offsets) <= 1:
        return np.zeros((0, width), dtype=np.uint8)
    return data[offsets[0] : offsets[-1]].reshape(len(offsets) - 1, width)


def on_subset(arr, rows, transform):
    """Apply an Arrow ``transform`` only to the cells where ``rows`` holds.

    Returns ``(new_arr, changed)`` with ``changed`` a numpy mask of cells the
    transform altered. Regular expressions cost ~100 ns per cell, so the
    callers run them only on the cells a cheap check found irregular.
    """
    changed = np.zeros(len(arr), dtype=bool)
    if not rows.any():
        return arr, changed
    mask = pa.array(rows)
    sub = pc.filter(arr, mask)
    new = transform(sub)
    changed[rows] = mask_of(pc.not_equal(new, sub))
    return pc.replace_with_mask(arr, mask, new.cast(arr.type)), changed


def from_fixed_width(matrix):
    """Inverse of :func:`fixed_width_bytes`: a uint8 matrix → Arrow strings."""
    rows, width = matrix.shape
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int64)
    data = np.ascontiguousarray(matrix, dtype=np.uint8)
    return pa.LargeStringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data))


def concat(*parts):
    """Element-wise concatenation of Arrow string arrays and Python strings."""
    parts = [pa.scalar(p, pa.large_string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*parts, pa.scalar("", pa.large_string()))


def to_ints(arr, missing=-1):
    """Arrow strings of digits → int64 numpy array ('' or null → ``missing``)."""
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)
    return np.asarray(pc.cast(arr, pa.int64()).fill_null(missing).to_numpy(zero_copy_only=False))


def str_series(arr, index, name=None):
    """Arrow string array → pandas ``str`` Series on ``index``."""
    return pd.Series(pd.array(arr, dtype="str"), index=index, name=name)


# ---------------------------------------------------------------- distinct rows


def distinct_rows(*columns):
    """(codes, first) of the distinct rows of aligned columns (None = absent).

    ``codes[i]`` numbers row ``i``'s combination of cells (missing cells
    count as one value) and ``first[k]`` is the first row of combination
    ``k``. Arrow-backed text columns of many rows are factorized from their
    bytes (:mod:`loaders.hashfast`), others by ``pd.factorize``; no Python
    objects either way.

    >>> codes, first = distinct_rows(pd.Series(["a", "b", "a", None]), pd.Series(["x", "y", "x", "x"]))
    >>> codes.tolist(), first.tolist()
    ([0, 1, 0, 2], [0, 1, 3])
    """
    return _distinct_rows(columns, limit=None)


def _distinct_rows(columns, limit, fast=True):
    """:func:`distinct_rows`, or None as soon as a column alone has more
    than ``limit`` distinct values. ``fast=False`` factorizes every column
    with pandas (the way before :mod:`loaders.hashfast`, kept to compare)."""
    combined, upper, first = None, 0, None
    for col in columns:
        if col is None:
            continue
        got = _column_codes(pd.Series(col), limit, fast)
        if got is None:
            return None
        codes, n_codes, col_first = got
        if combined is None:
            combined, upper, first = codes, n_codes, col_first
        else:
            combined, upper = renumber(combined * n_codes + codes, upper * n_codes)
            first = None
    if combined is None:
        raise ValueError("distinct_rows needs at least one column")
    if first is not None:  # one column numbered by the kernel: final already
        codes, n_distinct = combined, upper
    else:
        codes, n_distinct = renumber(combined, upper)
    if limit is not None and n_distinct > limit:
        return None
    if first is None:
        first = np.empty(n_distinct, dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return codes, first


def _column_codes(col, limit, fast):
    """(int64 codes >= 0 with missing cells as one value, how many codes,
    first row of each code or None) of one column, or None when it has
    more than ``limit`` distinct values. Arrow-backed text goes to the
    kernel (codes in order of first appearance) when it pays."""
    if fast and jit_pays(len(col)) and isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        from .hashfast import factorize_text, text_chunks  # numba, imported on first use

        chunks = text_chunks(col)
        if chunks is not None:
            got = factorize_text(chunks, limit=limit, missing=True)
            return None if got is None else (got[0], len(got[1]), got[1])
    codes, uniq = pd.factorize(col, use_na_sentinel=True)
    if limit is not None and len(uniq) > limit:
        return None
    return codes.astype(np.int64) + 1, len(uniq) + 1, None  # missing → 0


def per_distinct(fn, *columns, max_ratio=0.6):
    """``fn(*columns)`` computed once per distinct row of ``columns``.

    ``fn`` must treat rows independently and return a NamedTuple of Series
    (:class:`loaders.normalize.Normalized`, seats, intervals) aligned with
    its input; the result is spread back to every row (same index as the
    first column; text results come back categorical: the distinct
    values once, integer codes per row). IDs, phones, names, codes and
    travel dates repeat a lot, so the string work runs on a fraction of
    the rows. When more than
    ``max_ratio`` of the rows are distinct, ``fn`` runs on all rows.

    >>> from loaders.ids import normalize_phone
    >>> per_distinct(normalize_phone, pd.Series(["+86 13812345678", "x", "+86 13812345678"])).values.tolist()
    ['13812345678', nan, '13812345678']
    """
    cols = [None if c is None else pd.Series(c) for c in columns]
    present = [c for c in cols if c is not None]
    index = present[0].index
    n = len(index)
    if n < 64 or _mostly_distinct(cols, n, max_ratio):
        return fn(*cols)
    got = _distinct_rows(cols, limit=max_ratio * n)
    if got is None:
        return fn(*cols)
    codes, first = got
    subs = [None if c is None else c.iloc[first].reset_index(drop=True) for c in cols]
    result = fn(*subs)
    return type(result)(*[_spread(field, codes, index) for field in result])


def _mostly_distinct(cols, n, max_ratio, sample=4096):
    """Guess from a random sample whether more than ``max_ratio`` of the rows
    are distinct (then factorizing all rows would be wasted work): ``m``
    draws from ``d`` distinct values repeat about ``m**2 / (2 d)`` times."""
    if n <= 4 * sample:
        return False
    rows = np.random.default_rng(0).choice(n, sample, replace=False)
    codes, first = _distinct_rows([None if c is None else c.iloc[rows] for c in cols], limit=None)
    repeats = sample - len(first)
    return sample * sample / (2 * max(repeats, 1)) > max_ratio * n


def _spread(field, codes, index):
    if not isinstance(field, pd.Series):
        return np.asarray(field)[codes]
    if field.dtype == object or pd.api.types.is_string_dtype(field.dtype):
        # a categorical: the distinct values once, integer codes per row
        # (no per-row Python strings; isna and the ledger read the codes)
        return coded_series(codes, field.to_numpy(dtype=object), index=index, name=field.name)
    return pd.Series(field.array.take(codes), index=index, name=field.name)


def _objects(values):
    """A Series of strings with NA → object array with None."""
    out = np.array(pd.Series(values).astype(object), dtype=object, copy=True)
    out[pd.isna(out)] = None
    return out


# ---------------------------------------------------------------- codes


def new_codes(n):
    """An object array of ``n`` Nones for per-cell codes."""
    return np.full(n, None, dtype=object)


def set_error(errors, mask, code):
    """Set ``code`` where ``mask`` holds and no earlier error was set."""
    errors[np.asarray(mask, dtype=bool) & pd.isna(errors)] = code


def add_warning(warnings, mask, code):
    """Add ``code`` where ``mask`` holds, joining with ``;`` if one exists."""
    mask = np.asarray(mask, dtype=bool)
    empty = pd.isna(warnings)
    warnings[mask & empty] = code
    both = mask & ~empty
    if both.any():
        warnings[both] = warnings[both] + (";" + code)


def finish(values, errors, warnings, index, name=None):
    """Assemble a :class:`Normalized`, blanking values where an error is set.

    ``values`` may be an Arrow string array or a pandas/numpy array.
    """
    bad = ~pd.isna(errors)
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        if bad.any():
            values = pc.if_else(pa.array(bad), pa.scalar(None, values.type), values)
        out = str_series(values, index, name)
    else:
        out = pd.Series(values, index=index, name=name)
        if bad.any():
            out = out.mask(bad)
    return Normalized(
        out,
        pd.Series(errors, index=index, name=name, dtype=object),
        pd.Series(warnings, index=index, name=name, dtype=object),
    )


def start_codes(arr, fold):
    """Fresh (errors, warnings) with ``missing-value`` and the fold warning."""
    errors, warnings = new_codes(len(arr)), new_codes(len(arr))
    set_error(errors, mask_of(pc.is_null(arr)), "missing-value")
    add_warning(warnings, fold, "fullwidth-normalised")
    return errors, warnings


# ---------------------------------------------------------------- names

_HAN = r"\p{Han}|·"


def _tidy_name(arr):
    arr = pc.replace_substring_regex(arr, "[・•‧∙･]", "·")
    arr = pc.replace_substring_regex(arr, r"\s+", " ")
    arr = pc.replace_substring_regex(arr, r" ?· ?", "·")
    # Two passes: one pass joins every other gap of 'A B C D' (matches cannot
    # overlap), the second joins the rest.
    for _ in range(2):
        arr = pc.replace_substring_regex(arr, f"({_HAN}) ({_HAN})", r"\1\2")
    return arr


def normalize_name(cells):
    """Normalise person names: NFKC width folding and stray spaces.

    Spaces between two CJK characters are removed, runs of spaces elsewhere
    become one space (``'Li  Ming'`` → ``'Li Ming'``), middle-dot variants
    become ``·`` (U+00B7) as used in transliterated names. Blank cells get
    ``missing-value``.

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_name(pd.Series(["阿卜杜拉 ・ 艾买提", "王　小 明"])).values.tolist()
    ['阿卜杜拉·艾买提', '王小明']
    """
    s = as_series(cells)
    arr, fold = arrow_text(s)
    errors, warnings = start_codes(arr, fold)
    irregular = ~mask_of(pc.utf8_is_alnum(arr)) & mask_of(pc.is_valid(arr))
    arr, _ = on_subset(arr, irregular, _tidy_name)
    return finish(arr, errors, warnings, s.index, s.name)
