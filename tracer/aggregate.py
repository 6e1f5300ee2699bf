"""Per-contact aggregation of exposure events (the ranking's hot path).

One sequential pass over events grouped by (root case, direct source) pair,
accumulating into dense per-person arrays: summed ``log(1 - p)``, strongest
rule, lowest hop, first contact, total overlap, event count, and the pair
whose own events give the highest combined risk. The trace emits events
grouped by source; other inputs are first sorted stably by pair.
O(events + persons), no Python objects inside.
"""

import numpy as np
from numba import njit

from .jit import JIT

__all__ = ["aggregate_contacts"]


@njit(**JIT)
def _aggregate_blocked(contact, root, case, log_q, rule, hop, start_s, overlap_s, n_persons):
    """One sequential pass; needs the events of each (root, case) pair to be
    contiguous. Returns ``ok=False`` (and nothing useful) when a pair shows
    up in two blocks; the caller then sorts by pair and calls again."""
    n = contact.shape[0]
    sum_q = np.zeros(n_persons, np.float64)
    rmax = np.zeros(n_persons, np.int8)
    hmin = np.zeros(n_persons, np.int64)
    first = np.zeros(n_persons, np.int64)
    ov = np.zeros(n_persons, np.int64)
    cnt = np.zeros(n_persons, np.int64)
    best_q = np.zeros(n_persons, np.float64)
    best_key = np.full(n_persons, -1, np.int64)
    part = np.zeros(n_persons, np.float64)
    in_block = np.zeros(n_persons, np.bool_)
    touched = np.empty(min(n, n_persons), np.int64)
    seen = dict()
    seen[np.int64(-1)] = True
    i = 0
    while i < n:
        key = np.int64(root[i]) * n_persons + case[i]
        if key in seen:
            return False, sum_q, rmax, hmin, first, ov, cnt, best_key
        seen[key] = True
        t = 0
        j = i
        while j < n and np.int64(root[j]) * n_persons + case[j] == key:
            c = contact[j]
            if cnt[c] == 0:
                rmax[c], hmin[c], first[c] = rule[j], hop[j], start_s[j]
            else:
                rmax[c] = max(rmax[c], rule[j])
                hmin[c] = min(hmin[c], hop[j])
                first[c] = min(first[c], start_s[j])
            cnt[c] += 1
            sum_q[c] += log_q[j]
            ov[c] += overlap_s[j]
            if not in_block[c]:
                in_block[c] = True
                touched[t] = c
                t += 1
            part[c] += log_q[j]
            j += 1
        for k in range(t):
            c = touched[k]
            if best_key[c] < 0 or part[c] < best_q[c] or (part[c] == best_q[c] and key < best_key[c]):
                best_q[c], best_key[c] = part[c], key
            part[c] = 0.0
            in_block[c] = False
        i = j
    return True, sum_q, rmax, hmin, first, ov, cnt, best_key


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
    args = (
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
    ok, sum_q, rmax, hmin, first, ov, cnt, best_key = _aggregate_blocked(*args)
    if not ok:
        order = np.argsort(root * n_persons + case, kind="stable")
        args = tuple(a[order] for a in args[:-1]) + (args[-1],)
        ok, sum_q, rmax, hmin, first, ov, cnt, best_key = _aggregate_blocked(*args)
    person = np.flatnonzero(cnt)
    key = best_key[person]
    arrays = (person.astype(np.int32), sum_q[person], rmax[person], hmin[person], first[person], ov[person],
              cnt[person], (key // n_persons).astype(np.int32), (key % n_persons).astype(np.int32))  # fmt: skip
    names = ("person", "log_q", "rule", "hop", "first_contact_s", "overlap_s", "events", "root", "via")
    return dict(zip(names, arrays))
