"""The exposure model: proximity, infectiousness, event probability, rules.

An exposure event is a source ``a`` (a case) and a target ``b`` at one place
for ``overlap_s`` seconds. Its probability of transmission is::

    p = 1 - exp(-beta[kind] * proximity * infectiousness * overlap_s / 3600)

and a contact's risk over its events is ``1 - prod(1 - p)``. Beside the
score, :func:`rule_class` gives the official class (close or general
contact) of China's contact-tracing protocol. Every function is vectorised
over numpy arrays (scalars broadcast) and keeps to numpy, so a million events
cost a few array passes. Parameters and their sources: :mod:`tracer.config`
and ``MODEL.md``.

Examples
--------
>>> import numpy as np
>>> from tracer.config import ModelConfig
>>> from tracer.schema import KIND_CODES
>>> cfg = ModelConfig()
>>> train = np.int8(KIND_CODES["train"])
>>> prox = proximity(train, 3, 10, 1, 3, 10, 2, cfg)   # adjacent seats
>>> float(prox[0])
1.0
>>> p = event_probability(train, 7200, prox, 0.5, cfg)  # 2 h, half-peak
>>> round(float(p[0]), 4)
0.0259
"""

from functools import lru_cache

import numpy as np

from .config import ModelConfig
from .errors import ValidationError
from .schema import KIND_CODES, KINDS

__all__ = [
    "RULE_CLOSE",
    "RULE_GENERAL",
    "RULE_NAMES",
    "SEAT_KINDS",
    "seat_distance",
    "proximity",
    "unknown_proximity",
    "infectiousness",
    "mean_infectiousness",
    "infectious_window",
    "presumed_onset",
    "event_probability",
    "rule_class",
    "combine_risk",
]

RULE_CLOSE = 2
RULE_GENERAL = 1
RULE_NAMES = {RULE_CLOSE: "close", RULE_GENERAL: "general"}

#: Kinds whose seats (section, row, col) carry geometry.
SEAT_KINDS = tuple(KIND_CODES[k] for k in ("flight", "train", "bus"))
_FLIGHT, _TRAIN, _BUS = SEAT_KINDS
_VENUE, _VEHICLE, _GRID = KIND_CODES["venue"], KIND_CODES["vehicle"], KIND_CODES["grid"]
_RESIDENCE = KIND_CODES["residence"]
#: Kinds whose row numbers run across sections (aircraft rows; one bus).
_GLOBAL_ROWS = (_FLIGHT, _BUS)
_DAY_S = 86400.0
_P_MAX = np.nextafter(1.0, 0.0)  # keeps log1p(-p) finite


def _cfg(cfg):
    return ModelConfig() if cfg is None else cfg


def _kind(kind):
    kind = np.asarray(kind)
    if kind.size and (kind.min() < 0 or kind.max() >= len(KINDS)):
        raise ValidationError(
            f"kind codes must lie in 0..{len(KINDS) - 1}",
            hint="use tracer.schema.kind_code to turn kind names into codes",
        )
    return kind.astype(np.int64, copy=False)


@lru_cache(maxsize=16)
def _geometry_params(cfg):
    """Per-kind float arrays (bus background depends on ``bus_sealed``)."""
    background = np.array(cfg.background, dtype=np.float64)
    if not cfg.bus_sealed:
        background[_BUS] = cfg.bus_ventilated_background
    return (
        np.array(cfg.decay_seats, dtype=np.float64),
        np.array(cfg.row_weight, dtype=np.float64),
        background,
        np.array(cfg.cross_section, dtype=np.float64),
    )


def _seats(kind, sec_a, row_a, col_a, sec_b, row_b, col_b):
    """Broadcast seat arrays; masks ``known`` (geometry usable) and ``cross``."""
    kind, sa, ra, ca, sb, rb, cb = np.broadcast_arrays(
        _kind(kind), *(np.asarray(x, dtype=np.int64) for x in (sec_a, row_a, col_a, sec_b, row_b, col_b))
    )
    seat_kind = np.isin(kind, SEAT_KINDS)
    sec_known = (sa >= 0) & (sb >= 0)
    cross = seat_kind & sec_known & (sa != sb)
    # Aircraft rows are numbered through the cabin and a bus is one room, so
    # an unknown section there does not hide the geometry; train rows restart
    # in every carriage, so a train needs both carriages.
    same_room = np.where(np.isin(kind, _GLOBAL_ROWS), ~cross, sec_known & (sa == sb))
    known = seat_kind & same_room & (ra >= 0) & (rb >= 0) & (ca >= 0) & (cb >= 0)
    return kind, (ra - rb), (ca - cb), known, cross


def seat_distance(kind, sec_a, row_a, col_a, sec_b, row_b, col_b, cfg=None):
    """Effective seat distance between seats ``a`` and ``b``, in seat widths.

    ``sqrt(dcol**2 + (row_weight[kind] * drow)**2)``: a step across the row
    is one seat width; a step to the next row counts ``row_weight`` widths
    (longer pitch plus the backrest between rows). NaN where there is no
    geometry: a kind without seats, an unknown (-1) section, row or column,
    or seats in different sections.

    Examples
    --------
    >>> from tracer.schema import KIND_CODES
    >>> seat_distance(KIND_CODES["train"], [1, 1, 1], [5, 5, 6], [0, 0, 0],
    ...               [1, 2, 1], [5, 5, 5], [3, 3, 0]).tolist()
    [3.0, nan, 5.0]
    """
    _, row_weight, _, _ = _geometry_params(_cfg(cfg))
    kind, drow, dcol, known, _ = _seats(kind, sec_a, row_a, col_a, sec_b, row_b, col_b)
    dist = np.hypot(dcol, row_weight[kind] * drow)
    return np.atleast_1d(np.where(known, dist, np.nan))


def proximity(kind, sec_a, row_a, col_a, sec_b, row_b, col_b, cfg=None):
    """Proximity factor in [0, 1]; 1 for the adjacent seat.

    Seat kinds (flight, train, bus) with known seats in one section:
    ``background + (1 - background) * exp(-(d - 1) / decay_seats)`` for the
    effective distance ``d`` (:func:`seat_distance`), 1 for ``d <= 1``.
    Different sections: ``cross_section[kind]``. Unknown seat: the mean over
    a typical section (:func:`unknown_proximity`). Other kinds: 1 (their
    ``beta`` is the hazard from an average co-present person).

    Examples
    --------
    >>> from tracer.schema import KIND_CODES
    >>> proximity(KIND_CODES["train"], 1, 5, 0, 1, 5, -1).round(3).tolist()
    [0.049]
    >>> proximity(KIND_CODES["venue"], -1, -1, -1, -1, -1, -1).tolist()
    [1.0]
    """
    cfg = _cfg(cfg)
    cross_factor = _geometry_params(cfg)[3]
    kind, drow, dcol, known, cross = _seats(kind, sec_a, row_a, col_a, sec_b, row_b, col_b)
    out = np.where(known, _seat_proximity(kind, drow, dcol, cfg), unknown_proximity(cfg)[kind])
    return np.atleast_1d(np.where(cross, cross_factor[kind], out))


def _seat_proximity(kind, drow, dcol, cfg):
    """Near field decaying to a background with the effective distance."""
    decay, row_weight, background, _ = _geometry_params(cfg)
    dist = np.hypot(dcol, row_weight[kind] * drow)
    bg = background[kind]
    return bg + (1.0 - bg) * np.exp(-np.maximum(dist - 1.0, 0.0) / decay[kind])


@lru_cache(maxsize=16)
def _unknown_proximity(cfg):
    out = np.ones(len(KINDS))
    for k in SEAT_KINDS:
        rows, cols = int(cfg.layout_rows[k]), int(cfg.layout_cols[k])
        if rows * cols < 2:
            continue
        r, c = np.divmod(np.arange(rows * cols), cols)
        prox = _seat_proximity(k, r[:, None] - r[None, :], c[:, None] - c[None, :], cfg)
        out[k] = (prox.sum() - np.trace(prox)) / (prox.size - rows * cols)
    out.setflags(write=False)
    return out


def unknown_proximity(cfg=None):
    """Proximity used for an unknown seat, per kind (float64, KINDS order).

    The mean proximity between two distinct seats of a typical section
    (``layout_rows`` x ``layout_cols``): what a randomly seated co-passenger
    gets. 1 for kinds without seats.

    >>> from tracer.schema import KIND_CODES
    >>> unknown_proximity()[KIND_CODES["train"]].round(3)
    np.float64(0.049)
    """
    return _unknown_proximity(_cfg(cfg))


def _profile(tau_days, cfg):
    """Gamma profile relative to onset, divided by its peak value."""
    shape, rate = cfg.profile_shape, cfg.profile_rate_per_day
    mode = (shape - 1.0) / rate
    x = np.asarray(tau_days, dtype=np.float64) + cfg.profile_shift_days
    safe = np.maximum(x, 1e-300)
    with np.errstate(over="ignore", under="ignore"):
        rel = np.exp((shape - 1.0) * np.log(safe / mode) - rate * (safe - mode))
    return np.where(x > 0, rel, 0.0)


def _asymptomatic(value, asymptomatic, cfg):
    if asymptomatic is None:
        return value
    return np.where(np.asarray(asymptomatic, dtype=bool), value * cfg.asymptomatic_relative, value)


def infectiousness(t_s, onset_s, cfg=None, asymptomatic=None):
    """Relative infectiousness of a source at ``t_s``; 1 at the peak.

    The corrected infectiousness profile of He et al. (Nat Med 2020): a gamma
    density in ``t - onset + shift`` days, divided by its maximum, so it peaks
    at 1 near onset and falls to about 0.26 four days before and 0.27 five
    days after. For asymptomatic cases pass the sampling date as
    ``onset_s``; ``asymptomatic`` (bool array) scales by
    ``cfg.asymptomatic_relative``.

    Examples
    --------
    >>> day = 86400
    >>> infectiousness([0, -7 * day, 3 * day], 0).round(2).tolist()
    [1.0, 0.0, 0.6]
    """
    cfg = _cfg(cfg)
    tau_days = (np.asarray(t_s, dtype=np.float64) - np.asarray(onset_s, dtype=np.float64)) / _DAY_S
    return np.atleast_1d(_asymptomatic(_profile(tau_days, cfg), asymptomatic, cfg))


@lru_cache(maxsize=16)
def _profile_table(cfg):
    """Cumulative integral of the profile (day units) on a fine grid."""
    tau = np.linspace(-cfg.profile_shift_days, 60.0, 200_001)
    rel = _profile(tau, cfg)
    cum = np.concatenate(([0.0], np.cumsum((rel[1:] + rel[:-1]) * 0.5 * np.diff(tau))))
    return tau, cum


def mean_infectiousness(start_s, end_s, onset_s, cfg=None, asymptomatic=None):
    """Mean of :func:`infectiousness` over ``[start_s, end_s]``.

    Use it for long events (a day at home): ``beta * proximity *
    mean_infectiousness * hours`` is the exact integrated hazard. Intervals
    shorter than a minute use the midpoint value.

    Examples
    --------
    >>> day = 86400
    >>> float(mean_infectiousness(-day, day, 0).round(3)[0])
    0.979
    """
    cfg = _cfg(cfg)
    start, end, onset = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (start_s, end_s, onset_s)))
    lo, hi = (start - onset) / _DAY_S, (end - onset) / _DAY_S
    tau, cum = _profile_table(cfg)
    width = hi - lo
    short = width < 60.0 / _DAY_S
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (np.interp(hi, tau, cum) - np.interp(lo, tau, cum)) / width
    mean = np.where(short, _profile(0.5 * (lo + hi), cfg), mean)
    return _asymptomatic(np.atleast_1d(mean), asymptomatic, cfg)


def infectious_window(onset_s, cfg=None):
    """``(start_s, end_s)`` int64 arrays: onset - pre_onset, onset + post_onset.

    >>> [w.tolist() for w in infectious_window([864000])]
    [[691200], [1728000]]
    """
    cfg = _cfg(cfg)
    onset = np.atleast_1d(np.asarray(onset_s, dtype=np.int64))
    return onset - int(round(cfg.pre_onset_days * _DAY_S)), onset + int(round(cfg.post_onset_days * _DAY_S))


def presumed_onset(first_exposure_s, cfg=None):
    """Presumed onset of a hop >= 2 source: first exposure + incubation.

    >>> presumed_onset([0]).tolist()
    [449280]
    """
    cfg = _cfg(cfg)
    return np.atleast_1d(np.asarray(first_exposure_s, dtype=np.int64)) + int(round(cfg.incubation_days * _DAY_S))


def event_probability(kind, overlap_s, proximity, infectiousness, cfg=None):
    """Probability of transmission in one event, in [0, 1).

    ``1 - exp(-beta[kind] * proximity * infectiousness * overlap_s / 3600)``,
    capped just below 1 so that ``log1p(-p)`` stays finite.

    >>> from tracer.schema import KIND_CODES
    >>> float(event_probability(KIND_CODES["bus"], 6000, 1.0, 1.0)[0].round(2))
    0.49
    """
    cfg = _cfg(cfg)
    kind = _kind(kind)
    overlap_s = np.asarray(overlap_s, dtype=np.float64)
    if overlap_s.size and overlap_s.min() < 0:
        raise ValidationError("overlap_s must be >= 0 seconds", hint="an overlap is end - start of a co-presence")
    beta = np.asarray(cfg.beta, dtype=np.float64)[kind]
    hazard = beta * np.asarray(proximity, dtype=np.float64) * np.asarray(infectiousness, dtype=np.float64)
    p = -np.expm1(-hazard * (overlap_s / 3600.0))
    return np.atleast_1d(np.minimum(p, _P_MAX))


def rule_class(kind, sec_a, row_a, col_a, sec_b, row_b, col_b, overlap_s, cfg=None):
    """Official class per event: 2 close contact, 1 general contact (int8).

    flight: row within ``flight_close_rows`` (any cabin); train: same
    carriage; bus: everyone if sealed, else row within
    ``ventilated_bus_close_rows``; venue: overlap >= ``venue_close_min_s``;
    grid: overlap >= ``grid_close_min_s``; vehicle, residence: close;
    checkpoint: general. An unknown seat (-1) where the rule needs it counts
    as close: officers verify it rather than miss a contact. ``overlap_s``
    should be the co-presence itself (without linger padding).

    Examples
    --------
    >>> from tracer.schema import KIND_CODES
    >>> f = KIND_CODES["flight"]
    >>> rule_class(f, -1, 20, 0, -1, [23, 24, -1], 0, 3600).tolist()
    [2, 1, 2]
    """
    cfg = _cfg(cfg)
    kind, sa, ra, _, sb, rb, _, overlap = np.broadcast_arrays(
        _kind(kind), *(np.asarray(x, dtype=np.int64) for x in (sec_a, row_a, col_a, sec_b, row_b, col_b, overlap_s))
    )
    row_unknown = (ra < 0) | (rb < 0)
    drow = np.abs(ra - rb)
    diff_section = (sa >= 0) & (sb >= 0) & (sa != sb)
    bus_close = True if cfg.bus_sealed else (~diff_section & (row_unknown | (drow <= cfg.ventilated_bus_close_rows)))
    close = np.select(
        [
            kind == _FLIGHT,
            kind == _TRAIN,
            kind == _BUS,
            kind == _VENUE,
            kind == _GRID,
            (kind == _VEHICLE) | (kind == _RESIDENCE),
        ],
        [
            row_unknown | (drow <= cfg.flight_close_rows),
            ~diff_section,
            np.broadcast_to(bus_close, kind.shape),
            overlap >= cfg.venue_close_min_s,
            overlap >= cfg.grid_close_min_s,
            True,
        ],
        default=False,  # checkpoint
    )
    return np.atleast_1d(np.where(close, RULE_CLOSE, RULE_GENERAL).astype(np.int8))


def combine_risk(group_codes, p, n_groups=None):
    """Risk per group: ``1 - prod(1 - p)`` over the events of each group.

    Summed in log space (``log1p``), so probabilities near 1 and long event
    lists stay accurate. ``group_codes`` are ints in ``0..n_groups-1``;
    groups with no events get risk 0.

    Examples
    --------
    >>> combine_risk([0, 0, 2], [0.5, 0.5, 0.1]).tolist()
    [0.75, 0.0, 0.1]
    """
    codes = np.asarray(group_codes, dtype=np.int64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    if codes.shape != p.shape:
        raise ValidationError(f"combine_risk: {codes.size} group codes but {p.size} probabilities")
    if codes.size and codes.min() < 0:
        raise ValidationError("combine_risk: group codes must be >= 0", hint="factorise the contact keys first")
    if p.size and (np.isnan(p).any() or p.min() < 0 or p.max() > 1):
        raise ValidationError("combine_risk: probabilities must lie in [0, 1]")
    n = int(codes.max()) + 1 if codes.size else 0
    if n_groups is not None:
        if n > n_groups:
            raise ValidationError(f"combine_risk: group code {n - 1} >= n_groups = {n_groups}")
        n = int(n_groups)
    log_q = np.bincount(codes, weights=np.log1p(-np.minimum(p, _P_MAX)), minlength=n)
    return 0.0 - np.expm1(log_q)  # 0.0 - : no negative zero
