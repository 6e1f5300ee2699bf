"""tracer.grouping and the parallel index build against their serial twins.

The grouping is checked against numpy's stable argsort (the brute-force
oracle); the parallel build (threads from the first row) against the serial
build of the same presences, array by array.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from naive import naive_group_rows, naive_run_order
from test_kernels import presence_frames
from tracer import ValidationError
from tracer.grouping import GROUP_BITS, group_rows
from tracer.index_build import build_arrays

SETTINGS = dict(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def coded_rows(draw):
    """Codes (sometimes from a code space needing two radix passes) and starts."""
    n_codes = draw(st.sampled_from([1, 2, 7, 300, (1 << GROUP_BITS) + 5, 3 << GROUP_BITS]))
    n = draw(st.integers(0, 60))
    codes = draw(st.lists(st.integers(0, n_codes - 1), min_size=n, max_size=n))
    starts = draw(st.lists(st.integers(-(1 << 40), 1 << 40), min_size=n, max_size=n))
    return np.array(codes, np.int32), n_codes, np.array(starts, np.int64)


@settings(**SETTINGS)
@given(coded_rows(), st.sampled_from([0, 1 << 30]), st.sampled_from([None, 0, 1, 3]))
def test_group_rows_is_a_stable_sort_by_code(case, parallel_min, scratch_words):
    codes, n_codes, start = case
    # scratch of 3 words a row (used, full of garbage), 1 (too small: ignored) or 0
    scratch = None if scratch_words is None else np.full(codes.size * scratch_words, -7, np.int64)
    off, rows = group_rows("persons", codes, n_codes, start, parallel_min=parallel_min, scratch=scratch)
    if scratch_words == 3 and codes.size and n_codes <= 1 << GROUP_BITS:   # one pass: no second buffer
        assert np.shares_memory(rows, scratch)
    order = naive_group_rows(codes.tolist())
    assert rows[:, 0].tolist() == order
    assert rows[:, 1].tolist() == start[order].tolist()
    assert off.tolist() == np.searchsorted(codes[order], np.arange(n_codes + 1)).tolist()


@settings(**SETTINGS)
@given(coded_rows(), st.sampled_from([0, 1 << 30]))
def test_place_packing_round_trips(case, parallel_min):
    codes, n_codes, start = case
    n = codes.size
    rng = np.random.default_rng(n)
    dur = rng.integers(0, 1 << 31, n).astype(np.int32)
    person = rng.integers(0, 1 << 31, n).astype(np.int32)
    seat = [rng.integers(-1, 1 << 15, n).astype(np.int16) for _ in range(3)]
    flags = rng.integers(0, 256, n).astype(np.uint8)
    off, rows = group_rows("places", codes, n_codes, start, dur, person, *seat, flags,
                           parallel_min=parallel_min)
    order = np.argsort(codes, kind="stable")
    assert rows[:, 0].tolist() == start[order].tolist()
    assert (rows[:, 1] >> 32).tolist() == dur[order].tolist()
    assert (rows[:, 1] & 0xFFFFFFFF).tolist() == person[order].tolist()
    for k, column in enumerate(seat):
        assert ((rows[:, 2] >> (16 * k)) & 0xFFFF).astype(np.uint16).view(np.int16).tolist() \
            == column[order].tolist()
    assert (rows[:, 2] >> 48).tolist() == flags[order].tolist()
    assert off[-1] == n


@settings(**SETTINGS)
@given(st.lists(st.integers(0, 1 << 40) | st.integers(0, 3) | st.integers(0, (1 << 63) - 1), max_size=300))
@example([(1 << 63) - 1 - 3 * i for i in range(40)])  # keys near 2**63: radix shifts must stop below 64
def test_run_sort_is_a_stable_sort(keys):
    from tracer.index_sort import RADIX, _run_perm

    k = len(keys)
    arr = np.array(keys + [0], np.int64)   # the kernel takes buffers of at least k items
    perm = np.empty(k + 1, np.int64)
    _run_perm(arr, k, perm, np.empty(k + 1, np.int64), np.empty(k + 1, np.int64), np.empty(RADIX + 1, np.int64))
    assert perm[:k].tolist() == naive_run_order(keys)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(presence_frames())
def test_parallel_build_equals_serial_build(frame):
    serial = build_arrays(frame, parallel_min=1 << 30)
    parallel = build_arrays(frame, parallel_min=0)
    assert serial.keys() == parallel.keys()
    for name, array in serial.items():
        assert array.dtype == parallel[name].dtype, name
        assert array.tolist() == parallel[name].tolist(), name


@pytest.mark.parametrize("parallel_min", [0, 1 << 30])
@pytest.mark.parametrize("bad", [0, 3, 9])
def test_first_bad_interval_is_named_on_every_path(parallel_min, bad):
    import pandas as pd

    start = np.arange(10, dtype=np.int64) * 100
    end = start + 60
    end[bad] = start[bad] - 1
    end[min(bad + 4, 9)] = start[min(bad + 4, 9)] - 5   # a later bad row is not the one named
    frame = pd.DataFrame({"person": np.zeros(10, np.int32), "place": np.zeros(10, np.int32),
                          "start": start, "end": end})
    with pytest.raises(ValidationError, match=f"row {bad}: end"):
        build_arrays(frame, parallel_min=parallel_min)


@pytest.mark.parametrize("parallel_min", [0, 1 << 30])
@pytest.mark.parametrize("bits", [40, 55, 57])
def test_build_with_starts_spread_over_the_allowed_span(parallel_min, bits):
    """Starts spanning up to 2**57 s (START_BITS allows less than 2**58):
    the run sorts of one place and one person finish and order by start."""
    import pandas as pd

    n = 200
    start = np.sort(np.random.default_rng(bits).integers(0, 1 << bits, n))[::-1].copy()
    frame = pd.DataFrame({"person": np.zeros(n, np.int32), "place": np.zeros(n, np.int32),
                          "start": start, "end": start})
    arrays = build_arrays(frame, parallel_min=parallel_min)
    assert arrays["start"].tolist() == sorted(start.tolist())


@pytest.mark.parametrize("budget", [1, 16 * 8, 16 * 300])
def test_grouping_takes_fewer_chunks_than_threads_when_counts_would_be_large(monkeypatch, budget):
    """Parallel passes over fewer chunks than threads (the count budget
    of a many-core machine) group exactly as the naive twin."""
    import tracer.grouping as grouping

    monkeypatch.setattr(grouping, "COUNT_BYTES", budget)
    rng = np.random.default_rng(budget)
    for n_codes in (5, 300, (1 << GROUP_BITS) + 5):
        codes = rng.integers(0, n_codes, 5000).astype(np.int32)
        start = rng.integers(-1000, 1000, 5000)
        off, rows = group_rows("persons", codes, n_codes, start, parallel_min=0)
        order = naive_group_rows(codes.tolist())
        assert rows[:, 0].tolist() == order and rows[:, 1].tolist() == start[order].tolist()
        assert off.tolist() == np.searchsorted(codes[order], np.arange(n_codes + 1)).tolist()


def test_the_parallel_paths_are_reachable_here():
    """tests/conftest.py gives numba two threads even on one core, so the
    parallel-path tests above never quietly run the serial path twice."""
    import numba

    assert numba.get_num_threads() >= 2
