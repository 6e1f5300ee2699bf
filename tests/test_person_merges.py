"""A phone keyed as a person of its own, later given one ID holder: the
store's presences under ``phone:+86…`` move to the holder (tracer.duck_merge).

Checked through ``loaders.load_files`` on a real DuckDB file: accounting,
where every presence ends up, record fingerprints equal to a direct load
under the ID, aliases, key resolution, idempotence, atomicity, and a trace
that lists the merged person once.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_loaders import A, B, C, bad_check, make_id

from loaders import load_files
from tracer.duck import DuckStore
from tracer.errors import StoreError, ValidationError
from tracer.tracing import trace

HEAD = "证件号码,手机号码,场所编码,扫码时间,离开时间\n"
X = make_id("11010519800101001")  # a case
P138, P139 = "phone:+8613812345678", "phone:+8613912345678"


def write(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text(HEAD + "".join(r + "\n" for r in rows), encoding="utf-8")
    return str(path)


def stored(store):
    """Stored presences as (person key, place key, start, end, record) rows."""
    pres = store.presences()
    places = store.places().set_index("code")["key"]
    keys = store.person_keys(pres["person"].to_numpy())
    return pres.assign(place_key=pres["place"].map(places), person_key=keys)


def balanced(report):
    assert report.read == report.loaded + report.duplicates + report.rejected
    return report


def snapshot(store):
    con = store.con
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("presences", "persons", "aliases", "sources", "meta")}  # fmt: skip


@pytest.fixture
def store(tmp_path):
    with DuckStore(tmp_path / "t.duckdb") as s:
        yield s


def test_a_phone_person_new_to_the_store_becomes_its_id_holder(store, tmp_path):
    first = [f"{bad_check(A)},13812345678,V1,2020-02-01 09:00,2020-02-01 09:10",  # → phone:+86138…
             f"{bad_check(A)},13812345678,V4,2020-02-01 12:00,",                    # no exit: estimated end
             ",13912345678,V1,2020-02-01 09:00,2020-02-01 09:10"]                  # → phone:+86139…
    balanced(load_files(store, "venues", [write(tmp_path, "a.csv", first)]))
    assert set(stored(store)["person_key"]) == {P138, P139}
    version = store.version
    later = [f"{A},13812345678,V2,2020-02-02 09:00,2020-02-02 09:10",
             f"{A},13812345678,V3,2020-02-02 10:00,2020-02-02 10:10",             # the same phone: one warning
             f"{A},13812345678,V1,2020-02-01 09:00,2020-02-01 09:10",             # the first load's row, ID fixed
             f"{B},13912345678,V2,2020-02-02 09:00,2020-02-02 09:10",
             f"{C},13912345678,V2,2020-02-02 09:00,2020-02-02 09:10"]             # 139 is a family phone
    report = balanced(load_files(store, "venues", [write(tmp_path, "b.csv", later)]))
    assert report.warnings["phone-merged"] == 1 and "phone-key-split" not in report.warnings
    row = report.warning_rows[report.warning_rows["code"] == "phone-merged"]
    assert row["line"].tolist() == [2] and row["field"].tolist() == ["phone"]
    assert (report.merged_phones, report.moved_presences) == (1, 2)
    assert report.duplicates == 1 and report.loaded == 4  # the fixed row is the moved presence
    assert any("merged 1 phone key" in line for line in report.summary_lines())
    assert store.version > version
    got = stored(store)
    assert sorted(got.loc[got["person_key"] == A, "place_key"]) == ["venue:V1", "venue:V2", "venue:V3", "venue:V4"]
    assert P138 not in set(got["person_key"]) and P139 in set(got["person_key"])  # shared: not guessed
    assert P138 not in set(store.persons()["key"])
    assert store.person_codes([P138]).tolist() == store.person_codes([A]).tolist()
    aliases = store.aliases()
    assert set(aliases.loc[aliases["alias"] == P138, "key"]) == {A}
    # every record is what a load with the ID from the start would have given
    with DuckStore(tmp_path / "direct.duckdb") as direct:
        fixed = [r.replace(bad_check(A), A) for r in first[:2]]
        load_files(direct, "venues", [write(tmp_path, "c.csv", fixed)])
        mine = got[got["person_key"] == A].set_index("place_key")["record"]
        theirs = stored(direct).set_index("place_key")["record"]
        assert mine.loc[["venue:V1", "venue:V4"]].tolist() == theirs.loc[["venue:V1", "venue:V4"]].tolist()
    # loading either file again adds and moves nothing
    for name, rows in (("a.csv", first), ("b.csv", later)):
        again = balanced(load_files(store, "venues", [write(tmp_path, name, rows)]))
        assert again.loaded == 0 and again.merged_phones == 0 and again.source == -1


def test_a_phone_person_merges_into_a_holder_already_stored(store, tmp_path):
    balanced(load_files(store, "venues", [write(tmp_path, "0.csv", [
        f"{A},,V1,2020-02-01 09:00,2020-02-01 09:10"])]))  # A, no phone yet  # fmt: skip
    balanced(load_files(store, "venues", [write(tmp_path, "1.csv", [
        ",13812345678,V1,2020-02-01 09:00,2020-02-01 09:10",   # the same stay, seen by phone only
        ",13812345678,V5,2020-02-03 09:00,2020-02-03 09:10"])]))  # fmt: skip
    a_code = int(store.person_codes([A])[0])
    phone_code = int(store.person_codes([P138])[0])
    assert phone_code != a_code
    report = balanced(load_files(store, "venues", [write(tmp_path, "2.csv", [
        f"{A},13812345678,V2,2020-02-02 09:00,2020-02-02 09:10"])]))  # fmt: skip
    assert (report.merged_phones, report.moved_presences, report.loaded) == (1, 1, 1)
    got = stored(store)
    assert sorted(got.loc[got["person_key"] == A, "place_key"]) == ["venue:V1", "venue:V2", "venue:V5"]
    assert len(got) == 3 and got["record"].is_unique  # the stay both keys had is kept once
    assert int(store.person_codes([P138])[0]) == a_code
    assert P138 not in set(store.persons()["key"]) and not (got["person"] == phone_code).any()
    assert store.person_keys([phone_code])[0].startswith("merged:")  # the emptied row keeps its code
    # the phone turns out to be a family phone, and a row comes with no ID:
    # the phone key is a person of its own again
    report = balanced(load_files(store, "venues", [write(tmp_path, "3.csv", [
        f"{B},13812345678,V6,2020-02-04 09:00,2020-02-04 09:10",
        ",13812345678,V7,2020-02-04 10:00,2020-02-04 10:10"])]))  # fmt: skip
    assert report.warnings.get("shared-phone", 0) >= 1 and report.merged_phones == 0
    again = int(store.person_codes([P138])[0])
    assert again not in (a_code, phone_code)
    got = stored(store)
    assert got.loc[got["person"] == again, "place_key"].tolist() == ["venue:V7"]


def test_a_failed_append_leaves_the_merge_undone(store, tmp_path, monkeypatch):
    balanced(load_files(store, "venues", [write(tmp_path, "1.csv", [
        ",13812345678,V1,2020-02-01 09:00,2020-02-01 09:10"])]))  # fmt: skip
    before = snapshot(store)

    def fail(*args, **kwargs):
        raise StoreError("disk full (test)")

    monkeypatch.setattr(DuckStore, "_insert_presences", fail)
    with pytest.raises(StoreError):
        load_files(store, "venues", [write(tmp_path, "2.csv", [f"{A},13812345678,V2,2020-02-02 09:00,2020-02-02 09:10"])])
    assert snapshot(store) == before
    monkeypatch.undo()
    report = balanced(load_files(store, "venues", [write(tmp_path, "2.csv", [
        f"{A},13812345678,V2,2020-02-02 09:00,2020-02-02 09:10"])]))  # fmt: skip
    assert report.merged_phones == 1 and set(stored(store)["person_key"]) == {A}


def test_a_trace_lists_the_merged_person_once_with_both_loads_events(store, tmp_path):
    case_rows = [f"{X},,V1,2020-02-01 08:00,2020-02-01 12:00", f"{X},,V2,2020-02-02 08:00,2020-02-02 12:00"]
    balanced(load_files(store, "venues", [write(tmp_path, "x.csv", case_rows)]))
    balanced(load_files(store, "venues", [write(tmp_path, "1.csv", [
        ",13812345678,V1,2020-02-01 09:00,2020-02-01 09:30"])]))  # fmt: skip
    store.index()  # an index of the store before the merge, to be rebuilt
    balanced(load_files(store, "venues", [write(tmp_path, "2.csv", [
        f"{A},13812345678,V2,2020-02-02 09:00,2020-02-02 09:30"])]))  # fmt: skip
    cases = pd.DataFrame({"person": [X], "onset": ["2020-02-02"]})
    result = trace(store, cases, linger=False)
    assert result.contacts["person"].tolist() == [A]
    assert int(result.contacts["events"].iloc[0]) == 2
    assert sorted(np.unique(result.events["place"]).tolist()) == ["venue:V1", "venue:V2"]
    # the merged phone key as a case is its holder, and listing both is refused
    as_case = trace(store, pd.DataFrame({"person": [P138], "onset": ["2020-02-02"]}), linger=False)
    assert as_case.cases["person"].tolist() == [A] and as_case.contacts["person"].tolist() == [X]
    both = pd.DataFrame({"person": [A, P138], "onset": ["2020-02-02", "2020-02-03"]})
    with pytest.raises(ValidationError, match="are the same person") as err:
        trace(store, both)
    assert set(err.value.keys) == {A, P138}


# ------------------------------------------------- order independence (property)

# five people, each with their own phone (no phone has two holders: then
# "who was it" depends on what was known at each load, by design)
PEOPLE = [(make_id(f"1101051990030745{i}"), f"1381234567{i}") for i in range(5)]
FORMS = ("id+phone", "id", "phone", "badid+phone")


@st.composite
def row_batches(draw):
    n = draw(st.integers(1, 12))
    rows = []
    for _ in range(n):
        doc, phone = PEOPLE[draw(st.integers(0, len(PEOPLE) - 1))]
        form = draw(st.sampled_from(FORMS))
        place, day, hour = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(8, 10))
        ident = {"id+phone": f"{doc},{phone}", "id": f"{doc},", "phone": f",{phone}",
                 "badid+phone": f"{bad_check(doc)},{phone}"}[form]
        rows.append(f"{ident},V{place},2020-02-0{day} {hour:02d}:00,2020-02-0{day} {hour:02d}:45")
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=2)))
    batches = [rows[a:b] for a, b in zip([0] + cuts, cuts + [n])]
    return rows, draw(st.permutations(batches))


def _contents(store):
    got = stored(store)
    return sorted(zip(got["person_key"], got["place_key"], got["start"], got["end"], got["record"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row_batches())
def test_batches_in_any_order_end_like_one_load(tmp_path_factory, rows_and_batches):
    """The same rows loaded as one batch, or split into batches loaded in
    any order, leave the same presences with the same records: a phone
    first seen alone ends up with its holder once any load names it."""
    rows, batches = rows_and_batches
    tmp = tmp_path_factory.mktemp("order")
    with DuckStore(tmp / "one.duckdb") as one:
        balanced(load_files(one, "venues", [write(tmp, "all.csv", rows)]))
        want, want_persons = _contents(one), sorted(one.persons()["key"])
    with DuckStore(tmp / "split.duckdb") as split:
        for i, batch in enumerate(batches):
            if batch:
                balanced(load_files(split, "venues", [write(tmp, f"b{i}.csv", batch)]))
        assert _contents(split) == want
        assert sorted(split.persons()["key"]) == want_persons
