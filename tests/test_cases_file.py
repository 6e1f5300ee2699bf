"""The case list file (loaders.cases.read_cases and ``tracer trace --cases``):
English or Chinese headers, any detected encoding, XLSX, who and when
columns with fallbacks, clear errors."""

import io

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cli
from loaders.cases import read_cases
from tracer.errors import LoadError

ID = "11010519491231002X"


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_chinese_headers_in_gb18030(tmp_path):
    path = write(tmp_path, "c.csv", f"姓名,证件号码,手机号码,发病日期,隔离日期\n张三,{ID},,2020-02-01,2020-02-05\n"
                 "李四,,+86 139-1234-5678,2020-02-02,\n", "gb18030")  # fmt: skip
    got = read_cases(path)
    assert got.to_dict("records") == [
        {"person": ID, "onset": "2020-02-01", "isolated": "2020-02-05"},
        {"person": "+86 139-1234-5678", "onset": "2020-02-02", "isolated": None},
    ]


def test_person_column_wins_and_sampled_dates_asymptomatic_cases(tmp_path):
    path = write(tmp_path, "c.csv", "Person,ID Number,Sampled\nphone:+8613812345678,x,2020-02-03\n")
    assert read_cases(path).to_dict("records") == [{"person": "phone:+8613812345678", "sampled": "2020-02-03"}]


def test_xlsx_case_list(tmp_path):
    path = tmp_path / "c.xlsx"
    pd.DataFrame({"证件号码": [ID], "发病日期": ["2020-02-01"]}).to_excel(path, index=False)
    assert read_cases(path).to_dict("records") == [{"person": ID, "onset": "2020-02-01"}]


@pytest.mark.parametrize("text, message", [
    ("name,onset\nx,2020-01-01\n", "no column naming the cases"),
    ("person,isolated\nx,2020-01-01\n", "no onset or sampled column"),
    ("证件号码,手机号码,发病日期\n110101199003074514,,2020-01-01\n,,2020-01-02\n", "line 3 names no case"),
])  # fmt: skip
def test_unusable_case_lists_are_clear_errors(tmp_path, text, message):
    with pytest.raises(LoadError, match=message) as err:
        read_cases(write(tmp_path, "c.csv", text))
    assert "c.csv" in str(err.value)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12)), min_size=1, max_size=5))
def test_arbitrary_cells_never_crash(tmp_path_factory, rows):
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["证件号码", "发病日期"])
    writer.writerows(rows)
    path = write(tmp_path_factory.mktemp("fuzz"), "c.csv", buf.getvalue())
    try:
        got = read_cases(path)
    except LoadError:
        return
    assert list(got.columns) == ["person", "onset"] and got["person"].notna().all()


def test_trace_reads_a_chinese_case_list(tmp_path):
    store = str(tmp_path / "t.duckdb")
    head = "证件号码,手机号码,场所编码,扫码时间,离开时间\n"
    other = "530102198511110024"
    venues = write(tmp_path, "v.csv", head + f"{ID},13812345678,V1,2020-02-01 09:00,2020-02-01 10:00\n"
                   f"{other},,V1,2020-02-01 09:30,2020-02-01 10:30\n")  # fmt: skip
    runner = CliRunner()
    assert runner.invoke(cli.main, ["--store", store, "load", "venues", venues]).exit_code == 0
    cases = write(tmp_path, "cases.csv", "姓名,手机号码,发病日期\n张三,138 1234 5678,2020-02-02\n", "gb18030")
    res = runner.invoke(cli.main, ["--store", store, "--show-pii", "trace", "--cases", cases, "--no-save",
                                   "--format", "csv"])  # fmt: skip
    assert res.exit_code == 0, res.stderr
    got = pd.read_csv(io.StringIO(res.stdout), dtype=str)
    assert got["person"].tolist() == [other] and got["source_case"].tolist() == [ID]
