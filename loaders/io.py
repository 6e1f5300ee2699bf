"""Reading raw tables: CSV (UTF-8, UTF-8 with BOM, GB18030/GBK), XLSX, Parquet.

Every cell comes back as a string (or missing), so that the loaders see
exactly what was in the file and can keep raw cells in rejects.

CSV files are read by Arrow's multi-threaded reader straight into Arrow
string columns (pandas ``str`` dtype, missing cells NaN); the ``line``
column is the true file line where each record starts, counted on the
bytes (quoted cells may hold line breaks). Files Arrow's reader does not
take as they are (ragged rows, whitespace-only lines, blank or repeated
headers, quotes inside unquoted cells) are read by pandas' reader, with
line numbers from Python's :mod:`csv` module. XLSX workbooks are read by
:mod:`loaders.xlsx` (python-calamine when installed, else openpyxl).
"""

import codecs
import csv
import io
import json
import os
import sys
import threading

import numpy as np
import pandas as pd

from tracer.errors import LoadError
from tracer.jit import JIT_MIN_ROWS, jit_pays

__all__ = ["read_table", "detect_encoding", "make_rejects", "raw_records", "record_lines", "REJECT_COLUMNS",
           "start_numba_early"]

REJECT_COLUMNS = ["file", "line", "field", "code", "message", "raw"]
_ENCODINGS = ("utf-8-sig", "gb18030")
_BOM = b"\xef\xbb\xbf"
_UTF8 = {"utf8", "utf-8", "utf-8-sig", "utf8-sig", "u8"}


class _Irregular(Exception):
    """The fast CSV path cannot read this file exactly as pandas would."""


def _is_utf8(data: bytes):
    """True when ``data`` is valid UTF-8 (Arrow's SIMD validation, no copy)."""
    import pyarrow as pa

    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    blob = pa.LargeBinaryArray.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        blob.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def detect_encoding(data: bytes):
    """Return the encoding that decodes ``data``: UTF-8 (with or without
    BOM) first, then GB18030 (a superset of GBK and GB2312).

    >>> detect_encoding("姓名".encode("gb18030")), detect_encoding(b"name")
    ('gb18030', 'utf-8-sig')
    """
    if _is_utf8(data):
        return "utf-8-sig"
    for enc in _ENCODINGS[1:]:
        try:
            data.decode(enc)
            return enc
        except UnicodeDecodeError:
            continue
    return None


def read_table(path, encoding=None):
    """Read a raw table into a DataFrame of strings.

    ``line`` (1-based file line where each row starts, header = line 1 when
    the file has no leading blank lines) is added as a column for CSV and
    XLSX. Raises :class:`~tracer.errors.LoadError` with the path and what
    to do for a missing, empty or undecodable file.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise LoadError(f"{path}: no such file", hint="check the path")
    if os.path.isdir(path):
        raise LoadError(f"{path}: is a directory, not a file")
    if os.path.getsize(path) == 0:
        raise LoadError(f"{path}: the file is empty", hint="nothing to load; check the export")
    lower = path.lower()
    if lower.endswith(".parquet"):
        frame = _read_parquet(path)
    elif lower.endswith((".xlsx", ".xlsm")):
        frame = _read_xlsx(path)
    else:
        frame = _read_csv(path, encoding)
    if frame.empty:
        raise LoadError(f"{path}: has a header but no rows", hint="nothing to load; check the export")
    return frame


#: CSV bytes from which a load will run numba kernels (``JIT_MIN_ROWS`` rows
#: of at least 64 bytes; the venues template writes about 100 a row).
NUMBA_EARLY_BYTES = JIT_MIN_ROWS * 64


def start_numba_early(paths):
    """Begin importing numba on a worker thread when ``paths`` are large
    enough for the loaders' kernels (True when started).

    Importing numba and starting its compiler context costs about 0.5 s
    once per process, Python work that holds the GIL; the file is read and
    parsed meanwhile by Arrow's threads, which do not. The first kernel a
    load calls then waits at most for what is left (the import lock).
    """
    if "numba" in sys.modules:
        return False
    total = 0
    for path in paths:
        if str(path).lower().endswith((".csv", ".txt")) and os.path.isfile(path):
            total += os.path.getsize(path)
    if total < NUMBA_EARLY_BYTES:
        return False
    threading.Thread(target=_load_a_kernel, name="loaders-numba", daemon=True).start()
    return True


def _load_a_kernel():
    try:
        from .kernels import count_byte  # numba, and the kernel read_table calls first

        count_byte(np.zeros(1, dtype=np.uint8), 10)
    except Exception:  # noqa: BLE001 - the load meets the same error where it reports errors
        pass


def _utf8_bytes(path, data, encoding):
    """The file's bytes as UTF-8 without BOM (decoding only when needed)."""
    enc = encoding or detect_encoding(data)
    if enc is None:
        raise LoadError(
            f"{path}: cannot decode as UTF-8 or GB18030",
            hint="pass --encoding with the file's encoding",
        )
    if encoding is None and enc == "utf-8-sig":  # validated by detect_encoding
        return data[3:] if data.startswith(_BOM) else data
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        raise LoadError(f"{path}: cannot decode with encoding {enc!r}: {exc}") from None
    return text.encode("utf-8")


def _read_csv(path, encoding):
    with open(path, "rb") as fh:
        data = fh.read()
    if encoding is None and _utf8_start(data):
        # Likely UTF-8: Arrow's reader validates every cell as it converts it
        # (the header is checked above), so a file it reads is valid UTF-8
        # without a separate pass over all its bytes.
        body = data[3:] if data.startswith(_BOM) else data
        try:
            return _arrow_csv(body)
        except _Irregular:
            if _is_utf8(body):  # valid but irregular: pandas' reader
                return _pandas_csv(path, body)
    if encoding is None:
        _refuse_mixed(path, data[3:] if data.startswith(_BOM) else data)
    data = _utf8_bytes(path, data, encoding)
    try:
        frame = _arrow_csv(data)
    except _Irregular:
        frame = _pandas_csv(path, data)
    return frame


def _refuse_mixed(path, body, min_extra=12):
    """A file that is not UTF-8 throughout but whose text up to the first
    invalid byte is UTF-8 with real non-ASCII text (``min_extra`` bytes of
    beyond one per character: six Chinese characters; random Chinese text in
    GB18030 passed as UTF-8 for three such characters in about 5 of 100,000
    trials, and rarer still for six) mixes encodings, say
    UTF-8 rows followed by GB18030 rows: decoding it whole as GB18030 would
    garble the UTF-8 part silently (UTF-8 Chinese is often valid GB18030
    byte by byte). :class:`LoadError` naming the first line that is not
    UTF-8. A GB18030 file fails UTF-8 within its first non-ASCII characters;
    a plain-ASCII start is no evidence either way; both go on to detection.

    >>> _refuse_mixed("f.csv", "名字".encode("gb18030") * 20)  # GB18030 throughout: fine
    """
    try:
        body.decode("utf-8")
        return
    except UnicodeDecodeError as exc:
        bad = exc.start
    extra = bad - len(body[:bad].decode("utf-8"))  # bytes beyond one per character
    if extra < min_extra:
        return
    line = body.count(b"\n", 0, bad) + 1
    raise LoadError(
        f"{path}: mixes encodings: it starts in UTF-8, but line {line} is not UTF-8"
        " (GB18030 rows appended to a UTF-8 export?); nothing was loaded",
        hint="re-save the file in one encoding, or pass --encoding to read all of it as one",
    )


def _utf8_start(data, size=1 << 16):
    """The first ``size`` bytes (which hold the header) are valid UTF-8
    (a character cut at the end of them is fine)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data[:size], final=len(data) <= size)
    except UnicodeDecodeError:
        return False
    return True


def _header(data):
    """Header cells of a CSV (first non-blank record), by the csv module."""
    head = data[: 1 << 16].decode("utf-8", errors="replace")
    for record in csv.reader(io.StringIO(head, newline="")):
        if record:
            return record
    raise _Irregular


def _arrow_csv(data):
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = _header(data)
    if len(names) < 2 or len(set(names)) < len(names) or any(not n.strip() for n in names):
        raise _Irregular  # pandas renames blank/repeated headers; one column: blank-line rules differ
    quoted = b'"' in data
    try:
        table = pcsv.read_csv(
            pa.py_buffer(data),
            read_options=pcsv.ReadOptions(block_size=_block_size(len(data))),
            parse_options=pcsv.ParseOptions(newlines_in_values=quoted),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.large_string() for n in names}, null_values=[""],
                strings_can_be_null=True, quoted_strings_can_be_null=True,
            ),  # fmt: skip
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise _Irregular from None
    if table.column_names != names or any(t != pa.large_string() for t in table.schema.types):
        raise _Irregular
    if _plain(data, table.num_rows):  # one record per line: no need to find them
        lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
    else:
        lines = record_lines(data)
    if lines is None or len(lines) != table.num_rows:
        raise _Irregular
    # chunks stay as they are (one per block): combining would copy every
    # string once more; the loaders hash or parse the chunked columns directly
    frame = table.to_pandas()
    frame.columns = [str(c).strip() for c in names]
    frame.insert(0, "line", lines)
    return frame


def _block_size(n_bytes):
    """Arrow CSV block: a few blocks per core (parallel parsing), at least
    1 MiB, at most 16 MiB (fewer, larger chunks are cheaper downstream)."""
    return int(min(max(n_bytes // (4 * (os.cpu_count() or 1)) + 1, 1 << 20), 16 << 20))


def _plain(data, n_records=None):
    """One record per line: no quotes, no carriage returns, no blank lines
    (with ``n_records``, the data records a reader found: then blank lines
    show as a line count that does not match, which is cheaper to check)."""
    if b"\r" in data or b'"' in data or data.startswith(b"\n"):
        return False
    if n_records is None:
        return b"\n\n" not in data
    if jit_pays(n_records):
        from .kernels import count_byte  # numba (2.5x bytes.count), imported on first use

        newlines = int(count_byte(np.frombuffer(data, dtype=np.uint8), 10))
    else:
        newlines = data.count(b"\n")
    return newlines + (0 if data.endswith(b"\n") else 1) == n_records + 1


def record_lines(data: bytes):
    """File line (1-based) where each data record of a CSV starts.

    Line breaks are ``\\n``, ``\\r\\n`` and ``\\r``; breaks inside quoted
    cells do not end a record; empty lines are skipped (not records); the
    first record is the header. Returns None when the file has a quote
    inside an unquoted cell (then only a full CSV parser knows).

    >>> record_lines(b'a,b\\n\\n"x\\ny",1\\n2,3\\n').tolist()
    [3, 5]
    """
    if _plain(data):
        n = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        return np.arange(2, n + 1, dtype=np.int64)
    u8 = np.frombuffer(data, dtype=np.uint8)
    nl = u8 == 10
    cr = u8 == 13
    if cr.any():
        nl |= cr & np.append(u8[1:] != 10, True)  # a lone \r is a break; \r\n counts once (at \n)
    breaks = np.flatnonzero(nl)
    quotes = np.flatnonzero(u8 == 34)
    if len(quotes):
        if not _regular_quotes(u8, quotes):
            return None
        breaks = breaks[np.searchsorted(quotes, breaks) % 2 == 0]
        all_breaks = np.flatnonzero(nl)
    else:
        all_breaks = breaks
    # record k spans (starts[k], ends[k]); ends exclude the break (\r\n: from \r)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(u8)]])
    crlf = (ends > 0) & (ends < len(u8))
    crlf[crlf] = (u8[ends[crlf]] == 10) & (u8[ends[crlf] - 1] == 13)
    ends = ends - crlf
    keep = ends > starts
    starts = starts[keep]
    lines = 1 + np.searchsorted(all_breaks, starts)  # breaks before the record's start
    return lines[1:].astype(np.int64)


def _regular_quotes(u8, quotes):
    """Every quote opens a cell, closes it, or is half of an escaped ``""``."""
    seps = np.array([44, 10, 13], dtype=np.uint8)
    opening = np.arange(len(quotes)) % 2 == 0
    prev = np.where(quotes > 0, u8[np.maximum(quotes - 1, 0)], 10)
    nxt = np.where(quotes + 1 < len(u8), u8[np.minimum(quotes + 1, len(u8) - 1)], 10)
    escaped_second = opening & (prev == 34)
    escaped_first = ~opening & (nxt == 34)
    ok_open = ~opening | escaped_second | np.isin(prev, seps)
    ok_close = opening | escaped_first | np.isin(nxt, seps)
    return bool((ok_open & ok_close).all())


def _pandas_csv(path, data):
    text = data.decode("utf-8")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise LoadError(f"{path}: the file has no header row", hint="nothing to load") from None
    except pd.errors.ParserError as exc:
        raise LoadError(f"{path}: not a well-formed CSV file: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.replace({"": None})
    frame.insert(0, "line", _csv_module_lines(text, len(frame)))
    return frame


def _csv_module_lines(text, n):
    """Start lines of the data records by Python's csv parser (the slow,
    exact path for files the fast path declines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    lines, before = [], 0
    for record in reader:
        if record and not (len(record) == 1 and not record[0].strip()):
            lines.append(before + 1)
        before = reader.line_num
    lines = np.asarray(lines[1:], dtype=np.int64)
    if len(lines) < n:  # the two parsers disagree: keep what we know
        lines = np.concatenate([lines, np.arange(n - len(lines)) + (lines[-1] + 1 if len(lines) else 2)])
    return lines[:n]


def _read_xlsx(path):
    from .xlsx import read_xlsx  # python-calamine when installed, else openpyxl

    frame = read_xlsx(path)
    frame.insert(0, "line", np.arange(2, len(frame) + 2, dtype=np.int64))
    return frame


def _read_parquet(path):
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:
        raise LoadError(f"{path}: not a readable Parquet file: {exc}") from None
    frame.insert(0, "line", np.arange(1, len(frame) + 1, dtype=np.int64))
    return frame


def raw_records(frame):
    """The raw cells of each row of ``frame`` (without ``line``) as JSON
    objects under the file's headers; missing cells are ``null``."""
    raw_cols = [c for c in frame.columns if c != "line"]
    cells = frame[raw_cols].astype(object)
    cells = cells.where(cells.notna(), None)
    return [json.dumps(r, ensure_ascii=False, default=str) for r in cells.to_dict("records")]


def make_rejects(file, frame, mask, field, code, message):
    """Rejects for the rows of ``frame`` selected by ``mask``, one per row,
    keeping the raw cells as JSON."""
    rows = frame[mask]
    return pd.DataFrame(
        {
            "file": os.fspath(file),
            "line": rows["line"].to_numpy(np.int64),
            "field": field,
            "code": code,
            "message": message if isinstance(message, str) else np.asarray(message)[np.asarray(mask)],
            "raw": raw_records(rows),
        },
        columns=REJECT_COLUMNS,
    )
