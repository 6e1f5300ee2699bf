"""Tests of loaders.generate: raw files from a synthetic city, loaded back.

The round trip generate → load → trace is checked against the generator's
own record: the accounting each load must report (``expected_load.json``),
every injected change (``truth/mess.csv``: the reject or warning it must
cause at its file and line), the presences loading must give
(``truth/expected_presences.parquet``, itself checked against the city's
presences), the shared family phones (``truth/shared_phones.csv``: warned,
never merged), and the infections a trace of the A-class cases must find.
"""

import json
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders import load_files
from loaders.generate import EXPECT_COLUMNS, LOAD_ORDER, write_raw_sources
from loaders.generate_mess import MESS, format_local, local_seconds
from loaders.ids import id_check_char, normalize_id_number, normalize_phone
from loaders.sources import CHECKPOINT_HALF_S, VEHICLE_HALF_S
from loaders.timeparse import parse_timestamp
from loaders.transport import normalize_flight_no
from tracer.config import ModelConfig
from tracer.duck import DuckStore
from tracer.errors import ValidationError
from tracer.schema import FLAG_END_ESTIMATED, KIND_CODES
from tracer.tracing import prepare_cases, trace

SH = "Asia/Shanghai"
COUNTS = ("read", "loaded", "duplicates", "rejected", "by_code")
# a small city with enough infections to trace; a high mess rate so that
# every kind of damage shows up even in the small files (flights, trains)
CITY = dict(n_people=400, days=4, seed=3, mess=0.2, n_seeds=8, transmissibility=3.0)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """Generate once, load every kind in LOAD_ORDER; yield (files, reports, store frame)."""
    directory = tmp_path_factory.mktemp("city")
    out = write_raw_sources(directory, **CITY)
    reports = {}
    with DuckStore(directory / "t.duckdb") as store:
        for kind, files in out.files.items():
            reports[kind] = load_files(store, kind, files)
        p = store.presences()
        frame = pd.DataFrame({
            "person_key": store.person_keys(p["person"].to_numpy()),
            "place_key": store.place_keys(p["place"].to_numpy()),
            **{c: p[c].to_numpy() for c in ("kind", "start", "end", "section", "row", "col", "flags")},
        })  # fmt: skip
        cases = pd.read_csv(out.cases_path, dtype=str, keep_default_na=False)
        result = trace(store, cases, hops=1)
        aliases = store.aliases()
    return out, reports, frame, cases, result, aliases


def as_set(frame):
    return set(map(tuple, frame[list(EXPECT_COLUMNS)].astype(object).values.tolist()))


def test_files_and_truth_written(loaded):
    out = loaded[0]
    assert list(out.files) == [k for k in LOAD_ORDER if k in out.files] and "venues" in out.files
    for paths in out.files.values():
        assert all(os.path.getsize(p) > 0 for p in paths)
    for name in ("infections.csv", "presences.parquet", "expected_presences.parquet", "mess.csv", "shared_phones.csv"):
        assert os.path.exists(os.path.join(out.truth_dir, name))
    with open(os.path.join(out.directory, "expected_load.json"), encoding="utf-8") as fh:
        assert json.load(fh) == out.expected
    with open(out.files["venues"][0], "rb") as fh:
        head = fh.read(200)
    assert "场所编码".encode("gb18030") in head  # GB18030 with Chinese headers
    with open(out.files["trains"][0], "rb") as fh:
        assert fh.read(3) == b"\xef\xbb\xbf"  # UTF-8 with BOM
    assert out.files["flights"][0].endswith(".xlsx")


def test_accounting_identity_and_expected_counts(loaded):
    out, reports = loaded[:2]
    for kind, report in reports.items():
        got = report.to_dict()
        assert got["read"] == got["loaded"] + got["duplicates"] + got["rejected"], kind
        assert {k: got[k] for k in COUNTS} == {k: out.expected[kind][k] for k in COUNTS}, kind
        for f, e in zip(report.per_file, out.expected[kind]["per_file"]):
            assert f["read"] == f["loaded"] + f["duplicates"] + f["rejected"]
            assert {k: f[k] for k in COUNTS} == {k: e[k] for k in COUNTS}, f["file"]


def test_every_damage_kind_was_exercised(loaded):
    out = loaded[0]
    seen = set(out.mess["mess"])
    assert {"no-identity", "no-place", "bad-timestamp", "end-before-start"} <= seen
    assert {"id-15-digit", "id-fullwidth", "id-bad-check-phone", "phone-country-code", "time-chinese"} <= seen
    assert {"family-phone", "family-phone-holder"} <= seen
    assert (out.mess["outcome"] == "duplicate").any()
    venues = out.expected["venues"]["per_file"]
    assert venues[1]["duplicates"] > 0  # part 2 repeats the tail of part 1


def test_injected_rejects_have_their_codes(loaded):
    out, reports = loaded[:2]
    for kind, report in reports.items():
        log = out.mess[(out.mess["kind"] == kind) & (out.mess["outcome"] == "rejected")]
        got = report.rejects.set_index(["file", "line"])["code"].to_dict()
        want = {(f, int(line)): c for f, line, c in zip(log["file"], log["line"], log["code"])}
        assert got == want, kind  # exactly the injected rows, with their codes


def test_injected_changes_leave_their_warnings(loaded):
    out, reports = loaded[:2]
    for kind, report in reports.items():
        log = out.mess[(out.mess["kind"] == kind) & (out.mess["outcome"] != "rejected") & out.mess["code"].notna()]
        warned = set(zip(report.warning_rows["file"], report.warning_rows["line"], report.warning_rows["code"]))
        missing = [r for r in zip(log["file"], log["line"].astype(int), log["code"]) if r not in warned]
        assert not missing, (kind, missing[:5])


def test_loaded_presences_equal_expected(loaded):
    out, _, frame = loaded[:3]
    estimated = (frame["kind"] == KIND_CODES["venue"]) & ((frame["flags"] & FLAG_END_ESTIMATED) > 0)
    frame = frame.assign(end=np.where(estimated, -1, frame["end"]))
    expected = pd.read_parquet(os.path.join(out.truth_dir, "expected_presences.parquet"))
    assert len(frame) == len(expected)
    assert as_set(frame) == as_set(expected)


def _truth_with_family_phones(out, truth):
    """The city's presences as the sources carry them: a member who gives
    another's phone has no grid rows; the holder's grid rows are keyed by
    the phone (two ID holders)."""
    family = out.shared_phones
    grid = truth["kind"].to_numpy() == KIND_CODES["grid"]
    truth = truth[~(grid & truth["person_key"].isin(family["member"]).to_numpy())].reset_index(drop=True)
    grid = truth["kind"].to_numpy() == KIND_CODES["grid"]
    phone_key = dict(zip(family["holder"], "phone:+86" + family["phone"]))
    holder = grid & truth["person_key"].isin(list(phone_key)).to_numpy()
    return truth.assign(person_key=np.where(holder, truth["person_key"].map(phone_key), truth["person_key"]))


def test_expected_presences_follow_the_city(loaded):
    """expected_presences is the city's truth up to the documented rules."""
    out = loaded[0]
    truth = _truth_with_family_phones(out, pd.read_parquet(os.path.join(out.truth_dir, "presences.parquet")))
    expected = pd.read_parquet(os.path.join(out.truth_dir, "expected_presences.parquet"))
    kind = truth["kind"].to_numpy()
    k = KIND_CODES
    cabin_unknown = np.isin(kind, [k["flight"], k["bus"]])
    estimated = (kind == k["venue"]) & ((truth["flags"].to_numpy() & FLAG_END_ESTIMATED) > 0)
    passes = kind == k["checkpoint"]
    norm = truth.assign(
        section=np.where(cabin_unknown, -1, truth["section"]),
        end=np.where(estimated, -1, np.where(passes, truth["start"] + CHECKPOINT_HALF_S, truth["end"])),
        start=np.where(passes, truth["start"] - CHECKPOINT_HALF_S, truth["start"]),
    )
    vehicle = k["vehicle"]
    assert as_set(norm[kind != vehicle]) == as_set(expected[expected["kind"] != vehicle])
    # the taxi of each pass: inside one of the person's rides in that taxi
    taxis = truth[kind == vehicle]
    got = expected[expected["kind"] == vehicle]
    assert len(got) == (kind == k["checkpoint"]).sum()
    pairs = got.merge(taxis, on=["person_key", "place_key"], suffixes=("", "_ride"))
    centre = pairs["start"] + VEHICLE_HALF_S
    inside = pairs[(pairs["start_ride"] <= centre) & (centre <= pairs["end_ride"])]
    assert len(inside.drop_duplicates(["person_key", "place_key", "start"])) == len(got)


def _covering(truth, person, place, time_s, pad_s=0):
    rows = truth[(truth["person_key"] == person) & (truth["place_key"] == place)]
    return rows[(rows["start"] <= time_s) & (time_s <= rows["end"] + pad_s)]


def test_trace_recovers_the_true_infections(loaded):
    """Each true infection by an A-class case, inside the case's infectious
    window, at a place whose intervals the sources carry exactly, shows up
    as a co-presence event of that case and that person at that place.

    Left out: taxi rides (no source records them unless they pass a
    checkpoint) and venue visits whose end was estimated (no exit scan:
    the estimate may end before the true visit did).
    """
    out, _, _, cases, result, _ = loaded
    cfg = ModelConfig()
    truth = pd.read_parquet(os.path.join(out.truth_dir, "presences.parquet"))
    infections = pd.read_csv(os.path.join(out.truth_dir, "infections.csv"), dtype={"person": str, "infected_by": str})
    windows = prepare_cases(cases, cfg, SH).set_index("person")
    events = set(zip(result.events["case"], result.events["contact"], result.events["place"]))
    exact = {"venue", "flight", "train", "bus", "home"}
    checked = 0
    for inf in infections[(infections["hop"] > 0) & infections["infected_by"].isin(windows.index)].itertuples():
        w = windows.loc[inf.infected_by]
        if inf.place.split(":")[0] not in exact or not w.window_start_s <= inf.time <= w.window_end_s:
            continue
        kind = KIND_CODES["residence" if inf.place.startswith("home:") else inf.place.split(":")[0]]
        rows = pd.concat([_covering(truth, inf.infected_by, inf.place, inf.time, cfg.linger_s[kind]),
                          _covering(truth, inf.person, inf.place, inf.time)])  # fmt: skip
        if ((rows["flags"] & FLAG_END_ESTIMATED) > 0).any():
            continue
        assert (inf.infected_by, inf.person, inf.place) in events, inf
        checked += 1
    assert checked > 0


def test_grid_first_gives_the_same_store(loaded, tmp_path):
    """Telecom grid rows (phone only) loaded before every other kind are first
    keyed ``phone:+86…``; the later loads that name each phone's ID holder
    move them (``phone-merged``), so the store ends up holding exactly the
    presences, records included, of the documented order (holders first)."""
    out, _, frame, _, _, _ = loaded
    order = ["grid"] + [k for k in LOAD_ORDER if k != "grid"]
    merged = moved = 0
    with DuckStore(tmp_path / "g.duckdb") as store:
        for kind in order:
            report = load_files(store, kind, out.files[kind])
            merged, moved = merged + report.merged_phones, moved + report.moved_presences
            assert report.read == report.loaded + report.duplicates + report.rejected
        p = store.presences()
        got = pd.DataFrame({
            "person_key": store.person_keys(p["person"].to_numpy()),
            "place_key": store.place_keys(p["place"].to_numpy()),
            **{c: p[c].to_numpy() for c in ("kind", "start", "end", "section", "row", "col", "flags")},
        })  # fmt: skip
        records = set(p["record"].tolist())
    with DuckStore(os.path.join(out.directory, "t.duckdb"), read_only=True) as first:
        assert records == set(first.presences()["record"].tolist())
    assert merged > 0 and moved > 0
    assert as_set(got) == as_set(frame) and len(got) == len(frame)


def test_shared_family_phone_is_warned_not_merged(loaded):
    """A member without a phone gives the holder's in every row with their
    ID: both IDs load as two persons, the loaders warn ``shared-phone``
    exactly where mess.csv says, and the phone alone (grid) is not guessed."""
    out, reports, frame, _, _, aliases = loaded
    family = out.shared_phones
    assert len(family) >= 1 and family.columns.tolist() == ["home", "holder", "member", "phone"]
    written = pd.read_csv(os.path.join(out.truth_dir, "shared_phones.csv"), dtype=str)
    assert written.values.tolist() == family.values.tolist()
    log = out.mess[out.mess["code"] == "shared-phone"]
    assert {"residence", "grid"} <= set(log["kind"])  # both IDs at home; the holder's phone alone
    for kind, report in reports.items():
        rows = report.warning_rows
        warned = {(f, int(line)) for f, line, c in zip(rows["file"], rows["line"], rows["code"]) if c == "shared-phone"}
        here = log[log["kind"] == kind]
        assert warned == set(zip(here["file"], here["line"].astype(int))), kind
    truth = pd.read_parquet(os.path.join(out.truth_dir, "presences.parquet"))
    alias_pairs = set(zip(aliases["key"], aliases["alias"]))
    by_phone = [KIND_CODES["grid"], KIND_CODES["vehicle"]]  # the phone alone; taxis seen only at checkpoints
    for home, holder, member, phone in family.itertuples(index=False):
        assert holder != member and home.startswith("home:")
        assert {(holder, "phone:+86" + phone), (member, "phone:+86" + phone)} <= alias_pairs
        for person in (holder, member):  # each ID keeps its own presences (never merged)
            got = frame[(frame["person_key"] == person) & ~frame["kind"].isin(by_phone)]
            want = truth[(truth["person_key"] == person) & ~truth["kind"].isin(by_phone)]
            assert got["kind"].value_counts().to_dict() == want["kind"].value_counts().to_dict(), person
        grid = frame[frame["kind"] == KIND_CODES["grid"]]
        assert not grid["person_key"].isin([holder, member]).any()  # no SIM for the member; no guess for the phone
        n_holder_grid = ((truth["person_key"] == holder) & (truth["kind"] == KIND_CODES["grid"])).sum()
        assert (grid["person_key"] == "phone:+86" + phone).sum() == n_holder_grid


def test_wrong_check_digit_spares_shared_phones():
    """A wrong check digit goes only next to a phone of one holder: next to
    a shared family phone the row would load under the phone key."""
    _, code, ok, _ = MESS["id-bad-check-phone"]

    class Rows:
        kind = "venues"
        cells = pd.DataFrame({"id_number": ["11010519491231002X"] * 2, "phone": ["13812345678"] * 2}, dtype=object)
        shared = np.array([False, True])

    assert code == "bad-id-checksum" and ok(Rows, "id_number", np.array([0, 1])).tolist() == [True, False]


def test_clean_files_load_without_loss(tmp_path):
    out = write_raw_sources(tmp_path, n_people=150, days=2, seed=5, mess=0)
    assert out.mess.empty and out.shared_phones.empty
    with DuckStore(tmp_path / "t.duckdb") as store:
        for kind, files in out.files.items():
            report = load_files(store, kind, files)
            assert report.rejected == 0 and report.duplicates == out.expected[kind]["duplicates"], kind
        assert len(store.presences()) == len(pd.read_parquet(os.path.join(out.truth_dir, "expected_presences.parquet")))


def test_same_seed_same_files(tmp_path):
    a = write_raw_sources(tmp_path / "a", n_people=120, days=2, seed=11)
    b = write_raw_sources(tmp_path / "b", n_people=120, days=2, seed=11)
    assert a.files.keys() == b.files.keys()
    for kind in a.files:
        for pa_, pb in zip(a.files[kind], b.files[kind]):
            if pa_.endswith(".csv"):
                with open(pa_, "rb") as fa, open(pb, "rb") as fb:
                    assert fa.read() == fb.read(), kind
    assert a.expected == b.expected


def test_bad_mess_rate_is_a_validation_error(tmp_path):
    with pytest.raises(ValidationError, match="mess"):
        write_raw_sources(tmp_path, n_people=50, days=1, mess=1.5)


# ------------------------------------------------------------------ each change, against the parsers

STAMPS = st.integers(min_value=631152000, max_value=4000000000)  # 1990 .. 2096, UTC s


@settings(max_examples=60, deadline=None)
@given(utc_s=STAMPS, variant=st.sampled_from(["slash", "chinese", "compact", "excel"]))
def test_datetime_formats_parse_back(utc_s, variant):
    local = local_seconds(np.array([utc_s]), SH)
    cell = format_local(local, variant, "datetime")[0]
    parsed = parse_timestamp(pd.Series([str(cell)]), tz=SH)
    assert parsed.error[0] is None and int(parsed.values[0]) == utc_s


@settings(max_examples=60, deadline=None)
@given(utc_s=STAMPS, variant=st.sampled_from(["slash", "chinese", "excel", "compact"]))
def test_time_and_date_formats_parse_back(utc_s, variant):
    local = local_seconds(np.array([utc_s]), SH)
    day = format_local(local // 86400 * 86400, "slash", "date")[0]
    date_cell = format_local(local // 86400 * 86400, variant, "date")[0]
    assert int(parse_timestamp(pd.Series([str(date_cell)]), tz=SH).values[0]) == int(
        parse_timestamp(pd.Series([day]), tz=SH).values[0])  # fmt: skip
    if variant != "compact":  # time-compact is not used (HHMMSS reads as a number)
        clock = format_local(local, variant, "time")[0]
        parsed = parse_timestamp(pd.Series([str(clock)]), tz=SH, base_date=pd.Series([day]))
        assert int(parsed.values[0]) == utc_s


IDS = st.builds(
    lambda region, ymd, seq: region + ymd + seq,
    st.sampled_from(["530102", "110101", "310101"]),
    st.dates(min_value=pd.Timestamp("1920-01-01").date(), max_value=pd.Timestamp("2019-12-31").date()).map(
        lambda d: d.strftime("%Y%m%d")),
    st.integers(0, 999).map(lambda i: f"{i:03d}"),
).map(lambda first17: first17 + id_check_char(first17))  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(key=IDS, change=st.sampled_from(["id-lowercase-x", "id-15-digit", "id-spaces", "id-fullwidth", "id-apostrophe"]))
def test_id_changes_normalise_back(key, change):
    _, warning, ok, make = MESS[change]

    class Rows:
        cells = pd.DataFrame({"id_number": pd.Series([key], dtype=object)})

    idx = np.array([0])
    if not ok(Rows, "id_number", idx)[0]:
        return
    got = normalize_id_number(pd.Series(make(Rows, "id_number", idx)))
    assert got.values[0] == key and got.warning[0] == warning


@settings(max_examples=40, deadline=None)
@given(phone=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
       change=st.sampled_from(["phone-country-code", "phone-dashes", "phone-spaces"]))
def test_phone_changes_normalise_back(phone, change):
    _, warning, _, make = MESS[change]

    class Rows:
        cells = pd.DataFrame({"phone": pd.Series([phone], dtype=object)})

    got = normalize_phone(pd.Series(make(Rows, "phone", np.array([0]))))
    assert got.values[0] == phone and got.warning[0] == warning


@pytest.mark.parametrize("change", ["flight-no-space", "flight-no-lower", "flight-no-zero", "flight-no-icao"])
@pytest.mark.parametrize("number", ["CA1234", "MU5101", "3U8888", "KY9999"])
def test_flight_number_changes_normalise_back(change, number):
    _, warning, ok, make = MESS[change]

    class Rows:
        cells = pd.DataFrame({"flight_no": pd.Series([number], dtype=object)})

    idx = np.array([0])
    if ok(Rows, "flight_no", idx)[0]:
        got = normalize_flight_no(pd.Series(make(Rows, "flight_no", idx)))
        assert got.values[0] == number and got.warning[0] == warning
