"""Which source kind a raw file is, from its headers (``tracer load auto``).

A file is of a kind when its headers name every required column of that
kind's template (:mod:`loaders.templates`, English or Chinese, after the
same folding and ``--mapping`` as a load) and, for kinds that identify
people by ID number or phone, at least one of those. When several kinds
fit, the one whose template the headers cover best wins; a tie is refused
rather than guessed. Only the header is read: the first 64 KiB of a CSV
(UTF-8 or GB18030, detected), the first row of an XLSX sheet, a Parquet
file's schema.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "scans.csv")
>>> _ = open(path, "w", encoding="gb18030").write("姓名,证件号码,手机号码,场所编码,扫码时间\\n张三,,13812345678,V1,2020-02-01 09:00\\n")
>>> detect_kind(path)
'venues'
"""

import csv
import io
import os

from tracer.errors import LoadError

from .templates import KINDS, match_headers, read_mapping, template

__all__ = ["detect_kind", "group_by_kind", "header_candidates", "is_case_list", "read_headers"]

_HEAD_BYTES = 1 << 16


def read_headers(path, encoding=None):
    """The header cells of a CSV, XLSX or Parquet file (list of str)."""
    return header_candidates(path, encoding)[0]


def header_candidates(path, encoding=None, n=11):
    """The first ``n`` non-blank records of a file (lists of str): its
    header, or a title line and then the header (Parquet: its schema)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise LoadError(f"{path}: no such file" if not os.path.exists(path) else f"{path}: is a directory, not a file",
                        hint="check the path")  # fmt: skip
    lower = path.lower()
    if lower.endswith(".parquet"):
        import pyarrow.parquet as pq

        try:
            return [list(pq.read_schema(path).names)]
        except Exception as exc:
            raise LoadError(f"{path}: not a readable Parquet file: {exc}") from None
    if lower.endswith((".xlsx", ".xlsm")):
        return _xlsx_headers(path, n)
    with open(path, "rb") as fh:
        data = fh.read(_HEAD_BYTES)
    if not data.strip():
        raise LoadError(f"{path}: the file is empty", hint="nothing to load; check the export")
    text = _decode_head(path, data, encoding)
    records = []
    try:
        for record in csv.reader(io.StringIO(text, newline="")):
            if any(cell.strip() for cell in record):
                records.append([cell.strip() for cell in record])
                if len(records) == n:
                    break
    except csv.Error:
        pass  # a record cut at 64 KiB: the ones before it are enough
    if not records:
        raise LoadError(f"{path}: no header row in its first 64 KiB")
    return records


def _decode_head(path, data, encoding):
    from .io import _ENCODINGS  # the loaders' detection order: UTF-8 (BOM or not), then GB18030

    if encoding:
        return data.decode(encoding, errors="replace")
    for enc in _ENCODINGS:
        try:
            return _decode_prefix(data, enc)
        except UnicodeDecodeError:
            continue
    raise LoadError(f"{path}: neither UTF-8 nor GB18030", hint="pass --encoding")


def _decode_prefix(data, enc):
    """Decode a file's first bytes; a character cut at the end is fine."""
    import codecs

    return codecs.getincrementaldecoder(enc)().decode(data, final=False)


def _xlsx_headers(path, n):
    from .xlsx import sheet_heads

    try:
        rows = sheet_heads(path, n)[0][1]
    except Exception as exc:
        raise LoadError(f"{path}: cannot read XLSX: {exc}") from None
    if not rows:
        raise LoadError(f"{path}: the first sheet is empty", hint="nothing to load; check the export")
    return rows


def detect_kind(path, encoding=None, mapping=None):
    """The source kind of ``path`` (one of :data:`loaders.KINDS`).

    Raises :class:`~tracer.errors.LoadError` naming the file and its headers
    when no kind fits, or when several fit equally well.
    """
    candidates = header_candidates(path, encoding)
    for headers in candidates:  # the first record, or a header below a title line
        fits = _fitting_kinds(headers, read_mapping(mapping))
        if fits:
            break
    else:
        headers = candidates[0]
    shown = ", ".join(headers[:12]) + (" …" if len(headers) > 12 else "")
    if not fits:
        raise LoadError(f"{os.fspath(path)}: no source kind fits its headers ({shown})",
                        hint="name the kind (tracer load KIND FILE), or rename headers with --mapping; "
                             "`tracer load --help` lists each kind's columns")  # fmt: skip
    fits.sort(reverse=True)
    if len(fits) > 1 and fits[0][:2] == fits[1][:2]:
        raise LoadError(f"{os.fspath(path)}: its headers fit {fits[0][2]} and {fits[1][2]} equally ({shown})",
                        hint="name the kind: tracer load KIND FILE")  # fmt: skip
    return fits[0][2]


def _fitting_kinds(headers, mapping):
    """``(coverage, columns matched, kind)`` of every kind the headers fit
    (:func:`loaders.fields.header_fits`)."""
    from .fields import header_fits

    fits = []
    for kind in KINDS:
        if header_fits(headers, kind, mapping):
            n = len(set(match_headers(headers, kind, mapping).values()))
            fits.append((n / len(template(kind)), n, kind))
    return fits


#: Order in which ``tracer load auto`` loads the kinds it found: household
#: registrations first give phones their ID holders, phone-only grid rows last.
AUTO_ORDER = ("residence", "flights", "trains", "buses", "venues", "checkpoints", "presences", "grid")


def group_by_kind(paths, encoding=None, mapping=None):
    """``({kind: [paths]}, case_lists)``: the kinds in :data:`AUTO_ORDER`
    (files in the order given), and the files that are case lists (the
    ``cases`` template: an A-class list for ``trace --cases``, not a source)."""
    found, case_lists = {}, []
    for path in paths:
        try:
            kind = detect_kind(path, encoding, mapping)
        except LoadError:
            if not is_case_list(path, encoding):
                raise
            case_lists.append(path)
            continue
        from .api import check_other_sheets

        check_other_sheets(path, kind, mapping)  # a workbook's other sheets: refused before any load
        found.setdefault(kind, []).append(path)
    return {kind: found[kind] for kind in AUTO_ORDER if kind in found}, case_lists


def is_case_list(path, encoding=None):
    """Whether the headers are a case list's: who (person, ID or phone) and
    when (onset or sampled) and nothing a source needs."""
    from .cases import case_header_fits

    return any(case_header_fits(headers) for headers in header_candidates(path, encoding))
