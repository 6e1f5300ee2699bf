"""Estimated ends of venue scans without an exit scan (vectorised).

A scan at ``t`` with no exit ends at ``min(t + dwell, next)``, where
``dwell`` is the venue's dwell time (60 minutes unless configured, per
venue optionally) and ``next`` the same person's next scan at another venue
in the same load. Scans again at the same venue do not cut the stay short.

Examples
--------
>>> import numpy as np
>>> end = estimate_ends(np.array(["a", "a", "a"], object), np.array(["v1", "v1", "v2"], object),
...                     np.array([0, 600, 1200]), np.array([True, True, True]), np.array([3600] * 3))
>>> end.tolist()
[1200, 1200, 4800]
"""

import numbers

import numpy as np
import pandas as pd

from tracer.errors import LoadError
from tracer.jit import jit_pays

from .coded import renumber

__all__ = ["DEFAULT_DWELL_MIN", "dwell_seconds", "estimate_ends"]

#: Dwell time of a venue scan without exit, in minutes.
DEFAULT_DWELL_MIN = 60


def dwell_seconds(place_keys, dwell_min=None):
    """Dwell time in seconds of each venue place key.

    ``dwell_min`` is None (60 min), a number of minutes, or a mapping
    ``{venue code or place key: minutes}`` whose optional ``"*"`` or
    ``"default"`` entry replaces the 60-minute default.

    >>> dwell_seconds(np.array(["venue:V1", "venue:V2"], object), {"V1": 15}).tolist()
    [900, 3600]
    """
    keys = pd.Series(place_keys, dtype=object)
    if dwell_min is None or isinstance(dwell_min, numbers.Real):
        minutes = DEFAULT_DWELL_MIN if dwell_min is None else float(dwell_min)
        _check(minutes, "dwell_min")
        return np.full(len(keys), int(round(minutes * 60)), dtype=np.int64)
    table = dict(dwell_min)
    default = float(table.pop("*", table.pop("default", DEFAULT_DWELL_MIN)))
    _check(default, "default dwell")
    per = {}
    for code, minutes in table.items():
        _check(float(minutes), f"dwell of {code}")
        code = "".join(str(code).split()).upper()
        key = code if code.lower().startswith("venue:") else "venue:" + code
        per["venue:" + key[6:]] = float(minutes)
    minutes = keys.map(per).fillna(default).to_numpy(float)
    return np.round(minutes * 60).astype(np.int64)


def _check(minutes, what):
    if not np.isfinite(minutes) or minutes < 0:
        raise LoadError(f"{what} must be a non-negative number of minutes, not {minutes!r}")


def _codes(values):
    """Codes in order of first appearance (integer codes stay numeric;
    small non-negative ones are renumbered by a lookup table, no hashing)."""
    values = np.asarray(values)
    if values.dtype.kind in "iu" and len(values) and values.min() >= 0:
        return renumber(values.astype(np.int64, copy=False), int(values.max()) + 1)[0]
    return pd.factorize(values if values.dtype != object else pd.Series(values, dtype=object))[0]


def _order(p_codes, start, v_codes):
    """``np.lexsort((v, start, p))``: one int64 sort key when the three fit
    in 63 bits (the usual case: much faster than a three-key lexsort)."""
    span = int(start.max()) - int(start.min()) + 1
    bits = [int(x).bit_length() for x in (p_codes.max(), span, v_codes.max())]
    if sum(bits) > 63:
        return np.lexsort((v_codes, start, p_codes))
    key = p_codes.astype(np.int64)  # built in place: four fewer 8-byte-per-row temporaries
    key <<= bits[1] + bits[2]
    offset = start - start.min()
    offset <<= bits[2]
    key |= offset
    key |= v_codes
    # equal keys are the same (person, time, venue): their order changes nothing
    return np.argsort(key)


def estimate_ends(person, place, start, estimate, dwell_s):
    """Ends of the scans ``estimate`` selects; others keep ``start + dwell``
    semantics only where selected (the returned array is meaningful for the
    selected rows; callers keep their own ends elsewhere).

    Parameters
    ----------
    person, place : arrays of keys or of integer codes of keys (one per
        scan, all venue scans of the load, with or without exit).
    start : int64 scan times.
    estimate : bool mask of scans that need an end.
    dwell_s : int64 dwell time of each scan's venue.
    """
    n = len(start)
    start = np.asarray(start, dtype=np.int64)
    if not n:
        return start.copy()
    p_codes, v_codes = _codes(person), _codes(place)
    order = _order(p_codes, start, v_codes)
    args = (order, p_codes.astype(np.int64, copy=False), v_codes.astype(np.int64, copy=False), start,
            np.asarray(dwell_s, dtype=np.int64), np.asarray(estimate, dtype=bool))  # fmt: skip
    if not jit_pays(n):
        return ends_in_order_numpy(*args)
    from .kernels import ends_in_order  # numba, imported on first use

    return ends_in_order(*args)


def ends_in_order_numpy(order, person, place, start, dwell_s, estimate):
    """:func:`loaders.kernels.ends_in_order` in numpy (its twin)."""
    n = len(order)
    p, v, s = person[order], place[order], start[order]
    # runs of consecutive scans of one person at one venue
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = (p[1:] != p[:-1]) | (v[1:] != v[:-1])
    run_id = np.cumsum(new_run) - 1
    run_first = np.flatnonzero(new_run)
    run_person = p[run_first]
    next_start = np.full(len(run_first), np.iinfo(np.int64).max, dtype=np.int64)
    same = run_person[1:] == run_person[:-1]
    next_start[:-1] = np.where(same, s[run_first[1:]], next_start[:-1])
    end = np.empty(n, dtype=np.int64)
    end[order] = np.minimum(s + dwell_s[order], next_start[run_id])
    return np.where(estimate, end, start)
