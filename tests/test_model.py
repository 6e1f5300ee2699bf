"""Tests of the exposure model (tracer.model, tracer.config).

Calibration targets are the published numbers quoted in MODEL.md; the model
values are computed through the public functions, never hard-coded.
"""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracer.config import ModelConfig
from tracer.errors import ValidationError
from tracer.model import (
    RULE_CLOSE,
    RULE_GENERAL,
    RULE_NAMES,
    combine_risk,
    event_probability,
    infectiousness,
    mean_infectiousness,
    proximity,
    rule_class,
    seat_distance,
    unknown_proximity,
)
from tracer.schema import KIND_CODES, KINDS

CFG = ModelConfig()
DAY = 86400
TRAIN, FLIGHT, BUS = KIND_CODES["train"], KIND_CODES["flight"], KIND_CODES["bus"]
SEATED = [FLIGHT, TRAIN, BUS]


def within(value, target, factor=1.5):
    return target / factor <= value <= target * factor


# --- calibration ------------------------------------------------------------


def train_attack_rates(hours, cfg=CFG):
    """Mean attack rates over a 5-seat (ABCDF) row layout, like Hu et al."""
    cols = range(5)
    adjacent = [(0, i, j) for i in cols for j in cols if abs(i - j) == 1]
    same_row = [(0, i, j) for i in cols for j in cols if abs(i - j) >= 2]
    other_rows = [(dr, i, j) for i in cols for j in cols for dr in (-3, -2, -1, 1, 2, 3)]

    def rate(pairs):
        dr, ca, cb = np.array(pairs).T
        prox = proximity(TRAIN, 4, 10, ca, 4, 10 + dr, cb, cfg)
        return event_probability(TRAIN, hours * 3600, prox, cfg.reference_infectiousness, cfg).mean()

    return rate(adjacent), rate(same_row), rate(other_rows)


def test_hu_et_al_ratios_for_a_two_hour_trip():
    adjacent, same_row, other = train_attack_rates(2.0)
    assert within(adjacent / same_row, 3.5 / 1.5)
    assert within(adjacent / other, 3.5 / 0.14)
    assert within(same_row / other, 1.5 / 0.14)


def test_hu_et_al_adjacent_slope_per_hour():
    adjacent_1h = train_attack_rates(1.0)[0]
    assert within(adjacent_1h, 0.013)  # +1.3 percentage points per hour


def test_shen_et_al_sealed_bus():
    u = unknown_proximity(CFG)[BUS]
    ar = event_probability(BUS, 100 * 60, u, 1.0, CFG)[0]
    assert within(ar, 0.34)


def test_madewell_household_secondary_attack_rate():
    start, end = -CFG.pre_onset_days * DAY, CFG.post_onset_days * DAY
    mean_inf = mean_infectiousness(start, end, 0, CFG)
    sar = event_probability(KIND_CODES["residence"], end - start, 1.0, mean_inf, CFG)[0]
    assert within(sar, 0.166)


def test_reference_infectiousness_is_the_window_mean():
    mean_inf = mean_infectiousness(-CFG.pre_onset_days * DAY, CFG.post_onset_days * DAY, 0, CFG)[0]
    assert within(CFG.reference_infectiousness, mean_inf, 1.1)


def test_unknown_proximity_is_the_layout_mean():
    for kind in SEATED:
        rows, cols = CFG.layout_rows[kind], CFG.layout_cols[kind]
        seats = [(r, c) for r in range(rows) for c in range(cols)]
        a = np.array([s for s in seats for t in seats if s != t])
        b = np.array([t for s in seats for t in seats if s != t])
        brute = proximity(kind, 0, a[:, 0], a[:, 1], 0, b[:, 0], b[:, 1], CFG).mean()
        assert unknown_proximity(CFG)[kind] == pytest.approx(brute)
        assert proximity(kind, 0, 3, -1, 0, 4, 1, CFG)[0] == pytest.approx(brute)


# --- properties -------------------------------------------------------------

kinds = st.integers(0, len(KINDS) - 1)
unit = st.floats(0.0, 1.0)
seconds = st.integers(0, 30 * DAY)


@settings(max_examples=200, deadline=None)
@given(kinds, seconds, seconds, unit, unit)
def test_probability_grows_with_overlap(kind, a, b, prox, inf):
    lo, hi = sorted((a, b))
    p = event_probability(kind, [lo, hi], prox, inf, CFG)
    assert 0.0 <= p[0] <= p[1] < 1.0
    if prox * inf > 1e-6 and hi > lo and p[1] < 0.5:  # below: underflow to 0
        assert p[0] < p[1]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(SEATED),
    st.integers(0, 30),
    st.integers(0, 6),
    st.integers(0, 30),
    st.integers(0, 6),
    st.integers(0, 3),
    st.integers(0, 3),
    st.booleans(),
)
def test_probability_falls_with_seat_distance(kind, ra, ca, rb, cb, step_row, step_col, sealed):
    cfg = ModelConfig(bus_sealed=sealed)
    # move b away from a along both axes: the distance cannot shrink
    rb2 = rb + step_row if rb >= ra else rb - step_row
    cb2 = cb + step_col if cb >= ca else cb - step_col
    rows = np.array([rb, rb2])
    cols = np.array([cb, cb2])
    if (rows < 0).any() or (cols < 0).any():
        return
    dist = seat_distance(kind, 1, ra, ca, 1, rows, cols, cfg)
    prox = proximity(kind, 1, ra, ca, 1, rows, cols, cfg)
    p = event_probability(kind, 7200, prox, 1.0, cfg)
    assert dist[0] <= dist[1]
    assert p[0] >= p[1]
    assert ((0 <= prox) & (prox <= 1)).all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.floats(0.0, 1.0)), max_size=40))
def test_combine_risk_matches_brute_force(events):
    codes = np.array([g for g, _ in events], dtype=np.int64)
    p = np.array([q for _, q in events], dtype=np.float64)
    risk = combine_risk(codes, p, n_groups=7)
    for g in range(7):
        brute = 1.0 - math.prod(1.0 - q for c, q in events if c == g)
        assert risk[g] == pytest.approx(brute, abs=1e-12)


def test_combine_risk_rejects_bad_input():
    with pytest.raises(ValidationError):
        combine_risk([0, 1], [0.1])
    with pytest.raises(ValidationError):
        combine_risk([-1], [0.1])
    with pytest.raises(ValidationError):
        combine_risk([0], [1.5])


def test_event_probability_rejects_negative_overlap_and_bad_kind():
    with pytest.raises(ValidationError):
        event_probability(TRAIN, -1, 1.0, 1.0)
    with pytest.raises(ValidationError):
        event_probability(len(KINDS), 60, 1.0, 1.0)


# --- infectiousness ---------------------------------------------------------


def test_infectiousness_peaks_near_onset_and_vanishes_far_from_it():
    t = np.arange(-15 * DAY, 25 * DAY, 600)
    inf = infectiousness(t, 0, CFG)
    assert abs(t[np.argmax(inf)]) <= DAY / 2
    assert inf.max() == pytest.approx(1.0, abs=1e-6)
    assert (inf[np.abs(t) >= 14 * DAY] < 1e-3).all()
    assert infectiousness(-10 * DAY, 0, CFG)[0] < 1e-6
    assert (inf >= 0).all()


def test_presymptomatic_share_matches_he_et_al():
    t = np.arange(-15 * DAY, 40 * DAY, 60)
    inf = infectiousness(t, 0, CFG)
    assert inf[t < 0].sum() / inf.sum() == pytest.approx(0.44, abs=0.03)


def test_infectiousness_is_shift_invariant_and_asymptomatic_scaled():
    cfg = ModelConfig(asymptomatic_relative=0.35)
    onset = np.array([0, 10 * DAY])
    t = onset + DAY
    inf = infectiousness(t, onset, cfg, asymptomatic=[False, True])
    assert inf[1] == pytest.approx(0.35 * inf[0])


@settings(max_examples=100, deadline=None)
@given(st.integers(-14 * DAY, 20 * DAY), st.integers(0, 5 * DAY))
def test_mean_infectiousness_matches_brute_force(start, width):
    end = start + width
    brute = infectiousness(np.linspace(start, end, 4001), 0, CFG).mean()
    assert mean_infectiousness(start, end, 0, CFG)[0] == pytest.approx(brute, abs=2e-3)


# --- rule classes -----------------------------------------------------------


def rule(kind, seat_a, seat_b, overlap_s=3600, cfg=CFG):
    return RULE_NAMES[int(rule_class(KIND_CODES[kind], *seat_a, *seat_b, overlap_s, cfg)[0])]


def test_flight_rule_same_row_and_three_rows_either_side():
    assert rule("flight", (-1, 20, 0), (-1, 17, 5)) == "close"
    assert rule("flight", (-1, 20, 0), (-1, 23, 5)) == "close"
    assert rule("flight", (-1, 20, 0), (-1, 24, 0)) == "general"
    assert rule("flight", (-1, 20, 0), (-1, 16, 0)) == "general"
    assert rule("flight", (-1, 20, 0), (-1, -1, -1)) == "close"  # unknown: verify


def test_train_rule_same_carriage():
    assert rule("train", (3, 1, 0), (3, 17, 4)) == "close"
    assert rule("train", (3, 1, 0), (4, 1, 0)) == "general"
    assert rule("train", (3, 1, 0), (-1, 1, 0)) == "close"


def test_bus_rule_sealed_and_ventilated():
    assert rule("bus", (-1, 1, 0), (-1, 14, 3)) == "close"
    vent = ModelConfig(bus_sealed=False)
    assert rule("bus", (-1, 1, 0), (-1, 4, 3), cfg=vent) == "close"
    assert rule("bus", (-1, 1, 0), (-1, 5, 3), cfg=vent) == "general"


def test_venue_and_grid_duration_boundaries():
    none = (-1, -1, -1)
    assert rule("venue", none, none, 900) == "close"
    assert rule("venue", none, none, 899) == "general"
    assert rule("grid", none, none, 600) == "close"
    assert rule("grid", none, none, 599) == "general"
    assert rule("venue", none, none, 599, ModelConfig(venue_close_min_s=300)) == "close"


def test_fixed_rules_and_dtype():
    none = (-1, -1, -1)
    assert rule("vehicle", none, none, 1) == "close"
    assert rule("residence", none, none, 1) == "close"
    assert rule("checkpoint", none, none, 10 * DAY) == "general"
    out = rule_class(np.arange(len(KINDS)), -1, -1, -1, -1, -1, -1, 60)
    assert out.dtype == np.int8 and set(out.tolist()) <= {RULE_CLOSE, RULE_GENERAL}


# --- geometry details -------------------------------------------------------


def test_seat_distance_nan_and_cross_section_factor():
    d = seat_distance(TRAIN, [1, 1, -1], [2, 2, 2], [0, 0, 0], [1, 2, 1], [2, 2, 2], [1, 1, 1])
    assert d[0] == 1.0 and np.isnan(d[1]) and np.isnan(d[2])
    assert np.isnan(seat_distance(KIND_CODES["venue"], 1, 1, 1, 1, 1, 2))[0]
    prox = proximity(TRAIN, 1, 2, 0, 2, 2, 1, CFG)[0]
    assert prox == CFG.cross_section[TRAIN]
    # aircraft rows run through the cabin: no section needed
    assert seat_distance(FLIGHT, -1, 10, 0, -1, 10, 1)[0] == 1.0


def test_ventilated_bus_lowers_far_seats_only():
    sealed, vent = ModelConfig(), ModelConfig(bus_sealed=False)
    near = [proximity(BUS, 0, 5, 1, 0, 5, 2, c)[0] for c in (sealed, vent)]
    far = [proximity(BUS, 0, 1, 0, 0, 12, 3, c)[0] for c in (sealed, vent)]
    assert near[0] == near[1] == 1.0
    assert far[1] < far[0]


def test_vectorised_over_a_million_events():
    n = 1_000_000
    rng = np.random.default_rng(0)
    kind = rng.integers(0, len(KINDS), n).astype(np.int8)
    seats = [rng.integers(-1, 20, n).astype(np.int16) for _ in range(6)]
    overlap = rng.integers(0, 4 * 3600, n)
    prox = proximity(kind, *seats, CFG)
    inf = infectiousness(rng.integers(-3 * DAY, 10 * DAY, n), 0, CFG)
    p = event_probability(kind, overlap, prox, inf, CFG)
    rules = rule_class(kind, *seats, overlap, CFG)
    assert p.shape == rules.shape == (n,)
    assert np.isfinite(p).all()


# --- config -----------------------------------------------------------------


def test_config_round_trip_through_json():
    cfg = ModelConfig(bus_sealed=False, venue_close_min_s=600, beta=tuple(b * 2 for b in CFG.beta))
    back = ModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back == cfg
    assert hash(back) == hash(cfg)


def test_config_rejects_bad_values():
    with pytest.raises(ValidationError):
        ModelConfig(beta=(0.1, 0.2))
    with pytest.raises(ValidationError):
        ModelConfig(linger_s=(-1,) * len(KINDS))
    with pytest.raises(ValidationError):
        ModelConfig.from_dict({"betta": 1})
    with pytest.raises(ValidationError):
        ModelConfig.from_dict({"beta": {"boat": 1.0}})
