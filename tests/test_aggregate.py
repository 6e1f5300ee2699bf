"""The per-contact aggregation kernel against a pandas groupby twin."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tracer.aggregate import aggregate_contacts


def naive_aggregate(ev):
    rows = []
    for contact, g in ev.groupby("contact", sort=True):
        pairs = g.groupby(["root", "case"], sort=True)["log_q"].sum()
        best = pairs[pairs == pairs.min()].index[0]  # lowest (root, case) among ties
        rows.append(
            (contact, g.log_q.sum(), g.rule.max(), g.hop.min(), g.start_s.min(), g.overlap_s.sum(), len(g), *best)
        )
    return rows


def assert_matches_naive(got, ev):
    expected = naive_aggregate(ev)
    assert got["person"].tolist() == [r[0] for r in expected]
    np.testing.assert_allclose(got["log_q"], [r[1] for r in expected], rtol=1e-12, atol=1e-12)
    names = ["rule", "hop", "first_contact_s", "overlap_s", "events", "root", "via"]
    for k, name in enumerate(names, start=2):
        assert got[name].tolist() == [r[k] for r in expected], name


events = st.lists(
    st.tuples(
        st.integers(0, 6), st.integers(0, 3), st.integers(0, 3), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9]),
        st.integers(1, 2), st.integers(1, 3), st.integers(0, 100), st.integers(0, 50),
    ),
    max_size=40,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(events)
def test_aggregate_matches_groupby(rows):
    ev = pd.DataFrame(rows, columns=["contact", "root", "case", "p", "rule", "hop", "start_s", "overlap_s"])
    ev["log_q"] = np.log1p(-ev["p"])
    got = aggregate_contacts(
        ev.contact.to_numpy(), ev.root.to_numpy(), ev.case.to_numpy(), ev.log_q.to_numpy(), ev.rule.to_numpy(),
        ev.hop.to_numpy(), ev.start_s.to_numpy(), ev.overlap_s.to_numpy(), n_persons=7,
    )  # fmt: skip
    assert_matches_naive(got, ev)


@settings(max_examples=300, deadline=None)
@given(events, st.randoms(use_true_random=False))
def test_grouped_by_source_fast_path_matches_groupby(rows, rnd):
    """Events contiguous per (root, case) pair, as the trace emits them,
    take the one-pass path; the result must not change."""
    ev = pd.DataFrame(rows, columns=["contact", "root", "case", "p", "rule", "hop", "start_s", "overlap_s"])
    if ev.empty:
        return
    pairs = list(ev.groupby(["root", "case"], sort=False).groups.values())
    rnd.shuffle(pairs)
    ev = ev.loc[[i for block in pairs for i in block]].reset_index(drop=True)
    ev["log_q"] = np.log1p(-ev["p"])
    from tracer.aggregate import _blocks

    assert _blocks(ev.root.to_numpy(np.int64) * 7 + ev.case.to_numpy(np.int64)) is not None  # no sort needed
    got = aggregate_contacts(
        ev.contact.to_numpy(), ev.root.to_numpy(), ev.case.to_numpy(), ev.log_q.to_numpy(), ev.rule.to_numpy(),
        ev.hop.to_numpy(), ev.start_s.to_numpy(), ev.overlap_s.to_numpy(), n_persons=7,
    )  # fmt: skip
    assert_matches_naive(got, ev)


@settings(max_examples=200, deadline=None)
@given(events)
def test_parallel_ranges_match_groupby(rows):
    """The threads' contact ranges (normally only for large inputs) on small ones."""
    import tracer.aggregate

    ev = pd.DataFrame(rows, columns=["contact", "root", "case", "p", "rule", "hop", "start_s", "overlap_s"])
    ev["log_q"] = np.log1p(-ev["p"])
    saved = tracer.aggregate.PARALLEL_EVENTS
    tracer.aggregate.PARALLEL_EVENTS = 0
    try:
        got = aggregate_contacts(
            ev.contact.to_numpy(), ev.root.to_numpy(), ev.case.to_numpy(), ev.log_q.to_numpy(), ev.rule.to_numpy(),
            ev.hop.to_numpy(), ev.start_s.to_numpy(), ev.overlap_s.to_numpy(), n_persons=7,
        )  # fmt: skip
    finally:
        tracer.aggregate.PARALLEL_EVENTS = saved
    assert_matches_naive(got, ev)


def test_warm_up_prepares_the_parallel_aggregation():
    """``tracer demo`` warms the kernels up in a second process; the
    parallel aggregation (from PARALLEL_EVENTS events) is among them."""
    import subprocess
    import sys

    code = ("import numba, tracer.warmup as w; w.warm_up(rows=400); "
            "from tracer.aggregate import _aggregate_ranges as f; "
            "print(numba.get_num_threads(), len(f.signatures))")
    threads, signatures = map(int, subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                  check=True).stdout.split())  # fmt: skip
    assert signatures == (1 if threads > 1 else 0)
