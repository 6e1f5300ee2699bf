"""The Neo4j store against the real server: appends, reads, codes, runs,
and the same ranked contacts as the embedded store."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j_fixtures import count, open_test_store, wipe

from tracer.duck import DuckStore
from tracer.errors import UnknownPerson
from tracer.presence import Batch, fingerprint
from tracer.schema import KINDS, PRESENCE_COLUMNS
from tracer.store import Store
from tracer.synth import generate_city
from tracer.tracing import trace


@pytest.fixture(scope="module")
def neo():
    store = open_test_store()
    yield store
    wipe(store)
    store.close()


@pytest.fixture
def empty(neo):
    wipe(neo)
    neo.persons_codes.__init__()
    neo.places_codes.__init__()
    return neo


def batch_of(items, persons=None, places=None, aliases=None):
    """A Batch from ``(person, place, start, end, kind)`` tuples."""
    frame = pd.DataFrame(items, columns=["person_key", "place_key", "start", "end", "kind"])
    frame = frame.astype({"person_key": object, "place_key": object, "start": np.int64, "end": np.int64,
                          "kind": np.int8})
    for col in ("section", "row", "col"):
        frame[col] = np.int16(-1)
    frame["flags"] = np.uint8(0)
    frame["record"] = fingerprint(frame.person_key, frame.place_key, frame.start, frame.end,
                                  frame.section, frame.row, frame.col)
    extra = {k: v for k, v in (("persons", persons), ("places", places), ("aliases", aliases)) if v is not None}
    return Batch(frame, source="test", **extra)


def _with_check(first17):
    from loaders.ids import id_check_char

    return first17 + id_check_char(first17)


#: Venue-scan tests of phone merges: an ID holder, a case, the scans' header.
HOLDER, CASE_KEY = _with_check("11010519900307451"), _with_check("11010519800101001")
VENUE_HEAD = "证件号码,手机号码,场所编码,扫码时间,离开时间\n"


def write_venues(tmp_path, name, rows):
    """A venues CSV of ``rows`` (cells joined by commas) under VENUE_HEAD."""
    path = tmp_path / name
    path.write_text(VENUE_HEAD + "".join(r + "\n" for r in rows), encoding="utf-8")
    return str(path)


def compare_contacts(a, b):
    """Ranked contact frames equal: keys, hops, rules, sources, events; risk to 1e-12."""
    cols = ["rank", "person", "hop", "rule", "source_case", "events"]
    assert len(a) == len(b)
    pd.testing.assert_frame_equal(a[cols].reset_index(drop=True), b[cols].reset_index(drop=True),
                                  check_dtype=False)
    np.testing.assert_allclose(a["risk"].to_numpy(float), b["risk"].to_numpy(float), rtol=0, atol=1e-12)
    np.testing.assert_allclose(a["overlap_min"].to_numpy(float), b["overlap_min"].to_numpy(float), atol=1e-9)


def test_is_a_store(neo):
    assert isinstance(neo, Store)


def test_append_is_idempotent_and_counts_duplicates(empty):
    batch = batch_of([("a", "venue:1", 0, 600, 0), ("b", "venue:1", 300, 900, 0),
                      ("a", "venue:1", 0, 600, 0), ("c", "flight:CA1:2020-01-01", 0, 7200, 1)])
    first = empty.append(batch)
    assert (first.read, first.loaded, first.duplicates) == (4, 3, 1)
    again = empty.append(batch)
    assert (again.read, again.loaded, again.duplicates) == (4, 0, 4)
    assert count(empty, "()-[:VISITED]->()") == 3
    assert count(empty, "(:Person)") == 3 and count(empty, "(:Place)") == 2
    got = empty.presences()
    assert list(got.columns) == list(PRESENCE_COLUMNS)
    assert [str(t) for t in got.dtypes] == [np.dtype(t).name for t in PRESENCE_COLUMNS.values()]
    assert sorted(got["record"].tolist()) == sorted(set(batch.presences["record"].tolist()))


def test_graph_model_properties(empty):
    empty.append(batch_of([("a", "train:G1:2020-01-01", 86400, 90000, 2)],
                          places=pd.DataFrame({"key": ["train:G1:2020-01-01"], "kind": ["train"],
                                               "name": ["G1"], "district": ["东城区"]})))
    rec, _, _ = empty.driver.execute_query(
        "MATCH (p:Person)-[v:VISITED]->(pl:Place) RETURN p.key AS p, pl.kind AS kind, pl.name AS name, "
        "v.start_s AS s, v.end_s AS e, v.start.epochSeconds AS dt_s, v.end.epochSeconds AS dt_e, v.record AS r")
    row = rec[0]
    assert (row["p"], row["kind"], row["name"]) == ("a", "train", "G1")
    assert (row["s"], row["e"], row["dt_s"], row["dt_e"]) == (86400, 90000, 86400, 90000)


def test_dictionaries_and_aliases(empty):
    empty.append(batch_of(
        [("110105194912310029", "venue:1", 0, 60, 0), ("p2", "venue:2", 0, 60, 0)],
        persons=pd.DataFrame({"key": ["110105194912310029"], "name": ["张三"], "district": ["朝阳区"]}),
        aliases=pd.DataFrame({"key": ["110105194912310029", "p2", "p2"],
                              "alias": ["phone:+8613800000000", "phone:+8613800000001", "shared"]}),
    ))
    empty.append(batch_of([("p3", "venue:1", 0, 60, 0)], aliases=pd.DataFrame({"key": ["p3"], "alias": ["shared"]})))
    persons = empty.persons()
    assert persons.set_index("key").loc["110105194912310029", "name"] == "张三"
    places = empty.places()
    assert places["kind"].tolist() == [0, 0]
    assert set(map(tuple, empty.aliases().to_numpy().tolist())) == {
        ("110105194912310029", "phone:+8613800000000"), ("p2", "phone:+8613800000001"),
        ("p2", "shared"), ("p3", "shared")}
    codes = empty.person_codes(["phone:+8613800000001", "p2", "110105194912310029"])
    assert codes[0] == codes[1]
    assert empty.person_keys(codes).tolist() == ["p2", "p2", "110105194912310029"]
    with pytest.raises(UnknownPerson, match="shared"):
        empty.person_codes(["shared"])  # an alias of two persons is ambiguous
    with pytest.raises(UnknownPerson, match="nobody"):
        empty.person_codes(["nobody"])


def test_presence_filters_match_the_embedded_store(empty, tmp_path):
    city = generate_city(n_people=150, days=2, seed=5, epidemic=False)
    empty.append(city.batch)
    with DuckStore(tmp_path / "d.duckdb") as duck:
        duck.append(city.batch)
        persons = duck.persons()["key"].iloc[:7].tolist()
        places = duck.places()["key"].iloc[::9].tolist()
        t0, t1 = int(city.start_s + 30000), int(city.start_s + 90000)
        for kwargs in ({}, {"start": t0, "end": t1}):
            want = duck.presences(persons=duck.person_codes(persons), **kwargs)["record"]
            got = empty.presences(persons=empty.person_codes(persons), **kwargs)["record"]
            assert sorted(got) == sorted(want)
        duck_place = duck.places().set_index("key").loc[places, "code"]
        want = duck.presences(places=duck_place.to_numpy(), start=t0, end=t1)["record"]
        codes = empty.places().set_index("key").loc[places, "code"]
        got = empty.presences(places=codes.to_numpy(), start=t0, end=t1)["record"]
        assert sorted(got) == sorted(want)
        assert empty.index().n == duck.index().n


def test_same_ranked_contacts_as_the_embedded_store(empty, tmp_path):
    city = generate_city(n_people=600, days=5, seed=11)
    assert len(city.cases), "the synthetic outbreak should have cases"
    empty.append(city.batch)
    with DuckStore(tmp_path / "d.duckdb") as duck:
        duck.append(city.batch)
        want = trace(duck, city.cases, hops=2)
    got = trace(empty, city.cases, hops=2)
    assert len(want.contacts) > 10
    compare_contacts(got.contacts, want.contacts)
    assert len(got.events) == len(want.events)


@st.composite
def small_worlds(draw):
    n = draw(st.integers(1, 25))
    items = []
    for _ in range(n):
        person = draw(st.sampled_from(["a", "b", "c", "d", "e"]))
        kind = draw(st.sampled_from([0, 2, 7]))
        place = f"{KINDS[kind]}:{draw(st.integers(0, 2))}"
        start = draw(st.integers(0, 20)) * 900
        items.append((person, place, start, start + draw(st.integers(0, 12)) * 600, kind))
    cases = draw(st.lists(st.sampled_from(sorted({i[0] for i in items})), min_size=1, max_size=2, unique=True))
    return items, cases


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(world=small_worlds(), hops=st.integers(1, 3))
def test_property_same_contacts_as_embedded(neo, tmp_path_factory, world, hops):
    items, cases = world
    wipe(neo)
    batch = batch_of(items)
    neo.append(batch)
    case_frame = pd.DataFrame({"person": cases, "onset": "1970-01-01 12:00"})
    path = tmp_path_factory.mktemp("prop") / "d.duckdb"
    with DuckStore(path) as duck:
        duck.append(batch)
        want = trace(duck, case_frame, hops=hops, tz="UTC")
    got = trace(neo, case_frame, hops=hops, tz="UTC")
    compare_contacts(got.contacts, want.contacts)


def test_save_run_writes_cases_run_and_edges(empty):
    city = generate_city(n_people=300, days=4, seed=2)
    empty.append(city.batch)
    result = trace(empty, city.cases, hops=2)
    run_id = empty.save_run(result, events=True)
    assert empty.save_run(type("R", (), {"id": run_id, "params": result.params, "contacts": result.contacts,
                                         "events": result.events, "cases": result.cases})()) == run_id
    assert count(empty, f"()-[:EXPOSED_TO {{run: '{run_id}'}}]->()") == len(result.contacts)
    assert count(empty, "(:Case)") == len(city.cases)
    assert count(empty, "(:TraceRun)") == 1
    runs = empty.runs()
    assert runs["id"].tolist() == [run_id]
    loaded = empty.load_run()
    assert loaded.params == result.params
    compare_contacts(loaded.contacts, result.contacts)
    assert loaded.contacts["via"].isna().tolist() == result.contacts["via"].isna().tolist()
    assert len(loaded.events) == len(result.events)
    assert (loaded.events["start"] == result.events["start"]).all()
    rec, _, _ = empty.driver.execute_query(
        "MATCH (a)-[e:EXPOSED_TO {run: $run}]->(b) RETURN a.key AS a, b.key AS b, e.hop AS hop, "
        "e.places AS places, e.overlap_s AS overlap_s ORDER BY e.rank", run=run_id)
    contacts = result.contacts
    first = contacts.iloc[0]
    source = first["via"] if first["hop"] > 1 else first["source_case"]
    assert (rec[0]["a"], rec[0]["b"]) == (source, first["person"])
    ev = result.events
    mine = ev[(ev["contact"] == first["person"]) & (ev["case"] == source) & (ev["hop"] == first["hop"])]
    assert rec[0]["places"] == sorted(set(mine["place"]))


def test_push_after_a_phone_person_merge_moves_its_edges(empty, tmp_path):
    """The embedded store merges a phone-keyed person into the ID holder a
    later load names (tracer.duck_merge); the next push retires the phone
    person in Neo4j, so both stores hold the same presences and trace alike."""
    from loaders import load_files
    from queries.push import push

    holder, case = HOLDER, CASE_KEY

    def csv(name, *rows):
        return write_venues(tmp_path, name, rows)

    phone = "phone:+8613812345678"
    with DuckStore(tmp_path / "m.duckdb") as duck:
        load_files(duck, "venues", [csv("x.csv", f"{case},,V1,2020-02-01 08:00,2020-02-01 12:00",
                                        f"{case},,V2,2020-02-02 08:00,2020-02-02 12:00")])
        load_files(duck, "venues", [csv("1.csv", ",13812345678,V1,2020-02-01 09:00,2020-02-01 09:30")])
        push(duck, empty)
        assert count(empty, f"(:Person {{key: '{phone}'}})-[:VISITED]->()") == 1
        report = load_files(duck, "venues", [csv("2.csv", f"{holder},13812345678,V2,2020-02-02 09:00,2020-02-02 09:30")])
        assert report.merged_phones == 1
        result = push(duck, empty)
        assert result.merged_persons == 1
        assert count(empty, f"(:Person {{key: '{phone}'}})") == 0
        assert count(empty, f"(:Person {{key: '{holder}'}})-[:VISITED]->()") == 2
        assert count(empty, "()-[:VISITED]->()") == len(duck.presences()) == 4
        assert count(empty, f"(:Person {{key: '{holder}'}})-[:ALIAS]->(:Identifier {{value: '{phone}'}})") == 1
        cases = pd.DataFrame({"person": [case], "onset": ["2020-02-02"]})
        want = trace(duck, cases, linger=False)
    got = trace(empty, cases, linger=False)
    assert want.contacts["person"].tolist() == [holder]
    compare_contacts(got.contacts, want.contacts)
    with DuckStore(tmp_path / "m.duckdb", read_only=True) as duck:
        again = push(duck, empty)  # idempotent
    assert again.presences_loaded == 0 and count(empty, "()-[:VISITED]->()") == 4


def test_loading_straight_into_neo4j_merges_a_phone_person_too(empty, tmp_path):
    """The same merge when the loads go to Neo4j itself (``tracer --neo4j-uri
    … load``): the presences move to the holder, the old key leads to the
    holder, and Neo4j ends up holding what the embedded store holds."""
    from loaders import load_files

    holder, case = HOLDER, CASE_KEY
    files = {
        "x.csv": [f"{case},,V1,2020-02-01 08:00,2020-02-01 12:00", f"{case},,V2,2020-02-02 08:00,2020-02-02 12:00"],
        "1.csv": [",13812345678,V1,2020-02-01 09:00,2020-02-01 09:30",
                  ",13812345678,V3,2020-02-01 15:00,"],                       # no exit: estimated end
        "2.csv": [f"{holder},13812345678,V2,2020-02-02 09:00,2020-02-02 09:30",
                  f"{holder},13812345678,V1,2020-02-01 09:00,2020-02-01 09:30"],  # the moved stay again
    }
    for name, rows in files.items():
        write_venues(tmp_path, name, rows)
    phone = "phone:+8613812345678"
    with DuckStore(tmp_path / "d.duckdb") as duck:
        reports = [load_files(s, "venues", [str(tmp_path / n)]) for n in files for s in (duck, empty)]
        want = duck.presences()
        want_keys = sorted(zip(duck.person_keys(want["person"]), want["record"]))
    duck_last, neo_last = reports[-2], reports[-1]
    assert (neo_last.merged_phones, neo_last.moved_presences) == (1, 2) == (duck_last.merged_phones,
                                                                            duck_last.moved_presences)
    assert neo_last.warnings.get("phone-merged") == 1
    assert (neo_last.loaded, neo_last.duplicates) == (duck_last.loaded, duck_last.duplicates) == (1, 1)
    got = empty.presences()
    assert sorted(zip(empty.person_keys(got["person"]), got["record"])) == want_keys
    assert count(empty, f"(:Person {{key: '{phone}'}})") == 0
    assert phone not in set(empty.persons()["key"])
    assert empty.person_keys(empty.person_codes([phone])).tolist() == [holder]
    assert count(empty, f"(:Person {{key: '{holder}'}})-[:ALIAS]->(:Identifier {{value: '{phone}'}})") == 1


def load_merge_story(store, tmp_path):
    """Three venue loads into ``store``: the case's stays, a stay beside it
    seen by phone only, then that phone with its ID holder (a merge). The
    case is traced and the run saved between the second and the third load;
    returns ``(run, run id)``."""
    from loaders import load_files

    loads = {"x.csv": [f"{CASE_KEY},,V1,2020-02-01 08:00,2020-02-01 12:00"],
             "1.csv": [",13812345678,V1,2020-02-01 09:00,2020-02-01 09:30"],
             "2.csv": [f"{HOLDER},13812345678,V2,2020-02-02 09:00,2020-02-02 09:30"]}  # fmt: skip
    for name, rows in loads.items():
        load_files(store, "venues", [write_venues(tmp_path, name, rows)])
        if name == "1.csv":
            run = trace(store, pd.DataFrame({"person": [CASE_KEY], "onset": ["2020-02-02"]}), linger=False)
            run_id = store.save_run(run)
    return run, run_id


def test_a_merged_person_that_a_saved_run_names_stays_as_a_pointer(empty, tmp_path):
    """A run saved before the merge keeps its EXPOSED_TO edge to the phone
    person: the node stays, without presences or aliases, marked
    ``merged_into``; listings skip it and its key leads to the holder."""
    holder, case = HOLDER, CASE_KEY
    run, _ = load_merge_story(empty, tmp_path)
    assert run.contacts["person"].tolist() == ["phone:+8613812345678"]
    phone = "phone:+8613812345678"
    assert count(empty, f"(:Person {{key: '{phone}', merged_into: '{holder}'}})<-[:EXPOSED_TO]-()") == 1
    assert count(empty, f"(:Person {{key: '{phone}'}})-[:VISITED|ALIAS]->()") == 0
    assert phone not in set(empty.persons()["key"])
    assert empty.person_keys(empty.person_codes([phone])).tolist() == [holder]
    got = trace(empty, pd.DataFrame({"person": [case], "onset": ["2020-02-02"]}), linger=False)
    assert got.contacts["person"].tolist() == [holder]


def test_load_lookups_answer_like_the_whole_tables(empty):
    """What a load asks before appending (loaders.storeview), answered by
    index seeks for the batch's keys, equals the answer from whole tables."""
    from loaders import storeview

    city = generate_city(n_people=150, days=2, seed=5)
    empty.append(city.batch)
    empty.merge_dictionaries(city.batch.persons.iloc[:0], city.batch.places.iloc[:0],
                             pd.DataFrame({"key": ["p-a", "p-b"], "alias": ["phone:+8613800000001"] * 2}))
    records = np.concatenate([city.batch.presences["record"].to_numpy(np.int64)[::7], [1, -2, 3]])
    empty.lookup_rows = 40  # several queries per lookup
    mask = storeview.stored_records(empty, records)
    assert mask.tolist() == np.isin(records, empty.presences()["record"].to_numpy(np.int64)).tolist()
    assert mask.sum() == len(records) - 3
    keys = np.array(empty.places()["key"].tolist()[::3] + ["venue:none"], dtype=object)
    whole = empty.places().set_index("key")["kind"]
    assert storeview.stored_place_kinds(empty, keys).tolist() == [int(whole[k]) for k in keys[:-1]] + [-1]
    holders = storeview.known_phone_holders(empty, ["13800000001", "13900000009"])
    assert sorted(holders["doc"]) == ["p-a", "p-b"] and set(holders["phone"]) == {"13800000001"}


def test_a_run_saved_before_a_merge_keeps_its_edges_when_first_pushed_after_it(empty, tmp_path):
    """The run's contact is the phone key the store has since merged away:
    push keeps a pointer node for it, so the run's EXPOSED_TO edge is there."""
    from queries.push import push

    holder, case = HOLDER, CASE_KEY
    phone = "phone:+8613812345678"
    with DuckStore(tmp_path / "r.duckdb") as duck:
        _, old_run = load_merge_story(duck, tmp_path)
        push(duck, empty)
    assert count(empty, f"(:Person {{key: '{case}'}})-[:EXPOSED_TO {{run: '{old_run}'}}]->"
                        f"(:Person {{key: '{phone}', merged_into: '{holder}'}})") == 1  # fmt: skip
    assert count(empty, f"(:Person {{key: '{phone}'}})-[:VISITED|ALIAS]->()") == 0
    assert phone not in set(empty.persons()["key"])


def test_contact_details_are_the_same_from_both_stores(empty, tmp_path):
    from loaders import load_files
    from tracer.details import contact_details

    path = tmp_path / "v.csv"
    path.write_text("姓名,证件号码,手机号码,场所编码,扫码时间,离开时间\n"
                    f"欧阳明,{HOLDER},13812345678,V1,2020-02-01 09:30,2020-02-01 10:30\n"
                    f"欧阳明,{HOLDER},13912345678,V2,2020-02-01 11:00,2020-02-01 11:30\n"
                    f",,13700001111,V1,2020-02-01 09:40,2020-02-01 09:50\n", encoding="utf-8")  # fmt: skip
    keys = [HOLDER, "phone:+8613700001111", CASE_KEY]
    with DuckStore(tmp_path / "d.duckdb") as duck:
        load_files(duck, "venues", [str(path)])
        want = contact_details(duck, keys)
    load_files(empty, "venues", [str(path)])
    got = contact_details(empty, keys)
    pd.testing.assert_frame_equal(got, want)
    assert want["phone"].tolist() == ["13812345678; 13912345678", "13700001111", None]
    assert want["name"].tolist() == ["欧阳明", None, None]
