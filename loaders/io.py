"""Reading raw tables: CSV (UTF-8, UTF-8 with BOM, GB18030/GBK), XLSX, Parquet.

Every cell comes back as a string (or missing), so that the loaders see
exactly what was in the file and can keep raw cells in rejects.
"""

import json
import os

import numpy as np
import pandas as pd

from tracer.errors import LoadError

__all__ = ["read_table", "detect_encoding", "make_rejects", "REJECT_COLUMNS"]

REJECT_COLUMNS = ["file", "line", "field", "code", "message", "raw"]
_ENCODINGS = ("utf-8-sig", "gb18030")


def detect_encoding(data: bytes):
    """Return the encoding that decodes ``data``: UTF-8 (with or without
    BOM) first, then GB18030 (a superset of GBK and GB2312)."""
    for enc in _ENCODINGS:
        try:
            data.decode(enc)
            return enc
        except UnicodeDecodeError:
            continue
    return None


def read_table(path, encoding=None):
    """Read a raw table into a DataFrame of strings.

    ``line`` (1-based file line of each row, header = line 1) is added as a
    column for CSV and XLSX. Raises :class:`~tracer.errors.LoadError` with
    the path and what to do for a missing, empty or undecodable file.
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


def _read_csv(path, encoding):
    with open(path, "rb") as fh:
        data = fh.read()
    enc = encoding or detect_encoding(data)
    if enc is None:
        raise LoadError(
            f"{path}: cannot decode as UTF-8 or GB18030",
            hint="pass --encoding with the file's encoding",
        )
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        raise LoadError(f"{path}: cannot decode with encoding {enc!r}: {exc}") from None
    import io

    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise LoadError(f"{path}: the file has no header row", hint="nothing to load") from None
    except pd.errors.ParserError as exc:
        raise LoadError(f"{path}: not a well-formed CSV file: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.replace({"": None})
    # File lines: header is line 1; blank lines are skipped by the parser,
    # so count them from the text to keep line numbers true.
    frame.insert(0, "line", _data_lines(text)[: len(frame)])
    return frame


def _data_lines(text):
    lines = text.splitlines()
    numbers = [i + 1 for i, line in enumerate(lines) if line.strip()]
    return np.asarray(numbers[1:], dtype=np.int64)


def _read_xlsx(path):
    try:
        frame = pd.read_excel(path, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise LoadError(f"{path}: not a readable XLSX workbook: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.astype(object).where(frame.notna(), None)
    frame.insert(0, "line", np.arange(2, len(frame) + 2, dtype=np.int64))
    return frame


def _read_parquet(path):
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:
        raise LoadError(f"{path}: not a readable Parquet file: {exc}") from None
    frame.insert(0, "line", np.arange(1, len(frame) + 1, dtype=np.int64))
    return frame


def make_rejects(file, frame, mask, field, code, message):
    """Rejects for the rows of ``frame`` selected by ``mask``, one per row,
    keeping the raw cells as JSON."""
    rows = frame[mask]
    raw_cols = [c for c in frame.columns if c != "line"]
    raw = [json.dumps(r, ensure_ascii=False, default=str) for r in rows[raw_cols].to_dict("records")]
    return pd.DataFrame(
        {
            "file": os.fspath(file),
            "line": rows["line"].to_numpy(np.int64),
            "field": field,
            "code": code,
            "message": message if isinstance(message, str) else np.asarray(message)[np.asarray(mask)],
            "raw": raw,
        },
        columns=REJECT_COLUMNS,
    )
