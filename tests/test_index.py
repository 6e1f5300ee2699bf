"""tracer.index: order and segment invariants, round trips, postings, size."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naive import naive_copresences, naive_self_join
from test_kernels import T0, canonical, kernel_copresences, kernel_self_join, presence_frames
from tracer import StoreError, ValidationError
from tracer.index import FRAME_COLUMNS, INDEX_ARRAYS, PresenceIndex, build_index
from tracer.kernels import count_self_join, find_copresences

SETTINGS = dict(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def sorted_rows(frame):
    return sorted(map(tuple, frame[FRAME_COLUMNS].to_numpy().tolist()))


def bucket(dur_s):
    return int(dur_s + 1).bit_length() - 1


@settings(**SETTINGS)
@given(presence_frames())
def test_to_frame_round_trip(frame):
    index = build_index(frame)
    out = index.to_frame()
    assert list(out.columns) == FRAME_COLUMNS
    assert all(out[c].dtype == frame[c].dtype for c in FRAME_COLUMNS)
    assert sorted_rows(out) == sorted_rows(frame)
    picked = np.arange(index.n)[::-2]
    assert out.iloc[picked].reset_index(drop=True).equals(index.to_frame(picked))


@settings(**SETTINGS)
@given(presence_frames())
def test_order_and_segments(frame):
    index = build_index(frame)
    out = index.to_frame()
    # the naive order: a stable sort by (place, length bucket, start); ties keep the input order
    buckets = [bucket(e - s) for s, e in zip(frame.start, frame.end)]
    naive = frame.iloc[np.lexsort((np.arange(len(frame)), frame.start, buckets, frame.place))]
    assert out[FRAME_COLUMNS].to_numpy().tolist() == naive[FRAME_COLUMNS].to_numpy().tolist()
    assert index.seg_lo[0] == 0 and index.seg_lo[-1] == index.n
    assert (np.diff(index.seg_lo) > 0).all()
    for s in range(index.n_segments):
        part = slice(index.seg_lo[s], index.seg_lo[s + 1])
        assert (out.place[part] == index.seg_place[s]).all()
        assert len({bucket(d) for d in index.dur[part]}) == 1
        assert index.seg_maxdur[s] == index.dur[part].max()
    for p in range(index.n_places):
        segs = index.seg_place[index.place_seg[p]:index.place_seg[p + 1]]
        assert (segs == p).all() and len(segs) == len(set(bucket(d) for d in index.dur[out.place == p]))
        kinds = set(frame.kind[frame.place == p])
        assert index.place_kind[p] == (kinds.pop() if kinds else -1)


@settings(**SETTINGS)
@given(presence_frames(), st.lists(st.integers(0, 6), max_size=5))
def test_person_postings(frame, codes):
    index = build_index(frame)
    out = index.to_frame()
    for q in range(index.n_persons):
        pos = index.by_person[index.person_off[q]:index.person_off[q + 1]]
        assert sorted(pos.tolist()) == np.flatnonzero(out.person == q).tolist()
        assert (np.diff(index.start[pos]) >= 0).all(), "a person's positions are not in start order"
    got = index.person_positions(codes)
    assert got.dtype == np.int64
    expected = [p for q in sorted(set(codes)) for p in sorted(np.flatnonzero(out.person == q),
                                                             key=lambda p: (out.start[p], p))]
    assert got.tolist() == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(presence_frames(max_rows=120, n_places=2, n_persons=3), st.integers(0, 2**14 - 1),
       st.integers(0, 2**14 - 1))
def test_wide_code_spaces_and_long_runs(frame, place_low, person_low):
    """Codes spread over 2**21 values take two grouping passes (one pass
    covers GROUP_BITS = 20 bits); few places and persons make long runs,
    sorted by the radix path."""
    frame = frame.assign(place=(frame.place * 2**20 + place_low).astype(np.int32),
                         person=(frame.person * 2**20 + person_low).astype(np.int32))
    index = build_index(frame)
    out = index.to_frame()
    assert sorted_rows(out) == sorted_rows(frame)
    keys = list(zip(out.place, [bucket(d) for d in index.dur], out.start))
    assert keys == sorted(keys)
    for q in np.unique(frame.person):
        pos = index.by_person[index.person_off[q]:index.person_off[q + 1]]
        assert sorted(pos.tolist()) == np.flatnonzero(out.person == q).tolist()
        assert (np.diff(index.start[pos]) >= 0).all()
    src = [frame.place.to_numpy(), frame.start.to_numpy(), frame.end.to_numpy(), frame.person.to_numpy()]
    assert kernel_copresences(index, src) == naive_copresences(frame, *src)
    assert kernel_self_join(index, 1 << 22) == naive_self_join(frame)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(presence_frames(), st.booleans())
def test_save_load_round_trip(tmp_path_factory, frame, mmap):
    directory = tmp_path_factory.mktemp("store") / "index"
    index = build_index(frame, version=7)
    index.save(directory)
    index.save(directory)  # replacing an existing index
    loaded = PresenceIndex.load(directory, mmap=mmap)
    assert loaded.version == 7 and loaded.n == index.n
    for name, dtype in INDEX_ARRAYS.items():
        arr = getattr(loaded, name)
        assert arr.dtype == dtype and np.array_equal(arr, getattr(index, name)), name
    assert loaded.to_frame().equals(index.to_frame())
    src = [frame.place.to_numpy(), frame.start.to_numpy(), frame.end.to_numpy(), frame.person.to_numpy()]
    assert all(np.array_equal(a, b) for a, b in zip(find_copresences(loaded, *src), find_copresences(index, *src)))
    assert count_self_join(loaded) == count_self_join(index)
    assert [p.name for p in directory.parent.iterdir()] == ["index"], "temporary directories left behind"


@settings(max_examples=50, deadline=None)
@given(presence_frames(max_rows=30, n_places=5, n_persons=6), st.integers(0, 3), st.integers(0, 3))
def test_bytes_per_presence(frame, extra_places, extra_persons):
    n_places = int(frame.place.max() + 1 if len(frame) else 0) + extra_places
    n_persons = int(frame.person.max() + 1 if len(frame) else 0) + extra_persons
    index = build_index(frame, n_persons=n_persons, n_places=n_places)
    assert (index.n_places, index.n_persons) == (n_places, n_persons)
    per_presence = 8 + 4 + 4 + 3 * 2 + 1 + 4  # start dur person section/row/col flags by_person
    expected = (per_presence * index.n + 20 * index.n_segments + 8
                + 9 * n_places + 8 + 8 * n_persons + 8)
    assert index.nbytes == expected


def test_bytes_per_presence_on_a_city_like_frame():
    """A day of a small city: many presences per place and per person."""
    rng = np.random.default_rng(5)
    n = 50_000
    start = T0 + rng.integers(0, 86_400, n)
    place = rng.integers(0, 500, n)
    frame = pd.DataFrame({"person": rng.integers(0, 5_000, n).astype(np.int32),
                          "place": place.astype(np.int32), "start": start,
                          "end": start + rng.integers(0, 4 * 3600, n), "kind": (place % 8).astype(np.int8)})
    index = build_index(frame)
    assert index.nbytes / n <= 40


@pytest.mark.parametrize("change, message", [
    (dict(end=[T0 - 1]), "before start"),
    (dict(place=[-1]), "negative place"),
    (dict(person=[-3]), "negative person"),
])
def test_invalid_presences_raise(change, message):
    row = {"person": [0], "place": [0], "start": [T0], "end": [T0 + 60]}
    row.update(change)
    with pytest.raises(ValidationError, match=message):
        build_index(pd.DataFrame(row))


def test_a_presence_longer_than_68_years_is_indexed_as_68_years():
    """An open-ended household registration (end 2100) is indexed as lasting
    2**31 - 1 s: the same co-presences for any window before that."""
    from tracer.index_build import MAX_DURATION_S

    frame = pd.DataFrame({"person": [0, 1, 2], "place": [0, 0, 0], "start": [T0, T0 + 3600, T0],
                          "end": [4102444800, T0 + 7200, T0 + 2**31 + 5]})
    index = build_index(frame)
    assert sorted(index.dur.tolist()) == [3600, MAX_DURATION_S, MAX_DURATION_S]
    assert index.nbytes > 0


def test_place_with_two_kinds_raises():
    frame = canonical([{"person": 0, "place": 1, "start": T0, "end": T0 + 60, "kind": 2},
                       {"person": 1, "place": 1, "start": T0, "end": T0 + 60, "kind": 3}])
    with pytest.raises(ValidationError, match="kinds"):
        build_index(frame)


def test_code_spaces_too_small_raise():
    frame = canonical([{"person": 4, "place": 2, "start": T0, "end": T0 + 60}])
    with pytest.raises(ValidationError, match="n_places"):
        build_index(frame, n_places=2)
    with pytest.raises(ValidationError, match="n_persons"):
        build_index(frame, n_persons=4)


def test_missing_column_raises():
    with pytest.raises(ValidationError, match="missing column end"):
        build_index(pd.DataFrame({"person": [0], "place": [0], "start": [T0]}))


def test_bad_positions_and_codes_raise():
    index = build_index(canonical([{"person": 0, "place": 0, "start": T0, "end": T0 + 60}]))
    with pytest.raises(ValidationError):
        index.to_frame([1])
    with pytest.raises(ValidationError):
        index.person_positions([-1])
    assert index.person_positions([5]).tolist() == []


def test_load_missing_or_damaged_raises(tmp_path):
    with pytest.raises(StoreError, match="rebuild"):
        PresenceIndex.load(tmp_path / "nowhere")
    index = build_index(canonical([{"person": 0, "place": 0, "start": T0, "end": T0 + 60}]))
    index.save(tmp_path / "index")
    (tmp_path / "index" / "dur.npy").write_bytes(b"not an array")
    with pytest.raises(StoreError, match="rebuild"):
        PresenceIndex.load(tmp_path / "index")
