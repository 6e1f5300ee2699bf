"""Tests of the shared normalisation helpers (loaders.normalize & co.) and
tracer.privacy: hypothesis round trips against pure-Python oracles, tables
of real-world spellings, and alignment of vectorised results."""

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders.ids import normalize_id_number, normalize_identity, normalize_phone, phone_key
from loaders.normalize import ERROR_CODES, WARNING_CODES, normalize_name
from loaders.timeparse import combine_date_time, parse_timestamp
from loaders.transport import (
    normalize_flight_no,
    normalize_plate,
    normalize_train_no,
    parse_flight_seat,
    parse_train_seat,
)
from tracer.privacy import mask_id, mask_key, mask_name, mask_phone, mask_place

TODAY = dt.date(2024, 6, 30)
SHANGHAI = ZoneInfo("Asia/Shanghai")


# ---------------------------------------------------------------- oracles


def oracle_check_char(first17):
    """GB 11643 check character, written independently of loaders.ids."""
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(first17))
    return "10X98765432"[total % 11]


def oracle_id(region, birth, seq):
    first17 = f"{region:06d}{birth:%Y%m%d}{seq:03d}"
    return first17 + oracle_check_char(first17)


def oracle_epoch(local, tz=SHANGHAI):
    return int(local.replace(tzinfo=tz).timestamp())


def one(fn, value, **kw):
    """Run a vectorised helper on a single cell."""
    return fn(pd.Series([value], dtype=object), **kw)


regions = st.integers(110000, 829999)
births = st.dates(dt.date(1900, 1, 1), TODAY)
seqs = st.integers(0, 999)


# ------------------------------------------------------------ ID numbers


@settings(max_examples=200, deadline=None)
@given(regions, births, seqs)
def test_valid_ids_are_accepted_unchanged(region, birth, seq):
    id18 = oracle_id(region, birth, seq)
    r = one(normalize_id_number, id18, today=TODAY)
    assert r.error[0] is None and r.warning[0] is None
    assert r.values[0] == id18


@settings(max_examples=200, deadline=None)
@given(regions, births, seqs, st.integers(0, 17), st.integers(1, 10))
def test_one_changed_character_is_a_checksum_error(region, birth, seq, pos, shift):
    id18 = oracle_id(region, birth, seq)
    alphabet = "0123456789X" if pos == 17 else "0123456789"
    old = alphabet.index(id18[pos])
    new = alphabet[(old + shift) % len(alphabet)]
    if new == id18[pos]:
        return
    r = one(normalize_id_number, id18[:pos] + new + id18[pos + 1 :], today=TODAY)
    assert r.error[0] == "bad-id-checksum"
    assert pd.isna(r.values[0])


@settings(max_examples=100, deadline=None)
@given(regions, st.dates(dt.date(1900, 1, 1), dt.date(1999, 12, 31)), seqs)
def test_15_digit_ids_upgrade_to_valid_18(region, birth, seq):
    id15 = f"{region:06d}{birth:%y%m%d}{seq:03d}"
    r = one(normalize_id_number, id15, today=TODAY)
    assert r.error[0] is None
    assert r.warning[0] == "id-upgraded-15-to-18"
    assert r.values[0] == oracle_id(region, birth, seq)
    again = one(normalize_id_number, r.values[0], today=TODAY)
    assert again.error[0] is None and again.values[0] == r.values[0]


def test_id_repairs_and_errors():
    x_id = oracle_id(110105, dt.date(1949, 12, 31), 2)
    assert x_id.endswith("X")
    cells = pd.Series([
        x_id[:-1] + "x",                     # lower-case x
        " ".join([x_id[:6], x_id[6:14], x_id[14:]]),  # spaces
        "".join(chr(ord(c) + 0xFEE0) for c in x_id),  # full-width
        None, "", "12345",
        oracle_id(110105, dt.date(1899, 12, 31), 1),  # before 1900
        oracle_id(110105, dt.date(2030, 1, 1), 1),    # future (vs TODAY)
        "11010520230230" + "001" + oracle_check_char("11010520230230001"),  # 30 Feb
        "110105491231002.0",                 # 15 digits through a float
        "'" + x_id,                          # spreadsheet text marker
    ], dtype=object)
    r = normalize_id_number(cells, today=TODAY)
    assert r.values[:3].tolist() == [x_id] * 3
    assert r.warning[0] == "id-lowercase-x"
    assert r.warning[1] is None
    assert r.warning[2] == "fullwidth-normalised"
    assert r.error.tolist()[3:] == [
        "missing-value", "missing-value", "bad-id-format",
        "bad-id-birthdate", "bad-id-birthdate", "bad-id-birthdate", None, None,
    ]
    assert r.values[9] == r.values[10] == x_id


def test_identity_passports_and_ids():
    valid = oracle_id(530102, dt.date(1980, 1, 1), 123)
    bad_check = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    types = pd.Series(["护照", None, "passport", "身份证", None, "身份证", "Passport", None])
    numbers = pd.Series(["e 1234-5678", "G1234567", valid, "E12345678", bad_check, valid, "E1", "ABCDE"])
    r = normalize_identity(types, numbers, today=TODAY)
    assert r.values[0] == "passport:E12345678"
    assert r.values[1] == "passport:G1234567"
    assert r.values[2] == valid and r.warning[2] == "id-type-mismatch"
    assert r.error[3] == "bad-id-format"  # declared ID, passport-shaped: no guess
    assert r.error[4] == "bad-id-checksum"
    assert r.values[5] == valid and r.error[5] is None
    assert r.error[6] == "bad-id-format"  # too short for a passport
    assert r.error[7] == "bad-id-format"  # no digit
    assert r.values.isna().tolist() == [e is not None for e in r.error]


# ---------------------------------------------------------------- phones

phone_numbers = st.builds(
    lambda second, rest: f"1{second}{rest:09d}", st.integers(3, 9), st.integers(0, 10**9 - 1)
)


@settings(max_examples=200, deadline=None)
@given(
    phone_numbers,
    st.sampled_from(["", "+86", "+86 ", "0086", "86", "(+86)", "+86-"]),
    st.sampled_from(["", " ", "-", ".", " - "]),
    st.booleans(),
)
def test_formatted_phones_normalise_back(number, prefix, sep, fullwidth):
    text = prefix + number[:3] + sep + number[3:7] + sep + number[7:]
    if fullwidth:
        text = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    r = one(normalize_phone, text)
    assert r.error[0] is None, text
    assert r.values[0] == number
    assert ("phone-country-code-stripped" in (r.warning[0] or "")) == bool(prefix)
    assert phone_key(pd.Series([text]))[0] == "phone:+86" + number


@pytest.mark.parametrize("cell", ["12812345678", "1381234567", "138123456789", "abc", "+1 4155550123", "010-12345678"])
def test_bad_phones(cell):
    assert one(normalize_phone, cell).error[0] == "bad-phone"


def test_phone_from_number_cells():
    r = normalize_phone(pd.Series([13812345678, 13812345678.0, np.nan], dtype=object))
    assert r.values[:2].tolist() == ["13812345678"] * 2
    assert r.error.tolist() == [None, None, "missing-value"]


# ------------------------------------------------------------- transport

PLATES = [
    ("京A12345", "京A12345"), ("京a·12345", "京A12345"), ("粤B D12345", "粤BD12345"),
    ("粤BD1234 5", "粤BD12345"), ("沪A-12345D", "沪A12345D"), ("苏E．ABC12", "苏EABC12"),
    ("浙Ａ１２３４５", "浙A12345"), ("粤Z1234港", "粤Z1234港"), ("使014578", "使014578"),
    ("X A12345", None), ("京A1234", None), ("京A1234567", None), ("京AX12345", None),
]


@pytest.mark.parametrize("cell,expected", PLATES)
def test_plates(cell, expected):
    r = one(normalize_plate, cell)
    assert (None if pd.isna(r.values[0]) else r.values[0]) == expected
    assert (r.error[0] is None) == (expected is not None)
    if expected is None:
        assert r.error[0] == "bad-plate"


FLIGHTS = [
    ("CA1234", "CA1234", None), ("CA 1234", "CA1234", None), ("ca1234", "CA1234", None),
    ("CA01234", "CA1234", None), ("CA0123", "CA123", None), ("ＣＡ１２３４", "CA1234", "fullwidth-normalised"),
    ("CCA1234", "CA1234", "icao-mapped-to-iata"), ("CES 5101", "MU5101", "icao-mapped-to-iata"),
    ("CHB6001", "PN6001", "icao-mapped-to-iata"), ("HXA2801", "G52801", "icao-mapped-to-iata"),
    ("3U8888", "3U8888", None), ("9c8841", "9C8841", None), ("MU5101A", "MU5101A", None),
    ("XYZ123", "XYZ123", None), ("CA-981", "CA981", None),
    ("CA12345", None, None), ("CA0", None, None), ("1234", None, None), ("C", None, None),
]


@pytest.mark.parametrize("cell,expected,warning", FLIGHTS)
def test_flight_numbers(cell, expected, warning):
    r = one(normalize_flight_no, cell)
    assert (None if pd.isna(r.values[0]) else r.values[0]) == expected
    assert r.warning[0] == warning
    assert (r.error[0] == "bad-flight-no") == (expected is None)


TRAINS = [
    ("G1234", "G1234", None), ("g 1234", "G1234", None), ("D301次", "D301", None), ("K9", "K9", None),
    ("1461", "1461", None), ("1461.0", "1461", None), ("Z 1 次", "Z1", None),
    ("K1234/1235", "K1234", "train-no-split"), ("T110/T111", "T110", "train-no-split"),
    ("X123", None, None), ("G12345", None, None), ("123", None, None), ("次", None, None),
]


@pytest.mark.parametrize("cell,expected,warning", TRAINS)
def test_train_numbers(cell, expected, warning):
    r = one(normalize_train_no, cell)
    assert (None if pd.isna(r.values[0]) else r.values[0]) == expected
    assert r.warning[0] == warning
    assert (r.error[0] == "bad-train-no") == (expected is None)


FLIGHT_SEATS = [
    ("23C", 23, 2), ("023c", 23, 2), (" 23 C", 23, 2), ("1A", 1, 0), ("45K", 45, 9), ("12J", 12, 8),
    ("7H", 7, 7), ("３Ｆ", 3, 5), ("23I", -1, -1), ("C23", -1, -1), ("0A", -1, -1), ("1234A", -1, -1),
]


@pytest.mark.parametrize("cell,row,col", FLIGHT_SEATS)
def test_flight_seats(cell, row, col):
    seat = one(parse_flight_seat, cell)
    assert (seat.row[0], seat.col[0], seat.section[0]) == (row, col, -1)
    assert (seat.error[0] == "bad-seat") == (row == -1)
    assert seat.row.dtype == np.int16 and seat.col.dtype == np.int16


TRAIN_SEATS = [
    # seat, carriage column, (section, row, col), warning
    ("05车12F", None, (5, 12, 4), None),
    ("12F", "3", (3, 12, 4), None),
    ("12F", "03车", (3, 12, 4), None),
    ("12a", 7.0, (7, 12, 0), None),
    ("5车12号", None, (5, 12, -1), None),
    ("05车012号上铺", None, (5, 6, 2), None),
    ("3车5号中铺", None, (3, 3, 1), None),
    ("8车09下", None, (8, 5, 0), None),
    ("8车厢 1号下铺", None, (8, 1, 0), None),
    ("10号车厢12D号", None, (10, 12, 3), None),
    ("无座", "6", (6, -1, -1), "seat-standing"),
    ("05车12F", "6", (5, 12, 4), "carriage-mismatch"),
    ("12E", "3", (-1, -1, -1), None),
    ("上铺", "3", (-1, -1, -1), None),
]


@pytest.mark.parametrize("cell,carriage,expected,warning", TRAIN_SEATS)
def test_train_seats(cell, carriage, expected, warning):
    seat = parse_train_seat(pd.Series([cell]), carriage=pd.Series([carriage], dtype=object))
    assert (seat.section[0], seat.row[0], seat.col[0]) == expected
    assert seat.warning[0] == warning
    assert (seat.error[0] == "bad-seat") == (expected[1] == -1 and warning is None)


def test_hard_sleeper_compartments_group_six_berths():
    numbers = np.repeat(np.arange(1, 23), 3)
    levels = np.tile(["上铺", "中铺", "下铺"], 22)
    seat = parse_train_seat(pd.Series([f"9车{n:03d}号{lv}" for n, lv in zip(numbers, levels)]))
    counts = seat.row.value_counts()
    assert sorted(counts.index) == list(range(1, 12)) and (counts == 6).all()


# ------------------------------------------------------------- timestamps

local_times = st.datetimes(dt.datetime(1995, 1, 1), dt.datetime(2060, 12, 31)).map(
    lambda t: t.replace(microsecond=0)
)


def formats_of(t):
    """Ways the sources write the local time t (all to the second)."""
    return [
        t.strftime("%Y-%m-%d %H:%M:%S"),
        t.strftime("%Y-%m-%dT%H:%M:%S"),
        f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}:{t.second:02d}",
        t.strftime("%Y%m%d%H%M%S"),
        f"{t.year}年{t.month}月{t.day}日 {t.hour}时{t.minute}分{t.second}秒",
        (t.replace(tzinfo=SHANGHAI)).isoformat(),
        t.replace(tzinfo=SHANGHAI).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    ]


@settings(max_examples=150, deadline=None)
@given(local_times)
def test_timestamp_formats_agree_with_zoneinfo(t):
    cells = formats_of(t)
    r = parse_timestamp(pd.Series(cells))
    assert r.error.isna().all(), list(zip(cells, r.error))
    assert r.values.tolist() == [oracle_epoch(t)] * len(cells)


@settings(max_examples=150, deadline=None)
@given(local_times)
def test_excel_serials_agree_with_zoneinfo(t):
    days = (t - dt.datetime(1899, 12, 30)) / dt.timedelta(days=1)
    r = parse_timestamp(pd.Series([days, repr(days)], dtype=object))
    assert r.values.tolist() == [oracle_epoch(t)] * 2


def test_timestamp_table():
    cells = pd.Series([
        "2020-02-01 08:05", "2020/2/1 8:05", "2020.02.01 08:05", "2020年2月1日 8时5分", "2020年2月1日8点5分",
        "2020年02月01日 08:05", "202002010805", "2020-02-01 08:05:00+08:00", "2020-02-01T00:05Z",
        "2020-02-01 8:05 PM", "2020年2月1日 下午8点5分", "1580515500", "1580515500000",
        pd.Timestamp("2020-02-01 08:05"), dt.datetime(2020, 2, 1, 8, 5), "２０２０－０２－０１　０８：０５",
    ], dtype=object)
    r = parse_timestamp(cells)
    morning = oracle_epoch(dt.datetime(2020, 2, 1, 8, 5))
    evening = oracle_epoch(dt.datetime(2020, 2, 1, 20, 5))
    expected = [morning] * 9 + [evening, evening] + [morning] * 5
    assert r.error.isna().all(), list(zip(cells, r.error))
    assert r.values.tolist() == expected
    dates = parse_timestamp(pd.Series(["2020-02-01", "20200201", "2020年2月1日", "43862"]))
    assert dates.values.tolist() == [oracle_epoch(dt.datetime(2020, 2, 1))] * 4


@pytest.mark.parametrize("cell", [
    "2020-02-30 08:00", "2020-13-01", "2020-02-01 24:00", "2020-02-01 08:60", "yesterday",
    "1850-01-01", "12345", "99999", "8:05", "2020-02-01 08:05 +25:00x", "2020-02-01 08:05+25:00",
    "20200231",
])
def test_bad_timestamps(cell):
    r = one(parse_timestamp, cell)
    assert r.error[0] == "bad-timestamp" and pd.isna(r.values[0])


def test_missing_timestamps_and_datetime64_columns():
    r = parse_timestamp(pd.Series([None, "", np.nan], dtype=object))
    assert r.error.tolist() == ["missing-value"] * 3
    col = pd.Series(pd.to_datetime(["2020-02-01 08:05", None]))
    r = parse_timestamp(col)
    assert r.values[0] == oracle_epoch(dt.datetime(2020, 2, 1, 8, 5)) and r.error[1] == "missing-value"
    aware = col.dt.tz_localize("UTC")
    assert parse_timestamp(aware).values[0] == oracle_epoch(dt.datetime(2020, 2, 1, 16, 5))


def test_time_of_day_on_base_date():
    r = parse_timestamp(
        pd.Series(["8:05", "08:05:30", 0.25, "8:05", "8点"], dtype=object),
        base_date=pd.Series(["2020-02-01", "2020/2/1", "20200201", None, "2020年2月1日"]),
    )
    base = dt.datetime(2020, 2, 1)
    assert r.values[:3].tolist() == [
        oracle_epoch(base.replace(hour=8, minute=5)),
        oracle_epoch(base.replace(hour=8, minute=5, second=30)),
        oracle_epoch(base.replace(hour=6)),
    ]
    assert r.error[3] == "bad-timestamp"
    assert r.values[4] == oracle_epoch(base.replace(hour=8))


def test_combine_date_time():
    iv = combine_date_time(
        pd.Series(["2020-02-01", "2020-02-01", "2020-02-01", None, "2020-02-01", "2020-02-01"]),
        pd.Series(["08:00", "22:30", "2020-02-01 22:30", "08:00", None, "2020-02-01 10:00"]),
        pd.Series(["10:15", "01:10", "2020-02-02 01:10", "09:00", "10:00", "2020-02-01 09:00"]),
    )
    day = dt.datetime(2020, 2, 1)
    assert iv.start[0] == oracle_epoch(day.replace(hour=8))
    assert iv.end[0] - iv.start[0] == 8100 and iv.warning[0] is None
    assert iv.end[1] - iv.start[1] == 9600 and iv.warning[1] == "time-rolled-over-midnight"
    assert iv.end[2] - iv.start[2] == 9600 and iv.warning[2] is None
    assert (iv.error[3], iv.field[3]) == ("missing-value", "date")
    assert (iv.error[4], iv.field[4]) == ("missing-value", "dep_time")
    assert (iv.error[5], iv.field[5]) == ("end-before-start", "arr_time")
    assert iv.start[3:].isna().all() and iv.end[3:].isna().all()


@settings(max_examples=100, deadline=None)
@given(local_times, st.integers(0, 86399))
def test_rollover_is_never_longer_than_a_day(t, duration_s):
    arrival = t + dt.timedelta(seconds=duration_s)
    iv = combine_date_time(
        pd.Series([t.strftime("%Y-%m-%d")]), pd.Series([t.strftime("%H:%M:%S")]),
        pd.Series([arrival.strftime("%H:%M:%S")]),
    )
    assert iv.error[0] is None
    assert iv.end[0] - iv.start[0] == oracle_epoch(arrival) - oracle_epoch(t)


# ------------------------------------------------------------------ names

NAMES = [
    ("张三", "张三"), ("张 三", "张三"), (" 张　三 丰 ", "张三丰"), ("Ｌｉ  Ｍｉｎｇ", "Li Ming"),
    ("阿卜杜拉 ・ 艾买提", "阿卜杜拉·艾买提"), ("王 小 明 John", "王小明 John"),
]


@pytest.mark.parametrize("cell,expected", NAMES)
def test_names(cell, expected):
    assert one(normalize_name, cell).values[0] == expected


def test_blank_names_are_missing():
    r = normalize_name(pd.Series(["", "   ", None, "　"], dtype=object))
    assert r.error.tolist() == ["missing-value"] * 4 and r.values.isna().all()


# ------------------------------------------------------------- privacy


def revealed(original, masked):
    assert len(masked) == len(original)
    for a, b in zip(original, masked):
        assert b == "*" or b == a
    return sum(1 for a, b in zip(original, masked) if b != "*")


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=12).filter(lambda s: "*" not in s))
def test_mask_name_reveals_at_most_two_characters(name):
    out = mask_name(pd.Series([name]))[0]
    assert revealed(name, out) <= (0 if len(name) == 1 else 1 if len(name) == 2 else 2)


@settings(max_examples=200, deadline=None)
@given(regions, births, seqs, phone_numbers, st.text(min_size=1, max_size=20).filter(lambda s: "*" not in s))
def test_mask_ids_phones_keys_reveal_bounded(region, birth, seq, phone, other):
    id18 = oracle_id(region, birth, seq)
    assert revealed(id18, mask_id(pd.Series([id18]))[0]) == 10
    assert revealed(phone, mask_phone(pd.Series([phone]))[0]) == 7
    allowed = {18: 10, 15: 9}.get(len(other), 3 if len(other) >= 7 else 0)
    assert revealed(other, mask_id(pd.Series([other]))[0]) <= allowed
    key = mask_key(pd.Series(["phone:+86" + phone, "passport:" + other, id18]))
    assert key[0].startswith("phone:+86") and revealed(phone, key[0][9:]) == 7
    assert key[1].startswith("passport:") and revealed(other, key[1][9:]) <= 3
    assert key[2] == mask_id(pd.Series([id18]))[0]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["vehicle:", "home:", "venue:", "flight:", "grid:"]),
       st.text(min_size=0, max_size=16).filter(lambda s: "*" not in s))  # fmt: skip
def test_mask_place_hides_plates_and_home_addresses_only(prefix, rest):
    out = mask_place(pd.Series([prefix + rest]))[0]
    if prefix not in ("vehicle:", "home:"):
        assert out == prefix + rest  # public places stay as they are
        return
    assert out.startswith(prefix)
    head, tail = (2, 1) if prefix == "vehicle:" else (6, 0)
    shown = revealed(rest, out[len(prefix):])
    assert shown == (head + tail if len(rest) >= head + tail + 2 else 0)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=10).filter(lambda s: "*" not in s), st.text(min_size=1, max_size=20).filter(lambda s: "*" not in s))
def test_mask_key_with_an_unknown_prefix_hides_the_prefix_too(head, tail):
    key = head + ":" + tail
    if key.startswith(("phone:", "passport:")):
        return
    out = mask_key(pd.Series([key]))[0]
    assert len(out) == len(key) and revealed(key, out) <= 3


_KEY_FORMS = st.one_of(
    st.from_regex(r"\A[1-6]\d{16}[\dX]\Z"), st.from_regex(r"\Aphone:\+861[3-9]\d{9}\Z"),
    st.from_regex(r"\Apassport:[A-Z]\d{8}\Z"), st.text(max_size=20), st.none())


@settings(max_examples=100, deadline=None)
@given(st.lists(_KEY_FORMS, min_size=1, max_size=30), st.integers(1, 80))
def test_mask_key_and_mask_place_per_distinct_equal_every_row_masked(values, repeat):
    """The fast paths (18-character IDs by Arrow kernels, each distinct value
    once for long columns) give exactly the row-by-row masks."""
    from tracer.privacy import _mask_key_forms, _mask_place, _text

    column = pd.Series(values * repeat, dtype=object)   # past _DISTINCT_MIN rows for larger repeats
    assert mask_key(column).equals(_mask_key_forms(_text(column)))
    places = pd.Series([None if v is None else ("vehicle:", "home:", "venue:")[len(v) % 3] + v for v in values] * repeat,
                       dtype=object)
    assert mask_place(places).equals(_mask_place(_text(places)))


def test_masks_pass_missing_through():
    for fn in (mask_name, mask_id, mask_phone, mask_key, mask_place):
        assert fn(pd.Series([None, np.nan], dtype=object)).isna().all()


# ------------------------------------------------- vectorised, aligned

CELL_POOL = [
    "11010519491231002X", "110105491231002", "+86 138-1234-5678", "京A12345", "CA 01234", "G1234次",
    "23C", "05车12F", "2020-02-01 08:05", "2020年2月1日 8时5分", "43862.5", "张 三", None, "", "垃圾", 12345.0,
]

HELPERS = [
    normalize_id_number, normalize_phone, normalize_plate, normalize_flight_no, normalize_train_no,
    normalize_name, parse_timestamp,
    lambda s: normalize_identity(None, s),
    parse_flight_seat, parse_train_seat,
]


@pytest.mark.parametrize("helper", HELPERS)
def test_helpers_are_vectorised_and_aligned(helper):
    rng = np.random.default_rng(7)
    n = 10_000
    index = pd.Index(rng.permutation(np.arange(100, 100 + 3 * n, 3)))
    cells = pd.Series(np.array(CELL_POOL, dtype=object)[rng.integers(0, len(CELL_POOL), n)], index=index)
    result = helper(cells)
    singles = {i: helper(pd.Series([c], dtype=object)) for i, c in enumerate(CELL_POOL)}
    for part in result:
        assert part.index.equals(index) and len(part) == n
    # every row equals the result of parsing that cell alone
    pos = {id(c): i for i, c in enumerate(CELL_POOL)}
    for k in rng.integers(0, n, 200):
        single = singles[pos[id(cells.iloc[k])]]
        for part, ref in zip(result, single):
            a, b = part.iloc[k], ref.iloc[0]
            assert (pd.isna(a) and pd.isna(b)) or a == b


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=24), st.integers(-10**12, 10**13),
                          st.floats(allow_nan=True, allow_infinity=True)), max_size=20))
def test_arbitrary_cells_never_crash_and_codes_are_stable(cells):
    s = pd.Series(cells, dtype=object)
    for helper in HELPERS:
        result = helper(s)
        errors = result[-2] if len(result) == 5 else result.error
        warnings = result[-1] if len(result) == 5 else result.warning
        assert set(errors.dropna()) <= set(ERROR_CODES)
        for w in warnings.dropna():
            assert set(w.split(";")) <= set(WARNING_CODES)
        if len(result) == 3:  # Normalized: a value exactly where there is no error
            assert (result.values.isna().to_numpy() == errors.notna().to_numpy()).all()


def test_chunked_arrow_columns_normalise_like_one_chunk():
    # large CSVs arrive as chunked Arrow columns (issue 3: arrow_text failed on them)
    import pyarrow as pa

    from loaders.normalize import arrow_text

    cells = ["１３８１２３４５６７８", None, " 139-1234-5678 ", "x", "  王　小 明 ", "11010519491231002x"]
    chunks = [pa.array(cells[:2], pa.large_string()), pa.array(cells[2:], pa.large_string())]
    chunked = pd.Series(pd.array(pa.chunked_array(chunks), dtype="str"))
    plain = pd.Series(cells, dtype=object)
    arr, fold = arrow_text(chunked)
    assert arr.to_pylist() == arrow_text(plain)[0].to_pylist() and fold.tolist() == arrow_text(plain)[1].tolist()
    for fn in (normalize_phone, normalize_name, normalize_id_number, parse_flight_seat):
        a, b = fn(chunked), fn(plain)
        for x, y in zip(a, b):
            assert x.astype(object).where(x.notna(), None).tolist() == y.astype(object).where(y.notna(), None).tolist()


# ------------------------------------------------- vectorised column paths
# The whole-column fast paths (byte-level timestamps, categorical spreading,
# lookup-table renumbering) against the per-cell helpers as oracles.

from loaders import timefast  # noqa: E402
from loaders.coded import categorical, category_codes, coded_series, renumber  # noqa: E402
from loaders.normalize import per_distinct  # noqa: E402

_digits = st.integers(0, 9).map(str)
_layout_cells = st.one_of(
    # the common layout with any separators and possibly impossible fields
    st.tuples(st.integers(1890, 2110), st.integers(0, 13), st.integers(0, 32), st.sampled_from("-/.x"),
              st.sampled_from(" T_"), st.integers(0, 25), st.integers(0, 61), st.integers(0, 61)).map(
        lambda p: f"{p[0]:04d}{p[3]}{p[1]:02d}{p[3]}{p[2]:02d}{p[4]}{p[5]:02d}:{p[6]:02d}:{p[7]:02d}"),
    st.text(st.sampled_from("0123456789-/: T"), min_size=19, max_size=19),  # 19 bytes of junk
    st.sampled_from(["2020/1/11 6:36", "2020年2月1日 8时5分", "8:05", "43862.5", "", "  ", "not a time",
                     "２０２０-０２-０１ ０８:０５:００", "2020-02-01 08:05", "1580515500"]),
    st.none(),
)


def _same_normalized(got, want):
    for a, b in zip(got, want):
        a, b = pd.Series(a).astype(object), pd.Series(b).astype(object)
        assert a.where(a.notna(), None).tolist() == b.where(b.notna(), None).tolist()


@settings(max_examples=150, deadline=None)
@given(st.lists(_layout_cells, min_size=1, max_size=40), st.booleans(), st.sampled_from(["Asia/Shanghai", "UTC"]))
def test_timestamp_column_matches_parse_timestamp(cells, with_base, tz):
    s = pd.Series(cells, dtype="str")
    base = pd.Series(["2020-02-01"] * len(cells), dtype="str") if with_base else None
    saved = timefast._MIN_ROWS
    timefast._MIN_ROWS = 0  # take the fast path even on short columns
    try:
        got = timefast.parse_timestamp_column(s, tz=tz, base_date=base)
    finally:
        timefast._MIN_ROWS = saved
    _same_normalized(got, parse_timestamp(s, tz=tz, base_date=base))


@settings(max_examples=100, deadline=None)
@given(st.lists(_layout_cells, min_size=1, max_size=40))
def test_common_layout_accepts_only_what_the_general_parser_reads_the_same(cells):
    s = pd.Series(cells, dtype="str")
    mask, local_s = timefast.common_layout(s)
    want = parse_timestamp(s, tz="UTC")
    assert want.error[mask].isna().all()
    assert (local_s[mask] == want.values[mask].to_numpy(np.int64)).all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["+86 13812345678", "13812345678", "１３８１２３４５６７８", "12345",
                                                       "", "0086-139-1234-5678", "x"])),
                min_size=64, max_size=200))
def test_per_distinct_spreads_like_running_on_every_row(cells):
    s = pd.Series(cells, dtype="str")
    got = per_distinct(normalize_phone, s, max_ratio=1.0)
    _same_normalized(got, normalize_phone(s))
    assert all(len(f) == len(s) for f in got)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-1, 6), max_size=50),
       st.lists(st.one_of(st.none(), st.sampled_from("abc")), min_size=7, max_size=7))
def test_coded_series_is_values_at_codes(codes, values):
    codes, values = np.array(codes, dtype=np.int64), np.array(values, dtype=object)
    got = coded_series(codes, values)
    want = [None if c < 0 else values[c] for c in codes]
    assert got.astype(object).where(got.notna(), None).tolist() == want
    back_codes, uniq = category_codes(got)
    assert [None if c < 0 else uniq[c] for c in back_codes] == want
    assert categorical(back_codes, uniq).tolist() == got.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=60), st.integers(0, 5000))
def test_renumber_matches_factorize(values, pad):
    values = np.array(values, dtype=np.int64)
    codes, n = renumber(values, int(values.max(initial=0)) + 1 + pad)
    want, uniq = pd.factorize(values)
    assert codes.tolist() == want.tolist() and n == len(uniq)
