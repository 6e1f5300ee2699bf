"""Tests of loaders.load_files: every kind, identity, dwell, accounting.

The accounting identity ``read == loaded + duplicates + rejected`` is
checked on every fixture and on hypothesis-generated messy tables; the
store is re-read to check that ``loaded`` rows really arrived.
"""

import csv
import json
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loaders
from loaders import load_files
from loaders.dwell import dwell_seconds, estimate_ends
from loaders.ids import id_check_char
from loaders.identity import resolve
from loaders.io import REJECT_COLUMNS
from loaders.sources import CHECKPOINT_HALF_S, RESIDENCE_OPEN_END_S, VEHICLE_HALF_S
from tracer.duck import DuckStore
from tracer.errors import LoadError
from tracer.schema import FLAG_END_ESTIMATED

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
SH = "Asia/Shanghai"


def make_id(first17):
    return first17 + id_check_char(first17)


A = make_id("11010519900307451")
B = make_id("53010219851111002")
C = make_id("53010219870203004")


def bad_check(valid):
    return valid[:-1] + ("0" if valid[-1] != "0" else "1")


def local(text):
    return int(pd.Timestamp(text, tz=SH).timestamp())


@pytest.fixture
def store(tmp_path):
    with DuckStore(tmp_path / "t.duckdb") as s:
        yield s


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def stored(store):
    """Stored presences with place keys and person keys."""
    pres = store.presences()
    places = store.places().set_index("code")["key"]
    persons = store.persons().set_index("code")["key"]
    return pres.assign(place_key=pres["place"].map(places), person_key=pres["person"].map(persons))


def check_accounting(report):
    assert report.read == report.loaded + report.duplicates + report.rejected
    assert set(report.to_dict()) == {"read", "loaded", "duplicates", "rejected", "by_code", "warnings"}
    assert sum(report.by_code.values()) == report.rejected == len(report.rejects)
    assert list(report.rejects.columns) == REJECT_COLUMNS == list(report.warning_rows.columns)
    assert sum(report.warnings.values()) == len(report.warning_rows)
    for f in report.per_file:
        assert f["read"] == f["loaded"] + f["duplicates"] + f["rejected"]
    json.dumps(report.to_dict())


# ---------------------------------------------------------------- surface


def test_kinds_and_templates():
    assert loaders.KINDS == ("flights", "trains", "buses", "venues", "checkpoints", "grid", "residence", "presences")
    rows = loaders.template_table()
    assert {r[0] for r in rows} == set(loaders.KINDS)
    assert ("venues", "scan_time", "扫码时间", True, "") in rows
    assert "航班号" in loaders.describe_template("flights")


def test_unknown_kind_and_missing_columns(store, tmp_path):
    path = write(tmp_path, "v.csv", "phone,when\n13812345678,2020-02-01\n")
    with pytest.raises(LoadError, match="unknown source kind"):
        load_files(store, "spaceships", [path])
    with pytest.raises(LoadError, match="venue_code"):
        load_files(store, "venues", [path])
    with pytest.raises(LoadError, match="no files"):
        load_files(store, "venues", [])
    assert len(store.presences()) == 0


# --------------------------------------------------------------- fixtures


def test_messy_venues_fixture(store):
    path = os.path.join(DATA, "venues_messy.csv")
    report = load_files(store, "venues", [path])
    check_accounting(report)
    assert report.by_code == {"bad-timestamp": 1, "end-before-start": 1, "no-identity": 1, "unknown-place": 1}
    assert report.duplicates == 2  # an exact copy and a differently written copy
    assert report.warnings["id-upgraded-15-to-18"] == 1 and report.warnings["bad-id-checksum"] == 1
    rej = report.rejects.set_index("line")
    assert rej.loc[7, "code"] == "no-identity" and json.loads(rej.loc[7, "raw"])["备注"] == "无身份"
    got = stored(store)
    assert len(got) == report.loaded
    est = got[(got["flags"] & FLAG_END_ESTIMATED) > 0]
    assert ((est["end"] - est["start"]) <= 3600).all() and len(est) == 2
    again = load_files(store, "venues", [path])
    check_accounting(again)
    assert again.loaded == 0 and again.duplicates == report.loaded + report.duplicates


def test_line_numbers_are_file_lines_with_multiline_cells(store, tmp_path):
    # quoted cells with \n, \r\n and a lone \r, blank lines and CRLF line ends:
    # a reject's line is the file line where its record starts
    text = (
        "姓名,手机号码,场所编码,扫码时间,备注\r\n"  # line 1
        '张三,13812345678,V1,2020-02-01 09:00,"two\r\nlines"\r\n'  # lines 2-3
        "\r\n"  # line 4: blank
        '李四,123,V1,2020-02-01 09:05,"a\rb"\r\n'  # lines 5-6 (a lone \r breaks a line too): no identity
        '王五,13912345678,V2,"not\na time",x\r\n'  # lines 7-8: bad timestamp
        '赵六,13712345678,,2020-02-01 09:10,"say ""hi""\n\nbye"\r\n'  # lines 9-11: no place
        "钱七,,V3,2020-02-01 09:20,\r\n"  # line 12: no identity
    )
    path = write(tmp_path, "multi.csv", text)
    report = load_files(store, "venues", [path])
    check_accounting(report)
    assert report.read == 5
    got = report.rejects.set_index("line")["code"].to_dict()
    assert got == {5: "no-identity", 7: "bad-timestamp", 9: "unknown-place", 12: "no-identity"}
    raw = json.loads(report.rejects.set_index("line").loc[5, "raw"])
    assert raw["备注"] == "a\rb" and raw["手机号码"] == "123"
    assert json.loads(report.rejects.set_index("line").loc[9, "raw"])["备注"] == 'say "hi"\n\nbye'


def test_line_numbers_of_irregular_csv_via_slow_path(store, tmp_path):
    # a quote inside an unquoted cell and a short row: read by pandas' reader,
    # lines from the csv module
    text = '姓名,手机号码,场所编码,扫码时间\n张"三,123,V1,2020-02-01 09:00\n\n李四,13812345678\n'
    report = load_files(store, "venues", [write(tmp_path, "odd.csv", text)])
    check_accounting(report)
    assert report.rejects.set_index("line")["code"].to_dict() == {2: "no-identity", 4: "unknown-place"}


cell_text = st.text(st.sampled_from(list('ab ,"\r\n')), max_size=6)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(cell_text, min_size=2, max_size=2), min_size=1, max_size=8),
       blanks=st.lists(st.integers(0, 2), min_size=9, max_size=9),
       terminator=st.sampled_from(["\n", "\r\n", "\r"]), quote_all=st.booleans())  # fmt: skip
def test_record_lines_against_a_writer_oracle(rows, blanks, terminator, quote_all):
    import csv
    import io as stdio

    from loaders.io import record_lines

    # write record by record, counting the file lines as we go (the oracle)
    out, expected, line = stdio.StringIO(), [], 1
    # the csv writer quotes a cell with a line break only when that break is
    # in its line terminator: otherwise quote every cell
    quoting = csv.QUOTE_ALL if quote_all or terminator != "\r\n" else csv.QUOTE_MINIMAL
    for i, record in enumerate([["h1", "h2"]] + rows):
        out.write(terminator * blanks[i])
        line += blanks[i]
        if i:
            expected.append(line)
        buf = stdio.StringIO()
        csv.writer(buf, lineterminator=terminator, quoting=quoting).writerow(record)
        text = buf.getvalue()
        out.write(text)
        line += text.count("\r\n") + text.replace("\r\n", "\n").count("\r") + text.replace("\r\n", "").count("\n")
    assert record_lines(out.getvalue().encode()).tolist() == expected


def test_gb18030_flights_fixture(store):
    path = os.path.join(DATA, "flights_gb18030.csv")
    report = load_files(store, "flights", [path])
    check_accounting(report)
    assert report.by_code == {"bad-flight-no": 1, "no-identity": 1}
    got = stored(store)
    ca = got[got["place_key"] == "flight:CA1234:2020-02-01"]
    assert set(ca["person_key"]) == {A, "passport:E1234567"}
    row = ca[ca["person_key"] == A].iloc[0]
    assert (row["start"], row["end"]) == (local("2020-02-01 22:30"), local("2020-02-02 01:10"))
    assert (row["row"], row["col"]) == (23, 2)
    assert report.warnings["time-rolled-over-midnight"] >= 3


def test_presences_kind_matches_load_presences(store):
    path = os.path.join(DATA, "presences_small.csv")
    report = load_files(store, "presences", [path])
    check_accounting(report)
    batch, rejects = loaders.presences.load_presences(path)
    assert report.rejected == len(rejects)
    assert report.loaded + report.duplicates == len(batch)
    assert report.loaded == len(store.presences())


def test_every_kind_with_chinese_headers_xlsx_and_gb18030(store, tmp_path):
    frames = {
        "trains": pd.DataFrame({"姓名": ["甲", "乙"], "证件号码": [A, B], "手机号码": [None, "13812345678"],
                                "车次": ["g 1234次", "G1234"], "乘车日期": ["2020-02-01"] * 2,
                                "上车时间": ["08:00", "09:00"], "下车时间": ["12:00", "11:00"],
                                "车厢号": ["5", None], "座位号": ["12F", "05车012号上铺"]}),
        "buses": pd.DataFrame({"姓名": ["甲"], "证件号码": [A], "手机号码": [None], "班次": ["R001-002"],
                               "乘车日期": ["2020-02-01"], "发车时间": ["08:00"], "到达时间": ["09:00"],
                               "座位号": ["12"]}),
        "checkpoints": pd.DataFrame({"卡点编号": ["KM-01"] * 3, "卡点名称": ["北卡"] * 3,
                                     "通行时间": ["2020-02-01 10:00"] * 3, "方向": ["进"] * 3,
                                     "车牌号码": ["京A12345", "京a 12345", "X"], "身份": ["驾驶员", "乘客", "乘客"],
                                     "姓名": ["甲", "乙", "丙"], "证件号码": [A, B, None],
                                     "手机号码": [None, None, "13700000000"]}),
        "grid": pd.DataFrame({"手机号码": ["13812345678", "+86 139 1234 5678"], "网格编号": ["G001002"] * 2,
                              "开始时间": ["2020-02-01 09:00", "2020-02-01 11:00"],
                              "结束时间": ["2020-02-01 10:00", "2020-02-01 10:00"]}),
        "residence": pd.DataFrame({"姓名": ["甲", "乙"], "证件号码": [A, C], "手机号码": ["13812345678", None],
                                   "标准地址编码": ["530102000001"] * 2, "地址": ["某路1号"] * 2,
                                   "所属区县": ["五华区"] * 2, "入住日期": ["2015-01-01", "2016-01-01"],
                                   "迁出日期": [None, "2019-01-01"]}),
    }  # fmt: skip
    for i, (kind, frame) in enumerate(frames.items()):
        if i % 2:
            path = str(tmp_path / f"{kind}.xlsx")
            frame.to_excel(path, index=False)
        else:
            path = write(tmp_path, f"{kind}.csv", frame.to_csv(index=False), "gb18030")
        report = load_files(store, kind, [path])
        check_accounting(report)
        assert load_files(store, kind, [path]).loaded == 0
    got = stored(store)
    trains = got[got["place_key"] == "train:G1234:2020-02-01"].set_index("person_key")
    assert trains.loc[A, ["section", "row", "col"]].tolist() == [5, 12, 4]
    assert trains.loc[B, ["section", "row", "col"]].tolist() == [5, 6, 2]
    assert trains.loc[B, "start"] == local("2020-02-01 09:00")
    bus = got[got["place_key"] == "bus:R001-002:2020-02-01"].iloc[0]
    assert (bus["row"], bus["col"]) == (3, 3)
    pass_s = local("2020-02-01 10:00")
    ck = got[got["place_key"] == "checkpoint:KM-01"]
    assert len(ck) == 3 and (ck["start"] == pass_s - CHECKPOINT_HALF_S).all()
    car = got[got["place_key"] == "vehicle:京A12345"]
    assert set(car["person_key"]) == {A, B} and (car["end"] == pass_s + VEHICLE_HALF_S).all()
    grid = got[got["place_key"] == "grid:G001002"]
    assert grid["person_key"].tolist() == [B]  # the phone's only holder in the store (trains)
    homes = got[got["place_key"] == "home:530102000001"].set_index("person_key")
    assert homes.loc[A, "end"] == RESIDENCE_OPEN_END_S and homes.loc[A, "flags"] & FLAG_END_ESTIMATED
    assert homes.loc[C, "end"] == local("2019-01-01")
    assert store.persons().set_index("key").loc[A, "district"] == "五华区"


class _NoMergeStore(DuckStore):
    """A store that cannot move presences between persons (a Store need not)."""

    merges_persons = False


def test_a_phone_keyed_person_later_given_an_id_is_warned_not_silently_split(tmp_path):
    """In a store that cannot merge persons, rows stored under
    ``phone:+86…`` (no valid ID yet) stay there when a later load shows
    that phone with one ID: the later load says so (``phone-key-split``,
    once per phone); a shared family phone does not. Both tracer stores
    merge them instead (tests/test_person_merges.py, test_neo4j_store.py)."""
    store = _NoMergeStore(tmp_path / "n.duckdb")
    head = "证件号码,手机号码,场所编码,扫码时间,离开时间\n"
    first = (f"{bad_check(A)},13812345678,V1,2020-02-01 09:00,2020-02-01 09:10\n"   # → phone:+86138…
             f",13912345678,V1,2020-02-01 09:00,2020-02-01 09:10\n")                # → phone:+86139…
    report = load_files(store, "venues", [write(tmp_path, "a.csv", head + first)])
    assert "phone-key-split" not in report.warnings
    assert set(stored(store)["person_key"]) == {"phone:+8613812345678", "phone:+8613912345678"}
    later = (f"{A},13812345678,V2,2020-02-02 09:00,2020-02-02 09:10\n"
             f"{A},13812345678,V3,2020-02-02 10:00,2020-02-02 10:10\n"             # the same phone: one warning
             f"{B},13912345678,V2,2020-02-02 09:00,2020-02-02 09:10\n"
             f"{C},13912345678,V2,2020-02-02 09:00,2020-02-02 09:10\n")            # 139 is a family phone
    report = load_files(store, "venues", [write(tmp_path, "b.csv", head + later)])
    check_accounting(report)
    assert report.warnings["phone-key-split"] == 1
    row = report.warning_rows[report.warning_rows["code"] == "phone-key-split"]
    assert row["line"].tolist() == [2] and row["field"].tolist() == ["phone"]
    assert set(stored(store)["person_key"]) >= {"phone:+8613812345678", A}   # not merged: said, not guessed
    assert report.merged_phones == 0
    store.close()


def test_mapping_renames_headers_and_keeps_extra_columns(store, tmp_path):
    path = write(tmp_path, "v.csv", "who,mobile,site,at,note\n甲,13812345678,V1,2020-02-01 09:00,x\n,,V1,bad,y\n")
    mapping = write(tmp_path, "m.json", json.dumps({"mobile": "phone", "site": "venue_code", "AT": "scan_time"}))
    report = load_files(store, "venues", [path], mapping=mapping)
    check_accounting(report)
    assert report.loaded == 1 and report.rejected == 1
    assert json.loads(report.rejects["raw"][0]) == {"who": None, "mobile": None, "site": "V1", "at": "bad", "note": "y"}
    csv_map = write(tmp_path, "m.csv", "source,target\nmobile,phone\nsite,venue_code\nat,scan_time\n")
    assert load_files(store, "venues", [path], mapping=csv_map).duplicates == 1


# ---------------------------------------------------------------- identity


def test_identity_rules(store, tmp_path):
    text = (
        "证件号码,手机号码,场所编码,扫码时间,离开时间\n"
        f"{A},13812345678,V1,2020-02-01 09:00,2020-02-01 09:10\n"  # A owns 138
        f",13812345678,V1,2020-02-01 09:20,2020-02-01 09:30\n"  # phone only → A
        f"{bad_check(B)},13812345678,V1,2020-02-01 09:40,2020-02-01 09:50\n"  # bad ID → phone → A
        f"{B},13912345678,V1,2020-02-01 10:00,2020-02-01 10:10\n"
        f"{C},13912345678,V1,2020-02-01 10:00,2020-02-01 10:10\n"  # family phone: B and C
        f",13912345678,V1,2020-02-01 11:00,2020-02-01 11:10\n"  # ambiguous → phone key
        f"{bad_check(C)},,V1,2020-02-01 11:00,2020-02-01 11:10\n"  # neither → no-identity
    )
    report = load_files(store, "venues", [write(tmp_path, "v.csv", text)])
    check_accounting(report)
    assert report.by_code == {"no-identity": 1}
    assert report.warnings["bad-id-checksum"] == 1
    assert report.warnings["shared-phone"] == 3  # B's and C's conflict, and the ambiguous row
    keys = stored(store).sort_values("start")["person_key"].tolist()
    assert keys == [A, A, A, B, C, "phone:+8613912345678"]
    aliases = store.aliases()
    assert {"phone:+8613912345678"} <= set(aliases[aliases["key"] == B]["alias"])
    # a later load resolves a phone through the store's aliases
    later = write(tmp_path, "g.csv", "phone,grid_id,start_time,end_time\n13812345678,G1,2020-02-02 09:00,2020-02-02 10:00\n")
    load_files(store, "grid", [later])
    assert stored(store).query("place_key == 'grid:G1'")["person_key"].tolist() == [A]


ids = st.sampled_from([A, B, C, bad_check(A), "", "x"])
phones = st.sampled_from(["13812345678", "13912345678", "13712345678", "", "123"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(ids, phones), min_size=1, max_size=30))
def test_resolve_against_oracle(rows):
    valid = {A, B, C}
    doc = [d if d in valid else None for d, _ in rows]
    phone = [p if len(p) == 11 else None for _, p in rows]
    res = resolve(pd.DataFrame({"doc": pd.Series(doc, dtype=object), "phone": pd.Series(phone, dtype=object)}))
    holders = {}
    for d, p in zip(doc, phone):
        if d and p:
            holders.setdefault(p, set()).add(d)
    for d, p, key in zip(doc, phone, res.keys):
        if d:
            assert key == d
        elif p and len(holders.get(p, ())) == 1:
            assert key == next(iter(holders[p]))
        elif p:
            assert key == "phone:+86" + p
        else:
            assert key is None
    # two different documents never share a key
    assert len({k for k, d in zip(res.keys, doc) if d}) == len({d for d in doc if d})


# ------------------------------------------------------------------- dwell


def naive_ends(person, place, start, dwell_s):
    out = []
    for i in range(len(start)):
        later = [start[j] for j in range(len(start))
                 if person[j] == person[i] and place[j] != place[i] and
                 (start[j], place[j]) > (start[i], place[i])]  # fmt: skip
        out.append(min([start[i] + dwell_s[i]] + later))
    return out


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["v1", "v2", "v3"]), st.integers(0, 7200)),
                max_size=25))  # fmt: skip
def test_estimate_ends_against_naive(scans):
    person = np.array([f"p{p}" for p, _, _ in scans], dtype=object)
    place = np.array([v for _, v, _ in scans], dtype=object)
    start = np.array([s for _, _, s in scans], dtype=np.int64)
    dwell_s = dwell_seconds(np.array(["venue:" + v.upper() for v in place], object), {"V1": 10, "*": 30})
    got = estimate_ends(person, place, start, np.ones(len(start), bool), dwell_s)
    # ties at equal times are broken by place order in the oracle: compare only untied scans
    ties = pd.Series(list(zip(person, start))).duplicated(keep=False).to_numpy()
    want = np.array(naive_ends(person, place, start, dwell_s), dtype=np.int64)
    assert (got[~ties] == want[~ties]).all()
    assert (got >= start).all() and (got <= start + dwell_s).all()


def test_dwell_option_and_next_scan_cut(store, tmp_path):
    text = ("手机号码,场所编码,扫码时间\n13812345678,V1,2020-02-01 09:00\n13812345678,V2,2020-02-01 09:20\n"
            "13912345678,V1,2020-02-01 09:00\n")  # fmt: skip
    load_files(store, "venues", [write(tmp_path, "v.csv", text)], dwell_min={"V1": 45, "*": 15})
    got = stored(store).set_index(["person_key", "place_key"])["end"]
    assert got[("phone:+8613812345678", "venue:V1")] == local("2020-02-01 09:20")
    assert got[("phone:+8613812345678", "venue:V2")] == local("2020-02-01 09:35")
    assert got[("phone:+8613912345678", "venue:V1")] == local("2020-02-01 09:45")


# ------------------------------------------------------------------ fuzzing

junk = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.text(st.sampled_from(list(' \r\n",x1')), max_size=4),  # line breaks and quotes in cells
    st.sampled_from([A, B, bad_check(A), "13812345678", "+86 139 1234 5678",
                                                       "2020-02-01 09:00", "8:05", "43862.5", "2020年2月1日 8时5分",
                                                       "V1", "CA1234", "G12", "京A12345", "23C", "无座", "-1"]),
)  # fmt: skip


@pytest.mark.parametrize("kind", loaders.KINDS)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_tables_always_balance(kind, data, tmp_path_factory):
    cols = [c.name for c in loaders.templates.template(kind)]
    rows = data.draw(st.lists(st.fixed_dictionaries({c: junk for c in cols}), min_size=1, max_size=12))
    frame = pd.DataFrame(rows, columns=cols)
    frame = pd.concat([frame, frame.iloc[: data.draw(st.integers(0, 3))]], ignore_index=True)  # duplicate rows
    tmp = tmp_path_factory.mktemp("fuzz")
    path = str(tmp / "f.csv")
    # pandas quotes a cell with "\r" only when "\r" is in the line terminator
    terminator = data.draw(st.sampled_from(["\n", "\r\n"]))
    frame.to_csv(path, index=False, lineterminator=terminator,
                 quoting=csv.QUOTE_ALL if terminator == "\n" else csv.QUOTE_MINIMAL)  # fmt: skip
    if frame.replace("", None).isna().all(axis=None):
        return  # a CSV of blank lines has no rows: read_table refuses it
    with DuckStore(tmp / "t.duckdb") as store:
        report = load_files(store, kind, [path])
        check_accounting(report)
        assert report.read == len(frame)
        assert len(store.presences()) == report.presences_loaded
        again = load_files(store, kind, [path])
        check_accounting(again)
        assert again.loaded == 0 and again.duplicates == report.loaded + report.duplicates


# ------------------------------------------------ code-carrying fast paths
# Categorical identity columns, ledger codes and the trusted store batch
# against the plain object-array paths they replace.


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(ids, phones), min_size=1, max_size=30))
def test_resolve_reads_categorical_columns_like_object_ones(rows):
    doc = pd.Series([d if len(d) == 18 and d != bad_check(A) else None for d, _ in rows], dtype=object)
    phone = pd.Series([p if len(p) == 11 else None for _, p in rows], dtype=object)
    plain = resolve(pd.DataFrame({"doc": doc, "phone": phone}))
    coded = resolve(pd.DataFrame({"doc": doc.astype("category"), "phone": phone.astype("category")}))
    assert list(coded.keys) == list(plain.keys)
    assert coded.ambiguous.tolist() == plain.ambiguous.tolist() and coded.conflict.tolist() == plain.conflict.tolist()
    assert coded.aliases.values.tolist() == plain.aliases.values.tolist()
    # codes point into uniques, and equal codes mean equal keys
    keyed = plain.codes >= 0
    assert [plain.uniques[c] for c in plain.codes[keyed]] == [k for k in plain.keys[keyed]]
    assert (plain.codes[~keyed] == -1).all() and all(k is None for k in plain.keys[~keyed])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["bad-phone", "missing-value", "a;b"])), min_size=1, max_size=30),
       st.lists(st.booleans(), min_size=30, max_size=30))
def test_ledger_reads_categorical_codes_like_object_ones(codes, mask):
    from loaders.ledger import Ledger

    frame = pd.DataFrame({"line": np.arange(2, len(codes) + 2), "a": ["x"] * len(codes)})
    mask = np.array(mask[: len(codes)])
    plain, coded = Ledger("f.csv", frame), Ledger("f.csv", frame)
    as_category = pd.Series(codes, dtype=object).astype("category")
    for led, cells in ((plain, np.array(codes, dtype=object)), (coded, as_category)):
        led.warn_codes(cells, "a", mask=mask)
        led.reject_codes(cells, "a", mask=~mask)
    assert plain.rejects().equals(coded.rejects())
    assert plain.warning_rows().equals(coded.warning_rows())


def test_multi_block_csv_reads_like_pandas(tmp_path):
    # larger than one Arrow block: the columns arrive in several chunks
    n = 60_000
    frame = pd.DataFrame({"name": ["张三", "Li  Ming", None] * (n // 3),
                          "phone": [f"1381234{i % 9999:04d}" for i in range(n)],
                          "venue_code": ["V1", " v 2", ""] * (n // 3), "scan_time": ["2020-02-01 08:05:00"] * n})
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    from loaders.io import read_table

    got = read_table(str(path))
    assert got["phone"].array._pa_array.num_chunks > 1 or os.path.getsize(path) < (2 << 20)
    want = pd.read_csv(path, dtype=str, keep_default_na=False).replace({"": None})
    assert got["line"].tolist() == list(range(2, n + 2))
    for col in want.columns:
        assert got[col].astype(object).where(got[col].notna(), None).tolist() == want[col].tolist()


def test_validated_batch_stores_what_the_plain_batch_stores(tmp_path):
    from loaders.api import prepare

    lines = ["name,id_number,phone,venue_code,venue_name,district,scan_time,exit_time"]
    for i in range(300):
        who = [A, B, C, bad_check(A), ""][i % 5]
        scan = f"2020-02-01 {8 + i % 12:02d}:{i % 60:02d}:00"
        lines.append(f"n{i % 7},{who},1381234{i % 13:04d},V{i % 11},场所{i % 11},官渡区,{scan},")
    path = write(tmp_path, "v.csv", "\n".join(lines) + "\n")
    prepared = prepare("venues", [path])
    tables = []
    for coded in (False, True):
        with DuckStore(tmp_path / f"s{coded}.duckdb") as s:
            s.append(prepared.full_batch(coded=coded))
            tables.append([s.con.execute(f"SELECT * FROM {t} ORDER BY ALL").df()
                           for t in ("presences", "persons", "places", "aliases")])
    for plain, coded in zip(*tables):
        assert plain.equals(coded)


CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(utf8_rows=st.lists(st.tuples(st.text(CJK, min_size=3, max_size=4), st.text(CJK, min_size=2, max_size=6)),
                          min_size=1, max_size=4),
       gb_name=st.text(CJK, min_size=2, max_size=4))  # fmt: skip
def test_utf8_rows_then_gb18030_rows_are_refused_not_garbled(tmp_path_factory, utf8_rows, gb_name):
    """A UTF-8 export with GB18030 rows appended: decoding it whole as GB18030
    would garble the UTF-8 names silently, so the load stops and says where."""
    tmp = tmp_path_factory.mktemp("mixed")
    head = "name,id_number,phone,venue_code,venue_name,scan_time\n"
    rows = [f"{n},11010519491231002X,1381234567{i % 10},V{i},{v}店,2020-02-01 10:00\n"
            for i, (n, v) in enumerate(utf8_rows)]  # fmt: skip
    tail = f"{gb_name},11010519491231002X,13812345679,V9,书店,2020-02-01 11:00\n"
    body = (head + "".join(rows)).encode("utf-8")
    path = tmp / "mixed.csv"
    path.write_bytes(body + tail.encode("gb18030"))
    assert len(body) - len(body.decode("utf-8")) >= 12  # enough UTF-8 text to tell (6+ characters)
    with DuckStore(tmp / "t.duckdb") as store:
        with pytest.raises(LoadError, match=f"mixes encodings.*line {len(rows) + 2} is not UTF-8"):
            load_files(store, "venues", [str(path)])
        assert len(store.presences()) == 0
        # Told the encoding, it reads the file as asked (the analyst's call), or says it cannot.
        try:
            assert load_files(store, "venues", [str(path)], encoding="gb18030").loaded == len(rows) + 1
        except LoadError as exc:
            assert "cannot decode with encoding 'gb18030'" in str(exc) and len(store.presences()) == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(CJK, min_size=1, max_size=8), min_size=1, max_size=6))
def test_gb18030_files_are_not_taken_for_mixed_ones(cells):
    from loaders.io import _refuse_mixed

    _refuse_mixed("f.csv", ("name," + ",".join(cells) + "\n").encode("gb18030"))  # raises if it were refused
