"""The A-class case list: a CSV/XLSX/Parquet file read into ``tracer.trace``'s cases.

Headers follow the ``cases`` template (:data:`loaders.templates.TEMPLATES`),
in English or Chinese (``证件号码, 发病日期`` as well as ``person, onset``),
in any encoding the loaders detect (UTF-8, UTF-8 with BOM, GB18030). Each
case is named by ``person`` (the key as loaded), else its ``id_number``,
else its ``phone``; it is dated by ``onset``, else ``sampled``
(asymptomatic); ``isolated`` is optional. A phone or an ID in another form
is resolved by the caller (``tracer trace`` reads such keys in their stored
form).

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "cases.csv")
>>> _ = open(path, "w", encoding="gb18030").write("姓名,证件号码,手机号码,发病日期\\n张三,,138 1234 5678,2020-02-01\\n")
>>> read_cases(path).to_dict("records")
[{'person': '138 1234 5678', 'onset': '2020-02-01'}]
"""

import os

import pandas as pd

from tracer.errors import LoadError

from .fields import locate_header
from .io import read_table
from .templates import match_headers, read_mapping

__all__ = ["read_cases", "case_header_fits"]

_WHO = ("person", "id_number", "phone")
_WHEN = ("onset", "sampled", "isolated")


def read_cases(path, encoding=None, mapping=None):
    """Read a case list: a DataFrame ``person`` plus whichever of ``onset,
    sampled, isolated`` the file has (strings; blank cells as None).

    Raises :class:`~tracer.errors.LoadError` naming the file (and the line)
    when it cannot be read, has no column naming or dating the cases, or
    has a row that names no one.
    """
    mapping = read_mapping(mapping)
    frame, _ = locate_header(read_table(path, encoding), "cases", path, mapping,
                             lambda headers: case_header_fits(headers, mapping))  # a title line may come first
    names = match_headers([c for c in frame.columns if c != "line"], "cases", mapping)
    cols = {target: _text(frame[header]) for header, target in names.items()}
    path = os.fspath(path)
    headers = ", ".join(str(c) for c in frame.columns if c != "line")
    hint = ("a case list needs who (person/人员, id_number/证件号码 or phone/手机号码) and when "
            "(onset/发病日期 or sampled/采样日期; isolated/隔离日期 optional)")
    if not any(c in cols for c in _WHO):
        raise LoadError(f"{path}: no column naming the cases (headers: {headers})", hint=hint)
    if "onset" not in cols and "sampled" not in cols:
        raise LoadError(f"{path}: no onset or sampled column (headers: {headers})", hint=hint)
    person = pd.Series(None, index=frame.index, dtype=object)
    for col in _WHO:
        if col in cols:
            person = person.where(person.notna(), cols[col])
    if person.isna().any():
        line = frame["line"].iat[int(person.isna().to_numpy().argmax())] if "line" in frame.columns else None
        where = f"line {line}" if line is not None else "a row"
        raise LoadError(f"{path}: {where} names no case (no person, ID number or phone)",
                        hint="fill it in or delete the row")  # fmt: skip
    out = pd.DataFrame({"person": pd.Series(person.to_numpy(dtype=object), dtype=object)})
    for col in _WHEN:
        if col in cols:
            out[col] = pd.Series(cols[col].to_numpy(dtype=object), dtype=object)  # blanks stay None
    return out


def case_header_fits(headers, mapping=None):
    """Whether ``headers`` name who (person, ID or phone) and when (onset or sampled)."""
    names = set(match_headers(headers, "cases", mapping).values())
    return bool(names & set(_WHO)) and bool(names & {"onset", "sampled"})


def _text(column):
    """Stripped strings; blank cells as None (an object Series)."""
    text = column.astype("string").str.strip()
    text = text.where(text.str.len() > 0)
    return pd.Series(text.to_numpy(dtype=object, na_value=None), index=column.index, dtype=object)
