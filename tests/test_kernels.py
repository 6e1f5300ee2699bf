"""tracer.kernels against the brute-force twins in tests/naive.py."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naive import naive_copresences, naive_self_join, presence_identity
from tracer import ValidationError
from tracer.index import build_index
from tracer.kernels import count_self_join, find_copresences, self_join

T0 = 1_700_000_000
DAY_S = 86_400
WEEK_S = 7 * DAY_S
SETTINGS = dict(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Durations mixing zero-length, seconds, minutes, hours and weeks.
durations = st.one_of(
    st.sampled_from([0, 1, 60, 300, 600, 900, 3600]),  # 600 and 900 share a bucket
    st.integers(0, 4 * 3600),
    st.sampled_from([DAY_S, 2 * WEEK_S, 3 * WEEK_S]),
    st.integers(DAY_S, 4 * WEEK_S),
)
#: Starts on a coarse grid (equal and touching endpoints are common) or anywhere.
starts = st.one_of(
    st.integers(0, 24).map(lambda k: T0 + 300 * k),
    st.integers(-2 * WEEK_S, 2 * WEEK_S).map(lambda s: T0 + s),
)


@st.composite
def presence_frames(draw, max_rows=20, n_places=3, n_persons=4):
    """Small canonical frames; kind is a function of place, as the index requires."""
    n = draw(st.integers(0, max_rows))
    rows = []
    for _ in range(n):
        start = draw(starts)
        place = draw(st.integers(0, n_places - 1))
        rows.append({"person": draw(st.integers(0, n_persons - 1)), "place": place,
                     "start": start, "end": start + draw(durations), "kind": place % 8,
                     "section": draw(st.integers(-1, 2)), "row": draw(st.integers(-1, 30)),
                     "col": draw(st.integers(-1, 5)), "flags": draw(st.integers(0, 7))})
    return canonical(rows)


def canonical(rows):
    dtypes = {"person": np.int32, "place": np.int32, "start": np.int64, "end": np.int64, "kind": np.int8,
              "section": np.int16, "row": np.int16, "col": np.int16, "flags": np.uint8}
    defaults = {"kind": 0, "section": -1, "row": -1, "col": -1, "flags": 0}
    rows = [{**defaults, **row} for row in rows]
    return pd.DataFrame(rows, columns=list(dtypes)).astype(dtypes)


@st.composite
def sources(draw, frame, n_places=3, n_persons=4):
    """Source intervals: some presences of the frame (clipped or padded, as
    a trace would), some arbitrary, including empty and reversed ones."""
    out = []
    for _ in range(draw(st.integers(0, 6))):
        if len(frame) and draw(st.booleans()):
            row = frame.iloc[draw(st.integers(0, len(frame) - 1))]
            pad = draw(st.sampled_from([0, 0, 60, 1800]))
            clip = draw(st.sampled_from([0, 0, 600]))
            out.append((int(row.place), int(row.start) + clip, int(row.end) + pad, int(row.person)))
        else:
            a = draw(starts)
            out.append((draw(st.integers(0, n_places + 1)), a, a + draw(st.integers(-600, 2 * WEEK_S)),
                        draw(st.integers(-1, n_persons))))
    columns = list(zip(*out)) if out else [(), (), (), ()]
    return [np.array(c, dtype=np.int64) for c in columns]


def kernel_copresences(index, src):
    src_i, pos, ov_start, ov_end = find_copresences(index, *src)
    assert all(a.dtype == np.int64 for a in (src_i, pos, ov_start, ov_end))
    keys = list(zip(src_i.tolist(), pos.tolist()))
    assert keys == sorted(keys) and len(set(keys)) == len(keys), "not sorted by (src_i, pos)"
    assert (ov_end > ov_start).all()
    identities = [presence_identity(r) for r in index.to_frame(pos).to_dict("records")]
    return sorted(zip(src_i.tolist(), identities, ov_start.tolist(), ov_end.tolist()))


def identities_by_position(index):
    return [presence_identity(r) for r in index.to_frame().to_dict("records")]


def kernel_self_join(index, chunk_pairs):
    pairs = []
    positions = []
    ident = identities_by_position(index)
    for pos_a, pos_b, ov_start, ov_end in self_join(index, chunk_pairs=chunk_pairs):
        assert 0 < len(pos_a) <= chunk_pairs
        assert (pos_a < pos_b).all() and (ov_end > ov_start).all()
        for a, b, s, e in zip(pos_a.tolist(), pos_b.tolist(), ov_start.tolist(), ov_end.tolist()):
            pairs.append((min(ident[a], ident[b]), max(ident[a], ident[b]), s, e))
        positions += list(zip(pos_a.tolist(), pos_b.tolist()))
    assert positions == sorted(set(positions)), "pairs repeated or out of (pos_a, pos_b) order"
    return sorted(pairs)


@settings(**SETTINGS)
@given(st.data())
def test_copresences_match_naive(data):
    frame = data.draw(presence_frames())
    src = data.draw(sources(frame))
    index = build_index(frame)
    assert kernel_copresences(index, src) == naive_copresences(frame, *src)


@settings(**SETTINGS)
@given(presence_frames(), st.sampled_from([1, 2, 3, 7, 1 << 22]))
def test_self_join_matches_naive(frame, chunk_pairs):
    index = build_index(frame)
    expected = naive_self_join(frame)
    assert kernel_self_join(index, chunk_pairs) == expected
    assert count_self_join(index) == len(expected)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_hot_place_matches_naive(data):
    """One crowded place, residences of weeks among visits of minutes."""
    frame = data.draw(presence_frames(max_rows=150, n_places=1, n_persons=40))
    src = data.draw(sources(frame, n_places=1, n_persons=40))
    index = build_index(frame)
    assert kernel_copresences(index, src) == naive_copresences(frame, *src)
    expected = naive_self_join(frame)
    assert kernel_self_join(index, data.draw(st.sampled_from([5, 64, 1 << 22]))) == expected
    assert count_self_join(index) == len(expected)


def test_touching_zero_length_and_same_person_are_not_contacts():
    frame = canonical([
        {"person": 0, "place": 0, "start": T0, "end": T0 + 600},  # the source
        {"person": 1, "place": 0, "start": T0 + 600, "end": T0 + 900},  # touches the end
        {"person": 2, "place": 0, "start": T0 - 300, "end": T0},  # touches the start
        {"person": 3, "place": 0, "start": T0 + 100, "end": T0 + 100},  # zero length inside
        {"person": 0, "place": 0, "start": T0 + 50, "end": T0 + 70},  # the source again
        {"person": 4, "place": 1, "start": T0, "end": T0 + 600},  # another place
        {"person": 5, "place": 0, "start": T0 - 900, "end": T0},  # touches, in the bucket of
        {"person": 6, "place": 0, "start": T0 - 600, "end": T0},  # a longer one ending later
        {"person": 7, "place": 0, "start": T0 - 1000, "end": T0 - 100},
    ])
    index = build_index(frame)
    src = [np.array([0]), np.array([T0]), np.array([T0 + 600]), np.array([0])]
    assert all(len(a) == 0 for a in find_copresences(index, *src))
    pairs = sorted(kernel_self_join(index, 4))
    assert [(p[0], q[0]) for p, q, _, _ in pairs] == [(2, 5), (2, 6), (2, 7), (5, 6), (5, 7), (6, 7)]


def test_empty_index_and_empty_sources():
    index = build_index(canonical([]))
    assert [len(a) for a in find_copresences(index, [0], [T0], [T0 + 60], [1])] == [0, 0, 0, 0]
    assert [len(a) for a in find_copresences(index, [], [], [], [])] == [0, 0, 0, 0]
    assert list(self_join(index)) == [] and count_self_join(index) == 0


@pytest.mark.parametrize("bad", [
    dict(src_place=[0, 1]),
    dict(src_place=[-1]),
    dict(src_start=[1.5]),
    dict(src_end=[[T0]]),
])
def test_invalid_sources_raise(bad):
    index = build_index(canonical([{"person": 0, "place": 0, "start": T0, "end": T0 + 60}]))
    args = dict(src_place=[0], src_start=[T0], src_end=[T0 + 60], src_person=[1])
    args.update(bad)
    with pytest.raises(ValidationError):
        find_copresences(index, **args)


def test_chunk_pairs_must_be_positive():
    index = build_index(canonical([]))
    with pytest.raises(ValidationError):
        next(self_join(index, chunk_pairs=0))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.data())
def test_parallel_drivers_match_naive(monkeypatch, data):
    """The parallel drivers (normally only for large inputs) on small ones."""
    import tracer.index
    import tracer.kernels

    monkeypatch.setattr(tracer.index, "PARALLEL_MIN", 0)
    monkeypatch.setattr(tracer.kernels, "PARALLEL_SOURCES", 1)
    monkeypatch.setattr(tracer.kernels, "PARALLEL_ROWS", 0)
    frame = data.draw(presence_frames(max_rows=40))
    src = data.draw(sources(frame))
    index = build_index(frame)
    assert kernel_copresences(index, src) == naive_copresences(frame, *src)
    assert count_self_join(index) == len(naive_self_join(frame))
