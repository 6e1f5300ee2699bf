"""Tests of the embedded DuckDB store (tracer/duck.py) on real files."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kill_append import make_batch
from tracer.duck import DuckStore, SavedRun
from tracer.errors import StoreError, StoreLocked, TracerError, UnknownPerson, ValidationError
from tracer.presence import Batch, fingerprint
from tracer.schema import PRESENCE_COLUMNS
from tracer.store import Store

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))


def rows(*items):
    """Batch presences from ``(person_key, place_key, start, end[, kind[, col]])``."""
    defaults = (0, -1)  # kind venue, seat column unknown
    items = [tuple(i) + defaults[len(i) - 4:] for i in items]
    frame = pd.DataFrame(
        {
            "person_key": pd.Series([i[0] for i in items], dtype=object),
            "place_key": pd.Series([i[1] for i in items], dtype=object),
            "start": np.array([i[2] for i in items], dtype=np.int64),
            "end": np.array([i[3] for i in items], dtype=np.int64),
            "kind": np.array([i[4] for i in items], dtype=np.int8),
            "section": np.full(len(items), -1, np.int16),
            "row": np.full(len(items), -1, np.int16),
            "col": np.array([i[5] for i in items], dtype=np.int16),
            "flags": np.zeros(len(items), np.uint8),
        }
    )
    frame["record"] = fingerprint(
        frame.person_key, frame.place_key, frame.start, frame["end"], frame.section, frame.row, frame.col
    )
    return frame


def snapshot(store):
    """Everything observable about a store's content."""
    return (
        store.version,
        len(store.presences()),
        len(store.persons()),
        len(store.places()),
        len(store.aliases()),
        store.con.execute("SELECT count(*) FROM sources").fetchall()[0][0],
    )


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "t.duckdb")


def test_is_a_store_and_repr(path):
    with DuckStore(path) as store:
        assert isinstance(store, Store)
        assert path in repr(store)
        assert store.version == 0
        assert list(store.presences().dtypes) == [np.dtype(t) for t in PRESENCE_COLUMNS.values()]


def test_append_and_read_back(path):
    first = rows(("a", "venue:1", 0, 60), ("b", "venue:1", 30, 90), ("a", "venue:2", 100, 200))
    second = rows(("c", "venue:2", 150, 160), ("b", "venue:3", 0, 10))
    calls = []
    with DuckStore(path) as store:
        result = store.append(Batch(first, source="one.csv"), progress=lambda d, t: calls.append((d, t)))
        assert (result.read, result.loaded, result.duplicates, result.source) == (3, 3, 0, 0)
        assert calls[0] == (0, 3) and calls[-1] == (3, 3)
        codes_before = store.persons().set_index("key")["code"].to_dict()
        places_before = store.places().set_index("key")["code"].to_dict()
        result = store.append(Batch(second, source="two.csv"))
        assert (result.loaded, result.source, store.version) == (2, 1, 2)
        persons = store.persons()
        places = store.places()
    with DuckStore(path, read_only=True) as store:
        got = store.presences()
        assert got.dtypes.to_dict() == {c: np.dtype(t) for c, t in PRESENCE_COLUMNS.items()}
    # codes are dense, and existing keys keep theirs
    assert sorted(persons["code"]) == list(range(3)) and sorted(places["code"]) == list(range(3))
    assert {k: v for k, v in persons.set_index("key")["code"].items() if k in codes_before} == codes_before
    assert {k: v for k, v in places.set_index("key")["code"].items() if k in places_before} == places_before
    # every row comes back with its keys, times and source
    key_of = persons.set_index("code")["key"]
    place_of = places.set_index("code")["key"]
    back = pd.DataFrame(
        {
            "person_key": key_of.loc[got.person].to_numpy(),
            "place_key": place_of.loc[got.place].to_numpy(),
            "start": got.start.to_numpy(),
            "end": got["end"].to_numpy(),
            "record": got.record.to_numpy(),
            "source": got.source.to_numpy(),
        }
    ).sort_values("record", ignore_index=True)
    want = pd.concat([first.assign(source=0), second.assign(source=1)])
    want = want[back.columns].sort_values("record", ignore_index=True)
    pd.testing.assert_frame_equal(back.astype({"person_key": object, "place_key": object}),
                                  want.astype({"person_key": object, "place_key": object, "source": np.int16}))


def test_second_append_of_same_batch_is_all_duplicates(path):
    batch = Batch(rows(("a", "venue:1", 0, 60), ("b", "venue:1", 30, 90)), source="x")
    with DuckStore(path) as store:
        store.append(batch)
        before = snapshot(store)
        result = store.append(batch)
        assert (result.read, result.loaded, result.duplicates, result.source) == (2, 0, 2, -1)
        assert snapshot(store) == before


def test_within_batch_duplicates_first_wins(path):
    frame = rows(("a", "venue:1", 0, 60), ("b", "venue:1", 30, 90), ("a", "venue:1", 0, 60))
    frame.loc[2, "flags"] = 4  # same record, different payload: the first row wins
    with DuckStore(path) as store:
        result = store.append(Batch(frame))
        assert (result.read, result.loaded, result.duplicates) == (3, 2, 1)
        got = store.presences()
        assert sorted(got.record) == sorted(set(frame.record)) and (got["flags"] == 0).all()
        more = rows(("b", "venue:1", 30, 90), ("c", "venue:1", 0, 5), ("c", "venue:1", 0, 5))
        result = store.append(Batch(more))
        assert (result.loaded, result.duplicates) == (1, 2)


def test_dictionary_updates(path):
    with DuckStore(path) as store:
        store.append(Batch(rows(("a", "venue:1", 0, 60)),
                           persons=pd.DataFrame({"key": ["a", "b"], "name": ["", "Bo"], "district": [None, "X"]}),
                           places=pd.DataFrame({"key": ["venue:1"], "kind": ["venue"], "name": [""],
                                                "district": [""], "lat": [None], "lon": [None]}),
                           aliases=pd.DataFrame({"key": ["a", "a"], "alias": ["phone:+861", "phone:+861"]})))
        v = store.version
        # empty values are filled, non-empty ones are kept; repeated aliases are ignored
        store.append(Batch(rows(("a", "venue:1", 0, 60)),
                           persons=pd.DataFrame({"key": ["a", "a", "b"], "name": ["", "Al", "Other"],
                                                 "district": ["D1", "D2", "Y"]}),
                           places=pd.DataFrame({"key": ["venue:1"], "kind": [0], "name": ["Mall"],
                                                "district": ["D1"], "lat": [31.2], "lon": [121.5]}),
                           aliases=pd.DataFrame({"key": ["a", "a"], "alias": ["phone:+861", "passport:E1"]})))
        assert store.version == v + 1
        persons = store.persons().set_index("key")
        assert persons.loc["a", ["name", "district"]].tolist() == ["Al", "D1"]
        assert persons.loc["b", ["name", "district"]].tolist() == ["Bo", "X"]
        place = store.places().iloc[0]
        assert (place["key"], place["kind"], place["name"], place["lat"], place["lon"]) == (
            "venue:1", 0, "Mall", 31.2, 121.5)
        assert store.aliases().values.tolist() == [["a", "passport:E1"], ["a", "phone:+861"]]
        # an alias of exactly one person resolves to that person
        assert store.person_codes(["b", "passport:E1"]).tolist() == [persons.loc["b", "code"], persons.loc["a", "code"]]
        assert store.person_keys(store.person_codes(["a", "b"])).tolist() == ["a", "b"]
        assert store.place_keys([place["code"]]).tolist() == ["venue:1"]
        # nothing new: version unchanged
        store.append(Batch(rows(("a", "venue:1", 0, 60)), persons=pd.DataFrame({"key": ["a"], "name": ["Zed"]})))
        assert store.version == v + 1


def test_unknown_person_lists_keys(path):
    with DuckStore(path) as store:
        store.append(Batch(rows(("a", "venue:1", 0, 60))))
        with pytest.raises(UnknownPerson) as err:
            store.person_codes(["a"] + [f"x{i}" for i in range(7)])
        assert "x0" in str(err.value) and "x4" in str(err.value) and "x5" not in str(err.value)
        assert "2 more" in str(err.value)
        with pytest.raises(UnknownPerson):
            store.person_keys([0, 99])


@pytest.mark.parametrize("n_persons", [3, 2_500])   # a join below tracer.duck._KEY_CACHE_MIN codes, a whole dictionary above
def test_key_lookups_agree_as_objects_and_arrow(path, n_persons):
    with DuckStore(path) as store:
        store.append(Batch(rows(*((f"p{i}", f"venue:{i % 7}", 60 * i, 60 * i + 30) for i in range(n_persons)))))
        persons, places = store.persons(), store.places()
        codes = persons["code"].to_numpy()[::-1].repeat(2)   # any order, repeated
        want = persons.set_index("code")["key"].loc[codes].tolist()
        assert store.person_keys(codes).tolist() == want
        assert store.person_key_array(codes).to_pylist() == want
        want = places.set_index("code")["key"].loc[places["code"]].tolist()
        assert store.place_key_array(places["code"].to_numpy()).to_pylist() == want
        for lookup in (store.person_keys, store.person_key_array):
            with pytest.raises(UnknownPerson, match=str(n_persons + 5)):
                lookup(np.r_[codes, n_persons + 5])
        # a later append (new version) is seen by the cached dictionary
        store.append(Batch(rows(*((f"q{i}", "venue:0", 0, 30) for i in range(n_persons)))))
        persons = store.persons()
        assert store.person_key_array(persons["code"].to_numpy()).to_pylist() == persons["key"].tolist()


def test_bad_batches_leave_store_unchanged(path):
    with DuckStore(path) as store:
        store.append(Batch(rows(("a", "venue:1", 0, 60))))
        before = snapshot(store)
        bad = rows(("b", "venue:2", 0, 60))
        bad.loc[0, "end"] = -5
        with pytest.raises(ValidationError):
            store.append(Batch(bad))
        # a place's presences must share the place's kind (the index needs it)
        with pytest.raises(ValidationError, match="venue:1"):
            store.append(Batch(rows(("c", "venue:9", 0, 1), ("c", "venue:1", 0, 60, 1))))
        assert snapshot(store) == before


def test_open_errors(tmp_path):
    missing = tmp_path / "nope.duckdb"
    with pytest.raises(StoreError, match="nope.duckdb"):
        DuckStore(missing, read_only=True)
    garbage = tmp_path / "bad.duckdb"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="bad.duckdb") as err:
        DuckStore(garbage)
    assert err.value.hint
    with DuckStore(tmp_path / "ro.duckdb") as store:
        store.append(Batch(rows(("a", "venue:1", 0, 60))))
    with DuckStore(tmp_path / "ro.duckdb", read_only=True) as store:
        with pytest.raises(StoreError, match="read-only"):
            store.append(Batch(rows(("b", "venue:1", 0, 60))))
        # DuckDB refuses one file in two modes within a process
        with pytest.raises(StoreLocked, match="close the other"):
            DuckStore(tmp_path / "ro.duckdb")
    with pytest.raises(StoreError, match="closed"):
        store.presences()


@pytest.mark.parametrize("read_only", [False, True])
def test_store_locked_by_another_process(path, read_only):
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from tracer.duck import DuckStore\n"
        "from tracer.errors import StoreLocked\n"
        "try:\n"
        "    DuckStore(sys.argv[2], read_only=sys.argv[3] == '1')\n"
        "except StoreLocked as exc:\n"
        "    print('LOCKED', exc)\n"
    )
    with DuckStore(path) as store:
        store.append(Batch(rows(("a", "venue:1", 0, 60))))
        out = subprocess.run([sys.executable, "-c", code, ROOT, path, "1" if read_only else "0"],
                             capture_output=True, text=True, timeout=60)
    assert out.stdout.startswith("LOCKED"), out.stdout + out.stderr
    assert path in out.stdout and "another tracer process" in out.stdout
    assert f"process {os.getpid()}" in out.stdout
    assert issubclass(StoreLocked, StoreError)


def test_sigkill_mid_append_leaves_store_unchanged(path):
    n = 300_000
    with DuckStore(path) as store:
        store.append(make_batch(1000, seed=7, source="small"))
        before = snapshot(store)
    child = subprocess.Popen([sys.executable, os.path.join(HERE, "kill_append.py"), path, str(n)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    deadline = time.monotonic() + 120
    try:
        for line in child.stdout:
            seen.append(line.strip())
            if line.strip() == "inside" or time.monotonic() > deadline:
                break
        assert seen and seen[-1] == "inside", (seen, child.stderr.read() if child.poll() is not None else "")
        assert any(s.startswith("progress") and 0 < int(s.split()[1]) < n for s in seen)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=60)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    with DuckStore(path) as store:
        assert snapshot(store) == before
        result = store.append(make_batch(n, seed=1, source="big"))
        assert result.loaded + result.duplicates == n and result.loaded > n * 0.99
        assert store.version == before[0] + 1
        assert len(store.presences()) == before[1] + result.loaded


# -- queries against a pandas oracle -------------------------------------------
PERSON_KEYS = [f"p{i}" for i in range(6)]
PLACE_KEYS = [f"venue:{i}" for i in range(4)]
interval = st.tuples(st.integers(0, 20), st.integers(0, 6)).map(lambda t: (t[0], t[0] + t[1]))
presence = st.tuples(st.sampled_from(PERSON_KEYS), st.sampled_from(PLACE_KEYS), interval, st.integers(0, 2))
subset = st.none() | st.lists(st.integers(0, 7), max_size=4)


def pandas_filter(every, persons, places, start, end):
    """The oracle: overlap of [start, end) by plain boolean masks."""
    keep = np.ones(len(every), dtype=bool)
    if persons is not None:
        keep &= every.person.isin(persons).to_numpy()
    if places is not None:
        keep &= every.place.isin(places).to_numpy()
    if start is not None:
        keep &= (every["end"] > start).to_numpy()
    if end is not None:
        keep &= (every["start"] < end).to_numpy()
    return every[keep]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(presence, max_size=12), min_size=1, max_size=3), data=st.data())
def test_presences_filter_matches_pandas(tmp_path_factory, batches, data):
    path = tmp_path_factory.mktemp("q") / "q.duckdb"
    appended = [rows(*[(p, q, s, e, 0, c) for p, q, (s, e), c in items]) for items in batches]
    times = sorted({t for frame in appended for t in frame.start.tolist() + frame["end"].tolist()})
    # bounds equal to interval ends and starts are where overlap semantics bite
    bound = st.none() | st.integers(-1, 27) | (st.sampled_from(times) if times else st.none())
    with DuckStore(path) as store:
        for frame in appended:
            store.append(Batch(frame))
        person_of = store.persons().set_index("key")["code"]
        place_of = store.places().set_index("key")["code"]
        every = pd.concat(appended, ignore_index=True).drop_duplicates("record")
        every = every.assign(person=person_of.reindex(every.person_key).to_numpy(),
                             place=place_of.reindex(every.place_key).to_numpy())
        for _ in range(4):
            query = dict(persons=data.draw(subset), places=data.draw(subset), start=data.draw(bound), end=data.draw(bound))
            got = store.presences(**query)
            want = pandas_filter(every, **query)
            assert sorted(got.record.tolist()) == sorted(want.record.tolist()), query
            merged = got.merge(want, on="record", suffixes=("", "_want"))
            assert (merged.person == merged.person_want).all() and (merged.place == merged.place_want).all()
            assert (merged.start == merged.start_want).all() and (merged["end"] == merged.end_want).all()
            assert got.dtypes.to_dict() == {c: np.dtype(t) for c, t in PRESENCE_COLUMNS.items()}


# -- trace runs ----------------------------------------------------------------
@dataclass
class Run:
    params: dict
    contacts: pd.DataFrame = field(default_factory=pd.DataFrame)
    events: pd.DataFrame = field(default_factory=pd.DataFrame)


def contacts_frame(n):
    return pd.DataFrame(
        {
            "rank": np.arange(1, n + 1, dtype=np.int32),
            "person": [f"p{i}" for i in range(n)],
            "risk": np.linspace(0.9, 0.1, n),
            "rule": ["close"] * n,
            "hop": np.ones(n, np.int8),
            "source_case": ["c0"] * n,
            "first_contact": pd.to_datetime(np.arange(n) * 3600 + 1_700_000_000, unit="s"),
            "overlap_min": np.arange(n, dtype=np.float64) * 1.5,
            "events": np.arange(n, dtype=np.int64),
        }
    )


def test_run_round_trip(path):
    events = pd.DataFrame({"case": ["c0", "c0"], "contact": ["p0", "p1"], "place": ["venue:1", "flight:CA1:2024-01-01"],
                           "kind": np.array([0, 1], np.int8), "start": np.array([0, 5], np.int64),
                           "end": np.array([60, 65], np.int64), "overlap_s": np.array([60, 60], np.int64),
                           "seat_distance": [np.nan, 1.0], "p_event": [0.1, 0.2], "hop": np.array([1, 1], np.int8)})
    first = Run(params={"window_days": 14, "hops": np.int64(2), "cases": ["c0"]}, contacts=contacts_frame(5), events=events)
    with DuckStore(path) as store:
        with pytest.raises(StoreError, match="no trace runs"):
            store.load_run()
        run_id = store.save_run(first)
        # a later run with other columns and a changed column type
        second = Run(params={"hops": 1}, contacts=contacts_frame(3).assign(hop=[1.5, 2.5, 3.5], note="x"))
        second_id = store.save_run(second)
    assert run_id.startswith("run-") and run_id != second_id
    with DuckStore(path, read_only=True) as store:
        listing = store.runs()
        assert listing["id"].tolist() == [run_id, second_id]
        latest = store.load_run()
        saved = store.load_run(run_id)
        with pytest.raises(StoreError, match="nope"):
            store.load_run("nope")
    assert isinstance(saved, SavedRun) and latest.id == second_id
    assert saved.params == {"window_days": 14, "hops": 2, "cases": ["c0"]}
    pd.testing.assert_frame_equal(saved.contacts, first.contacts)
    pd.testing.assert_frame_equal(saved.events, first.events)
    pd.testing.assert_frame_equal(latest.contacts, second.contacts)
    assert latest.events.empty


def test_a_run_keeps_its_case_windows_and_older_stores_gain_the_table(path):
    from tracer import trace

    frame = pd.DataFrame({"person": ["a", "b"], "place": ["venue:1"] * 2, "kind": "venue",
                          "start": ["2020-02-01 10:00", "2020-02-01 10:30"],
                          "end": ["2020-02-01 11:00", "2020-02-01 12:00"]})  # fmt: skip
    result = trace(frame, [{"person": "a", "onset": "2020-02-02", "isolated": "2020-02-04 12:00"}])
    with DuckStore(path) as store:
        store.save_run(Run(params={}))  # a run without cases
        # A store written before run_cases existed: its runs have no case list.
        store.con.execute("ALTER TABLE runs DROP COLUMN case_columns")
        store.con.execute("DROP TABLE run_cases")
        assert store.load_run().cases is None
        run_id = store.save_run(result)
    with DuckStore(path, read_only=True) as store:
        saved = store.load_run(run_id)
        assert [r.cases for r in map(store.load_run, store.runs()["id"]) if r.id != run_id] == [None]
    pd.testing.assert_frame_equal(saved.cases, result.cases.reset_index(drop=True))
    assert saved.cases["window_end_s"].tolist() == [int(pd.Timestamp("2020-02-04 12:00+08:00").timestamp())]


def test_a_run_saved_without_events_is_traced_again_from_its_cases(path):
    import dataclasses

    from tracer import trace
    from tracer.explain import with_evidence

    with DuckStore(path) as store:
        store.append(make_batch(4000, n_persons=300, n_places=30, source="city"))
        cases = [{"person": "p00000", "onset": "1970-01-10"}, {"person": "p00001", "sampled": "1970-01-15"}]
        result = trace(store, cases, hops=2)
        saved = store.load_run(store.save_run(result))
        bare = dataclasses.replace(saved, events=saved.events.iloc[:0])
        again = with_evidence(store, bare)
        pd.testing.assert_frame_equal(again.events.reset_index(drop=True), saved.events, check_dtype=False)
        assert with_evidence(store, saved) is saved
        with pytest.raises(TracerError, match="without its co-presence events or its case list"):
            with_evidence(store, dataclasses.replace(bare, cases=None))
        assert (saved.contacts["hop"] == 2).any() and len(saved.events) > len(saved.contacts)
        tampered = bare.contacts.assign(risk=bare.contacts["risk"] * 0.5)
        with pytest.raises(TracerError, match="has changed since"):
            with_evidence(store, dataclasses.replace(bare, contacts=tampered))


def test_explain_of_a_saved_run_reads_only_its_chain_and_agrees_with_the_whole_run(path):
    from tracer import trace
    from tracer.explain import explain, explain_saved

    with DuckStore(path) as store:
        store.append(make_batch(4000, n_persons=300, n_places=30, source="city"))
        cases = [{"person": "p00000", "onset": "1970-01-10"}, {"person": "p00001", "sampled": "1970-01-15"},
                 {"person": "p00002", "onset": "1960-01-01"}]   # infectious before any presence: no contacts
        run_id = store.save_run(trace(store, cases, hops=2))
        whole = store.load_run(run_id)
        assert (whole.contacts["hop"] == 2).any()
        picked = whole.contacts.groupby("hop").head(15)
        for contact, source in zip(picked["person"], picked["source_case"]):
            run, got = explain_saved(store, run_id, source, contact)
            assert len(run.events) < len(whole.events)   # only the chain's events were read
            want = explain(whole, source, contact)
            assert got.chain == want.chain
            pd.testing.assert_frame_equal(got.evidence, want.evidence)
            pd.testing.assert_series_equal(got.contact, want.contact)
        # the errors are the whole run's: a case that did not expose the contact (one that exposed
        # nobody is still a case of the run), an unknown case
        assert "p00002" not in set(whole.contacts["source_case"])
        other = next(c for c in ("p00000", "p00001") if c != picked["source_case"].iat[0])
        for bad_case in (other, "p00002", "nobody"):
            with pytest.raises(UnknownPerson) as whole_err:
                explain(whole, bad_case, picked["person"].iat[0])
            with pytest.raises(UnknownPerson) as saved_err:
                explain_saved(store, None, bad_case, picked["person"].iat[0])
            assert str(saved_err.value) == str(whole_err.value)


def test_run_with_reserved_column_is_refused(path):
    with DuckStore(path) as store:
        with pytest.raises(ValidationError, match="reserved"):
            store.save_run(Run(params={}, contacts=pd.DataFrame({"run": [1]})))
        assert store.runs().empty


# -- the persisted presence index ----------------------------------------------
def test_index_persisted_and_invalidated(path, monkeypatch):
    import tracer.index as index_mod

    builds = []
    real_build = index_mod.build_index

    def counting_build(*args, **kwargs):
        builds.append(kwargs.get("version"))
        return real_build(*args, **kwargs)

    monkeypatch.setattr(index_mod, "build_index", counting_build)
    with DuckStore(path) as store:
        store.append(Batch(rows(("a", "venue:1", 0, 60), ("b", "venue:1", 30, 90), ("b", "venue:2", 5, 6, 1))))
        index = store.index()
        assert store.index() is index and builds == [1]
        assert index.version == 1 and index.n == 3
    assert os.path.isdir(path + ".index")
    with DuckStore(path) as store:  # a new instance loads the saved index
        assert store.index().version == 1 and builds == [1]
        store.append(Batch(rows(("c", "venue:2", 0, 60, 1))))
        index = store.index()
        assert builds == [1, 2] and index.version == 2 and index.n == 4
    with DuckStore(path, read_only=True) as store:
        assert store.index().n == 4 and builds == [1, 2]
    # a damaged index is rebuilt, not trusted
    for name in os.listdir(path + ".index"):
        os.remove(os.path.join(path + ".index", name))
    with DuckStore(path) as store:
        assert store.index().n == 4 and builds == [1, 2, 2]
    # a new store at the same path does not inherit the old index
    os.remove(path)
    with DuckStore(path) as store:
        store.append(Batch(rows(("z", "venue:7", 0, 1))))
        assert store.index().n == 1 and builds == [1, 2, 2, 1]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(-5, 5), st.integers(0, 9),
                          st.integers(-1, 3)), max_size=30))
def test_coded_fingerprint_equals_fingerprint_of_keys(items):
    from tracer.presence import fingerprint_coded

    person_keys = np.array(["p0", "11010519491231002X", "phone:+8613812345678", "p0x"], dtype=object)
    place_keys = np.array(["venue:V1", "flight:CA1:2020-02-01", "grid:G"], dtype=object)
    p, q, start, dur, col = (np.array([i[k] for i in items], dtype=np.int64) for k in range(5))
    seat = np.full(len(items), -1, np.int64)
    want = fingerprint(person_keys[p], place_keys[q], start, start + dur, seat, seat, col)
    got = fingerprint_coded(p, person_keys, q, place_keys, start, start + dur, seat, seat, col)
    assert got.tolist() == want.tolist()


def test_validated_batch_with_a_key_missing_from_its_dictionary_is_refused(tmp_path):
    frame = rows(("p1", "venue:1", 0, 60), ("p2", "venue:1", 0, 60))
    keys = pd.Index(["p1", "p2"], dtype=object)
    frame["person_key"] = pd.Categorical(frame["person_key"], categories=keys)
    frame["place_key"] = pd.Categorical(frame["place_key"], categories=pd.Index(["venue:1"], dtype=object))
    batch = Batch(frame, persons=pd.DataFrame({"key": ["p1"], "name": [None], "district": [None]}),
                  places=pd.DataFrame({"key": ["venue:1"], "kind": [0]}), validated=True)
    with DuckStore(tmp_path / "t.duckdb") as store:
        with pytest.raises(ValidationError, match="person key missing"):
            store.append(batch)
        assert store.version == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.none() | st.integers(-5, 5), st.none() | st.booleans(), st.none() | st.text(max_size=4),
                          st.none() | st.floats(allow_nan=False), st.none() | st.integers(0, 10**9)), max_size=6))
def test_fetch_frame_gives_what_df_gives(rows):
    """tracer.duck_sql.fetch_frame (by way of Arrow) against DuckDB's .df()."""
    import duckdb

    from tracer.duck_sql import fetch_frame

    with duckdb.connect() as con:
        con.execute("CREATE TABLE t (i INT, b BOOL, s VARCHAR, f DOUBLE, ts TIMESTAMPTZ, e ENUM('a', 'b'), d DATE)")
        for i, b, s, f, sec in rows:
            con.execute("INSERT INTO t VALUES (?, ?, ?, ?, to_timestamp(?), 'a', DATE '2020-01-02')",
                        [i, b, s, f, sec])  # fmt: skip
        for sql in ("SELECT i, b, s, f, ts FROM t", "SELECT * FROM t", "SELECT s, i FROM t WHERE i > ?"):
            params = [0] if "?" in sql else []
            pd.testing.assert_frame_equal(fetch_frame(con, sql, params), con.execute(sql, params).df())
