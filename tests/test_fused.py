"""The fused numba search-and-score pass against the vectorised model.

:func:`tracer.scoring.find_events` scores each co-presence inside the
search kernel (:mod:`tracer.fused`); ``tests/naive_events.py`` computes the
same events with the documented numpy functions of :mod:`tracer.model`.
Integers must agree exactly; floats to a few ulps (numba's and numpy's
``exp``/``log`` may round differently in the last bit).
"""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naive_events import reference_events
from tracer.config import ModelConfig
from tracer.index import build_index
from tracer.schema import KINDS
from tracer.scoring import EVENT_COLUMNS, find_events

T0 = 1_580_486_400
DAY_S = 86400
FLOATS = ("seat_distance", "p_event")


@st.composite
def hops(draw):
    n_persons = draw(st.integers(1, 8))
    place_kinds = draw(st.lists(st.integers(0, len(KINDS) - 1), min_size=1, max_size=5))
    n = draw(st.integers(0, 40))
    rows = []
    for _ in range(n):
        place = draw(st.integers(0, len(place_kinds) - 1))
        start = T0 + draw(st.integers(-4 * DAY_S, 12 * DAY_S)) // 300 * 300
        dur = draw(st.sampled_from([0, 1, 59, 60, 300, 900, 1800, 3600, 5 * 3600, 3 * DAY_S, 21 * DAY_S]))
        rows.append((draw(st.integers(0, n_persons - 1)), place, place_kinds[place], start, start + dur,
                     draw(st.integers(-1, 2)), draw(st.integers(-1, 31)), draw(st.integers(-1, 6))))  # fmt: skip
    frame = pd.DataFrame(rows, columns=["person", "place", "kind", "start", "end", "section", "row", "col"])
    frame = frame.astype(np.int64)
    n_src = draw(st.integers(1, n_persons))
    persons = draw(st.lists(st.integers(0, n_persons - 1), min_size=n_src, max_size=n_src, unique=True))
    ref = np.array([T0 + draw(st.integers(-3 * DAY_S, 8 * DAY_S)) for _ in persons], np.int64)
    pre = np.array([draw(st.sampled_from([0, 3600, 2 * DAY_S, 5 * DAY_S])) for _ in persons], np.int64)
    sources = pd.DataFrame(
        {
            "person": np.array(persons, np.int32),
            "reference_s": ref,
            "asymptomatic": [draw(st.booleans()) for _ in persons],
            "window_start_s": ref - pre,
            "window_end_s": ref + np.array([draw(st.sampled_from([60, 3 * DAY_S, 10 * DAY_S])) for _ in persons]),
            "risk": [draw(st.sampled_from([1.0, 0.5, 1e-3])) for _ in persons],
            "root": np.array([draw(st.sampled_from(persons)) for _ in persons], np.int32),
        }
    )
    cfg = ModelConfig(bus_sealed=draw(st.booleans()), asymptomatic_relative=draw(st.sampled_from([1.0, 0.35])),
                      venue_close_min_s=draw(st.sampled_from([900, 60])))  # fmt: skip
    linger = np.array([draw(st.sampled_from([0, 600, 1800])) for _ in KINDS], np.int64)
    return frame, n_persons, len(place_kinds), sources, cfg, linger


def _assert_same(got, want):
    assert set(got) == set(EVENT_COLUMNS) == set(want)
    for name in EVENT_COLUMNS:
        g, w = np.asarray(got[name]), np.asarray(want[name])
        assert g.shape == w.shape, name
        if name in FLOATS:
            assert (np.isnan(g) == np.isnan(w)).all(), name
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=0, equal_nan=True, err_msg=name)
        else:
            assert (g.astype(np.int64) == w.astype(np.int64)).all(), name


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hops())
def test_fused_events_match_the_reference_model(world):
    frame, n_persons, n_places, sources, cfg, linger = world
    index = build_index(frame, n_persons, n_places)
    got = find_events(index, sources, linger, cfg, hop=2)
    _assert_same(got, reference_events(index, sources, linger, cfg, hop=2))


def test_many_sources_take_the_parallel_path():
    rng = np.random.default_rng(7)
    n = 4000
    start = T0 + rng.integers(0, 3 * DAY_S, n)
    place = rng.integers(0, 40, n)
    kinds = rng.integers(0, len(KINDS), 40)
    frame = pd.DataFrame({"person": rng.integers(0, 300, n), "place": place, "kind": kinds[place], "start": start,
                          "end": start + rng.integers(0, 6 * 3600, n), "section": rng.integers(-1, 3, n),
                          "row": rng.integers(-1, 30, n), "col": rng.integers(-1, 6, n)})  # fmt: skip
    index = build_index(frame, 300, 40)
    persons = np.arange(0, 300, 2, dtype=np.int32)  # 150 sources: above PARALLEL_SOURCES
    sources = pd.DataFrame({"person": persons, "reference_s": T0 + DAY_S, "asymptomatic": persons % 3 == 0,
                            "window_start_s": T0, "window_end_s": T0 + 2 * DAY_S, "risk": 1.0, "root": persons})  # fmt: skip
    cfg, linger = ModelConfig(), np.asarray(ModelConfig().linger_s, np.int64)
    got = find_events(index, sources, linger, cfg, hop=1)
    assert len(got["p_event"]) > 1000
    _assert_same(got, reference_events(index, sources, linger, cfg, hop=1))
