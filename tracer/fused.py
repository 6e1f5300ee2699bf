"""The co-presence search and the exposure model in one numba pass.

:func:`score_copresences` finds every co-presence of the source intervals
(the same search as :func:`tracer.kernels.find_copresences`) and scores each
one as it is found: seat distance, proximity, the source's mean
infectiousness over the overlap, the event probability and the official rule
class. It computes what the vectorised functions of :mod:`tracer.model`
compute (those remain the documented reference; ``tests/test_fused.py``
checks the two agree on random inputs), without a dozen temporary arrays of
millions of events in between.

The model's parameters reach the kernel as arrays (:func:`model_arrays`):
numba freezes globals into its cache, so nothing is read at run time.

Examples
--------
>>> import pandas as pd
>>> from tracer.config import ModelConfig
>>> from tracer.index import build_index
>>> index = build_index(pd.DataFrame({"person": [0, 1], "place": [0, 0],
...     "start": [0, 1800], "end": [3600, 7200], "kind": [0, 0]}))
>>> one = lambda v: np.array([v])
>>> out = score_copresences(index, place=one(0), start_s=one(0), end_s=one(3600), present_end_s=one(3600),
...     person=one(0), pos=one(0), kind=one(0), reference_s=one(0), asymptomatic=one(False),
...     risk=one(1.0), cfg=ModelConfig())
>>> out["contact"].tolist(), out["together_s"].tolist(), out["rule"].tolist()
([1], [1800], [2])
"""

from functools import lru_cache

import numpy as np
from numba import njit, prange

from .jit import JIT, JIT_PARALLEL
from .kernels import PARALLEL_SOURCES, _count_sources, _count_sources_parallel, _index_arrays, _window
from .model import _P_MAX, _geometry_params, _profile_table, unknown_proximity
from .schema import KIND_CODES

__all__ = ["score_copresences", "model_arrays", "EVENT_ARRAYS"]

#: The arrays :func:`score_copresences` returns, with their dtypes.
EVENT_ARRAYS = {
    "src": np.int32,
    "pos": np.int64,
    "contact": np.int32,
    "start_s": np.int64,
    "end_s": np.int64,
    "together_s": np.int64,
    "seat_distance": np.float64,
    "rule": np.int8,
    "p_event": np.float64,
}

_FLIGHT, _TRAIN, _BUS = KIND_CODES["flight"], KIND_CODES["train"], KIND_CODES["bus"]
_VENUE, _VEHICLE, _GRID = KIND_CODES["venue"], KIND_CODES["vehicle"], KIND_CODES["grid"]
_RESIDENCE = KIND_CODES["residence"]
_DAY_S = 86400.0


@lru_cache(maxsize=16)
def model_arrays(cfg):
    """The parameters of ``cfg`` as a tuple of arrays, in kernel order.

    ``(beta, decay, row_weight, background, cross, unknown, tau, cum,
    floats, ints)``: per-kind float arrays, the cumulative profile table
    (:func:`tracer.model.mean_infectiousness`), ``floats = (shape, rate,
    shift, mode, asymptomatic_relative)`` and ``ints = (venue_close_min_s,
    grid_close_min_s, flight_close_rows, ventilated_bus_close_rows,
    bus_sealed)``.
    """
    decay, row_weight, background, cross = _geometry_params(cfg)
    tau, cum = _profile_table(cfg)
    shape, rate = float(cfg.profile_shape), float(cfg.profile_rate_per_day)
    floats = np.array([shape, rate, float(cfg.profile_shift_days), (shape - 1.0) / rate,
                       float(cfg.asymptomatic_relative)])  # fmt: skip
    ints = np.array([cfg.venue_close_min_s, cfg.grid_close_min_s, cfg.flight_close_rows,
                     cfg.ventilated_bus_close_rows, int(bool(cfg.bus_sealed))], dtype=np.int64)  # fmt: skip
    return (np.asarray(cfg.beta, dtype=np.float64), decay, row_weight, background, cross,
            np.asarray(unknown_proximity(cfg), dtype=np.float64), tau, cum, floats, ints)  # fmt: skip


# ------------------------------------------------------------ the model


@njit(**JIT)
def _profile(tau_days, floats):
    """:func:`tracer.model._profile` for one value."""
    shape, rate, shift, mode = floats[0], floats[1], floats[2], floats[3]
    x = tau_days + shift
    if x <= 0.0:
        return 0.0
    return np.exp((shape - 1.0) * np.log(x / mode) - rate * (x - mode))


@njit(**JIT)
def _interp(x, xp, fp, inv_dx):
    """``numpy.interp(x, xp, fp)`` on an evenly spaced ``xp`` with step
    ``1 / inv_dx`` (same interval, same formula, so the same value)."""
    n = xp.size
    if x > xp[n - 1]:
        return fp[n - 1]
    if x < xp[0]:
        return fp[0]
    if x == xp[n - 1]:
        return fp[n - 1]
    j = min(max(int((x - xp[0]) * inv_dx), 0), n - 2)
    while j > 0 and xp[j] > x:
        j -= 1
    while j < n - 2 and xp[j + 1] <= x:
        j += 1
    if xp[j] == x:
        return fp[j]
    slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
    return slope * (x - xp[j]) + fp[j]


@njit(**JIT)
def _mean_infectiousness(start_s, end_s, onset_s, asymptomatic, tau, cum, inv_dx, floats):
    """:func:`tracer.model.mean_infectiousness` for one interval."""
    lo = (np.float64(start_s) - np.float64(onset_s)) / _DAY_S
    hi = (np.float64(end_s) - np.float64(onset_s)) / _DAY_S
    width = hi - lo
    if width < 60.0 / _DAY_S:
        mean = _profile(0.5 * (lo + hi), floats)
    else:
        mean = (_interp(hi, tau, cum, inv_dx) - _interp(lo, tau, cum, inv_dx)) / width
    return mean * floats[4] if asymptomatic else mean


@njit(**JIT)
def _seat(k, sa, ra, ca, sb, rb, cb, decay, row_weight, background, cross_f, unknown):
    """``(seat_distance, proximity)`` of one event of kind ``k``
    (:func:`tracer.model.proximity`); the other arguments are that kind's
    parameters."""
    seat_kind = k == _FLIGHT or k == _TRAIN or k == _BUS
    if not seat_kind:
        return np.nan, unknown
    sec_known = sa >= 0 and sb >= 0
    cross = sec_known and sa != sb
    same_room = (not cross) if (k == _FLIGHT or k == _BUS) else (sec_known and sa == sb)
    known = same_room and ra >= 0 and rb >= 0 and ca >= 0 and cb >= 0
    dist = np.nan
    if known:
        dist = np.hypot(np.float64(ca - cb), row_weight * np.float64(ra - rb))
    if cross:
        return dist, cross_f
    if known:
        return dist, background + (1.0 - background) * np.exp(-max(dist - 1.0, 0.0) / decay)
    return dist, unknown


@njit(**JIT)
def _rule(k, sa, ra, sb, rb, together_s, ints):
    """:func:`tracer.model.rule_class` of one event: 2 close, 1 general."""
    row_unknown = ra < 0 or rb < 0
    drow = abs(ra - rb)
    diff_section = sa >= 0 and sb >= 0 and sa != sb
    if k == _FLIGHT:
        close = row_unknown or drow <= ints[2]
    elif k == _TRAIN:
        close = not diff_section
    elif k == _BUS:
        close = ints[4] != 0 or ((not diff_section) and (row_unknown or drow <= ints[3]))
    elif k == _VENUE:
        close = together_s >= ints[0]
    elif k == _GRID:
        close = together_s >= ints[1]
    elif k == _VEHICLE or k == _RESIDENCE:
        close = True
    else:  # checkpoint
        close = False
    return np.int8(2) if close else np.int8(1)


# ------------------------------------------------------------ the search


@njit(**JIT)
def _score_source(ix, sec, row, col, src, i, model, out, k):
    """Write the scored co-presences of source ``i`` from ``out[*][k]`` on."""
    start, dur, person, seg_lo, seg_maxdur, place_seg = ix
    s_place, s_start, s_end, s_person, s_present_end, s_pos, s_kind, s_ref, s_asym, s_risk = src
    o_src, o_pos, o_contact, o_start, o_end, o_together, o_dist, o_rule, o_p = out
    tau, cum, floats, ints = model[6], model[7], model[8], model[9]
    place, a, b = s_place[i], s_start[i], s_end[i]
    if b <= a or place < 0 or place >= place_seg.size - 1:
        return
    # Everything about the source (its kind, seat, infectiousness) is fixed
    # over its co-presences: read it once.
    kd, p_src, me, present_end = s_kind[i], s_pos[i], s_person[i], s_present_end[i]
    ref, asym, risk = s_ref[i], s_asym[i], s_risk[i]
    beta, decay, row_w, bg, cross_f, unknown = (model[0][kd], model[1][kd], model[2][kd], model[3][kd],
                                                model[4][kd], model[5][kd])  # fmt: skip
    inv_dx = (tau.size - 1) / (tau[tau.size - 1] - tau[0])
    sa, ra, ca = np.int64(sec[p_src]), np.int64(row[p_src]), np.int64(col[p_src])
    for s in range(place_seg[place], place_seg[place + 1]):
        lo, hi = _window(start, seg_lo, seg_maxdur, s, a, b)
        for j in range(lo, hi):
            end_j = start[j] + dur[j]
            if end_j <= a or dur[j] == 0 or person[j] == me:
                continue
            ov_start, ov_end = max(start[j], a), min(end_j, b)
            together = max(min(present_end, end_j) - ov_start, 0)
            sb, rb, cb = np.int64(sec[j]), np.int64(row[j]), np.int64(col[j])
            dist, prox = _seat(kd, sa, ra, ca, sb, rb, cb, decay, row_w, bg, cross_f, unknown)
            infect = _mean_infectiousness(ov_start, ov_end, ref, asym, tau, cum, inv_dx, floats)
            hazard = beta * prox * infect
            p = min(-np.expm1(-hazard * (np.float64(ov_end - ov_start) / 3600.0)), _P_MAX)
            o_src[k], o_pos[k], o_contact[k] = i, j, person[j]
            o_start[k], o_end[k], o_together[k] = ov_start, ov_end, together
            o_dist[k], o_rule[k], o_p[k] = dist, _rule(kd, sa, ra, sb, rb, together, ints), p * risk
            k += 1


@njit(**JIT)
def _score_sources(ix, sec, row, col, src, model, i0, i1, offsets, out):
    for i in range(i0, i1):
        if offsets[i + 1] > offsets[i]:
            _score_source(ix, sec, row, col, src, i, model, out, offsets[i])


@njit(**JIT_PARALLEL)
def _score_sources_parallel(ix, sec, row, col, src, model, chunks, offsets, out):
    for c in prange(chunks.size - 1):
        _score_sources(ix, sec, row, col, src, model, chunks[c], chunks[c + 1], offsets, out)


def score_copresences(index, place, start_s, end_s, present_end_s, person, pos, kind, reference_s, asymptomatic,
                      risk, cfg):  # fmt: skip
    """Every co-presence of the source intervals, scored.

    Parameters
    ----------
    index : PresenceIndex
    place, start_s, end_s, person : int arrays, one source interval each
        ``[start_s, end_s)`` at ``place`` (clipped and padded by linger),
        of ``person`` (whose own presences are skipped).
    present_end_s : int array, the end without the linger padding (the
        rule classes count only the time both were there).
    pos : int array, the source presence's index position (its seat).
    kind : int array, the place's kind code.
    reference_s, asymptomatic : the source's onset (or sampling date) and
        whether it is asymptomatic, for its infectiousness.
    risk : float array, multiplies each event's probability (1 for cases,
        the contact's risk for hop >= 2 sources).
    cfg : ModelConfig

    Returns
    -------
    dict of arrays (:data:`EVENT_ARRAYS`), sorted by (source, position):
    ``src`` the source number, ``pos`` the contact's presence, ``contact``
    its person, ``start_s``/``end_s`` the overlap, ``together_s``,
    ``seat_distance`` (NaN without seat geometry), ``rule`` and ``p_event``.
    """
    ix = tuple(np.ascontiguousarray(a) for a in _index_arrays(index))
    seats = tuple(np.ascontiguousarray(getattr(index, name)) for name in ("section", "row", "col"))
    i64 = [np.ascontiguousarray(a, dtype=np.int64) for a in (place, start_s, end_s, person, present_end_s, pos)]
    src = (*i64, np.ascontiguousarray(kind, dtype=np.int64), np.ascontiguousarray(reference_s, dtype=np.int64),
           np.ascontiguousarray(asymptomatic, dtype=np.bool_), np.ascontiguousarray(risk, dtype=np.float64))  # fmt: skip
    n_src = src[0].size
    counts = np.zeros(n_src + 1, np.int64)
    parallel = n_src >= PARALLEL_SOURCES
    chunks = np.linspace(0, n_src, min(n_src, 64) + 1).astype(np.int64) if parallel else None
    if parallel:
        _count_sources_parallel(*ix, *src[:4], chunks, counts)
    else:
        _count_sources(*ix, *src[:4], 0, n_src, counts)
    offsets = np.cumsum(counts)
    out = tuple(np.empty(offsets[-1], dtype) for dtype in EVENT_ARRAYS.values())
    model = model_arrays(cfg)
    if parallel:
        _score_sources_parallel(ix, *seats, src, model, chunks, offsets, out)
    else:
        _score_sources(ix, *seats, src, model, 0, n_src, offsets, out)
    return dict(zip(EVENT_ARRAYS, out))
