"""The byte-level fast path of resident ID numbers (loaders.idfast) against
the general path it short-cuts: normalize_id_number must give, cell for
cell, what _normalize_id_number_general gives (values, error, warning,
dtypes, index, name), whatever the cells, the column's layout and the path
(numba kernel or numpy twin) taken."""

import datetime as dt
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders import idfast
from loaders.ids import _normalize_id_number_general, normalize_id_number, normalize_identity
from loaders.timefast import _buffers
from tracer.jit import JIT_MIN_ROWS

TODAY = dt.date(2024, 6, 30)
_FULLWIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


def check_char(first17):
    """GB 11643 check character, written independently of loaders.ids."""
    return "10X98765432"[sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(first17)) % 11]


# ---------------------------------------------------------------- cells

_valid = st.builds(lambda r, b, q: f"{r:06d}{b:%Y%m%d}{q:03d}", st.integers(110000, 829999),
                   st.dates(dt.date(1900, 1, 1), TODAY), st.integers(0, 999)).map(lambda f: f + check_char(f))
_wrong_check = st.tuples(_valid, st.sampled_from("0123456789X")).map(lambda p: p[0][:17] + p[1])
# any YYYYMMDD (month 13, Feb 29 of 1900 or 2023, the future, before 1900) with its right check character
_any_date = st.builds(lambda r, y, m, d, q: f"{r:06d}{y:04d}{m:02d}{d:02d}{q:03d}", st.integers(0, 999999),
                      st.integers(1800, 2200), st.integers(0, 13), st.integers(0, 32),
                      st.integers(0, 999)).map(lambda f: f + check_char(f))  # fmt: skip
_edge_dates = st.sampled_from(["19000229", "20230229", "20240229", "19000101", "18991231", "20240630", "20240701",
                               "20241301", "20240001", "20240100", "20240431", "29991231", "00000000"]).map(
    lambda d: (lambda f: f + check_char(f))("110105" + d + "123"))  # fmt: skip
_fifteen = st.builds(lambda r, b, q: f"{r:06d}{b:%y%m%d}{q:03d}", st.integers(0, 999999),
                     st.dates(dt.date(1900, 1, 1), dt.date(1999, 12, 31)), st.integers(0, 999))
_ids = st.one_of(_valid, _wrong_check, _any_date, _edge_dates, _fifteen)


def _spaced(p):
    text, at, junk = p
    at = min(at, len(text))
    return text[:at] + junk + text[at:]


_messy = st.one_of(
    _ids.map(lambda s: s[:-1] + s[-1].lower()),                            # lower-case x
    _ids.map(lambda s: s.translate(_FULLWIDTH)),                          # full-width
    st.tuples(_ids, st.integers(0, 18), st.sampled_from([" ", "-", "'", "’", "\u3000", " - ", "\t"])).map(_spaced),
    _ids.map(lambda s: "'" + s), _ids.map(lambda s: f" {s} "), _ids.map(lambda s: s + ".0"),
    _ids.map(lambda s: s[:17]), _ids.map(lambda s: s + "1"), _ids.map(lambda s: s[:-1] + "Y"),
    _ids.map(lambda s: s[:-1] + "\u00e9"),                                # 19 bytes, 18 characters
    _ids.map(lambda s: s[:5] + "\u200b" + s[5:]),                         # zero-width
    st.text(st.sampled_from("0123456789Xx -'.＋"), min_size=14, max_size=20),
    st.text(max_size=24),
    st.sampled_from(["", "  ", "nan", "None", "NULL", "x" * 18, "E12345678"]),
)  # fmt: skip
_text_cells = st.one_of(_ids, _messy, st.none())
_object_cells = st.one_of(
    _text_cells,
    st.just(float("nan")),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**18), 10**18),
    _valid.filter(lambda s: s[-1] != "X").map(int), _fifteen.map(float), _valid.map(lambda s: int(s[:17])),
)  # fmt: skip


# ---------------------------------------------------------------- comparison


def assert_same(got, want):
    """Both Normalized triples equal: values, codes, dtypes, index and name."""
    for a, b in zip(got, want, strict=True):
        pd.testing.assert_series_equal(a, b, check_exact=True)
        assert a.index.equals(b.index) and a.name == b.name and a.dtype == b.dtype
        if a.dtype == object:  # codes: None where unset, on both sides
            assert a.tolist() == b.tolist()


def _column(cells, dtype, index_seed, name="id_number"):
    s = pd.Series(cells, dtype=dtype, name=name)
    if index_seed is not None:
        rng = np.random.default_rng(index_seed)
        s.index = pd.Index(rng.permutation(np.arange(10, 10 + 3 * len(s), 3)))
    return s


KERNELS = pytest.mark.parametrize("kernel", ["numba", "numpy"])


def through(kernel):
    """Run the fast path through the numba kernel or through its numpy twin."""
    return mock.patch.object(idfast, "jit_pays", lambda n: kernel == "numba")


def same_as_general(kernel, s, today=TODAY):
    """normalize_id_number of ``s`` (through ``kernel``), checked against the general path."""
    with through(kernel):
        got = normalize_id_number(s, today=today)
    assert_same(got, _normalize_id_number_general(s, today=today))
    return got


# ---------------------------------------------------------------- properties


@KERNELS
@settings(max_examples=150, deadline=None)
@given(st.lists(_text_cells, max_size=40), st.sampled_from(["str", object]), st.one_of(st.none(), st.integers(0, 9)),
       st.sampled_from([TODAY, dt.date(1999, 12, 31), dt.date(2100, 2, 28)]))
def test_text_columns_match_the_general_path(kernel, cells, dtype, index_seed, today):
    same_as_general(kernel, _column(cells, dtype, index_seed), today)


@KERNELS
@settings(max_examples=150, deadline=None)
@given(st.lists(_object_cells, max_size=40), st.one_of(st.none(), st.integers(0, 9)))
def test_object_columns_with_numbers_match_the_general_path(kernel, cells, index_seed):
    same_as_general(kernel, _column(cells, object, index_seed))


@KERNELS
@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(_text_cells, max_size=12), min_size=1, max_size=5), st.lists(st.integers(0, 3), min_size=5,
       max_size=5), st.sampled_from([pa.string(), pa.large_string()]))  # fmt: skip
def test_chunked_arrow_columns_match_the_general_path(kernel, chunks, cuts, arrow_type):
    # chunks that are slices of larger arrays: their offsets do not start at 0
    parts = [pa.array(["pad"] * cut + c + ["pad"], arrow_type).slice(cut, len(c)) for c, cut in zip(chunks, cuts)]
    s = pd.Series(pd.array(pa.chunked_array(parts, arrow_type), dtype="str"), name="id_number")
    got = same_as_general(kernel, s)
    assert_same(got, _normalize_id_number_general(pd.Series(sum(chunks, []), dtype=object, name="id_number"),
                                                  today=TODAY))  # fmt: skip


@KERNELS
@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(_valid, _wrong_check), min_size=1, max_size=20))
def test_valid_and_wrong_check_ids_are_decided_by_the_fast_path(kernel, cells):
    with through(kernel):
        codes = idfast.fast_id_codes(pa.array(cells, pa.large_string()), TODAY)
    want = [idfast.VALID if c[17] == check_char(c[:17]) else idfast.BAD_CHECKSUM for c in cells]
    assert codes.tolist() == want


@settings(max_examples=150, deadline=None)
@given(st.lists(_text_cells, max_size=40), st.dates(dt.date(1890, 1, 1), dt.date(2200, 12, 31)))
def test_kernel_matches_numpy_twin(cells, today):
    offsets, data, valid = _buffers(pa.array(cells, type=pa.large_string()))
    today_ymd = today.year * 10000 + today.month * 100 + today.day
    got, want = np.zeros(len(cells), np.int8), np.zeros(len(cells), np.int8)
    if len(data):
        idfast._compiled()(offsets, data, valid, today_ymd, got)
        idfast.scan_ids_numpy(offsets, data, valid, today_ymd, want)
    assert got.tolist() == want.tolist()


# ---------------------------------------------------------------- examples


def test_default_today_and_empty_columns():
    valid = "11010519491231002X"
    future = (lambda f: f + check_char(f))(f"110105{dt.date.today() + dt.timedelta(days=1):%Y%m%d}001")
    for s in (pd.Series([valid, future, None], dtype="str"), pd.Series([], dtype="str"),
              pd.Series([], dtype=object), pd.Series([None, np.nan], dtype=object)):  # fmt: skip
        assert_same(normalize_id_number(s), _normalize_id_number_general(s))
    r = normalize_id_number(pd.Series([valid, future], dtype="str"))
    assert r.values[0] == valid and r.error.tolist() == [None, "bad-id-birthdate"]


def test_numeric_columns_match_the_general_path():
    for s in (pd.Series([110105194912310021, 12, -5]), pd.Series([110105491231002.0, np.nan, 1.5]),
              pd.Series([True, False])):  # fmt: skip
        assert_same(normalize_id_number(s, today=TODAY), _normalize_id_number_general(s, today=TODAY))


def test_a_column_above_the_jit_threshold_matches_the_general_path():
    # the real dispatch (no monkeypatch): JIT_MIN_ROWS rows take the kernel
    pool = ["11010519491231002X", "11010519491231002x", "110105194912310021", "110105204912310026",
            "110105491231002", "１１０１０５１９４９１２３１００２Ｘ", "110105 19491231 002X", None, "", "123",
            "110105189912310023", "11010519490231002" + check_char("11010519490231002")]  # fmt: skip
    rng = np.random.default_rng(3)
    s = pd.Series(np.array(pool, dtype=object)[rng.integers(0, len(pool), JIT_MIN_ROWS)], dtype="str")
    got = normalize_id_number(s, today=TODAY)
    assert_same(got, _normalize_id_number_general(s, today=TODAY))
    assert got.error.value_counts().to_dict().keys() >= {"bad-id-checksum", "bad-id-birthdate", "bad-id-format"}


@KERNELS
@settings(max_examples=60, deadline=None)
@given(st.lists(_object_cells, max_size=30))
def test_identity_sees_the_same_id_results(kernel, cells):
    # normalize_identity reads normalize_id_number; its passports come after
    s = pd.Series(cells, dtype=object)
    with through(kernel):
        got = normalize_identity(None, s, today=TODAY)
    with mock.patch("loaders.ids.normalize_id_number", _normalize_id_number_general):
        want = normalize_identity(None, s, today=TODAY)
    assert_same(got, want)


@KERNELS
def test_null_slots_over_id_bytes_stay_missing(kernel):
    # Arrow may leave a null slot's bytes in place: validity, not length, decides
    data = b"11010519491231002X" * 2
    offsets = np.array([0, 18, 36], dtype=np.int64)
    arr = pa.LargeStringArray.from_buffers(2, pa.py_buffer(offsets), pa.py_buffer(data),
                                           pa.py_buffer(np.packbits([1, 0], bitorder="little")), 1)  # fmt: skip
    s = pd.Series(pd.array(pa.chunked_array([arr]), dtype="str"))
    assert same_as_general(kernel, s).error.tolist() == [None, "missing-value"]
