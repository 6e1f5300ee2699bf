"""The loaders' numba kernels against their numpy twins (the loaders call
the twins on small inputs, so the rest of the suite mostly exercises those).
"""

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders import kernels
from loaders.coded import renumber_numpy
from loaders.dwell import ends_in_order_numpy
from loaders.timefast import _buffers, scan_common_layout_numpy
from tracer.hashing import combine_fingerprints
from tracer.presence import _combine_numpy

_cells = st.one_of(
    st.tuples(st.integers(1890, 2110), st.integers(0, 13), st.integers(0, 32), st.sampled_from("-/.x"),
              st.sampled_from(" T_"), st.integers(0, 25), st.integers(0, 61), st.integers(0, 61)).map(
        lambda p: f"{p[0]:04d}{p[3]}{p[1]:02d}{p[3]}{p[2]:02d}{p[4]}{p[5]:02d}:{p[6]:02d}:{p[7]:02d}"),
    st.text(st.sampled_from("0123456789-/: T"), min_size=18, max_size=20),
    st.none(),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(_cells, max_size=40))
def test_scan_common_layout_matches_twin(cells):
    offsets, data, valid = _buffers(pa.array(cells, type=pa.large_string()))
    got = (np.zeros(len(cells), bool), np.zeros(len(cells), np.int64))
    want = (np.zeros(len(cells), bool), np.zeros(len(cells), np.int64))
    if len(data):
        kernels.scan_common_layout(offsets, data, valid, *got)
        scan_common_layout_numpy(offsets, data, valid, *want)
    assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 60), max_size=80), st.integers(0, 40))
def test_first_appearance_matches_twin(values, pad):
    values = np.array(values, dtype=np.int64)
    upper = int(values.max(initial=0)) + 1 + pad
    codes, n = kernels.first_appearance(values, upper)
    want, n_want = renumber_numpy(values, upper)
    assert codes.tolist() == want.tolist() and n == n_want


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 5000), st.booleans()), max_size=40))
def test_ends_in_order_matches_twin(scans):
    person, place, start, estimate = (np.array([s[i] for s in scans], dtype=t)
                                      for i, t in enumerate((np.int64, np.int64, np.int64, bool)))  # fmt: skip
    order = np.lexsort((place, start, person))
    dwell = np.full(len(scans), 1800, dtype=np.int64)
    got = kernels.ends_in_order(order, person, place, start, dwell, estimate)
    assert got.tolist() == ends_in_order_numpy(order, person, place, start, dwell, estimate).tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2), st.integers(-2**40, 2**40), st.integers(-1, 40)),
                max_size=30))  # fmt: skip
def test_combine_fingerprints_matches_twin(rows):
    person_hash = np.array([11, 2**63 + 5, 7, 0, 2**64 - 1], dtype=np.uint64)
    place_hash = np.array([3, 2**62, 9], dtype=np.uint64)
    cols = [np.array([r[i] for r in rows], dtype=np.int64) for i in range(4)]
    numbers = (cols[2], cols[2] + 60, cols[3], -cols[3], np.full(len(rows), -1, np.int64))
    got = combine_fingerprints(person_hash, cols[0], place_hash, cols[1], *numbers)
    assert got.tolist() == _combine_numpy(person_hash, cols[0], place_hash, cols[1], *numbers).tolist()


def test_count_byte_counts_line_breaks():
    data = b"a,b\n1,2\n\n3,4"
    assert kernels.count_byte(np.frombuffer(data, dtype=np.uint8), 10) == data.count(b"\n")


def test_numba_is_started_early_for_large_csv_files_only(tmp_path):
    """A fresh process: a small file leaves numba unimported (its numpy
    twins serve), a large one starts the import on a worker thread."""
    import subprocess
    import sys

    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    small.write_text("a,b\n1,2\n")
    big.write_text("a,b\n" + "1,2\n" * 400)
    code = """if True:
        import sys, threading
        import loaders.api, loaders.io as io
        io.NUMBA_EARLY_BYTES = 1000
        started_small = io.start_numba_early([sys.argv[1]])
        imported_small = "numba" in sys.modules
        started_big = io.start_numba_early([sys.argv[2], sys.argv[1]])
        for t in threading.enumerate():
            if t.name == "loaders-numba":
                t.join()
        print(started_small, imported_small, started_big, "numba" in sys.modules, io.start_numba_early([sys.argv[2]]))
    """
    out = subprocess.run([sys.executable, "-c", code, str(small), str(big)], capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    assert out == ["False", "False", "True", "True", "False"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**40), st.sampled_from([0, 0, 5, 2**31])), max_size=40),
       st.booleans())
def test_identity_combine_is_equal_exactly_where_all_codes_are(rows, zero_first):
    """loaders.identity._combine against tuple equality (all-zero columns,
    and radixes large enough to force its re-numbering, included)."""
    from loaders.identity import _combine

    cols = [np.array([r[k] for r in rows], dtype=np.int64) for k in range(3)]
    if zero_first:
        cols.insert(0, np.zeros(len(rows), np.int64))
    before = [c.copy() for c in cols]
    got = _combine(*cols)
    assert len(got) == len(rows)
    for i in range(len(rows)):
        for j in range(len(rows)):
            assert (got[i] == got[j]) == (rows[i] == rows[j])
    assert all((a == b).all() for a, b in zip(cols, before))   # the inputs are left as they were
