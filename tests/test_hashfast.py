"""The text factorizing kernel (:mod:`loaders.hashfast`) against
``pd.factorize`` and a dict in Python, and :func:`loaders.normalize.distinct_rows`
with the kernel against the way before it (every column by ``pd.factorize``).
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracer.jit
from loaders import hashfast
from loaders.hashfast import factorize_text, text_chunks
from loaders.ids import normalize_phone
from loaders.normalize import _distinct_rows, distinct_rows, per_distinct

_BOUNDARY = ["", "x" * 7, "x" * 8, "x" * 9, "x" * 15, "x" * 16, "x" * 17, "x" * 23, "x" * 24, "x" * 25, "x" * 40]
_texts = st.one_of(
    st.text(max_size=40),  # any unicode, lengths crossing the 8-byte words
    st.text(st.sampled_from("ab"), max_size=20),  # many duplicates, values equal up to a prefix
    st.sampled_from(_BOUNDARY),
    st.text(st.sampled_from("0123456789"), min_size=11, max_size=18),  # phones and IDs
)
_cells = st.lists(st.one_of(st.none(), _texts), max_size=120)


def naive_factorize(cells, missing=False):
    """(codes, first) by a dict in order of first appearance; a missing cell
    is -1, or with ``missing`` a value like any other."""
    seen, codes, first = {}, [], []
    for row, cell in enumerate(cells):
        if cell is None and not missing:
            codes.append(-1)
            continue
        if cell not in seen:
            seen[cell] = len(first)
            first.append(row)
        codes.append(seen[cell])
    return codes, first


@st.composite
def chunked(draw, cells=_cells):
    """(cells, chunks): the cells cut into Arrow chunks of either string type,
    some sliced out of a larger array (an offset that is not 0)."""
    values = draw(cells)
    cuts = sorted(draw(st.lists(st.integers(0, len(values)), max_size=4)))
    chunks = []
    for lo, hi in zip([0] + cuts, cuts + [len(values)]):
        kind = draw(st.sampled_from([pa.large_string(), pa.string()]))
        pad = draw(st.integers(0, 3))
        whole = ["pad" * k for k in range(pad)] + values[lo:hi] + ["after"]
        chunks.append(pa.array(whole, type=kind).slice(pad, hi - lo))
    return values, chunks


def _text_series(chunks):
    """A pandas string Series on the very chunks (as large_string)."""
    chunks = [chunk.cast(pa.large_string()) for chunk in chunks]
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(chunks, type=pa.large_string())))


@settings(max_examples=300, deadline=None)
@given(chunked())
def test_factorize_text_matches_pandas(case):
    values, chunks = case
    codes, first = factorize_text(chunks)
    want, uniq = pd.factorize(_text_series(chunks), use_na_sentinel=True)
    assert codes.tolist() == want.tolist()
    assert len(first) == len(uniq)
    assert first.tolist() == naive_factorize(values)[1]


@settings(max_examples=200, deadline=None)
@given(chunked())
def test_factorize_text_missing_as_a_value_matches_naive(case):
    values, chunks = case
    codes, first = factorize_text(chunks, missing=True)
    want_codes, want_first = naive_factorize(values, missing=True)
    assert codes.tolist() == want_codes and first.tolist() == want_first


@settings(max_examples=200, deadline=None)
@given(chunked(), st.integers(0, 30))
def test_factorize_text_limit(case, limit):
    values, chunks = case
    n_distinct = len({v for v in values if v is not None})
    got = factorize_text(chunks, limit=limit, missing=True)
    if n_distinct > limit:
        assert got is None
    else:
        assert [a.tolist() for a in got] == [a.tolist() for a in factorize_text(chunks, missing=True)]


@pytest.mark.parametrize(
    "values",
    [
        [None],
        ["only"],
        [""],
        [None, None, None],
        ["", None, "", None],
        ["a" * k for k in range(41)] + ["a" * k for k in range(40, -1, -1)],  # equal up to a prefix
        ["x" * 1000, "x" * 999 + "y", "x" * 1000, "y" + "x" * 999],  # long, differing at the end or start
        ["é", "e\u0301", "é", "张三", "张 三", "张三"],  # unicode: bytes, not normalised
    ],
)
def test_factorize_text_edge_cases(values):
    chunks = [pa.array(values, type=pa.large_string())]
    want, _ = pd.factorize(_text_series(chunks), use_na_sentinel=True)
    codes, first = factorize_text(chunks)
    assert codes.tolist() == want.tolist() and first.tolist() == naive_factorize(values)[1]


_M64 = 2**64


def _kernel_hash(data):
    """The kernel's 64-bit hash of the bytes ``data``."""
    out = np.empty(1, dtype=np.uint64)
    buf = np.frombuffer(data.ljust(8, b"\0"), dtype=np.uint8)
    hashfast.hash_cells(np.array([0, len(data)], dtype=np.int64), buf, np.ones(1, bool), out)
    return int(out[0])


def _unfinish(h):
    """Inverse of the kernel's finaliser (x ^ x >> 33 is its own inverse)."""
    h ^= h >> 33
    h = (h * pow(int(hashfast._F2), -1, _M64)) % _M64
    h ^= h >> 33
    h = (h * pow(int(hashfast._F1), -1, _M64)) % _M64
    return h ^ (h >> 33)


def _crafted(data, at, target):
    """``data`` (8, 16, ... bytes) with the word at ``at`` (a multiple of 8)
    chosen so that the kernel hashes the whole to ``target``: words are
    folded in by ``(h ^ w) * P1`` and the finaliser is a bijection, so the
    word follows from the states before and after it."""
    p1, inverse = int(hashfast._P1), pow(int(hashfast._P1), -1, _M64)
    words = [int.from_bytes(data[k : k + 8], "little") for k in range(0, len(data), 8)]
    before = (int(hashfast._P2) ^ (len(data) * p1)) % _M64
    for w in words[: at // 8]:
        before = ((before ^ w) * p1) % _M64
    after = _unfinish(target)
    for w in reversed(words[at // 8 + 1 :]):
        after = (after * inverse) % _M64 ^ w
    word = (after * inverse) % _M64 ^ before
    return data[:at] + word.to_bytes(8, "little") + data[at + 8 :]


def _raw_chunk(cells):
    """A large_string chunk of arbitrary bytes (not checked as UTF-8)."""
    offsets = np.cumsum([0] + [len(c) for c in cells]).astype(np.int64)
    return pa.LargeStringArray.from_buffers(len(cells), pa.py_buffer(offsets), pa.py_buffer(b"".join(cells)))


@pytest.mark.parametrize("size, at", [(8, 0), (16, 0), (16, 8), (24, 8), (24, 16), (32, 16), (32, 24), (40, 32)])
def test_same_slot_and_tag_other_bytes(size, at):
    # the twin differs in the word at ``at`` only, and its hash only in the
    # low bit: the same slot, the same tag, the same length; only the bytes
    # tell them apart (the second chunk's lookups go through first_probes)
    value = bytes(range(65, 65 + size))
    twin = _crafted(value, at, _kernel_hash(value) ^ 1)
    assert twin != value and twin[:at] + twin[at + 8 :] == value[:at] + value[at + 8 :]
    assert _kernel_hash(twin) >> 32 == _kernel_hash(value) >> 32
    codes, first = factorize_text([_raw_chunk([value, twin]), _raw_chunk([value, twin, twin, value])])
    assert codes.tolist() == [0, 1, 0, 1, 1, 0] and first.tolist() == [0, 1]


def test_same_hash_other_length():
    # value + x hashes exactly as value does; pooled one after the other,
    # their bytes read on from value's place equal value + x: only the
    # lengths tell value + x from value
    value = b"ABCDEFGH"
    longer = _crafted(value + bytes(8), 8, _kernel_hash(value))
    assert _kernel_hash(longer) == _kernel_hash(value)
    codes, first = factorize_text([_raw_chunk([value, longer[8:]]), _raw_chunk([longer, value, longer[8:], longer])])
    assert codes.tolist() == [0, 1, 2, 0, 1, 2] and first.tolist() == [0, 1, 2]


def test_factorize_text_no_chunks():
    codes, first = factorize_text([])
    assert codes.tolist() == [] and first.tolist() == []


def _many(n_rows, n_values, seed, null_share=0.05):
    """Phone-like cells (3-17 characters) drawn from ``n_values`` values."""
    rng = np.random.default_rng(seed)
    values = np.array([str(v)[: rng.integers(3, 18)] for v in rng.integers(10**16, 10**17, n_values)], dtype=object)
    cells = values[rng.integers(0, n_values, n_rows)]
    cells[rng.random(n_rows) < null_share] = None
    return cells.tolist()


@pytest.mark.parametrize("n_rows, n_values", [(5000, 3), (20_000, 300), (50_000, 20_000), (30_000, 10**6)])
def test_factorize_text_many_rows_blocks_and_growth(n_rows, n_values):
    # more rows than a block of the kernel (1024) and more values than its
    # first table holds (4096 slots): duplicates within a block, growth
    cells = _many(n_rows, n_values, seed=n_values)
    cuts = [0, 1, 999, 1025, 7000, n_rows // 2 + 3, n_rows]
    chunks = [pa.array(["pad"] + cells[lo:hi], type=pa.large_string()).slice(1) for lo, hi in zip(cuts, cuts[1:])]
    want, _ = pd.factorize(_text_series(chunks), use_na_sentinel=True)
    codes, first = factorize_text(chunks)
    assert np.array_equal(codes, want)
    assert first.tolist() == naive_factorize(cells)[1]


def test_text_chunks_only_for_arrow_text():
    assert text_chunks(pd.Series(["a", None], dtype="str")) is not None
    assert text_chunks(pd.Series(["a", None], dtype=object)) is None
    assert text_chunks(pd.Series(["a", None], dtype=pd.StringDtype("python"))) is None
    assert text_chunks(pd.Series(["a", None], dtype="category")) is None
    assert text_chunks(pd.Series([1, 2])) is None


# ------------------------------------------------------------ distinct_rows


@pytest.fixture
def kernel_always(monkeypatch):
    """The kernel on inputs of any size (it pays only from JIT_MIN_ROWS)."""
    monkeypatch.setattr(tracer.jit, "JIT_MIN_ROWS", 0)


_column = st.one_of(
    chunked().map(lambda case: _text_series(case[1])),
    _cells.map(lambda cells: pd.Series(cells, dtype="str")),
    _cells.map(lambda cells: pd.Series(cells, dtype=object)),
    st.lists(st.one_of(st.none(), st.integers(0, 3)), max_size=120).map(lambda v: pd.Series(v, dtype="Int64")),
    st.none(),
)


@st.composite
def aligned(draw):
    """Two to three aligned columns (None = absent), at least one present."""
    columns = [c for c in draw(st.lists(_column, min_size=1, max_size=3))]
    present = [c for c in columns if c is not None]
    if not present:
        return [pd.Series(draw(_cells), dtype="str")]
    n = min(len(c) for c in present)
    return [None if c is None else c.iloc[:n].reset_index(drop=True) for c in columns]


# the fixture sets the same threshold for every example
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(aligned(), st.one_of(st.none(), st.integers(0, 40)))
def test_distinct_rows_same_as_before(kernel_always, columns, limit):
    got = _distinct_rows(columns, limit=limit)
    want = _distinct_rows(columns, limit=limit, fast=False)
    if want is None:
        assert got is None
    else:
        assert got is not None
        assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
        assert got[0].dtype == np.int64 and got[1].dtype == np.int64


def test_distinct_rows_many_rows_two_columns(kernel_always):
    phone = pd.Series(_many(40_000, 5000, seed=1), dtype="str")
    ids = pd.Series(_many(40_000, 3000, seed=2), dtype="str")
    for columns in ([phone], [phone, ids], [ids, None, phone]):
        got, want = distinct_rows(*columns), _distinct_rows(columns, limit=None, fast=False)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_per_distinct_same_with_the_kernel(kernel_always):
    cells = pd.Series(["+86 " + c if c else c for c in _many(3000, 40, seed=3)], dtype="str")
    got, want = per_distinct(normalize_phone, cells), normalize_phone(cells)
    for a, b in zip(got, want):
        a, b = pd.Series(a).astype(object), pd.Series(b).astype(object)
        assert a.where(a.notna(), None).tolist() == b.where(b.notna(), None).tolist()
