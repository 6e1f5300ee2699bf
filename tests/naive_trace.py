"""Brute-force twin of the trace's co-presence logic (hop 1 and hop 2).

Plain Python loops over a canonical frame with string keys; no index, no
numba. Used as the oracle for tests/test_trace.py.
"""

from tracer.schema import KIND_CODES


def naive_hop1(frame, windows, linger_s=None):
    """Every (case, contact, place, ov_start, ov_end) of hop 1.

    ``frame``: person, place, kind (name), start, end (epoch s).
    ``windows``: {case: (w0, w1)}. ``linger_s``: per-kind pad (list by code).
    """
    rows = list(frame.itertuples(index=False))
    out = []
    for case, (w0, w1) in windows.items():
        for a in rows:
            if a.person != case:
                continue
            pad = linger_s[KIND_CODES[a.kind]] if linger_s is not None else 0
            s, e = max(a.start, w0), min(a.end + pad, w1)
            for b in rows:
                if b.place != a.place or b.person == case:
                    continue
                lo, hi = max(s, b.start), min(e, b.end)
                if hi > lo:
                    out.append((case, b.person, b.place, lo, hi))
    return out


def naive_hop2(frame, hop1_first, cases, incubation_s, post_s):
    """Hop-2 contacts: people co-present with a hop-1 contact after that
    contact's first exposure, within presumed onset + post days."""
    windows = {}
    for person, first in hop1_first.items():
        if person in cases:
            continue
        windows[person] = (first, first + incubation_s + post_s)
    found = naive_hop1(frame, windows)
    seen = set(cases) | set(hop1_first)
    return [ev for ev in found if ev[1] not in seen]
