"""Field-level steps shared by the per-kind parsers (vectorised).

A :class:`Table` gives a raw file's cells by template column name; the
helpers below normalise one kind of field, reject or warn on the ledger,
and return plain numpy/pandas values aligned with the file's rows.

Examples
--------
>>> import pandas as pd
>>> normalize_code(pd.Series([" v 001", "KM-01", None])).tolist()
['V001', 'KM-01', None]
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from tracer.errors import LoadError
from tracer.schema import FLAG_SEAT_UNKNOWN

from .coded import category_codes, coded_series
from .ids import declared_types, normalize_identity, normalize_phone
from .ledger import code_masks
from .normalize import arrow_text, distinct_rows, normalize_name, per_distinct
from .templates import IDENTITY_COLUMNS, describe_template, match_headers, template
from .timefast import parse_timestamp_column
from .timeparse import combine_date_time, parse_timestamp

__all__ = [
    "Table",
    "locate_header",
    "header_fits",
    "distinct_rows",
    "per_distinct",
    "texts",
    "normalize_code",
    "identity_fields",
    "interval_fields",
    "timestamp_field",
    "local_dates",
    "seat_flags",
    "object_frame",
    "background",
]

DAY_S = 86400


#: Rows below the first record searched for the real header (title lines
#: above it are common in exported spreadsheets).
HEADER_SEARCH_ROWS = 10


def header_fits(headers, kind, mapping=None):
    """Whether ``headers`` name every required column of ``kind`` (and an
    identity column where the kind needs one)."""
    names = set(match_headers(headers, kind, mapping).values())
    cols = template(kind)
    required = {c.name for c in cols if c.required}
    idents = [c for c in IDENTITY_COLUMNS if c in {col.name for col in cols}]
    return required <= names and (not idents or bool(names & set(idents)))


def locate_header(frame, kind, path, mapping=None, fits=None):
    """``(frame, header_line)``: when the file's first record does not name
    the template's required columns but one of the next
    :data:`HEADER_SEARCH_ROWS` records does (a title such as
    ``某区扫码记录导出`` above the header), that record becomes the header
    and the lines above it are dropped (they are not records); ``line``
    keeps the file's line numbers. ``header_line`` is the header's line
    (1 when it is the first record). ``fits(headers)`` (optional) replaces
    the template test.

    >>> import pandas as pd
    >>> raw = pd.DataFrame({"line": [2, 3], "导出": ["手机号码", "13812345678"], "x": ["网格编号", "G1"],
    ...                     "y": ["开始时间", "2020-02-01 09:00"], "z": ["结束时间", "2020-02-01 10:00"]})
    >>> got, at = locate_header(raw, "grid", "g.csv")
    >>> at, got.columns.tolist(), got["line"].tolist()
    (2, ['line', '手机号码', '网格编号', '开始时间', '结束时间'], [3])
    """
    fits = fits or (lambda cells: header_fits(cells, kind, mapping))
    headers = [c for c in frame.columns if c != "line"]
    if fits(headers) or "line" not in frame.columns:
        return frame, 1
    for k in range(min(HEADER_SEARCH_ROWS, len(frame))):
        row = frame.iloc[k]
        cells = ["" if pd.isna(row[c]) else str(row[c]).strip() for c in headers]
        if not fits(cells):
            continue
        names, seen = [], {}
        for i, cell in enumerate(cells):  # blank or repeated header cells get unique names
            name = cell or f"Unnamed: {i}"
            seen[name] = seen.get(name, 0) + 1
            names.append(name if seen[name] == 1 else f"{name}.{seen[name] - 1}")
        body = frame.iloc[k + 1 :].reset_index(drop=True)
        if not len(body):
            raise LoadError(f"{path}: has a header (line {int(row['line'])}) but no rows",
                            hint="nothing to load; check the export")  # fmt: skip
        out = pd.DataFrame({"line": body["line"].to_numpy()})
        for name, col in zip(names, headers):
            out[name] = body[col].to_numpy()
        return out, int(row["line"])
    return frame, 1


class Table:
    """A raw table seen through a kind's template.

    Parameters
    ----------
    frame : DataFrame from :func:`loaders.io.read_table`.
    kind : str, source kind.
    path : file name for error messages.
    mapping : dict ``{header: column}``, optional.
    """

    def __init__(self, frame, kind, path, mapping=None):
        self.frame = frame.reset_index(drop=True)
        self.n = len(self.frame)
        self.kind = kind
        self.columns = {col: header for header, col in match_headers(self.frame.columns, kind, mapping).items()}
        missing = [c.name for c in template(kind) if c.required and c.name not in self.columns]
        if missing:
            raise LoadError(
                f"{path}: no column for {', '.join(missing)} (headers: {', '.join(map(str, self.frame.columns[1:]))})",
                hint="template " + describe_template(kind) + "; rename other headers with --mapping",
            )
        idents = [c for c in IDENTITY_COLUMNS if c in {col.name for col in template(kind)}]
        if idents and not any(c in self.columns for c in idents):
            raise LoadError(
                f"{path}: no identity column ({' or '.join(idents)})",
                hint="a row needs an ID number or a mobile number; rename headers with --mapping",
            )

    def has(self, name):
        return name in self.columns

    def get(self, name):
        """Raw cells of a template column, or None when the file lacks it."""
        header = self.columns.get(name)
        return None if header is None else self.frame[header]

    def cells(self, name):
        """Raw cells of a column; all-missing when the file lacks it."""
        got = self.get(name)
        return pd.Series([None] * self.n, dtype=object) if got is None else got


def texts(values):
    """A Series/array of strings with NA → object array with None."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniq = category_codes(values)
        return np.append(uniq, None).astype(object)[codes]  # code -1 → the appended None
    out = np.array(pd.Series(values).astype(object), dtype=object, copy=True)
    out[pd.isna(out)] = None
    return out


def normalize_code(cells, prefix="", coded=False):
    """Place codes (venue, checkpoint, grid, address, bus run): NFKC-folded,
    spaces removed, upper-cased, after ``prefix``; blank → None (object
    array; with ``coded``, a categorical Series with NaN for blanks). The
    work runs once per distinct cell."""
    cells = pd.Series(cells).reset_index(drop=True)
    if not len(cells):
        return coded_series(np.zeros(0, np.int64), np.zeros(0, object)) if coded else np.zeros(0, dtype=object)
    codes, first = distinct_rows(cells)
    arr, _ = arrow_text(cells.iloc[first].reset_index(drop=True))
    arr = pc.utf8_upper(pc.replace_substring_regex(arr, r"\s+", ""))
    out = texts(pd.Series(arr.to_pandas(), dtype=object))
    if prefix:
        ok = ~pd.isna(out)
        out[ok] = prefix + out[ok]
    return coded_series(codes, out) if coded else out[codes]


def identity_fields(t, led):
    """Normalise ``id_type``/``id_number`` and ``phone``; reject rows with none.

    Returns a DataFrame over the file's rows: ``doc`` (18-digit ID or
    ``passport:…``), ``phone`` (11 digits), ``id_error`` (the ID cell's code
    when it was given but unusable), ``name``. Warnings: repairs of either
    field, the ID error of rows keyed by phone, ``bad-phone`` of rows keyed
    by a document. Columns are categorical when the cells repeat (the
    distinct values once, integer codes per row).
    """
    phone_job = background(per_distinct, normalize_phone, t.cells("phone"))
    name_job = background(per_distinct, normalize_name, t.cells("name")) if t.has("name") else None
    ident = per_distinct(normalize_identity, _declared_types(t.get("id_type")), t.cells("id_number"))
    phone = phone_job.result()
    id_err = ident.error
    id_given = (id_err != "missing-value").to_numpy(bool)
    ph_given = (phone.error != "missing-value").to_numpy(bool)
    has_doc, has_phone = ident.values.notna().to_numpy(), phone.values.notna().to_numpy()
    none = ~has_doc & ~has_phone
    if none.any():
        led.reject(none, "id_number" if t.has("id_number") else "phone", "no-identity",
                   _no_identity_messages(none, id_err, id_given, ph_given))  # fmt: skip
    led.warn_codes(ident.warning, "id_number", mask=has_doc)
    led.warn_codes(phone.warning, "phone", mask=has_phone)
    keyed_by_phone = id_given & ~has_doc & has_phone
    for code, where in code_masks(id_err, keyed_by_phone):
        led.warn(where, "id_number", code, f"id_number: {code}; the row is keyed by its mobile number")
    led.warn(has_doc & ph_given & ~has_phone, "phone", "bad-phone", "phone is not a mobile number; ignored")
    if name_job is not None:
        name = name_job.result().values
    else:
        name = pd.Series(np.full(t.n, None, object), dtype=object)
    return pd.DataFrame({"doc": _reindexed(ident.values), "phone": _reindexed(phone.values),
                         "id_error": _reindexed(id_err.where(keyed_by_phone)), "name": _reindexed(name)})  # fmt: skip


_POOL = {}  # pid → executor (a forked child starts its own threads)


def background(fn, *args):
    """Run ``fn(*args)`` on a worker thread; returns its Future.

    The column work of a parser (hashing, Arrow kernels, numpy) releases
    the GIL, so independent columns proceed in parallel on a second core.
    Jobs must not wait for other jobs (the pool is small and shared);
    ledger writes stay on the calling thread, in their usual order.

    >>> background(sum, [1, 2]).result()
    3
    """
    pool = _POOL.get(os.getpid())
    if pool is None:
        pool = _POOL[os.getpid()] = ThreadPoolExecutor(max_workers=2, thread_name_prefix="loaders")
    return pool.submit(fn, *args)


def _reindexed(series):
    """``series`` on a RangeIndex, object dtype unless categorical."""
    series = pd.Series(series).reset_index(drop=True)
    if isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == object:
        return series
    return pd.Series(texts(series), dtype=object)


def _declared_types(id_type):
    """``id_type`` cells reduced to what :func:`loaders.ids.normalize_identity`
    reads from them (passport, resident ID or neither), so that rows of one
    person written with different type labels share their normalisation."""
    if id_type is None:
        return None
    said_pp, said_id = declared_types(id_type, len(id_type))
    kind = np.where(said_pp, 0, np.where(said_id, 1, -1))
    return pd.Series(pd.Categorical.from_codes(kind, categories=["passport", "身份证"]))


def _no_identity_messages(none, id_err, id_given, ph_given):
    """Per-row messages of ``no-identity`` rejects (built for those rows only)."""
    out = np.full(len(none), None, dtype=object)
    sub_err = np.asarray(pd.Series(id_err)[none], dtype=object)
    err = np.where(id_given[none], sub_err, "").astype(object)
    why = np.where(id_given[none], "ID number: " + err, "no ID number").astype(object)
    why = why + np.where(ph_given[none], "; phone: bad-phone", "; no phone").astype(object)
    out[none] = "no valid ID number, passport or mobile number (" + why + ")"
    return out


def object_frame(**columns):
    """A DataFrame whose object-array columns stay object dtype (pandas 3
    would otherwise infer its Arrow ``str`` dtype: a copy per column)."""
    return pd.DataFrame({
        k: pd.Series(v, dtype=object) if isinstance(v, np.ndarray) and v.dtype == object else v
        for k, v in columns.items()
    })  # fmt: skip


def timestamp_field(t, led, name, tz, base_date=None, required=True, parsed=None):
    """Parse one time column; reject its errors (or only the non-missing
    ones when not ``required``). Returns (int64 seconds, ok mask).
    ``parsed``: the column's :func:`parse_timestamp_column`, if done."""
    if parsed is None:
        parsed = parse_timestamp_column(t.cells(name), tz=tz, base_date=base_date)
    err = parsed.error
    ok = err.isna().to_numpy()
    led.reject_codes(err, name, mask=None if required else (err != "missing-value").to_numpy(bool))
    led.warn_codes(parsed.warning, name, mask=ok)
    return parsed.values.to_numpy(dtype=np.int64, na_value=0), ok


def interval_fields(t, led, date_col, tz):
    """Travel date + dep/arr times → (start, end, place date strings).

    The place date is the travel date column's local date when readable,
    else the local date of the departure.
    """
    names = {"date": date_col, "dep_time": "dep_time", "arr_time": "arr_time"}
    iv = per_distinct(lambda d, a, b: combine_date_time(d, a, b, tz=tz),
                      t.get(date_col), t.cells("dep_time"), t.cells("arr_time"))  # fmt: skip
    err, field = iv.error.to_numpy(object), iv.field.to_numpy(object)
    bad = ~pd.isna(err)
    for f in pd.unique(field[bad]):
        led.reject_codes(np.where(field == f, err, None), names.get(f, f))
    led.warn_codes(iv.warning.to_numpy(object), "arr_time", mask=~bad)
    start = iv.start.to_numpy(dtype=np.int64, na_value=0)
    end = iv.end.to_numpy(dtype=np.int64, na_value=0)
    date = per_distinct(lambda c: parse_timestamp(c, tz=tz), t.cells(date_col))
    date_ok = pd.isna(date.error.to_numpy(object))
    day_s = np.where(date_ok, date.values.to_numpy(dtype=np.int64, na_value=0), start)
    return start, end, local_dates(day_s, tz)


def local_dates(utc_s, tz):
    """``YYYY-MM-DD`` local dates of UTC epoch seconds (object array).

    >>> local_dates(np.array([1580515500]), "Asia/Shanghai").tolist()
    ['2020-02-01']
    """
    utc_s = np.asarray(utc_s, dtype=np.int64)
    if not len(utc_s):
        return np.zeros(0, dtype=object)
    local = pd.DatetimeIndex(utc_s.astype("datetime64[s]")).tz_localize("UTC").tz_convert(tz).tz_localize(None)
    days = np.floor_divide(local.as_unit("s").asi8, DAY_S)
    uniq, inv = np.unique(days, return_inverse=True)
    names = np.datetime_as_string(uniq.astype("datetime64[D]"), unit="D").astype(object)
    return names[inv]


def seat_flags(led, seat, field):
    """Warn on unparseable seats (left unknown); FLAG_SEAT_UNKNOWN where the
    row or column is unknown. Returns (section, row, col, flags) arrays."""
    err = seat.error.to_numpy(object)
    led.warn(~pd.isna(err) & (err != "missing-value"), field, "bad-seat")
    led.warn_codes(seat.warning.to_numpy(object), field, mask=pd.isna(err))
    section, row, col = (np.asarray(s, dtype=np.int16) for s in (seat.section, seat.row, seat.col))
    flags = np.where((row < 0) | (col < 0), FLAG_SEAT_UNKNOWN, 0).astype(np.uint8)
    return section, row, col, flags
