"""A fast reader of an XLSX workbook's first sheet, giving the same
strings as :mod:`loaders.xlsx`'s calamine path.

The workbook's parts are unzipped with :mod:`zipfile`; the small ones
(relationships, workbook, styles) are parsed with ElementTree, the shared
strings and the sheet by the numba kernels of :mod:`loaders.xlsx_scan`,
which record each non-empty cell's position, kind and value without
making a Python object per cell. Columns are then gathered from one pool
of distinct strings with Arrow (``take``); number cells are converted
once per distinct value by :mod:`loaders.xlsx_numbers`.

Parts are found as calamine finds them (``_rels/.rels`` → workbook, its
relationships → the first ``<sheet>``'s part; ``sharedStrings.xml`` and
``styles.xml`` beside the workbook; names matched without case). Anything
the reader does not mirror exactly raises :class:`Irregular`, and the
caller reads the workbook with calamine instead: never a guess.

Examples
--------
>>> import os, tempfile
>>> import pandas as pd
>>> path = os.path.join(tempfile.mkdtemp(), "t.xlsx")
>>> pd.DataFrame({"a": ["x", None], "n": [43862.0, 0.5]}).to_excel(path, index=False)
>>> header, columns = read_first_sheet(path)
>>> header, [c.to_pylist() for c in columns]
(['a', 'n'], [['x', None], ['43862', '0.5']])
"""

import re
import zipfile
import zlib
from xml.etree import ElementTree

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .fields import background
from .xlsx_numbers import builtin_kind, format_kind, number_text
from .xlsx_scan import BOOL, ERROR, NUMBER, SHARED, TEXT, scan_sheet
from .xlsx_xml import scan_shared_strings

__all__ = ["read_first_sheet", "Irregular"]

_OFFICE_DOC = "/relationships/officeDocument"
_PROLOG = re.compile(rb"(\xef\xbb\xbf)?\s*(<\?xml\s[^<>]*\?>)?\s*")
_DIMENSION = re.compile(rb'\sref="[A-Za-z]{1,3}[1-9][0-9]{0,6}(:[A-Za-z]{1,3}[1-9][0-9]{0,6})?"')
#: A grid this many times larger than its cells is left to calamine (a stray far cell).
_SPARSE = 8


class Irregular(Exception):
    """The workbook holds something the fast reader does not read exactly
    as the calamine path does (the message says what, without cell text)."""


def read_first_sheet(path):
    """``(header, columns)`` of the first sheet of the workbook at
    ``path``: the header row's cells as str, and one Arrow ``large_string``
    array per column holding the rows below it, null for empty cells.

    Raises :class:`Irregular` for a workbook or sheet read differently by
    calamine (including files that are not workbooks at all).
    """
    try:
        with zipfile.ZipFile(path) as book:
            sheet, shared, formats, is_1904 = _parts(book, path)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, zlib.error, ElementTree.ParseError) as exc:
        raise Irregular(f"cannot read the workbook's parts: {type(exc).__name__}") from None
    return _columns(sheet, shared, formats, is_1904)


def _parts(book, path):
    """The first sheet's XML (bytes), shared strings, cell formats, 1904 flag.

    The sheet is unzipped on a worker thread (through its own handle on
    ``path``; zlib releases the GIL) while the shared strings are unzipped
    and scanned here."""
    names = {n.replace("\\", "/").lower(): n for n in book.namelist()}

    def read(name):
        key = name.lower()
        return book.read(names[key]) if key in names else None

    rels = _xml(read("_rels/.rels"), "_rels/.rels")
    targets = [r.get("Target") for r in _local(rels, "Relationship") if r.get("Type", "").endswith(_OFFICE_DOC)]
    if not targets or targets[-1] is None:
        raise Irregular("no workbook in _rels/.rels")
    xl = targets[-1][: targets[-1].rfind("/") + 1].removeprefix("/")
    workbook = _xml(read(f"{xl}workbook.xml"), "workbook")
    sheet_path, is_1904 = _first_sheet(workbook, _xml(read(f"{xl}_rels/workbook.xml.rels"), "relationships"), xl)
    if sheet_path.lower() not in names:
        raise Irregular("the first sheet's part is missing")
    sheet_job = background(_read_member, path, names[sheet_path.lower()])
    styles = read(f"{xl}styles.xml")
    formats = _formats(_xml(styles, "styles")) if styles is not None else np.zeros(0, np.int8)
    shared = read(f"{xl}sharedStrings.xml")
    try:
        shared = _shared_strings(shared) if shared is not None else None
    finally:
        sheet = sheet_job.result()  # waited for even when the strings fail: no stray reader
    return sheet, shared, formats, is_1904


def _read_member(path, name):
    with zipfile.ZipFile(path) as book:
        return book.read(name)


def _xml(data, what):
    if data is None:
        raise Irregular(f"no {what} part")
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError:
        raise Irregular(f"a {what} part that is not well-formed XML") from None


def _local(root, name):
    return [e for e in root.iter() if e.tag.rpartition("}")[2] == name]


def _first_sheet(workbook, rels, xl):
    """Zip path of the first sheet and whether dates count from 1904."""
    targets = {r.get("Id"): (r.get("Target") or "", r.get("Type") or "") for r in _local(rels, "Relationship")}
    paths = []
    for sheet in _local(workbook, "sheet"):
        rel = [v for k, v in sheet.attrib.items() if k.rpartition("}")[2].rpartition(":")[2] == "id"]
        if sheet.get("state", "visible") not in ("visible", "hidden", "veryHidden") or not rel:
            raise Irregular("a sheet with an unusual state or no relationship")
        target, kind = targets.get(rel[-1], (None, ""))
        if target is None or kind.rpartition("/")[2] not in ("worksheet", "chartsheet", "dialogsheet"):
            raise Irregular("a sheet whose relationship is missing or unknown")
        paths.append((target[1:] if target.startswith("/") else xl + target, kind.rpartition("/")[2]))
    if not paths or paths[0][1] != "worksheet":
        raise Irregular("the first sheet is not a worksheet")
    pr = _local(workbook, "workbookPr")
    return paths[0][0], bool(pr) and pr[-1].get("date1904") in ("1", "true")


def _formats(styles):
    """Number format kind (0 plain, 1 date, 2 duration) of each cell style."""
    custom = {}
    for block in _local(styles, "numFmts")[:1]:
        for fmt in _local(block, "numFmt"):
            if fmt.get("numFmtId") is not None and fmt.get("formatCode") is not None:
                custom[fmt.get("numFmtId")] = fmt.get("formatCode")
    kinds = []
    for block in _local(styles, "cellXfs")[:1]:
        for xf in _local(block, "xf"):
            fid = xf.get("numFmtId")
            kinds.append(0 if fid is None else format_kind(custom[fid]) if fid in custom else builtin_kind(fid))
    return np.array(kinds, dtype=np.int8)


def _shared_strings(data):
    start = data.find(b"<sst")
    _check_prolog(data, start)
    if not _PROLOG.fullmatch(data[:start]):
        raise Irregular("something before the shared strings")
    status, buf, off = scan_shared_strings(data, start)
    if status < 0:
        raise Irregular(f"shared strings not read here (code {status})")
    return _strings(buf, off)


def _check_prolog(data, start):
    head = data[: max(start, 0)].lower()
    if start < 0 or (b"encoding=" in head and not any(f"encoding={q}utf-8{q}".encode() in head for q in "\"'")):
        raise Irregular("an XML part not in UTF-8")


def _strings(buf, off):
    """Arrow strings ``buf[off[k]:off[k+1]]``; :class:`Irregular` if not UTF-8."""
    arr = pa.Array.from_buffers(pa.large_string(), len(off) - 1, [None, pa.py_buffer(off), pa.py_buffer(buf)])
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        raise Irregular("text that is not UTF-8") from None
    return arr


def _columns(sheet, shared, formats, is_1904):
    start = sheet.find(b"<sheetData")
    if start < 0:
        raise Irregular("no <sheetData> in the first sheet")
    _check_prolog(sheet, start)
    _check_dimension(sheet[:start])
    n_shared = len(shared) if shared is not None else 0
    status, end, rows, cols, kinds, values, text, text_off, num, num_off = scan_sheet(sheet, start, formats, n_shared)
    if status < 0:
        raise Irregular(f"a sheet not read here (code {status})")
    _xml(sheet[:start] + sheet[end:], "sheet")  # calamine reads the rest of the part too: it must be XML
    del sheet
    if len(rows) == 0:
        raise Irregular("an empty sheet")
    n_rows, n_cols = int(rows.max()) + 1, int(cols.max()) + 1
    if n_rows < 2 or n_rows * n_cols > _SPARSE * len(rows) + 1024:
        raise Irregular("a header-only or sparse sheet")
    pool, base = _pool(shared, _strings(text, text_off), _numbers(num, num_off, is_1904))
    ids = np.full((n_cols, n_rows), -1, dtype=np.int64)  # a column's ids contiguous
    where = cols.astype(np.int64) * n_rows + rows
    order = np.arange(len(rows), dtype=np.int64)
    ids.reshape(-1)[where] = order
    if not np.array_equal(ids.reshape(-1)[where], order):
        raise Irregular("two cells at one position")
    for kind in (SHARED, TEXT, NUMBER, BOOL, ERROR):
        mask = kinds == kind
        ids.reshape(-1)[where[mask]] = values[mask] + base[kind]
    head = ids[:, 0]
    header_kinds = np.zeros(n_cols, np.int8)
    header_kinds[cols[rows == 0]] = kinds[rows == 0]
    if not np.isin(header_kinds, (SHARED, TEXT)).all():
        raise Irregular("a header cell that is empty or not text")
    header = pool.take(pa.array(head)).to_pylist()
    return header, [pool.take(pa.array(ids[j, 1:], mask=ids[j, 1:] < 0)) for j in range(n_cols)]


def _check_dimension(head):
    """calamine stops on a ``<dimension>`` without a readable ``ref``."""
    at = head.find(b"<dimension")
    if at >= 0:
        if not _DIMENSION.search(head[at : head.find(b">", at) + 1]):
            raise Irregular("a sheet dimension not read here")


def _numbers(num, num_off, is_1904):
    """Number cells' texts (calamine's float or date rendering), one per
    cell, each distinct (format, raw text) converted once."""
    if len(num_off) == 1:
        return pa.array([], pa.large_string())
    raw = pa.Array.from_buffers(pa.large_binary(), len(num_off) - 1, [None, pa.py_buffer(num_off), pa.py_buffer(num)])
    coded = pc.dictionary_encode(raw)
    try:
        texts = [number_text(v[0], v[1:].decode("ascii"), is_1904) for v in coded.dictionary.to_pylist()]
    except (ValueError, UnicodeDecodeError) as exc:
        raise Irregular(f"a number cell not read here ({exc})") from None
    return pa.array(texts, pa.large_string()).take(coded.indices)


def _pool(shared, text, numbers):
    """All cell strings in one array and the first id of each kind's part."""
    parts = {SHARED: shared if shared is not None else pa.array([], pa.large_string()), TEXT: text,
             NUMBER: numbers, BOOL: pa.array(["False", "True"], pa.large_string()),
             ERROR: pa.array([""], pa.large_string())}  # fmt: skip
    base, at = {}, 0
    for kind, part in parts.items():
        base[kind], at = at, at + len(part)
    return pa.concat_arrays(list(parts.values())), base
