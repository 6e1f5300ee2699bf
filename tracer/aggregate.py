"""Per-contact aggregation of exposure events (the ranking's hot path).

One sequential pass over events grouped by (root case, direct source) pair,
accumulating into dense per-person arrays: summed ``log(1 - p)``, strongest
rule, lowest hop, first contact, total overlap, event count, and the pair
whose own events give the highest combined risk. The trace emits events
grouped by source; other inputs are first sorted stably by pair. From
``PARALLEL_EVENTS`` events each thread makes that pass for its own range of
contact codes (ranges of about equal events), so the threads write disjoint
entries. O(events + persons), no Python objects inside.
"""

import numba
import numpy as np
from numba import njit, prange

from .jit import JIT, JIT_PARALLEL

__all__ = ["aggregate_contacts"]


@njit(**JIT)
def _aggregate_range(contact, log_q, rule, hop, start_s, overlap_s, block_lo, block_key, c0, c1,
                     sum_q, rmax, hmin, first, ov, cnt, best_q, best_key):
    """One sequential pass over every event, updating only the contacts in
    ``[c0, c1)``; block ``b`` (the events of one (root, case) pair, keyed
    ``block_key[b]``) is ``block_lo[b]:block_lo[b + 1]``. Threads given
    disjoint ranges write disjoint entries of the per-person arrays."""
    part = np.zeros(c1 - c0, np.float64)
    in_block = np.zeros(c1 - c0, np.bool_)
    touched = np.empty(max(c1 - c0, 0), np.int64)
    for b in range(block_key.size):
        key = block_key[b]
        t = 0
        for j in range(block_lo[b], block_lo[b + 1]):
            c = contact[j]
            if c < c0 or c >= c1:
                continue
            if cnt[c] == 0:
                rmax[c], hmin[c], first[c] = rule[j], hop[j], start_s[j]
            else:
                rmax[c] = max(rmax[c], rule[j])
                hmin[c] = min(hmin[c], hop[j])
                first[c] = min(first[c], start_s[j])
            cnt[c] += 1
            sum_q[c] += log_q[j]
            ov[c] += overlap_s[j]
            if not in_block[c - c0]:
                in_block[c - c0] = True
                touched[t] = c
                t += 1
            part[c - c0] += log_q[j]
        for k in range(t):
            c = touched[k]
            q = part[c - c0]
            if best_key[c] < 0 or q < best_q[c] or (q == best_q[c] and key < best_key[c]):
                best_q[c], best_key[c] = q, key
            part[c - c0] = 0.0
            in_block[c - c0] = False


@njit(**JIT_PARALLEL)
def _aggregate_ranges(contact, log_q, rule, hop, start_s, overlap_s, block_lo, block_key, bounds,
                      sum_q, rmax, hmin, first, ov, cnt, best_q, best_key):
    for t in prange(bounds.size - 1):
        _aggregate_range(contact, log_q, rule, hop, start_s, overlap_s, block_lo, block_key, bounds[t],
                         bounds[t + 1], sum_q, rmax, hmin, first, ov, cnt, best_q, best_key)


def _blocks(pair_key):
    """Starts (plus the end) and keys of the runs of equal ``pair_key``, or
    None when a key shows up in two runs (the events are not grouped)."""
    n = pair_key.size
    cut = np.flatnonzero(pair_key[1:] != pair_key[:-1]) + 1 if n else np.zeros(0, np.int64)
    block_lo = np.concatenate([[0], cut, [n]]).astype(np.int64) if n else np.zeros(1, np.int64)
    block_key = pair_key[block_lo[:-1]]
    if np.unique(block_key).size != block_key.size:
        return None
    return block_lo, block_key


#: Events from which all threads share the aggregation (by contact code ranges).
PARALLEL_EVENTS = 1 << 16


def _contact_bounds(contact, n_persons, n_threads):
    """Contact code ranges holding about equal numbers of events."""
    counts = np.bincount(contact, minlength=n_persons)
    cum = np.cumsum(counts)
    cuts = np.searchsorted(cum, np.linspace(0, cum[-1], n_threads + 1)[1:-1])
    return np.unique(np.concatenate([[0], cuts, [n_persons]])).astype(np.int64)


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
    pair_key = root * n_persons + case
    blocks = _blocks(pair_key)
    if blocks is None:
        order = np.argsort(pair_key, kind="stable")
        args = tuple(a[order] for a in args[:-1]) + (args[-1],)
        blocks = _blocks(pair_key[order])
    state = (np.zeros(n_persons, np.float64), np.zeros(n_persons, np.int8), np.zeros(n_persons, np.int64),
             np.zeros(n_persons, np.int64), np.zeros(n_persons, np.int64), np.zeros(n_persons, np.int64),
             np.zeros(n_persons, np.float64), np.full(n_persons, -1, np.int64))  # fmt: skip
    sum_q, rmax, hmin, first, ov, cnt, best_q, best_key = state
    event_args = (args[0], *args[3:8], *blocks)
    if len(contact) >= PARALLEL_EVENTS and numba.get_num_threads() > 1:
        bounds = _contact_bounds(args[0], n_persons, numba.get_num_threads())
        _aggregate_ranges(*event_args, bounds, *state)
    else:
        _aggregate_range(*event_args, 0, n_persons, *state)
    person = np.flatnonzero(cnt)
    key = best_key[person]
    arrays = (person.astype(np.int32), sum_q[person], rmax[person], hmin[person], first[person], ov[person],
              cnt[person], (key // n_persons).astype(np.int32), (key % n_persons).astype(np.int32))  # fmt: skip
    names = ("person", "log_q", "rule", "hop", "first_contact_s", "overlap_s", "events", "root", "via")
    return dict(zip(names, arrays))
