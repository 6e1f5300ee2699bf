"""The numba kernel that reads an XLSX sheet's cells as calamine does.

:func:`scan_sheet` walks the raw bytes of a sheet's ``<sheetData>`` once
and records each non-empty cell's position, kind and value, with the text
helpers of :mod:`loaders.xlsx_xml`. Positions follow calamine: a cell's
``r`` attribute, else the running row (``<row r>``, plus one per row end)
and column (one past the previous cell). Kinds: :data:`SHARED` (``value``
is the shared-string index), :data:`TEXT` (``value`` indexes the decoded
text of inline-string and formula-string cells), :data:`NUMBER` (``value``
indexes the number buffer, whose items are one format byte, 0 plain / 1
date-time / 2 duration, then the raw ``<v>`` text) and :data:`BOOL`
(``value`` 0 or 1). Empty cells are left out, as calamine leaves them out
of a sheet's range; :data:`ERROR` cells (``#N/A``, …) are not empty there
but read as empty strings. A negative status means something read differently
by calamine or not mirrored here (formulas, ISO-date cells, a
value with an entity where a number belongs, two values in one cell,
comments, prefixed names, …): the caller then lets calamine read it.

Examples
--------
>>> import numpy as np
>>> xml = (b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c>'
...        b'<c r="B1" s="1"><v>43862</v></c></row></sheetData>')
>>> out = scan_sheet(xml, 0, np.array([0, 1], np.int8), 0)
>>> status, end, rows, cols, kinds, values, text, _, num, _ = out
>>> status, end == len(xml), rows.tolist(), cols.tolist(), kinds.tolist(), bytes(text), bytes(num)
(0, True, [0, 0], [0, 1], [2, 3], b'id', b'\\x0143862')
"""

import numpy as np
from numba import njit

from .xlsx_xml import (XLSX_JIT, at, attr, decode_item, decode_text, digits, lit, next_tag, parse_ref, same, tag_end,
                       unescape_x00)

__all__ = ["scan_sheet", "SHARED", "TEXT", "NUMBER", "BOOL", "ERROR"]

SHARED, TEXT, NUMBER, BOOL, ERROR = 1, 2, 3, 4, 5

# Cell types (the ``t`` attribute).
_T_NUMBER, _T_SHARED, _T_INLINE, _T_BOOL, _T_STR, _T_ERROR = 0, 1, 2, 3, 4, 5

_ROW_OPEN, _ROW_CLOSE, _C_CLOSE = lit(b"<row"), lit(b"</row>"), lit(b"</c>")
_V_OPEN, _V_EMPTY, _V_CLOSE = lit(b"<v>"), lit(b"<v/>"), lit(b"</v>")
_IS_OPEN, _IS_EMPTY, _IS_CLOSE = lit(b"<is>"), lit(b"<is/>"), lit(b"</is>")
_ROW, _R, _SHEETDATA = lit(b"row"), lit(b"r"), lit(b"sheetData")
_N, _S, _INLINESTR, _B, _STR, _E = lit(b"n"), lit(b"s"), lit(b"inlineStr"), lit(b"b"), lit(b"str"), lit(b"e")
_ERRORS = lit(b"#DIV/0! #N/A #NAME? #NULL! #NUM! #REF! #VALUE! ")


@njit(**XLSX_JIT)
def _ends_name(b):
    return b == 32 or b == 62 or b == 47 or b == 9 or b == 10 or b == 13


@njit(**XLSX_JIT)
def _cell_attrs(x, i):
    """Attributes of the ``<c`` tag whose attributes start at ``x[i]``:
    ``(position of its '>' or -1, self-closing, r, s, t)``, each value a
    ``(start, end)`` pair, -1 when absent. Malformed attributes: -1."""
    ra = rb = sa = sb = ta = tb = -1
    n = len(x)
    while i < n:
        spaced = x[i] == 32 or x[i] == 9 or x[i] == 10 or x[i] == 13
        while i < n and (x[i] == 32 or x[i] == 9 or x[i] == 10 or x[i] == 13):
            i += 1
        if i >= n:
            break
        if x[i] == 62:
            return i, False, ra, rb, sa, sb, ta, tb
        if x[i] == 47:
            if i + 1 < n and x[i + 1] == 62:
                return i + 1, True, ra, rb, sa, sb, ta, tb
            break
        s = i
        while i < n and x[i] != 61 and not _ends_name(x[i]) and x[i] != 34 and x[i] != 39 and x[i] != 60:
            i += 1
        e = i
        if not spaced or e == s or i + 1 >= n or x[i] != 61 or (x[i + 1] != 34 and x[i + 1] != 39):
            break  # spaces around '=' are legal but never written: not mirrored
        q, v = x[i + 1], i + 2
        i = v
        while i < n and x[i] != q and x[i] != 60:
            i += 1
        if i >= n or x[i] != q:
            break
        if e - s == 1:
            if x[s] == 114:
                ra, rb = v, i
            elif x[s] == 115:
                sa, sb = v, i
            elif x[s] == 116:
                ta, tb = v, i
        i += 1
    return -1, False, 0, 0, 0, 0, 0, 0


@njit(**XLSX_JIT)
def _cell_type(x, a, b):
    if a == -1 or same(x, a, b, _N):
        return _T_NUMBER
    if same(x, a, b, _S):
        return _T_SHARED
    if same(x, a, b, _INLINESTR):
        return _T_INLINE
    if same(x, a, b, _B):
        return _T_BOOL
    if same(x, a, b, _STR):
        return _T_STR
    if same(x, a, b, _E):
        return _T_ERROR
    return -1


@njit(**XLSX_JIT)
def _is_error_code(x, a, b):
    """True for one of the error codes calamine knows (it stops on others)."""
    k = 0
    while k < len(_ERRORS):
        e = k
        while _ERRORS[e] != 32:
            e += 1
        if e - k == b - a and same(x, a, b, _ERRORS[k:e]):
            return True
        k = e + 1
    return False


@njit(**XLSX_JIT)
def _child(x, i):
    """The content of the cell whose start tag ends before ``x[i]``:
    ``(what, a, b, after)``: 0 none (``after`` is past ``</c>``), 1 a
    ``<v>`` holding ``x[a:b]``, 2 an ``<is>`` item starting at ``a``, 3 an
    empty ``<is/>``; -1 anything else (a formula, …)."""
    n = len(x)
    while i < n and x[i] != 60:
        i += 1
    if at(x, i, _C_CLOSE):
        return 0, i, i, i + 4
    if at(x, i, _V_OPEN):
        b = i + 3
        while b < n and x[b] != 60:
            b += 1
        return (1, i + 3, b, b + 4) if at(x, b, _V_CLOSE) else (-1, 0, 0, 0)
    if at(x, i, _V_EMPTY):
        return 1, i + 4, i + 4, i + 4
    if at(x, i, _IS_OPEN):
        return 2, i + 4, i + 4, -1
    if at(x, i, _IS_EMPTY):
        return 3, i + 5, i + 5, i + 5
    return -1, 0, 0, 0


@njit(**XLSX_JIT)
def _close_cell(x, i):
    """The position after the ``</c>`` due at ``x[i]`` (after blanks), or -1."""
    while i < len(x) and x[i] != 60:
        i += 1
    return i + 4 if at(x, i, _C_CLOSE) else -1


@njit(**XLSX_JIT)
def _v_value(x, a, b, ctype):
    """``(kind, value)`` of a ``<v>`` holding ``x[a:b]`` in a cell of type
    ``ctype``; value -1 for text and numbers, which the caller stores;
    kind 0 for an empty cell, -1 for one not read here."""
    if ctype == _T_INLINE:
        return 0, 0  # calamine ignores <v> beside inline text
    if ctype == _T_STR:
        return TEXT, -1
    if a == b:
        return 0, 0
    for k in range(a, b):
        if x[k] == 38:
            return -1, 0  # an entity in a number, index or boolean
    if ctype == _T_SHARED:
        return SHARED, digits(x, a, b)
    if ctype == _T_BOOL:  # calamine stops on anything but 0 and 1
        return (BOOL, x[a] - 48) if b - a == 1 and (x[a] == 48 or x[a] == 49) else (-1, 0)
    if ctype == _T_ERROR:
        return (ERROR, 0) if _is_error_code(x, a, b) else (-1, 0)
    return NUMBER, -1


@njit(**XLSX_JIT)
def _push_number(x, a, b, fmt, num, num_off, pools):
    """Store a number cell's format byte and raw text; its index."""
    o = pools[3]
    num[o] = fmt
    for k in range(b - a):
        num[o + 1 + k] = x[a + k]
    pools[2] += 1
    pools[3] = o + 1 + b - a
    num_off[pools[2]] = pools[3]
    return pools[2] - 1


@njit(**XLSX_JIT)
def _push_text(x, a, b, text, text_off, pools):
    """Decode and store the text ``x[a:b]`` of a formula string's
    ``<v>`` (entities and ``_x00HH_`` escapes, no trimming); its index."""
    end = pools[1]
    if a < b:
        j, end, ok = decode_text(x, a, text, end)
        if not ok or j != b:
            return -1
        end = unescape_x00(text, pools[1], end)
    pools[0] += 1
    pools[1] = end
    text_off[pools[0]] = end
    return pools[0] - 1


@njit(**XLSX_JIT)
def _push_item(x, a, text, text_off, pools):
    """Decode and store the ``<is>`` item starting at ``x[a]``: ``(its
    index, position after ``</is>``)``, or ``(-1, -1)``."""
    after, end = decode_item(x, a, _IS_CLOSE, text, pools[1])
    if after < 0:
        return -1, -1
    pools[0] += 1
    pools[1] = end
    text_off[pools[0]] = end
    return pools[0] - 1, after


@njit(**XLSX_JIT)
def _row_start(x, i, row):
    """The row index after the ``<row`` tag at ``x[i]``, and the position
    after it; -1 for a row not read here."""
    gt, selfclose = tag_end(x, i + 4)
    if gt < 0:
        return -1, -1
    ra, rb = attr(x, i + 4, gt, _R)
    if ra == -2:
        return -1, -1
    if ra >= 0:
        row = parse_ref(x, ra, rb, False)[0]
    return (row + 1 if selfclose and row >= 0 else row), gt + 1


@njit(**XLSX_JIT)
def _sheet(x, start, formats, n_shared, rows, cols, kinds, values, text, text_off, num, num_off, pools):
    lt, s, e, gt, is_end, selfclose = next_tag(x, start)
    if lt != start or is_end or not same(x, s, e, _SHEETDATA):
        return -1, 0
    if selfclose:
        pools[4] = gt + 1
        return 0, 0
    i, row, col, n, size, in_row = gt + 1, 0, 0, 0, len(x), False
    while True:
        while i < size and x[i] != 60:
            i += 1
        if i + 2 >= size:
            return -2, n
        if x[i + 1] == 99 and _ends_name(x[i + 2]):  # <c
            gt, selfclose, ra, rb, sa, sb, ta, tb = _cell_attrs(x, i + 2)
            ctype = _cell_type(x, ta, tb)
            if gt < 0 or ctype < 0:
                return -3, n
            row_c = row
            if ra >= 0:
                row_c, col = parse_ref(x, ra, rb, True)
                if row_c < 0:
                    return -4, n
            fmt = 0
            if sa >= 0:
                style = digits(x, sa, sb)
                if style < 0:
                    return -5, n
                fmt = formats[style] if style < len(formats) else 0
            i, kind, value = gt + 1, 0, 0
            if not selfclose:
                what, a, b, i = _child(x, i)
                if what == 1:
                    kind, value = _v_value(x, a, b, ctype)
                    if kind == NUMBER:
                        value = _push_number(x, a, b, fmt, num, num_off, pools)
                    elif kind == TEXT:
                        value = _push_text(x, a, b, text, text_off, pools)
                elif what == 2:
                    kind, (value, i) = TEXT, _push_item(x, a, text, text_off, pools)
                elif what == 3:
                    kind, value = TEXT, _push_text(x, a, a, text, text_off, pools)
                if what < 0 or kind < 0 or value < 0:
                    return -6, n
                if what > 0:
                    i = _close_cell(x, i)
                    if i < 0:
                        return -6, n
            if kind == SHARED and not 0 <= value < n_shared:
                return -7, n
            if kind:
                if n == len(rows):
                    return -8, n
                rows[n], cols[n], kinds[n], values[n] = row_c, col, kind, value
                n += 1
            col += 1
        elif at(x, i, _ROW_CLOSE):
            if not in_row:
                return -11, n  # a stray end tag: calamine's XML reader stops on it
            i, row, col, in_row = i + 6, row + 1, 0, False
        elif i + 4 < size and at(x, i, _ROW_OPEN) and _ends_name(x[i + 4]):
            if in_row:
                return -12, n
            row, i = _row_start(x, i, row)
            if row < 0:
                return -9, n
            if x[i - 2] == 47:
                col = 0
            else:
                in_row = True
        else:
            lt, s, e, gt, is_end, selfclose = next_tag(x, i)
            if lt == i and is_end and same(x, s, e, _SHEETDATA) and not in_row:
                pools[4] = gt + 1
                return 0, n
            return -10, n  # anything else, or an end tag written with spaces


def scan_sheet(data, start, formats, n_shared):
    """Read the ``<sheetData>`` element starting at ``data[start]`` (bytes).

    Returns ``(status, end, rows, cols, kinds, values, text, text_offsets,
    numbers, number_offsets)``: the position after ``</sheetData>``, then
    one entry per non-empty cell (0-based row
    and column, kind, value as in the module docstring), the decoded text
    of inline and formula-string cells, and the number cells' format byte
    and raw text. ``formats`` (int8, one per cell style) is 0 plain, 1
    date-time, 2 duration; ``n_shared`` the number of shared strings.
    """
    x = np.frombuffer(data, np.uint8)
    cap = len(x) // 12 + 2  # the shortest non-empty cell, <c><is/></c>, has 12 bytes
    rows, cols = np.empty(cap, np.int32), np.empty(cap, np.int32)
    kinds, values = np.empty(cap, np.int8), np.empty(cap, np.int64)
    text, num = np.empty(len(x), np.uint8), np.empty(len(x), np.uint8)
    text_off, num_off = np.zeros(cap + 1, np.int64), np.zeros(cap + 1, np.int64)
    pools = np.zeros(5, np.int64)  # text items, text bytes, number items, number bytes, end of sheetData
    status, n = _sheet(x, start, formats, n_shared, rows, cols, kinds, values, text, text_off, num, num_off, pools)
    nt, to, nn, no, end = pools.tolist()
    return (status, end, rows[:n], cols[:n], kinds[:n], values[:n], text[:to], text_off[: nt + 1], num[:no],
            num_off[: nn + 1])  # fmt: skip
