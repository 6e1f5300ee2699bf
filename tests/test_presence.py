"""Canonical presence validation and fingerprints."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracer.errors import ValidationError
from tracer.presence import fingerprint, validate_presences
from tracer.schema import BATCH_COLUMNS


def frame(n=3, **over):
    base = {
        "person_key": [f"p{i}" for i in range(n)],
        "place_key": ["venue:1"] * n,
        "start": np.arange(n, dtype=np.int64) * 60,
        "end": np.arange(n, dtype=np.int64) * 60 + 30,
        "kind": np.zeros(n, np.int8),
        "section": -1, "row": -1, "col": -1, "flags": 0,
        "record": np.arange(n),
    }  # fmt: skip
    base.update(over)
    return pd.DataFrame(base)


def test_valid_frame_gets_exact_dtypes():
    out = validate_presences(frame(section=[1, 2, 3]))
    for col, dtype in BATCH_COLUMNS.items():
        if dtype is not object:
            assert out[col].dtype == np.dtype(dtype), col


@pytest.mark.parametrize(
    "over, message",
    [
        ({"end": [30, 90, 100]}, "row 2: end 100 is before start 120"),
        ({"kind": [0, 9, 0]}, "row 1: unknown kind code 9"),
        ({"person_key": ["a", "", "c"]}, "row 1: person_key is empty"),
        ({"row": [1, 40000, 1]}, "row 1: row=40000 does not fit int16"),
        ({"start": ["0", "x", "1"]}, "column start is not numeric"),
    ],
)
def test_bad_rows_are_named(over, message):
    with pytest.raises(ValidationError, match=message):
        validate_presences(frame(**over))


def test_missing_column_is_named():
    with pytest.raises(ValidationError, match="missing column.*record"):
        validate_presences(frame().drop(columns=["record"]))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("xy"), st.integers(0, 5), st.integers(0, 5)), max_size=30))
def test_fingerprint_equal_iff_presence_equal(rows):
    if not rows:
        return
    p, q, s, d = map(list, zip(*rows))
    e = [a + b for a, b in zip(s, d)]
    minus = [-1] * len(rows)
    fp = fingerprint(p, q, s, e, minus, minus, minus)
    for i in range(len(rows)):
        for j in range(len(rows)):
            same = (p[i], q[i], s[i], e[i]) == (p[j], q[j], s[j], e[j])
            assert (fp[i] == fp[j]) == same
