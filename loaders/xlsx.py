"""Reading XLSX workbooks into DataFrames of strings.

The first sheet is read by :mod:`loaders.xlsx_fast` (a numba reader of
the sheet's XML that mirrors calamine, 4-5x faster; used for workbooks of
:data:`FAST_MIN_BYTES` or more, or any once numba is loaded), or, for a
workbook it does not read exactly as calamine would, by python-calamine
(Rust) when it is installed, else by openpyxl. Cells come back as the strings that
``pandas.read_excel(path, dtype=str)`` gives with either engine, so that
the loaders see the same values whichever is used: text as it is, whole
numbers without ``.0`` (``43862.0`` → ``"43862"``), other numbers as
Python writes them (``"43862.3465"``), date cells as
``"2020-02-01 00:00:00"``, time cells as ``"08:05:00"``, booleans as
``"True"``; empty cells and pandas' missing-value markers (``NA``,
``null``, ``#N/A``, …) are missing. One difference between the engines
remains: a whitespace-only text cell saved without ``xml:space="preserve"``
(openpyxl writes ``" "`` so) is empty to calamine, as XML has it, and
``" "`` to openpyxl; the loaders strip cells, so both mean missing.

A sheet with a plain header row (text, non-blank, unique) and no blank
rows is converted column by column straight from the fast reader's or
calamine's cells (the fast paths); any other sheet goes through
``pandas.read_excel``, which handles blank and repeated headers and blank
lines its own way.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "t.xlsx")
>>> pd.DataFrame({"a": ["x", None], "n": [43862.0, 0.5]}).to_excel(path, index=False)
>>> frame = read_xlsx(path)
>>> frame["n"].tolist(), frame["a"].isna().tolist()
(['43862', '0.5'], [False, True])
"""

import datetime
import functools
import importlib.util
import os
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracer.errors import LoadError

__all__ = ["read_xlsx", "XLSX_ENGINES", "FAST_MIN_BYTES"]

#: Engines tried in order (a benchmark may force one): ``fast`` is
#: :mod:`loaders.xlsx_fast`, the others name pandas' engines.
XLSX_ENGINES = ("fast", "calamine", "openpyxl")

#: Smaller workbooks skip the fast reader unless numba is loaded already:
#: importing numba and loading the compiled kernels costs about 0.5 s once
#: per process, more than calamine takes for a workbook this size.
FAST_MIN_BYTES = 2 << 20


class _Irregular(Exception):
    """The fast path cannot read this sheet exactly as pandas would."""


@functools.cache
def _na_strings():
    from pandas._libs.parsers import STR_NA_VALUES

    return pa.array(sorted(set(STR_NA_VALUES) | {""}), type=pa.large_string())


def _engines(path):
    def usable(engine):
        if engine == "calamine":
            return importlib.util.find_spec("python_calamine") is not None
        if engine == "fast":
            return "numba" in sys.modules or (os.path.isfile(path) and os.path.getsize(path) >= FAST_MIN_BYTES)
        return True

    return [e for e in XLSX_ENGINES if usable(e)]


def _fast_frame(path):
    from .xlsx_fast import Irregular, read_first_sheet

    try:
        header, columns = read_first_sheet(path)
    except Irregular:
        raise _Irregular from None
    return _frame(header, columns)


def read_xlsx(path):
    """The first sheet of the workbook at ``path`` as a DataFrame of
    strings under its stripped headers, missing cells NA: Arrow-backed
    ``str`` columns (as CSV files give) from the fast path, object columns
    holding None from pandas' readers.

    Raises :class:`~tracer.errors.LoadError` for a file that is not a
    readable workbook.
    """
    engines = _engines(path)
    if engines[:1] == ["fast"]:
        try:
            return _fast_frame(path)
        except _Irregular:
            engines = engines[1:]
    if not engines:
        raise LoadError(f"{path}: cannot read XLSX", hint="pip install python-calamine (or openpyxl)")
    try:
        if engines[0] == "calamine":
            try:
                return _calamine_frame(path)
            except _Irregular:
                pass
        frame = pd.read_excel(path, dtype=str, engine=engines[0])
    except LoadError:
        raise
    except Exception as exc:  # each engine raises its own kinds for a bad file
        raise LoadError(f"{path}: not a readable XLSX workbook: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.astype(object).where(frame.notna(), None)


def _calamine_frame(path):
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(path)
    try:
        rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    finally:
        book.close()
    if len(rows) < 2:
        raise _Irregular  # header only or empty: pandas says what it makes of it
    header = rows[0]
    _check_header(header)
    body = np.empty((len(rows) - 1, len(header)), dtype=object)
    body[:] = rows[1:]  # one C loop, where transposing lists costs seconds
    del rows
    columns = [_column_strings(body[:, j]) for j in range(len(header))]
    del body
    return _frame(header, columns)


def _check_header(header):
    if any(type(h) is not str or not h.strip() for h in header) or len({h.strip() for h in header}) < len(header):
        raise _Irregular  # pandas names blank and repeated headers its own way


def _frame(header, columns):
    """The DataFrame of Arrow string ``columns`` under the stripped
    ``header``, pandas' missing-value markers made null; :class:`_Irregular`
    for a sheet with blank rows (pandas skips them)."""
    _check_header(header)
    columns = [_without_na(c) for c in columns]
    table = pa.table(columns, names=[h.strip() for h in header])
    blank = functools.reduce(pc.and_, [pc.is_null(c) for c in columns])
    if pc.any(blank).as_py():
        raise _Irregular  # pandas skips blank rows
    return table.to_pandas()


def _column_strings(cells):
    """One column's cells (object array) as pandas ``dtype=str`` renders
    them, as an Arrow string array. Non-text cells are usually few
    distinct values (dates, whole numbers), so each is converted once."""
    try:
        return pa.array(cells, type=pa.large_string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array(_converted(cells.copy()), type=pa.large_string())


def _without_na(text):
    """``text`` with pandas' missing-value markers (``NA``, ``#N/A``,
    empty, …) null."""
    na = pc.is_in(text, value_set=_na_strings())
    return pc.if_else(na, pa.scalar(None, pa.large_string()), text) if pc.any(na).as_py() else text


def _converted(cells):
    kinds = set(map(type, cells))
    if not kinds <= _CONVERT.keys():
        raise _Irregular
    memo = {}
    for i in np.flatnonzero([type(c) is not str for c in cells]).tolist():
        c = cells[i]
        key = (type(c), c)  # True == 1 == 1.0: keep the types apart
        if key not in memo:
            memo[key] = _CONVERT[type(c)](c)
        cells[i] = memo[key]
    return cells


def _float_text(value):
    if value != value:
        return None  # NaN: missing, as pandas has it
    return str(int(value)) if value.is_integer() else str(value)


def _date_text(value):
    return str(datetime.datetime(value.year, value.month, value.day))


_CONVERT = {
    str: str,
    float: _float_text,
    int: str,
    bool: str,
    datetime.datetime: str,
    datetime.date: _date_text,
    datetime.time: str,
    datetime.timedelta: str,
}


def sheet_heads(path, n=11):
    """``[(sheet name, first records)]`` of every sheet of the workbook, in
    order: up to ``n`` non-blank records each, as lists of stripped strings
    (a sheet with none has ``[]``). Only the first rows are read."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        return _openpyxl_heads(path, n)
    book = CalamineWorkbook.from_path(path)
    return [(name, _nonblank(book.get_sheet_by_index(i).to_python(nrows=n)))
            for i, name in enumerate(book.sheet_names)]  # fmt: skip


def _openpyxl_heads(path, n):
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    try:
        heads = []
        for sheet in book.worksheets:
            rows = []
            for row in sheet.iter_rows(values_only=True):
                rows += _nonblank([row])
                if len(rows) == n:
                    break
            heads.append((sheet.title, rows))
        return heads
    finally:
        book.close()


def _nonblank(rows):
    cells = [["" if c is None else str(c).strip() for c in r] for r in rows]
    return [r for r in cells if any(r)]


def other_sheets(path, n=11):
    """``[(sheet name, first records)]`` of the workbook's sheets after the
    first that hold anything (:func:`sheet_heads`). The loaders read the
    first sheet only, so they check these
    (:func:`loaders.api.check_other_sheets`)."""
    return [(name, rows) for name, rows in sheet_heads(path, n)[1:] if rows]
