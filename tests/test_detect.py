"""``tracer load auto``: each raw file's kind told from its headers
(loaders.detect), and a load of a pile of files equal to loading each kind
by name."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

import cli
from loaders.detect import detect_kind, group_by_kind, read_headers
from loaders.generate import write_raw_sources
from tracer.duck import DuckStore
from tracer.errors import LoadError


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """Raw files of every kind (GB18030 and UTF-8 CSVs, XLSX) of a small city."""
    return write_raw_sources(tmp_path_factory.mktemp("raw"), n_people=300, days=3, seed=5, mess=0.05)


def test_every_generated_file_is_told_its_kind(city):
    for kind, paths in city.files.items():
        for path in paths:
            assert detect_kind(path) == kind, (path, read_headers(path))


def test_headers_of_each_format(tmp_path):
    csv = tmp_path / "g.csv"
    csv.write_bytes("手机号码,网格编号,开始时间,结束时间\n13812345678,G1,2020-02-01 09:00,2020-02-01 10:00\n"
                    .encode("gb18030"))  # fmt: skip
    assert read_headers(csv) == ["手机号码", "网格编号", "开始时间", "结束时间"] and detect_kind(csv) == "grid"
    frame = pd.DataFrame({"person": ["p"], "place": ["venue:1"], "kind": ["venue"], "start": ["2020-02-01 09:00"],
                          "end": ["2020-02-01 10:00"]})  # fmt: skip
    frame.to_parquet(tmp_path / "p.parquet")
    frame.to_excel(tmp_path / "p.xlsx", index=False)
    assert detect_kind(tmp_path / "p.parquet") == detect_kind(tmp_path / "p.xlsx") == "presences"


@pytest.mark.parametrize("text, message", [
    ("a,b\n1,2\n", "no source kind fits"),
    ("", "empty"),
    ("手机号码,网格编号\n1,2\n", "no source kind fits"),  # grid without its times
])  # fmt: skip
def test_files_no_kind_fits_are_refused(tmp_path, text, message):
    path = tmp_path / "x.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LoadError, match=message):
        detect_kind(path)


def test_a_mapping_helps_detection(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("mobile,site,at\n13812345678,V1,2020-02-01 09:00\n", encoding="utf-8")
    with pytest.raises(LoadError):
        detect_kind(path)
    assert detect_kind(path, mapping={"mobile": "phone", "site": "venue_code", "at": "scan_time"}) == "venues"


def _contents(path):
    with DuckStore(path, read_only=True) as store:
        p = store.presences()
        return sorted(zip(store.person_keys(p["person"]), store.place_keys(p["place"]), p["start"], p["record"]))


def test_load_auto_equals_loading_each_kind_by_name(city, tmp_path):
    runner = CliRunner()
    files = [p for paths in reversed(list(city.files.values())) for p in paths]  # grid first
    auto, named = str(tmp_path / "auto.duckdb"), str(tmp_path / "named.duckdb")
    res = runner.invoke(cli.main, ["--store", auto, "load", "auto", *files, city.cases_path, "--format", "json"])
    assert res.exit_code == 0, res.stderr
    assert f"skipped {city.cases_path}: a case list" in res.stderr
    got = json.loads(res.stdout)
    assert list(got) == [k for k in ("residence", "flights", "trains", "buses", "venues", "checkpoints", "grid")
                         if k in city.files]  # fmt: skip
    for kind, paths in city.files.items():
        by_name = runner.invoke(cli.main, ["--store", named, "load", kind, *paths, "--format", "json"])
        assert by_name.exit_code == 0
        assert got[kind]["read"] == json.loads(by_name.stdout)["read"]
        assert got[kind]["read"] == got[kind]["loaded"] + got[kind]["duplicates"] + got[kind]["rejected"]
    assert _contents(auto) == _contents(named)
    rejects = tmp_path / "rejects.csv"
    again = runner.invoke(cli.main, ["--store", auto, "load", "auto", *files, "--rejects", str(rejects)])
    assert again.exit_code == 0 and "venues:" in again.stderr and "loaded 0 +" in again.stderr
    assert len(pd.read_csv(rejects)) == sum(r["rejected"] for r in got.values())


def test_load_auto_checks_every_file_before_loading_any(city, tmp_path):
    bad = tmp_path / "notes.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    store = tmp_path / "s.duckdb"
    res = CliRunner().invoke(cli.main, ["--store", str(store), "load", "auto", *city.files["venues"], str(bad)])
    assert res.exit_code == 1 and "notes.csv: no source kind fits" in res.stderr
    assert not store.exists()
    groups, case_lists = group_by_kind(city.files["grid"] + [city.cases_path] + city.files["residence"])
    assert list(groups) == ["residence", "grid"] and case_lists == [city.cases_path]


# ------------------------------------------------- a title line above the header

TITLED = ("某区场所扫码记录导出（2020年2月1日）,,,,\n"
          "姓名,证件号码,手机号码,场所编码,扫码时间\n"
          "张三,,13812345678,V1,2020-02-01 09:00\n"
          "李四,,138123,V1,bad\n")  # fmt: skip


def test_a_header_below_a_title_line_is_found(tmp_path):
    from loaders import load_files

    path = tmp_path / "v.csv"
    path.write_bytes(TITLED.encode("gb18030"))
    with DuckStore(tmp_path / "t.duckdb") as store:
        report = load_files(store, "venues", [str(path)])
    assert (report.read, report.loaded, report.rejected) == (2, 1, 1)  # the title and the header are no records
    assert report.rejects["line"].tolist() == [4]
    assert json.loads(report.rejects["raw"][0])["场所编码"] == "V1"
    assert any("header on line 2" in line for line in report.summary_lines())
    assert detect_kind(path) == "venues"


def test_an_xlsx_title_row_and_a_titled_case_list(tmp_path):
    from loaders import load_files
    from loaders.cases import read_cases

    rows = [["2020年2月 网格数据", None, None, None], ["手机号码", "网格编号", "开始时间", "结束时间"],
            ["13812345678", "G1", "2020-02-01 09:00", "2020-02-01 10:00"]]  # fmt: skip
    path = tmp_path / "g.xlsx"
    pd.DataFrame(rows).to_excel(path, index=False, header=False)
    assert detect_kind(path) == "grid"
    with DuckStore(tmp_path / "t.duckdb") as store:
        report = load_files(store, "grid", [str(path)])
    assert (report.read, report.loaded) == (1, 1)
    cases = tmp_path / "cases.csv"
    cases.write_text("确诊病例名单,\n证件号码,发病日期\n11010519491231002X,2020-02-01\n", encoding="utf-8")
    assert read_cases(cases).to_dict("records") == [{"person": "11010519491231002X", "onset": "2020-02-01"}]


def test_a_workbook_with_more_rows_on_another_sheet_is_refused_not_half_read(tmp_path):
    """A workbook is read from its first sheet: a second sheet of the same
    kind (one per day) would be lost, so the load refuses; a notes sheet is
    named as not read."""
    from loaders import load_files

    def grid(phone, cell):
        return pd.DataFrame({"手机号码": [phone], "网格编号": [cell], "开始时间": ["2020-02-01 09:00"],
                             "结束时间": ["2020-02-01 10:00"]})  # fmt: skip

    two, notes = tmp_path / "two.xlsx", tmp_path / "notes.xlsx"
    with pd.ExcelWriter(two) as w:
        grid("13812345678", "G1").to_excel(w, sheet_name="2月1日", index=False)
        grid("13812345679", "G2").to_excel(w, sheet_name="2月2日", index=False)
    with pd.ExcelWriter(notes) as w:
        grid("13812345678", "G1").to_excel(w, sheet_name="数据", index=False)
        pd.DataFrame({"说明": ["本表为网格数据"]}).to_excel(w, sheet_name="说明", index=False)
    with DuckStore(tmp_path / "t.duckdb") as store:
        with pytest.raises(LoadError, match="sheet '2月2日' also holds grid rows"):
            load_files(store, "grid", [str(notes), str(two)])
        assert len(store.presences()) == 0  # nothing of the batch was loaded
        report = load_files(store, "grid", [str(notes)])
    assert report.loaded == 1 and any("sheet '说明' not read" in line for line in report.summary_lines())
    with pytest.raises(LoadError, match="also holds grid rows"):
        group_by_kind([str(notes), str(two)])
