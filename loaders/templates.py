"""Header templates of the raw source kinds, with Chinese aliases.

Each source kind has a template: the canonical (English) column names the
loaders read, the Chinese header each one usually carries in exports, and
whether the column is required. Headers are matched after NFKC folding,
trimming, lower-casing and removing spaces, so ``ID Number``, ``id_number``
and ``证件号码`` all name the same column. A mapping (``--mapping``: a JSON
object or a two-column CSV ``source,target``) renames any other header;
unknown extra columns are ignored by the loaders but kept in the raw cells
of rejects and warnings.

This module imports nothing heavy, so ``import loaders`` and ``tracer
--help`` stay instant.

Examples
--------
>>> KINDS[:3]
('flights', 'trains', 'buses')
>>> [c.name for c in template("grid")]
['phone', 'grid_id', 'start_time', 'end_time']
>>> match_headers(["证件号码", " Scan Time ", "备注"], "venues")
{'证件号码': 'id_number', ' Scan Time ': 'scan_time'}
"""

import json
import os
import unicodedata
from typing import NamedTuple

__all__ = [
    "KINDS",
    "Column",
    "TEMPLATES",
    "IDENTITY_COLUMNS",
    "template",
    "template_table",
    "describe_template",
    "match_headers",
    "read_mapping",
]

#: Source kinds accepted by :func:`loaders.load_files` (``tracer load KIND``).
KINDS = ("flights", "trains", "buses", "venues", "checkpoints", "grid", "residence", "presences")


class Column(NamedTuple):
    """One template column: canonical name, header aliases, required flag."""

    name: str
    aliases: tuple
    required: bool = False
    help: str = ""


def _c(name, aliases, required=False, help=""):
    return Column(name, tuple(aliases), required, help)


_NAME = _c("name", ["姓名", "旅客姓名", "乘客姓名"], help="person's name as written")
_ID_TYPE = _c("id_type", ["证件类型"], help="身份证 / 护照 / ...")
_ID = _c("id_number", ["证件号码", "身份证号", "身份证号码", "证件号", "公民身份号码"], help="ID or passport number")
_PHONE = _c("phone", ["手机号码", "手机号", "联系电话", "电话号码", "手机"], help="mobile number")
_DISTRICT = _c("district", ["所属区县", "区县", "行政区"], help="district")

TEMPLATES = {
    "flights": (
        _NAME, _ID_TYPE, _ID, _PHONE,
        _c("flight_no", ["航班号"], True, "CA1234, CCA1234, ca 01234"),
        _c("flight_date", ["航班日期"], help="local date; else the date of dep_time"),
        _c("dep_airport", ["起飞机场"]),
        _c("arr_airport", ["到达机场"]),
        _c("dep_time", ["起飞时间"], True, "time of day or full timestamp"),
        _c("arr_time", ["到达时间"], True, "time of day (after midnight rolls over) or timestamp"),
        _c("seat", ["座位号"], help="23C"),
    ),
    "trains": (
        _NAME, _ID_TYPE, _ID, _PHONE,
        _c("train_no", ["车次"], True, "G1234"),
        _c("travel_date", ["乘车日期"], help="local date; else the date of dep_time"),
        _c("board_station", ["上车站"]),
        _c("alight_station", ["下车站"]),
        _c("dep_time", ["上车时间"], True, "boarding time"),
        _c("arr_time", ["下车时间"], True, "alighting time"),
        _c("carriage", ["车厢号", "车厢"], help="carriage number"),
        _c("seat", ["座位号", "铺位号"], help="12F, 05车12F, 012号上铺, 无座"),
    ),
    "buses": (
        _NAME, _ID, _PHONE,
        _c("bus_no", ["班次", "班次号", "车次"], True, "a run's identifier"),
        _c("travel_date", ["乘车日期"], help="local date; else the date of dep_time"),
        _c("dep_time", ["发车时间"], True),
        _c("arr_time", ["到达时间"], True),
        _c("seat", ["座位号"], help="3A or a seat number 1..n (4 per row)"),
    ),
    "venues": (
        _NAME, _ID, _PHONE,
        _c("venue_code", ["场所编码", "场所码"], True),
        _c("venue_name", ["场所名称"]),
        _DISTRICT,
        _c("scan_time", ["扫码时间"], True),
        _c("exit_time", ["离开时间", "离场时间"], help="optional; else an estimated end"),
    ),
    "checkpoints": (
        _c("checkpoint_id", ["卡点编号"], True),
        _c("checkpoint_name", ["卡点名称"]),
        _c("pass_time", ["通行时间"], True),
        _c("direction", ["方向"]),
        _c("plate", ["车牌号码", "车牌号", "车牌"], help="occupants of one pass share the vehicle"),
        _c("role", ["身份", "人员类型"], help="driver/驾驶员 or passenger/乘客"),
        _NAME, _ID, _PHONE,
    ),
    "grid": (
        _c("phone", _PHONE.aliases, True, "mobile number"),
        _c("grid_id", ["网格编号", "网格id"], True),
        _c("start_time", ["开始时间"], True),
        _c("end_time", ["结束时间"], True),
    ),
    "residence": (
        _NAME, _ID, _PHONE,
        _c("address_code", ["标准地址编码", "地址编码"], True),
        _c("address", ["地址", "详细地址"]),
        _DISTRICT,
        _c("move_in", ["入住日期", "入住时间"], True),
        _c("move_out", ["迁出日期", "迁出时间"], help="optional; else open-ended"),
    ),
    "presences": (
        _c("person", ["人员"], True, "person key: ID number, phone:+86..., passport:..."),
        _c("place", ["场所"], True, "place key, e.g. venue:V001"),
        _c("kind", ["类型"], True, "venue, flight, train, bus, vehicle, checkpoint, grid, residence"),
        _c("start", ["开始时间"], True),
        _c("end", ["结束时间"], True),
        _c("section", ["区段"], help="carriage or cabin; -1 or empty when unknown"),
        _c("row", ["排"]),
        _c("col", ["列"]),
        _c("name", ["姓名"]),
        _c("district", ["所属区县"]),
    ),
}  # fmt: skip

#: The case list of ``tracer trace --cases`` (not a source kind: read by
#: :func:`loaders.cases.read_cases`); ``person`` or else ``id_number`` or
#: ``phone`` names each case, ``onset`` or ``sampled`` dates it.
TEMPLATES["cases"] = (
    _c("person", ["人员", "key"], help="person key as loaded; else id_number or phone"),
    _NAME, _ID, _PHONE,
    _c("onset", ["发病日期", "发病时间", "症状出现日期", "onset_date"], help="symptom onset (local date or time)"),
    _c("sampled", ["采样日期", "采样时间", "sample_date", "sampling_date"], help="sampling date (asymptomatic)"),
    _c("isolated", ["隔离日期", "隔离时间", "isolation_date"], help="isolated from (ends the infectious window)"),
)  # fmt: skip

#: Kinds whose rows identify a person by ID number and/or phone (at least
#: one of these columns must be present in the file).
IDENTITY_COLUMNS = ("id_number", "phone")


def template(kind):
    """The template columns of ``kind`` (a tuple of :class:`Column`)."""
    from tracer.errors import LoadError

    try:
        return TEMPLATES[kind]
    except KeyError:
        raise LoadError(f"unknown source kind {kind!r}", hint="use one of " + ", ".join(KINDS)) from None


def template_table(kind=None):
    """Rows ``(kind, column, chinese, required, help)`` for ``--help`` and docs.

    >>> template_table("grid")[0]
    ('grid', 'phone', '手机号码', True, 'mobile number')
    """
    kinds = KINDS if kind is None else (kind,)
    return [(k, c.name, c.aliases[0] if c.aliases else "", c.required, c.help) for k in kinds for c in template(k)]


def describe_template(kind):
    """One line per kind: ``name/中文`` columns, required ones marked ``*``.

    >>> describe_template("grid")
    'grid: phone/手机号码*, grid_id/网格编号*, start_time/开始时间*, end_time/结束时间*'
    """
    cols = [f"{c.name}/{c.aliases[0]}{'*' if c.required else ''}" for c in template(kind)]
    return f"{kind}: " + ", ".join(cols)


def _norm_header(text):
    text = unicodedata.normalize("NFKC", str(text)).strip().lower().lstrip("\ufeff*")
    return "".join(text.replace("-", " ").replace("_", " ").split())


def match_headers(headers, kind, mapping=None):
    """Map file headers to template column names.

    Parameters
    ----------
    headers : iterable of str, the file's headers.
    kind : str, a source kind.
    mapping : dict, optional, ``{file header: template column}`` applied
        first (compared after the same folding as the templates).

    Returns
    -------
    dict ``{file header: column}``; headers that match nothing are absent,
    and when two headers name the same column the first one wins.
    """
    lookup = {}
    for col in template(kind):
        for label in (col.name,) + col.aliases:
            lookup.setdefault(_norm_header(label), col.name)
    custom = {_norm_header(k): str(v).strip() for k, v in (mapping or {}).items()}
    names = {c.name for c in template(kind)}
    out, taken = {}, set()
    for header in headers:
        if header == "line":
            continue
        key = _norm_header(header)
        target = custom.get(key) or lookup.get(key)
        if target in names and target not in taken:
            out[header] = target
            taken.add(target)
    return out


def read_mapping(mapping):
    """A header mapping from a dict, a JSON file or a CSV ``source,target`` file.

    Raises :class:`~tracer.errors.LoadError` when the file cannot be read.
    """
    from tracer.errors import LoadError

    if mapping is None or isinstance(mapping, dict):
        return dict(mapping or {})
    path = os.fspath(mapping)
    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(f"{path}: cannot read the header mapping: {exc}") from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LoadError(f"{path}: not valid JSON: {exc}", hint='write {"their header": "column"}') from None
        return {str(k): str(v) for k, v in data.items()}
    out = {}
    for i, line in enumerate(text.splitlines()):
        parts = [p.strip() for p in line.split(",")]
        if i == 0 and [p.lower() for p in parts[:2]] == ["source", "target"]:
            continue
        if len(parts) >= 2 and parts[0] and parts[1]:
            out[parts[0]] = parts[1]
        elif line.strip():
            raise LoadError(f"{path}: line {i + 1}: expected 'source,target'", hint="one header pair per line")
    return out
