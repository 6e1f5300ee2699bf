"""Byte-level XML helpers that read XLSX text as calamine does.

numba functions over the raw (UTF-8) bytes of a decompressed XLSX part:
tags and attributes, text with the five XML entities and character
references decoded, and string items (``<si>`` of the shared-strings
table, ``<is>`` of an inline-string cell) read by python-calamine's rules:
rich-text runs concatenated, phonetic ``<rPh>`` runs skipped, text not
marked ``xml:space="preserve"`` trimmed of ASCII whitespace, Excel's
``_x00HH_`` escapes decoded. They stop (a negative position or status)
on anything else they would have to guess about: comments, CDATA,
namespace prefixes, raw carriage returns, unknown entities; the caller
then lets calamine read the workbook. :func:`scan_shared_strings` decodes
a whole ``xl/sharedStrings.xml``.

Examples
--------
>>> xml = (b'<sst><si><t>a &amp; b</t></si><si><r><t>x</t></r><r><t xml:space="preserve"> y</t></r></si></sst>')
>>> status, buf, off = scan_shared_strings(xml, 0)
>>> status, [bytes(buf[off[k]:off[k + 1]]) for k in range(len(off) - 1)]
(0, [b'a & b', b'x y'])
"""

import numpy as np
from numba import njit

from tracer.jit import JIT as _JIT

#: The XLSX kernels allocate nothing, so they run without numba's reference
#: counting, whose atomic updates on every array passed to a helper otherwise
#: cost more than the scan itself (3x on a 100k-row sheet).
XLSX_JIT = dict(_JIT, _nrt=False)

__all__ = ["XLSX_JIT", "scan_shared_strings", "decode_item", "decode_text", "next_tag", "attr", "same", "at", "lit",
           "parse_ref", "digits", "tag_end", "unescape_x00"]


def lit(text):
    """A byte string as a uint8 array (numba keeps global arrays as constants)."""
    return np.array(list(text), dtype=np.uint8)


_SI, _IS, _T, _RPH, _SST = lit(b"si"), lit(b"is"), lit(b"t"), lit(b"rPh"), lit(b"sst")
_SI_CLOSE = lit(b"</si>")
_SPACE, _PRESERVE, _T_OPEN, _T_CLOSE = lit(b"xml:space"), lit(b"preserve"), lit(b"<t>"), lit(b"</t>")
_AMP, _LT, _GT, _QUOT, _APOS = lit(b"amp"), lit(b"lt"), lit(b"gt"), lit(b"quot"), lit(b"apos")


# ---------------------------------------------------------------- bytes


@njit(**XLSX_JIT)
def _is_space(b):
    return b == 32 or b == 9 or b == 10 or b == 13


@njit(**XLSX_JIT)
def same(x, a, b, word):
    """True when ``x[a:b]`` is ``word``."""
    if b - a != len(word):
        return False
    for k in range(len(word)):
        if x[a + k] != word[k]:
            return False
    return True


@njit(**XLSX_JIT)
def at(x, i, word):
    """True when ``x`` holds ``word`` at ``i``."""
    return i + len(word) <= len(x) and same(x, i, i + len(word), word)


@njit(**XLSX_JIT)
def _put_char(out, o, cp):
    """UTF-8 encode code point ``cp`` at ``out[o]``; the new end."""
    if cp < 0x80:
        out[o] = cp
        return o + 1
    if cp < 0x800:
        out[o] = 0xC0 | (cp >> 6)
        out[o + 1] = 0x80 | (cp & 0x3F)
        return o + 2
    if cp < 0x10000:
        out[o] = 0xE0 | (cp >> 12)
        out[o + 1] = 0x80 | ((cp >> 6) & 0x3F)
        out[o + 2] = 0x80 | (cp & 0x3F)
        return o + 3
    out[o] = 0xF0 | (cp >> 18)
    out[o + 1] = 0x80 | ((cp >> 12) & 0x3F)
    out[o + 2] = 0x80 | ((cp >> 6) & 0x3F)
    out[o + 3] = 0x80 | (cp & 0x3F)
    return o + 4


@njit(**XLSX_JIT)
def _hex(b):
    if 48 <= b <= 57:
        return b - 48
    if 97 <= b <= 102:
        return b - 87
    if 65 <= b <= 70:
        return b - 55
    return -1


@njit(**XLSX_JIT)
def _entity(x, a, b):
    """Code point of the entity ``&x[a:b];``, or -1 when not a known one."""
    if same(x, a, b, _AMP):
        return 38
    if same(x, a, b, _LT):
        return 60
    if same(x, a, b, _GT):
        return 62
    if same(x, a, b, _QUOT):
        return 34
    if same(x, a, b, _APOS):
        return 39
    if b - a < 2 or x[a] != 35:  # '#'
        return -1
    base, k = 10, a + 1
    if x[k] == 120:  # '#x'
        base, k = 16, k + 1
    if k == b or b - k > 8:
        return -1
    cp = 0
    for j in range(k, b):
        d = _hex(x[j])
        if d < 0 or d >= base:
            return -1
        cp = cp * base + d
    ok = cp in (9, 10, 13) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or 0x10000 <= cp <= 0x10FFFF
    return cp if ok else -1


@njit(**XLSX_JIT)
def decode_text(x, i, out, o):
    """Copy the text at ``x[i]`` up to the next ``<`` into ``out[o:]``,
    decoding entities: ``(position of '<', new end of out, ok)``."""
    n = len(x)
    while i < n:
        b = x[i]
        if b == 60:
            return i, o, True
        if b == 13:
            return i, o, False  # XML turns it into \n: rare, not worth mirroring
        if b == 38:
            j = i + 1
            while j < n and j < i + 12 and x[j] != 59:
                j += 1
            if j >= n or x[j] != 59:
                return i, o, False
            cp = _entity(x, i + 1, j)
            if cp < 0:
                return i, o, False
            o = _put_char(out, o, cp)
            i = j + 1
        else:
            out[o] = b
            o += 1
            i += 1
    return i, o, False


@njit(**XLSX_JIT)
def unescape_x00(out, a, b):
    """Decode Excel's ``_x00HH_`` escapes in ``out[a:b]`` in place (as
    calamine does: two hex digits, or ``+`` and one); the new end."""
    o, k = a, a
    while k < b:
        if k + 7 <= b and out[k] == 95 and out[k + 1] == 120 and out[k + 2] == 48 and out[k + 3] == 48 \
                and out[k + 6] == 95:  # fmt: skip
            h1, h2 = out[k + 4], out[k + 5]
            v = -1
            if _hex(h1) >= 0 and _hex(h2) >= 0:
                v = _hex(h1) * 16 + _hex(h2)
            elif h1 == 43 and _hex(h2) >= 0:
                v = _hex(h2)
            if v >= 0:
                o = _put_char(out, o, v)
                k += 7
                continue
        out[o] = out[k]
        o += 1
        k += 1
    return o


# ---------------------------------------------------------------- tags


@njit(**XLSX_JIT)
def _name_char(b):
    """Not a character that ends or breaks a tag or attribute name."""
    return not (_is_space(b) or b == 62 or b == 47 or b == 61 or b == 34 or b == 39 or b == 60 or b == 38)


@njit(**XLSX_JIT)
def _name_end(x, i):
    n = len(x)
    while i < n and _name_char(x[i]):
        i += 1
    return i


@njit(**XLSX_JIT)
def tag_end(x, i):
    """Position of the ``>`` closing the tag whose attributes start at
    ``i``, and whether the tag closes itself; -1 unless the attributes
    are well-formed (``name="value"``, spaced apart, no ``<`` in values)."""
    n = len(x)
    while True:
        spaced = i < n and _is_space(x[i])
        while i < n and _is_space(x[i]):
            i += 1
        if i >= n:
            return -1, False
        if x[i] == 62:
            return i, False
        if x[i] == 47:
            return (i + 1, True) if i + 1 < n and x[i + 1] == 62 else (-1, False)
        e = _name_end(x, i)
        if e == i or not spaced:
            return -1, False
        i = e
        while i < n and _is_space(x[i]):
            i += 1
        if i >= n or x[i] != 61:
            return -1, False
        i += 1
        while i < n and _is_space(x[i]):
            i += 1
        if i >= n or (x[i] != 34 and x[i] != 39):
            return -1, False
        q = x[i]
        i += 1
        while i < n and x[i] != q:
            if x[i] == 60:
                return -1, False
            i += 1
        if i >= n:
            return -1, False
        i += 1


@njit(**XLSX_JIT)
def attr(x, a, b, name):
    """``(start, end)`` of the value of attribute ``name`` among the
    attributes in ``x[a:b]``; ``(-1, -1)`` absent, ``(-2, -2)`` malformed."""
    i = a
    while True:
        while i < b and _is_space(x[i]):
            i += 1
        if i >= b or x[i] == 47:
            return -1, -1
        s = i
        while i < b and x[i] != 61 and not _is_space(x[i]):
            i += 1
        e = i
        while i < b and _is_space(x[i]):
            i += 1
        if i >= b or x[i] != 61:
            return -2, -2
        i += 1
        while i < b and _is_space(x[i]):
            i += 1
        if i >= b or (x[i] != 34 and x[i] != 39):
            return -2, -2
        q, v = x[i], i + 1
        i = v
        while i < b and x[i] != q:
            i += 1
        if i >= b:
            return -2, -2
        if same(x, s, e, name):
            return v, i
        i += 1


@njit(**XLSX_JIT)
def _has_colon(x, a, b):
    for k in range(a, b):
        if x[k] == 58:
            return True
    return False


@njit(**XLSX_JIT)
def _skip_spaces(x, i):
    while i < len(x) and _is_space(x[i]):
        i += 1
    return i


@njit(**XLSX_JIT)
def next_tag(x, i):
    """Find the next tag from ``i``: ``(lt, name_start, name_end, attrs_end,
    closing, self_closing)``; ``lt`` is -1 at the end and -2 for comments,
    CDATA, processing instructions and prefixed names."""
    n = len(x)
    while i < n and x[i] != 60:
        i += 1
    if i + 1 >= n:
        return -1, 0, 0, 0, False, False
    closing = x[i + 1] == 47
    s = i + 2 if closing else i + 1
    if s >= n:
        return -1, 0, 0, 0, False, False
    if x[s] == 33 or x[s] == 63:
        return -2, 0, 0, 0, False, False
    e = _name_end(x, s)
    gt, selfclose = tag_end(x, e)
    if gt < 0 or e == s or _has_colon(x, s, e) or (closing and (selfclose or gt != _skip_spaces(x, e))):
        return -2, 0, 0, 0, False, False
    return i, s, e, gt, closing, selfclose


@njit(**XLSX_JIT)
def parse_ref(x, a, b, need_col):
    """0-based ``(row, col)`` of a cell reference such as ``AB12`` in
    ``x[a:b]`` (col -1 when absent and not needed); ``(-1, -1)`` if bad."""
    col, row, k = 0, 0, a
    while k < b and k - a < 3 and (65 <= x[k] <= 90 or 97 <= x[k] <= 122):
        col = col * 26 + ((x[k] - 65) if x[k] <= 90 else (x[k] - 97)) + 1
        k += 1
    if (need_col and col == 0) or k == b or b - k > 7:
        return -1, -1
    for j in range(k, b):
        if not 48 <= x[j] <= 57:
            return -1, -1
        row = row * 10 + (x[j] - 48)
    if row == 0:
        return -1, -1
    return row - 1, col - 1


@njit(**XLSX_JIT)
def digits(x, a, b):
    """The unsigned integer in ``x[a:b]``, or -1."""
    if a >= b or b - a > 12:
        return -1
    v = 0
    for k in range(a, b):
        if not 48 <= x[k] <= 57:
            return -1
        v = v * 10 + (x[k] - 48)
    return v


@njit(**XLSX_JIT)
def _trim(out, a, b):
    """Strip ASCII whitespace from ``out[a:b]``, moved to start at ``a``."""
    s, e = a, b
    while s < e and _is_space(out[s]):
        s += 1
    while e > s and _is_space(out[e - 1]):
        e -= 1
    if s > a:
        for k in range(e - s):
            out[a + k] = out[s + k]
    return a + e - s


@njit(**XLSX_JIT)
def decode_item(x, i, closing, out, o):
    """Decode the string item whose content starts at ``x[i]`` and ends
    with the end tag ``closing`` (e.g. ``</si>``) into ``out[o:]``:
    ``(position after the end tag or -1, new end of out)``."""
    phonetic, n, depth = False, len(x), 0  # depth: open tags skipped here (quick-xml wants them closed)
    while True:
        while i < n and x[i] != 60:
            i += 1
        if at(x, i, closing):
            return (-1 if depth else i + len(closing)), o
        if not phonetic and at(x, i, _T_OPEN):  # the common case, no attributes
            i, o = _decode_t(x, i + 3, False, out, o)
            if i < 0:
                return -1, o
            continue
        lt, s, e, gt, is_end, selfclose = next_tag(x, i)
        if lt < 0:
            return -1, o
        i = gt + 1
        if is_end:
            depth -= 1
            if depth < 0:
                return -1, o  # a stray end tag, or the item's own written with spaces
            if same(x, s, e, _RPH):
                phonetic = False
        elif same(x, s, e, _T) and not phonetic and not selfclose:
            va, vb = attr(x, e, gt, _SPACE)
            if va == -2:
                return -1, o
            i, o = _decode_t(x, i, va >= 0 and same(x, va, vb, _PRESERVE), out, o)
            if i < 0:
                return -1, o
        elif not selfclose:
            depth += 1
            phonetic = phonetic or same(x, s, e, _RPH)


@njit(**XLSX_JIT)
def _decode_t(x, i, preserve, out, o):
    """Decode one ``<t>`` element's text from ``x[i]`` through its end
    tag: ``(position after it or -1, new end of out)``."""
    o0 = o
    j, o, ok = decode_text(x, i, out, o)
    if not ok:
        return -1, o
    if at(x, j, _T_CLOSE):
        i = j + 4
    else:
        lt, s, e, gt, is_end, _ = next_tag(x, j)
        if lt != j or not is_end or not same(x, s, e, _T):
            return -1, o
        i = gt + 1
    if not preserve:
        o = _trim(out, o0, o)
    return i, unescape_x00(out, o0, o)


@njit(**XLSX_JIT)
def _shared_strings(x, start, buf, off):
    lt, s, e, gt, is_end, selfclose = next_tag(x, start)
    if lt != start or is_end or not same(x, s, e, _SST):
        return -1, 0
    if selfclose:
        return 0, 0
    i, o, k, depth = gt + 1, 0, 0, 0
    while True:
        lt, s, e, gt, is_end, selfclose = next_tag(x, i)
        if lt < 0:
            return -2, k
        i = gt + 1
        if is_end:
            if depth == 0:
                return (0 if same(x, s, e, _SST) else -5), k
            depth -= 1
        elif same(x, s, e, _SI):
            if depth or k + 1 >= len(off):
                return -3, k
            if not selfclose:
                i, o = decode_item(x, i, _SI_CLOSE, buf, o)
                if i < 0:
                    return -4, k
            k += 1
            off[k] = o
        elif not selfclose:
            depth += 1


def scan_shared_strings(data, start):
    """Decode the ``<sst>`` element starting at ``data[start]`` (bytes):
    ``(status, buffer, offsets)``, string ``k`` being
    ``buffer[offsets[k]:offsets[k+1]]``; status < 0 when the part holds
    something not read here."""
    x = np.frombuffer(data, np.uint8)
    buf = np.empty(len(x), np.uint8)
    off = np.zeros(data.count(b"<si") + 2, np.int64)
    status, k = _shared_strings(x, start, buf, off)
    return status, buf[: off[k]], off[: k + 1]


