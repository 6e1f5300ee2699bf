"""tracer.trace against the brute-force twin in tests/naive_trace.py."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naive_trace import naive_hop1, naive_hop2
from tracer import ValidationError, trace
from tracer.config import ModelConfig
from tracer.schema import KINDS
from tracer.timeutil import DAY_S

T0 = 1_580_486_400  # 2020-02-01 00:00 Asia/Shanghai


@st.composite
def worlds(draw, max_rows=30):
    n = draw(st.integers(0, max_rows))
    persons = [f"p{i}" for i in range(draw(st.integers(1, 6)))]
    places = [f"{k}:{i}" for i, k in enumerate(draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4)))]
    rows = []
    for _ in range(n):
        place = draw(st.sampled_from(places))
        start = T0 + draw(st.integers(-3 * DAY_S, 12 * DAY_S)) // 900 * 900
        dur = draw(st.sampled_from([0, 900, 1800, 3600, 4 * 3600, 14 * DAY_S]))
        rows.append(
            {
                "person": draw(st.sampled_from(persons)),
                "place": place,
                "kind": place.split(":")[0],
                "start": start,
                "end": start + dur,
                "row": draw(st.integers(-1, 5)),
                "col": draw(st.integers(-1, 3)),
                "section": draw(st.integers(-1, 2)),
            }
        )
    frame = pd.DataFrame(rows, columns=["person", "place", "kind", "start", "end", "row", "col", "section"])
    cases = draw(st.lists(st.sampled_from(persons), min_size=1, max_size=3, unique=True))
    onset = {c: T0 + draw(st.integers(0, 6)) * DAY_S for c in cases}
    return frame, onset


def _windows(onset, cfg):
    return {c: (t - int(cfg.pre_onset_days * DAY_S), t + int(cfg.post_onset_days * DAY_S)) for c, t in onset.items()}


def _cases(onset):
    return pd.DataFrame({"person": list(onset), "onset": list(onset.values())})


def _check_hop1(res, expected, hop=1):
    got = res.contacts[res.contacts["hop"] == hop]
    per = {}
    for case, contact, place, lo, hi in expected:
        d = per.setdefault(contact, {"events": 0, "overlap": 0, "first": hi})
        d["events"] += 1
        d["overlap"] += hi - lo
        d["first"] = min(d["first"], lo)
    assert sorted(got["person"]) == sorted(per)
    for row in got.itertuples():
        d = per[row.person]
        assert row.events == d["events"]
        assert row.overlap_min == pytest.approx(d["overlap"] / 60)
        assert int(row.first_contact.timestamp()) == d["first"]


def _frame(frame):
    return frame.astype({"start": "int64", "end": "int64"})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_hop1_without_padding_lists_everyone_who_shared_place_and_time(world):
    frame, onset = world
    present = set(frame["person"])
    onset = {c: t for c, t in onset.items() if c in present} or None
    if onset is None:
        return
    cfg = ModelConfig()
    res = trace(_frame(frame), _cases(onset), linger=False, min_risk=0.0)
    _check_hop1(res, naive_hop1(frame, _windows(onset, cfg)))
    assert res.contacts["rank"].tolist() == list(range(1, len(res.contacts) + 1))
    assert (np.diff(res.contacts["risk"].to_numpy()) <= 0).all()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_hop1_with_linger_padding_matches_twin(world):
    frame, onset = world
    onset = {c: t for c, t in onset.items() if c in set(frame["person"])}
    if not onset:
        return
    cfg = ModelConfig()
    res = trace(_frame(frame), _cases(onset), linger=True)
    _check_hop1(res, naive_hop1(frame, _windows(onset, cfg), linger_s=list(cfg.linger_s)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_hop2_follows_time_order(world):
    frame, onset = world
    onset = {c: t for c, t in onset.items() if c in set(frame["person"])}
    if not onset:
        return
    cfg = ModelConfig()
    res = trace(_frame(frame), _cases(onset), hops=2, linger=False)
    hop1 = naive_hop1(frame, _windows(onset, cfg))
    first = {}
    for _, contact, _, lo, _ in hop1:
        first[contact] = min(first.get(contact, lo), lo)
    expected = naive_hop2(frame, first, set(onset), int(cfg.incubation_days * DAY_S), int(cfg.post_onset_days * DAY_S))
    _check_hop1(res, expected, hop=2)


def test_risk_combines_events_and_multiplies_along_chain():
    frame = pd.DataFrame(
        {
            "person": ["a", "b", "b", "c"],
            "place": ["venue:1", "venue:1", "venue:2", "venue:2"],
            "kind": "venue",
            "start": ["2020-02-01 10:00", "2020-02-01 10:00", "2020-02-03 10:00", "2020-02-03 10:00"],
            "end": ["2020-02-01 12:00", "2020-02-01 12:00", "2020-02-03 12:00", "2020-02-03 12:00"],
        }
    )
    res = trace(frame, [{"person": "a", "onset": "2020-02-01"}], hops=2, linger=False)
    ev = res.events
    b = res.contacts.set_index("person").loc["b"]
    c = res.contacts.set_index("person").loc["c"]
    assert b.risk == pytest.approx(1 - np.prod(1 - ev[ev.contact == "b"].p_event))
    assert (c.hop, c.source_case, c.via) == (2, "a", "b")
    # c's one event is scored as if b were a source, then scaled by b's risk.
    assert 0 < c.risk < b.risk


def test_touching_intervals_are_not_contacts():
    frame = pd.DataFrame(
        {"person": ["a", "b"], "place": ["venue:1"] * 2, "kind": "venue",
         "start": ["2020-02-01 10:00", "2020-02-01 11:00"], "end": ["2020-02-01 11:00", "2020-02-01 12:00"]}
    )  # fmt: skip
    assert trace(frame, [{"person": "a", "onset": "2020-02-01"}], linger=False).contacts.empty
    padded = trace(frame, [{"person": "a", "onset": "2020-02-01"}], linger=True).contacts
    assert padded["person"].tolist() == ["b"]


def test_isolation_closes_the_window_and_bad_cases_are_clear_errors():
    frame = pd.DataFrame(
        {"person": ["a", "b"], "place": ["venue:1"] * 2, "kind": "venue",
         "start": ["2020-02-05 10:00"] * 2, "end": ["2020-02-05 12:00"] * 2}
    )  # fmt: skip
    cases = [{"person": "a", "onset": "2020-02-04", "isolated": "2020-02-05 09:00"}]
    assert trace(frame, cases).contacts.empty
    with pytest.raises(ValidationError, match="neither onset nor sampled"):
        trace(frame, [{"person": "a", "onset": None}])
    with pytest.raises(ValidationError, match="hops"):
        trace(frame, [{"person": "a", "onset": "2020-02-04"}], hops=4)
    from tracer import UnknownPerson

    with pytest.raises(UnknownPerson, match="zz"):
        trace(frame, [{"person": "zz", "onset": "2020-02-04"}])


def test_asymptomatic_case_uses_sampled_date():
    frame = pd.DataFrame(
        {"person": ["a", "b"], "place": ["venue:1"] * 2, "kind": "venue",
         "start": ["2020-02-05 10:00"] * 2, "end": ["2020-02-05 12:00"] * 2}
    )  # fmt: skip
    res = trace(frame, pd.DataFrame({"person": ["a"], "onset": [None], "sampled": ["2020-02-06"]}))
    assert res.contacts["person"].tolist() == ["b"]
    assert res.contacts["risk"].iat[0] > 0


def test_rule_counts_time_together_not_linger_padding():
    frame = pd.DataFrame(
        {"person": ["a", "b", "c"], "place": ["venue:1"] * 3, "kind": "venue",
         "start": ["2020-02-01 09:00", "2020-02-01 10:10", "2020-02-01 09:30"],
         "end": ["2020-02-01 10:00", "2020-02-01 11:00", "2020-02-01 09:50"]}
    )  # fmt: skip
    res = trace(frame, [{"person": "a", "onset": "2020-02-01"}], linger=True)
    rule = res.contacts.set_index("person")["rule"]
    assert rule.to_dict() == {"b": "general", "c": "close"}
    ev = res.events.set_index("contact")
    assert ev.loc["b", "together_s"] == 0 and ev.loc["b", "overlap_s"] == 20 * 60
    assert ev.loc["c", "together_s"] == ev.loc["c", "overlap_s"] == 20 * 60


def test_to_networkx_has_cases_contacts_places_and_exposures():
    frame = pd.DataFrame(
        {"person": ["a", "b", "b", "c"], "place": ["venue:1", "venue:1", "home:9", "home:9"], "kind": ["venue", "venue", "residence", "residence"],
         "start": ["2020-02-01 10:00", "2020-02-01 10:00", "2020-02-03 10:00", "2020-02-03 10:00"],
         "end": ["2020-02-01 12:00", "2020-02-01 12:00", "2020-02-04 10:00", "2020-02-04 10:00"]}
    )  # fmt: skip
    res = trace(frame, [{"person": "a", "onset": "2020-02-01"}], hops=2, linger=False)
    g = res.to_networkx()
    assert dict(g.nodes(data="type")) == {"a": "case", "b": "contact", "c": "contact", "venue:1": "place", "home:9": "place"}
    exposures = {(u, v): d for u, v, d in g.edges(data=True) if d["type"] == "exposed_to"}
    assert set(exposures) == {("a", "b"), ("b", "c")}
    contacts = res.contacts.set_index("person")
    assert exposures[("a", "b")]["risk"] == pytest.approx(contacts.loc["b", "risk"])
    assert g.nodes["c"]["hop"] == 2
    present = sorted((u, v) for u, v, d in g.edges(data=True) if d["type"] == "present")
    assert present == [("a", "venue:1"), ("b", "home:9"), ("b", "venue:1"), ("c", "home:9")]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 0.1, 0.5, 0.9]), st.integers(1, 3), st.text("abc", min_size=1, max_size=3)),
                max_size=40, unique_by=lambda t: t[2]))  # fmt: skip
def test_rank_order_is_risk_then_hop_then_key(rows):
    from tracer.tracing import _rank_order

    frame = pd.DataFrame(rows, columns=["risk", "hop", "person"])
    if frame.empty:
        return
    expected = frame.sort_values(["risk", "hop", "person"], ascending=[False, True, True], kind="mergesort").index
    got = _rank_order(frame["risk"].to_numpy(), frame["hop"].to_numpy(), frame["person"].to_numpy(dtype=object))
    assert got.tolist() == expected.tolist()


def test_explain_without_saved_events_is_a_clear_error():
    from types import SimpleNamespace

    from tracer import TracerError
    from tracer.explain import explain

    frame = pd.DataFrame(
        {"person": ["a", "b"], "place": ["venue:1"] * 2, "kind": "venue",
         "start": ["2020-02-01 10:00"] * 2, "end": ["2020-02-01 11:00"] * 2}
    )  # fmt: skip
    res = trace(frame, [{"person": "a", "onset": "2020-02-02"}])
    saved = SimpleNamespace(contacts=res.contacts, events=res.events.iloc[:0])
    with pytest.raises(TracerError, match="without its co-presence events"):
        explain(saved, "a", "#1")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-2_000_000_000, 4_000_000_000),
                          st.integers(-20_000_000_000, 20_000_000_000)), max_size=40),   # years 1336-2603
       st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata", "UTC"]))
def test_time_texts_are_what_pandas_writes(seconds, tz):
    """tracer.timeutil.time_texts against pandas' own CSV and JSON writers
    (the oracle), zones with DST and historical offsets with seconds included,
    and years outside pandas' nanosecond range (stored in microseconds)."""
    from tracer.timeutil import from_epoch_s, time_texts

    times = pd.Series(from_epoch_s([0 if s is None else s for s in seconds], tz))
    times[[s is None for s in seconds]] = pd.NaT
    frame = pd.DataFrame({"t": times})
    assert pd.DataFrame({"t": time_texts(times)}).to_csv(index=False) == frame.to_csv(index=False)
    as_json = pd.DataFrame({"t": time_texts(times, "json")}).to_json(orient="records", date_format="iso")
    assert as_json == frame.to_json(orient="records", date_format="iso")
    assert time_texts(times + pd.Timedelta(milliseconds=5)) is None or times.isna().all()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 30).flatmap(lambda n: st.lists(
    st.lists(st.integers(-(1 << 63), (1 << 63) - 1) | st.integers(-3, 3), min_size=n, max_size=n),
    min_size=1, max_size=5)))
def test_lex_order_is_lexsort_most_significant_first(keys):
    from tracer.tracing import lex_order

    arrays = [np.array(k, dtype=np.int64) for k in keys]
    assert lex_order(*arrays).tolist() == np.lexsort(arrays[::-1]).tolist()


def test_open_ended_household_registrations_trace(tmp_path):
    """A household registration with no move-out date (end 2100, more than
    the 68 years an index entry holds) makes co-residents contacts, in the
    embedded store as loaded from a raw file (it used to fail the index build)."""
    from loaders import load_files
    from loaders.ids import id_check_char
    from loaders.sources import RESIDENCE_OPEN_END_S
    from tracer.duck import DuckStore

    a, b = (p + id_check_char(p) for p in ("11010519491231002", "53010219851111002"))
    path = tmp_path / "r.csv"
    path.write_text(f"证件号码,标准地址编码,入住日期,迁出日期\n{a},530102000001,2015-03-01,\n"
                    f"{b},530102000001,2019-01-01,\n", encoding="utf-8")  # fmt: skip
    with DuckStore(tmp_path / "t.duckdb") as store:
        load_files(store, "residence", [str(path)])
        assert (store.presences()["end"] == RESIDENCE_OPEN_END_S).all()
        res = trace(store, pd.DataFrame({"person": [a], "onset": ["2020-02-01"]}), linger=False)
    assert res.contacts["person"].tolist() == [b] and res.contacts["rule"].tolist() == ["close"]
    assert int(res.contacts["overlap_min"].iloc[0]) == (2 + 10) * 24 * 60  # the whole infectious window
