"""Per-contact aggregation of exposure events (the ranking's hot path).

One pass over events grouped by (root case, direct source) pair,
accumulating into a dense per-person table (each thread owns a share of
the contacts and reads every event, so sums keep the event order): summed ``log(1 - p)``, strongest
rule, lowest hop, first contact, total overlap, event count, and the pair
whose own events give the highest combined risk. The trace emits events
grouped by source; other inputs are first sorted stably by pair.
O(events + persons), no Python objects inside.
"""

import numba
import numpy as np
from numba import njit, prange

from .jit import JIT, JIT_PARALLEL

__all__ = ["aggregate_contacts"]

#: Fewer events than this are aggregated by one thread.
PARALLEL_EVENTS = 1 << 16


# Columns of the per-person accumulator (float64, one 64-byte row per person,
# so an event touches one cache line): summed log(1 - p), the running sum of
# the current pair's block, the best pair's sum, first contact, total overlap,
# event count, strongest rule, lowest hop. Integers stay exact below 2**53.
_SUM, _PART, _BEST, _FIRST, _OV, _CNT, _RULE, _HOP = range(8)


@njit(**JIT)
def _pairs_contiguous(root, case, n_persons):
    """Whether the events of each (root, case) pair form one block."""
    seen = dict()
    seen[np.int64(-1)] = True
    n = root.shape[0]
    i = 0
    while i < n:
        key = np.int64(root[i]) * n_persons + case[i]
        if key in seen:
            return False
        seen[key] = True
        while i < n and np.int64(root[i]) * n_persons + case[i] == key:
            i += 1
    return True


@njit(**JIT)
def _aggregate_part(contact, root, case, log_q, rule, hop, start_s, overlap_s, n_persons, part, n_parts,
                    acc, best_key, mark, touched):  # fmt: skip
    """One sequential pass over events grouped by (root, case) pair, for the
    contacts with ``contact % n_parts == part``: each contact's events are
    summed in event order whatever ``n_parts`` is, so the result does not
    depend on the number of threads."""
    n = contact.shape[0]
    block = 0
    i = 0
    while i < n:
        key = np.int64(root[i]) * n_persons + case[i]
        block += 1
        t = 0
        j = i
        while j < n and np.int64(root[j]) * n_persons + case[j] == key:
            c = contact[j]
            if c % n_parts == part:
                if acc[c, _CNT] == 0:
                    acc[c, _RULE], acc[c, _HOP], acc[c, _FIRST] = rule[j], hop[j], start_s[j]
                else:
                    acc[c, _RULE] = max(acc[c, _RULE], rule[j])
                    acc[c, _HOP] = min(acc[c, _HOP], hop[j])
                    acc[c, _FIRST] = min(acc[c, _FIRST], start_s[j])
                acc[c, _CNT] += 1
                acc[c, _SUM] += log_q[j]
                acc[c, _OV] += overlap_s[j]
                if mark[c] != block:
                    mark[c] = block
                    touched[t] = c
                    t += 1
                acc[c, _PART] += log_q[j]
            j += 1
        for k in range(t):
            c = touched[k]
            if best_key[c] < 0 or acc[c, _PART] < acc[c, _BEST] or (acc[c, _PART] == acc[c, _BEST] and key < best_key[c]):
                acc[c, _BEST], best_key[c] = acc[c, _PART], key
            acc[c, _PART] = 0.0
        i = j


@njit(**JIT_PARALLEL)
def _aggregate_parallel(contact, root, case, log_q, rule, hop, start_s, overlap_s, n_persons, n_parts):
    acc = np.zeros((n_persons, 8), np.float64)
    best_key = np.full(n_persons, -1, np.int64)
    mark = np.zeros(n_persons, np.int64)
    for part in prange(n_parts):
        touched = np.empty(min(contact.shape[0], n_persons), np.int64)
        _aggregate_part(contact, root, case, log_q, rule, hop, start_s, overlap_s, n_persons, part, n_parts,
                        acc, best_key, mark, touched)  # fmt: skip
    return acc, best_key


def aggregate_contacts(contact, root, case, log_q, rule, hop, start_s, overlap_s, n_persons=None, n_parts=None):
    """Aggregate events per contact; returns a dict of equal-length arrays
    ``person, log_q, rule, hop, first_contact_s, overlap_s, events, root, via``
    in ascending contact code. ``n_parts`` splits the contacts between
    that many threads (default: numba's thread count for large inputs); the
    result is the same for any split.

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
    if not _pairs_contiguous(root, case, n_persons):
        order = np.argsort(root * n_persons + case, kind="stable")
        args = tuple(a[order] for a in args[:-1]) + (args[-1],)
    if n_parts is None:
        n_parts = numba.get_num_threads() if len(contact) >= PARALLEL_EVENTS else 1
    acc, best_key = _aggregate_parallel(*args, n_parts)
    person = np.flatnonzero(acc[:, _CNT])
    key = best_key[person]
    row = acc[person]
    arrays = (person.astype(np.int32), row[:, _SUM], row[:, _RULE].astype(np.int8), row[:, _HOP].astype(np.int64),
              row[:, _FIRST].astype(np.int64), row[:, _OV].astype(np.int64), row[:, _CNT].astype(np.int64),
              (key // n_persons).astype(np.int32), (key % n_persons).astype(np.int32))  # fmt: skip
    names = ("person", "log_q", "rule", "hop", "first_contact_s", "overlap_s", "events", "root", "via")
    return dict(zip(names, arrays))
