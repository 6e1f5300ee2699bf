"""Per-contact aggregation of exposure events (the ranking's hot path).

A counting sort by contact code (codes are dense), then one pass per contact:
summed ``log(1 - p)``, strongest rule, lowest hop, first contact, total
overlap, event count, and the (root case, direct source) pair whose own
events give the highest combined risk. O(events + persons), no Python
objects inside.
"""

import numpy as np
from numba import njit

from .jit import JIT

__all__ = ["aggregate_contacts"]


@njit(**JIT)
def _order_by_contact(contact, n_persons):
    counts = np.zeros(n_persons + 1, np.int64)
    for i in range(contact.shape[0]):
        counts[contact[i] + 1] += 1
    off = np.cumsum(counts)
    fill = off[:-1].copy()
    order = np.empty(contact.shape[0], np.int64)
    for i in range(contact.shape[0]):
        c = contact[i]
        order[fill[c]] = i
        fill[c] += 1
    return order, off


@njit(**JIT)
def max_group(off):
    """The largest group size in offsets ``off``."""
    m = 0
    for p in range(off.shape[0] - 1):
        m = max(m, off[p + 1] - off[p])
    return m


@njit(**JIT)
def _aggregate(contact, root, case, log_q, rule, hop, start_s, overlap_s, n_persons):
    order, off = _order_by_contact(contact, n_persons)
    n_groups = 0
    for p in range(n_persons):
        if off[p + 1] > off[p]:
            n_groups += 1
    person = np.empty(n_groups, np.int32)
    sum_log_q = np.empty(n_groups, np.float64)
    rule_max = np.empty(n_groups, np.int8)
    hop_min = np.empty(n_groups, np.int64)
    first = np.empty(n_groups, np.int64)
    overlap = np.empty(n_groups, np.int64)
    count = np.empty(n_groups, np.int64)
    best_root = np.empty(n_groups, np.int32)
    best_case = np.empty(n_groups, np.int32)
    g = 0
    buffer = np.empty(max_group(off), np.int64)
    for p in range(n_persons):
        lo, hi = off[p], off[p + 1]
        if hi == lo:
            continue
        idx = order[lo:hi]
        s, r, h, f, o = 0.0, rule[idx[0]], hop[idx[0]], start_s[idx[0]], 0
        keys = buffer[: hi - lo]
        same = True
        for k in range(hi - lo):
            i = idx[k]
            s += log_q[i]
            r = max(r, rule[i])
            h = min(h, hop[i])
            f = min(f, start_s[i])
            o += overlap_s[i]
            keys[k] = np.int64(root[i]) * n_persons + case[i]
            same = same and keys[k] == keys[0]
        # The pair (root, case) with the lowest summed log(1 - p); ties go to
        # the lowest key because pairs are visited in key order.
        best, best_key = 1.0, keys[0]
        srt = np.arange(hi - lo) if same else np.argsort(keys, kind="mergesort")
        k = hi - lo if same else 0
        while k < hi - lo:
            key, acc = keys[srt[k]], 0.0
            while k < hi - lo and keys[srt[k]] == key:
                acc += log_q[idx[srt[k]]]
                k += 1
            if best > 0.0 or acc < best:
                best, best_key = acc, key
        person[g] = p
        sum_log_q[g] = s
        rule_max[g] = r
        hop_min[g] = h
        first[g] = f
        overlap[g] = o
        count[g] = hi - lo
        best_root[g] = best_key // n_persons
        best_case[g] = best_key % n_persons
        g += 1
    return person, sum_log_q, rule_max, hop_min, first, overlap, count, best_root, best_case


def aggregate_contacts(contact, root, case, log_q, rule, hop, start_s, overlap_s, n_persons=None):
    """Aggregate events per contact; returns a dict of equal-length arrays
    ``person, log_q, rule, hop, first_contact_s, overlap_s, events, root, via``
    in ascending contact code.

    >>> out = aggregate_contacts(np.array([1, 0, 1]), np.array([5, 5, 5]), np.array([5, 5, 5]),
    ...     np.log1p(-np.array([0.5, 0.1, 0.5])), np.array([1, 2, 2], np.int8), np.array([1, 1, 1]),
    ...     np.array([30, 10, 20]), np.array([60, 60, 60]), n_persons=6)
    >>> out["person"].tolist(), (1 - np.exp(out["log_q"])).round(2).tolist(), out["first_contact_s"].tolist()
    ([0, 1], [0.1, 0.75], [10, 20])
    """
    contact = np.ascontiguousarray(contact, dtype=np.int64)
    root = np.ascontiguousarray(root, dtype=np.int64)
    case = np.ascontiguousarray(case, dtype=np.int64)
    top = max((int(a.max()) + 1 for a in (contact, root, case) if len(a)), default=0)
    # Every code must be below n_persons: (root, case) pairs are packed as
    # root * n_persons + case.
    n_persons = max(int(n_persons or 0), top)
    arrays = _aggregate(
        contact,
        root,
        case,
        np.ascontiguousarray(log_q, dtype=np.float64),
        np.ascontiguousarray(rule, dtype=np.int8),
        np.ascontiguousarray(hop, dtype=np.int64),
        np.ascontiguousarray(start_s, dtype=np.int64),
        np.ascontiguousarray(overlap_s, dtype=np.int64),
        int(n_persons),
    )
    names = ("person", "log_q", "rule", "hop", "first_contact_s", "overlap_s", "events", "root", "via")
    return dict(zip(names, arrays))
