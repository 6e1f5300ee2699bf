"""The CLI through click's CliRunner: exit codes, exact outputs, then a check
through the library; plus the installed command end to end."""

import io
import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cli
from tracer.duck import DuckStore

DATA = os.path.join(os.path.dirname(__file__), "data")
SMALL = os.path.join(DATA, "presences_small.csv")
CASE = "110101199003074514"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def store(tmp_path):
    return str(tmp_path / "t.duckdb")


def invoke(runner, store, *args):
    return runner.invoke(cli.main, ["--store", store, *args], catch_exceptions=False)


def test_load_accounts_for_every_row(runner, store, tmp_path):
    rejects = tmp_path / "rejects.csv"
    res = invoke(runner, store, "load", "presences", SMALL, "--rejects", str(rejects), "--format", "json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["read"] == 11
    assert summary["read"] == summary["loaded"] + summary["duplicates"] + summary["rejected"]
    assert summary["by_code"] == {"bad-timestamp": 1, "end-before-start": 1, "missing-value": 1, "unknown-kind": 1}
    assert summary["duplicates"] == 1
    rej = pd.read_csv(rejects)
    assert sorted(rej["line"]) == [9, 10, 11, 12]
    with DuckStore(store) as st:
        assert len(st.presences()) == summary["loaded"] == 6
    again = invoke(runner, store, "load", "presences", SMALL, "--format", "json")
    assert json.loads(again.stdout)["loaded"] == 0


def test_load_reads_gb18030(runner, store, tmp_path):
    path = tmp_path / "gb.csv"
    text = open(SMALL, encoding="utf-8").read().replace("venue:V001", "venue:北京站")
    path.write_bytes(text.encode("gb18030"))
    res = invoke(runner, store, "load", "presences", str(path), "--format", "json")
    assert res.exit_code == 0, res.output
    with DuckStore(store) as st:
        assert "venue:北京站" in set(st.places()["key"])


def test_trace_csv_columns_and_masking(runner, store):
    invoke(runner, store, "load", "presences", SMALL)
    res = invoke(runner, store, "trace", "--case", CASE, "--onset", "2020-02-02", "--format", "csv")
    assert res.exit_code == 0, res.output
    out = pd.read_csv(io.StringIO(res.stdout), dtype=str)
    assert out.columns.tolist() == [
        "rank", "person", "risk", "rule", "hop", "source_case", "first_contact", "overlap_min", "events",
    ]  # fmt: skip
    assert "13812345678" not in res.stdout and CASE not in res.stdout
    assert set(out["source_case"]) == {"110101********4514"}
    shown = invoke(runner, store, "--show-pii", "trace", "--case", CASE, "--onset", "2020-02-02", "--format", "csv")
    full = pd.read_csv(io.StringIO(shown.stdout), dtype=str)
    # The same ranking through the library.
    import tracer

    with DuckStore(store) as st:
        lib = tracer.trace(st, pd.DataFrame({"person": [CASE], "onset": ["2020-02-02"]}))
    assert full["person"].tolist() == lib.contacts["person"].tolist()
    assert "phone:+8613812345678" in set(full["person"])


def test_user_errors_are_one_line_without_traceback(runner, store, tmp_path):
    res = runner.invoke(cli.main, ["--store", store, "load", "presences", str(tmp_path / "nope.csv")])
    assert res.exit_code == 1
    assert "no such file" in res.output and "Traceback" not in res.output
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    res = runner.invoke(cli.main, ["--store", store, "load", "presences", str(empty)])
    assert res.exit_code == 1 and "empty" in res.output
    invoke(runner, store, "load", "presences", SMALL)
    res = runner.invoke(cli.main, ["--store", store, "trace", "--case", "110101199003070000", "--onset", "2020-02-02"])
    assert res.exit_code == 1 and "110101********0000" in res.output and "Traceback" not in res.output
    res = runner.invoke(cli.main, ["--store", store, "trace"])
    assert res.exit_code == 2 and "no cases" in res.output
    res = runner.invoke(cli.main, ["--store", store, "load", "spaceships", SMALL])
    assert res.exit_code == 2


def test_every_command_has_help(runner):
    for name, command in cli.main.commands.items():
        res = runner.invoke(cli.main, [name, "--help"])
        assert res.exit_code == 0
        assert command.help, f"{name} has no help"


def test_help_does_not_import_the_engine():
    code = (
        "import sys; sys.argv = ['tracer', 'trace', '--help']\n"
        "import cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numba', 'pandas', 'duckdb', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=os.path.dirname(DATA) + "/..")
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


def test_installed_command_end_to_end(tmp_path):
    assert shutil.which("tracer"), "the tracer command is not installed: run `pip install -e .` (scripts/test does)"
    store = str(tmp_path / "e2e.duckdb")
    load = subprocess.run(["tracer", "--store", store, "load", "presences", SMALL, "--format", "json"],
                          capture_output=True, text=True)  # fmt: skip
    assert load.returncode == 0, load.stderr
    assert json.loads(load.stdout)["loaded"] == 6
    out = subprocess.run(
        ["tracer", "--store", store, "trace", "--case", CASE, "--onset", "2020-02-02", "--format", "json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1)) and len(rows) == 4


def test_explain_shows_the_evidence_of_a_saved_run(runner, store):
    invoke(runner, store, "load", "presences", SMALL)
    invoke(runner, store, "trace", "--case", CASE, "--onset", "2020-02-02")
    res = invoke(runner, store, "explain", CASE, "phone:+8613812345678", "--format", "csv")
    assert res.exit_code == 0, res.output
    ev = pd.read_csv(io.StringIO(res.stdout))
    assert ev["place"].tolist() == ["venue:V001"] and ev["kind"].tolist() == ["venue"]
    # 09:30-10:00 together, plus the venue's linger padding after the case left.
    assert ev["together_min"].tolist() == [30.0]
    assert "chain: 110101********4514 -> phone:+86138****5678" in res.stderr
    # A masked key as printed, and a rank, resolve to the same contact.
    by_mask = invoke(runner, store, "explain", "110101********4514", "phone:+86138****5678", "--format", "csv")
    assert by_mask.stdout == res.stdout
    with DuckStore(store) as st:
        run = st.load_run()
    rank = int(run.contacts.set_index("person").loc["phone:+8613812345678", "rank"])
    by_rank = invoke(runner, store, "explain", CASE, f"#{rank}", "--format", "csv")
    assert by_rank.stdout == res.stdout
    # A case has no rank: the hint says what a case may be given as.
    no_rank = invoke(runner, store, "explain", "#1", f"#{rank}")
    assert no_rank.exit_code == 1 and "case '#1' is not in this trace run" in no_rank.stderr
    assert "as #N" not in no_rank.stderr and "source_case" in no_rank.stderr


def test_runs_lists_the_saved_runs_oldest_first(runner, store):
    invoke(runner, store, "load", "presences", SMALL)
    empty = invoke(runner, store, "runs", "--format", "json")
    assert json.loads(empty.stdout) == [] and "0 saved run(s)" in empty.stderr
    invoke(runner, store, "trace", "--case", CASE, "--onset", "2020-02-02")
    invoke(runner, store, "trace", "--case", CASE, "--onset", "2020-02-02", "--hops", "2", "--min-risk", "0.001")
    res = invoke(runner, store, "runs", "--format", "json")
    rows = json.loads(res.stdout)
    with DuckStore(store) as st:
        assert [r["id"] for r in rows] == st.runs()["id"].tolist()
        assert rows[-1]["id"] == st.load_run().id
    assert [(r["hops"], r["min_risk"]) for r in rows] == [(1, 0.0), (2, 0.001)]
    assert all(r["created"].startswith("20") for r in rows)


def test_plates_and_home_addresses_are_masked_unless_asked(runner, store, tmp_path):
    rows = tmp_path / "car_home.csv"
    rows.write_text(
        "person,place,kind,start,end,section,row,col\n"
        f"{CASE},vehicle:京A12345,vehicle,2020-02-01 09:00,2020-02-01 09:30,,,\n"
        "phone:+8613812345678,vehicle:京A12345,vehicle,2020-02-01 09:00,2020-02-01 09:30,,,\n"
        f"{CASE},home:110101000042,residence,2020-01-01 00:00,2020-03-01 00:00,,,\n"
        "phone:+8613912345678,home:110101000042,residence,2020-01-01 00:00,2020-03-01 00:00,,,\n",
        encoding="utf-8",
    )
    invoke(runner, store, "load", "presences", str(rows))
    invoke(runner, store, "trace", "--case", CASE, "--onset", "2020-02-02")
    masked = invoke(runner, store, "explain", CASE, "phone:+8613812345678", "--format", "csv")
    assert pd.read_csv(io.StringIO(masked.stdout))["place"].tolist() == ["vehicle:京A****5"]
    assert "京A12345" not in masked.stdout
    home = invoke(runner, store, "explain", CASE, "phone:+8613912345678", "--format", "csv")
    assert pd.read_csv(io.StringIO(home.stdout))["place"].tolist() == ["home:110101******"]
    shown = runner.invoke(cli.main, ["--store", store, "--show-pii", "explain", CASE, "phone:+8613812345678",
                                     "--format", "csv"], catch_exceptions=False)  # fmt: skip
    assert pd.read_csv(io.StringIO(shown.stdout))["place"].tolist() == ["vehicle:京A12345"]


def test_error_messages_mask_personal_data(runner, store):
    invoke(runner, store, "load", "presences", SMALL)
    res = runner.invoke(cli.main, ["--store", store, "trace", "--case", "110101199001011237", "--onset", "2020-02-02"])
    assert res.exit_code == 1
    assert "110101199001011237" not in res.output and "110101********1237" in res.output
    shown = runner.invoke(
        cli.main, ["--store", store, "--show-pii", "trace", "--case", "110101199001011237", "--onset", "2020-02-02"]
    )
    assert "110101199001011237" in shown.output


def test_demo_generates_loads_traces_and_reports(runner, tmp_path):
    out = tmp_path / "demo"
    res = runner.invoke(cli.main, ["demo", str(out), "--people", "400", "--days", "4", "--seed", "5"],
                        catch_exceptions=False)  # fmt: skip
    assert res.exit_code == 0, res.output
    for step in ("1/4", "2/4", "3/4", "4/4", "Next:"):
        assert step in res.stderr
    assert "read" in res.stderr and "rejected" in res.stderr  # the accounting, rejects included
    # and how many values were repaired or flagged (the generator damages some of every kind)
    warned = [int(x.rsplit("; ", 1)[1].split()[0].replace(",", "")) for x in res.stderr.splitlines() if " = loaded " in x]
    assert len(warned) == 7 and sum(warned) > 0
    assert (out / "report.html").stat().st_size > 10_000
    with DuckStore(str(out / "tracer.duckdb")) as st:
        run = st.load_run()
    assert run.params["hops"] == 2
    # The table on stdout shows the top contacts of that run, masked.
    top = run.contacts.sort_values("rank")["person"].head(3)
    from tracer.privacy import mask_key

    for key in mask_key(top):
        assert key in res.stdout
    assert not any(k in res.stdout for k in top)
    # The suggested explain command works as printed, pasted into a shell.
    line = next(x for x in res.stderr.splitlines() if " explain " in x)
    suggested = line.split("     # ")[0].strip()
    shown = subprocess.run(["bash", "-c", suggested + " --format csv"], capture_output=True, text=True, cwd=tmp_path)
    assert shown.returncode == 0, suggested + "\n" + shown.stderr
    evidence = pd.read_csv(io.StringIO(shown.stdout))
    assert len(evidence) >= 1 and evidence["contact"].iat[-1] == mask_key(top).iat[0]


def test_report_command_writes_a_self_contained_page(runner, store, tmp_path):
    invoke(runner, store, "load", "presences", SMALL)
    invoke(runner, store, "trace", "--case", CASE, "--onset", "2020-02-02")
    page = tmp_path / "r.html"
    res = invoke(runner, store, "report", "-o", str(page))
    assert res.exit_code == 0, res.output
    html = page.read_text(encoding="utf-8")
    assert "<script" in html and "http://" not in html.replace("http://www.w3.org", "")
    assert CASE not in html and "13812345678" not in html


def test_canonical_parquet_input_loads_like_csv(runner, store, tmp_path):
    frame = pd.read_csv(SMALL, dtype=str, keep_default_na=False)
    frame = frame[frame["start"].str.startswith("2020")]  # the rows that are valid in the CSV
    path = tmp_path / "p.parquet"
    frame.to_parquet(path, index=False)
    res = invoke(runner, store, "load", "presences", str(path), "--format", "json")
    summary = json.loads(res.stdout)
    assert summary["read"] == len(frame) and summary["read"] == summary["loaded"] + summary["duplicates"] + summary["rejected"]
    csv_store = str(tmp_path / "c.duckdb")
    invoke(runner, csv_store, "load", "presences", SMALL)
    with DuckStore(store) as a, DuckStore(csv_store) as b:
        cols = ["start", "end", "kind", "section", "row", "col", "record"]
        pa = a.presences()[cols].sort_values("record").reset_index(drop=True)
        pb = b.presences()[cols].sort_values("record").reset_index(drop=True)
    pd.testing.assert_frame_equal(pa, pb)


def test_rejects_file_masks_personal_data_unless_asked(runner, store, tmp_path):
    venues = os.path.join(DATA, "venues_messy.csv")
    masked, shown = tmp_path / "masked.csv", tmp_path / "shown.csv"
    invoke(runner, store, "load", "venues", venues, "--rejects", str(masked))
    runner.invoke(cli.main, ["--store", str(tmp_path / "b.duckdb"), "--show-pii", "load", "venues", venues,
                             "--rejects", str(shown)], catch_exceptions=False)  # fmt: skip
    a, b = pd.read_csv(masked), pd.read_csv(shown)
    assert a["line"].tolist() == b["line"].tolist() and a["code"].tolist() == b["code"].tolist()
    assert "11010519900307451X" in " ".join(b["raw"]) and "11010519900307451X" not in " ".join(a["raw"])
    assert "110105********451X" in " ".join(a["raw"])
    assert "钱七" in " ".join(b["raw"]) and "钱七" not in " ".join(a["raw"])


def test_locked_store_and_undecodable_file_are_clear_errors(runner, store, tmp_path):
    invoke(runner, store, "load", "presences", SMALL)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
         "time.sleep(60)", store], stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ok"
        res = runner.invoke(cli.main, ["--store", store, "trace", "--case", CASE, "--onset", "2020-02-02"])
        assert res.exit_code == 1 and "in use by another" in res.output and "Traceback" not in res.output
    finally:
        holder.kill()
        holder.wait()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"person,place,kind,start,end\n\xff\xfe\xff\xff,x,venue,2020-01-01,2020-01-02\n")
    res = runner.invoke(cli.main, ["--store", store, "load", "presences", str(bad)])
    assert res.exit_code == 1 and "cannot decode" in res.output and "--encoding" in res.output


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), st.booleans()), min_size=1, max_size=12), st.integers(20, 200))
def test_table_columns_fit_the_terminal(cols, available):
    """A narrow terminal hides columns (empty ones first, then from the
    right) instead of cropping them; the first two always stay."""
    from cli import fit_columns

    widths, filled = [w for w, _ in cols], [f for _, f in cols]
    keep = fit_columns(widths, filled, available)
    total = sum(widths[k] for k in keep) + 2 * (len(keep) - 1)
    assert keep == sorted(keep) and keep[: min(2, len(cols))] == list(range(min(2, len(cols))))
    assert total <= available or len(keep) == min(2, len(cols))
    if sum(widths) + 2 * (len(cols) - 1) <= available:
        assert keep == list(range(len(cols)))
    dropped = [k for k in range(len(cols)) if k not in keep]
    # A filled column is dropped only when every empty column beyond the first two is gone.
    if any(filled[k] for k in dropped):
        assert all(filled[k] for k in keep[2:])


def test_error_messages_mask_person_keys_of_any_form(runner, store, tmp_path):
    """A canonical input may key people by any string, names included: an
    error that quotes such a key masks it as tables do, unless --show-pii."""
    from tracer.privacy import mask_key

    path = tmp_path / "named.csv"
    path.write_text("person,place,kind,start,end\n"
                    "张三丰,venue:1,venue,2020-02-01 10:00,2020-02-01 11:00\n"
                    "李四光,venue:1,venue,2020-02-01 10:00,2020-02-01 11:00\n"
                    "赵六,venue:2,venue,2020-02-03 10:00,2020-02-03 11:00\n", encoding="utf-8")  # fmt: skip
    assert invoke(runner, store, "load", "presences", str(path)).exit_code == 0
    res = invoke(runner, store, "trace", "--case", "王五明", "--onset", "2020-02-02")
    assert res.exit_code == 1 and "王五明" not in res.stderr and mask_key(["王五明"])[0] in res.stderr
    assert "王五明" in invoke(runner, store, "--show-pii", "trace", "--case", "王五明", "--onset", "2020-02-02").stderr
    # explain names the contact, the case asked about and the true source case
    assert invoke(runner, store, "trace", "--case", "张三丰", "--case", "赵六", "--onset", "2020-02-02",
                  "--onset", "2020-02-04").exit_code == 0  # fmt: skip
    res = invoke(runner, store, "explain", "赵六", "李四光")
    assert res.exit_code == 1 and "was not exposed by case" in res.stderr
    assert not any(name in res.stderr for name in ("张三丰", "李四光", "赵六")), res.stderr


def test_case_keys_typed_by_hand_are_read_as_the_stored_form(runner, store, tmp_path):
    """``--case`` with a bare or +86 phone number, a lower-case x or a 15-digit
    ID finds the person stored under the normalised key, with a note; a
    key stored exactly as typed is never rewritten."""
    head = "证件号码,手机号码,场所编码,扫码时间,离开时间\n"
    from loaders.ids import id_check_char

    case, contact = "11010519491231002X", "53010219851111002" + id_check_char("53010219851111002")
    path = tmp_path / "v.csv"
    path.write_text(head + f"{case},13812345678,V1,2020-02-01 09:00,2020-02-01 10:00\n"
                    f"{contact},,V1,2020-02-01 09:30,2020-02-01 10:30\n", encoding="utf-8")  # fmt: skip
    assert invoke(runner, store, "load", "venues", str(path)).exit_code == 0
    for typed in ("+86 138-1234-5678", "13812345678", "11010519491231002x", "110105491231002"):
        res = invoke(runner, store, "--show-pii", "trace", "--case", typed, "--onset", "2020-02-02", "--no-save",
                     "--format", "csv")  # fmt: skip
        assert res.exit_code == 0, res.stderr
        assert f"key {typed} read as" in res.stderr
        # a phone is the case's alias: the note names the person it is traced as
        assert (f"is traced as {case}" in res.stderr) == ("138" in typed)
        got = pd.read_csv(io.StringIO(res.stdout), dtype=str)
        assert got["person"].tolist() == [contact] and got["source_case"].tolist() == [case]
    res = invoke(runner, store, "trace", "--case", "13812345678", "--onset", "2020-02-02", "--no-save")
    assert res.exit_code == 0 and "13812345678" not in res.stderr and "read as phone:+86138****5678" in res.stderr
    res = invoke(runner, store, "trace", "--case", "13900000000", "--onset", "2020-02-02")
    assert res.exit_code == 1 and "not in store" in res.stderr
    # explain reads its CASE and CONTACT the same way
    assert invoke(runner, store, "trace", "--case", case, "--onset", "2020-02-02").exit_code == 0
    for who in (("138-1234-5678", "#1"), (case.lower(), "530102851111002"), ("phone:+8613812345678", contact)):
        res = invoke(runner, store, "--show-pii", "explain", *who, "--format", "csv")
        assert res.exit_code == 0, (who, res.stderr)
        assert f"chain: {case} -> {contact}" in res.stderr
    # a key held as typed stays as it is
    canon = tmp_path / "c.csv"
    canon.write_text("person,place,kind,start,end\n13812345678,venue:9,venue,2020-03-01 10:00,2020-03-01 11:00\n"
                     "p2,venue:9,venue,2020-03-01 10:30,2020-03-01 11:30\n", encoding="utf-8")  # fmt: skip
    assert invoke(runner, store, "load", "presences", str(canon)).exit_code == 0
    res = invoke(runner, store, "--show-pii", "trace", "--case", "13812345678", "--onset", "2020-03-01",
                 "--no-save", "--format", "csv")  # fmt: skip
    assert res.exit_code == 0 and "read as" not in res.stderr
    assert pd.read_csv(io.StringIO(res.stdout), dtype=str)["person"].tolist() == ["p2"]


def test_trace_on_a_mistyped_store_path_creates_nothing(runner, tmp_path):
    """Only ``load`` creates a store: a trace (which saves its run) on a path
    with no store says so and leaves no empty store behind."""
    missing = tmp_path / "typo.duckdb"
    res = invoke(runner, str(missing), "trace", "--case", CASE, "--onset", "2020-02-01")
    assert res.exit_code == 1 and f"no store at {missing}" in res.stderr and "tracer load" in res.stderr
    assert not missing.exists()
    assert invoke(runner, str(missing), "load", "presences", SMALL).exit_code == 0 and missing.exists()


def test_contact_info_adds_name_phone_and_district_masked_unless_asked(runner, store, tmp_path):
    from loaders.ids import id_check_char

    case = "11010519491231002X"
    named = "53010219851111002" + id_check_char("53010219851111002")
    path = tmp_path / "v.csv"
    path.write_text("姓名,证件号码,手机号码,场所编码,所属区县,扫码时间,离开时间\n"
                    f"甲,{case},,V1,五华区,2020-02-01 09:00,2020-02-01 10:00\n"
                    f"欧阳明,{named},13812345678,V1,五华区,2020-02-01 09:30,2020-02-01 10:30\n"
                    f"欧阳明,{named},+86 139 1234 5678,V1,五华区,2020-02-01 11:00,2020-02-01 11:30\n"
                    f",,13700001111,V1,,2020-02-01 09:40,2020-02-01 09:50\n", encoding="utf-8")  # fmt: skip
    assert invoke(runner, store, "load", "venues", str(path)).exit_code == 0
    home = tmp_path / "r.csv"  # the person's district comes from the household registration
    home.write_text(f"证件号码,标准地址编码,所属区县,入住日期\n{named},530102000001,盘龙区,2019-01-01\n", encoding="utf-8")
    assert invoke(runner, store, "load", "residence", str(home)).exit_code == 0
    args = ["trace", "--case", case, "--onset", "2020-02-02", "--no-save", "--contact-info", "--format", "csv"]
    shown = pd.read_csv(io.StringIO(invoke(runner, store, "--show-pii", *args).stdout), dtype=str, keep_default_na=False)
    assert list(shown.columns[:5]) == ["rank", "person", "name", "phone", "district"]
    rows = shown.set_index("person")[["name", "phone", "district"]].to_dict("index")
    assert rows == {named: {"name": "欧阳明", "phone": "13812345678; 13912345678", "district": "盘龙区"},
                    "phone:+8613700001111": {"name": "", "phone": "13700001111", "district": ""}}  # fmt: skip
    res = invoke(runner, store, *args)
    masked = pd.read_csv(io.StringIO(res.stdout), dtype=str, keep_default_na=False)
    assert set(masked["name"]) == {"欧*明", ""} and "138****5678; 139****5678" in set(masked["phone"])
    assert "13812345678" not in res.stdout and "欧阳明" not in res.stdout
