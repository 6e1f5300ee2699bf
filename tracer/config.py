"""Every parameter of the exposure model, with its default and its source.

One frozen dataclass, :class:`ModelConfig`. Per-kind parameters are tuples
in the order of :data:`tracer.schema.KINDS` (venue, flight, train, bus,
vehicle, checkpoint, grid, residence). ``MODEL.md`` at the repository root
derives each value; the comments here name the source in one line.

Examples
--------
>>> from tracer.config import ModelConfig
>>> cfg = ModelConfig()
>>> cfg.pre_onset_days
2.0
>>> ModelConfig.from_dict(cfg.to_dict()) == cfg
True
>>> ModelConfig(bus_sealed=False).bus_sealed
False
"""

import math
from dataclasses import dataclass, fields

from .errors import ValidationError
from .schema import KINDS

__all__ = ["ModelConfig", "PER_KIND_FIELDS"]

#: Fields holding one value per kind (ordered as :data:`tracer.schema.KINDS`).
PER_KIND_FIELDS = (
    "beta",
    "linger_s",
    "decay_seats",
    "row_weight",
    "background",
    "cross_section",
    "layout_rows",
    "layout_cols",
)

_INT_FIELDS = ("venue_close_min_s", "grid_close_min_s", "flight_close_rows", "ventilated_bus_close_rows")


@dataclass(frozen=True)
class ModelConfig:
    """Parameters of the exposure model (see ``MODEL.md`` for derivations).

    Event probability ``p = 1 - exp(-beta[kind] * proximity * infectiousness
    * hours)``. ``beta`` is a hazard per hour for a source at peak
    infectiousness (1.0) and proximity 1.0 (the adjacent seat, or for kinds
    without seats the average co-present person); it folds in the setting
    factor of the architecture page.

    Examples
    --------
    >>> ModelConfig().beta[1]  # flight
    0.0262
    """

    # --- hazard per hour at proximity 1 and peak infectiousness --------------
    beta: tuple = (
        0.01,  # venue: modelling choice, 1/10 of Lu et al., Emerg Infect Dis 2020 (Guangzhou restaurant, ~0.105/h)
        0.0262,  # flight: = train near field (Hu et al. 2021); far field lowered through `background`
        0.0262,  # train: Hu et al., Clin Infect Dis 2021, adjacent seat +1.3 pp/h at infectiousness 0.5
        0.40,  # bus: Shen et al., JAMA Intern Med 2020, sealed bus ~34% over 100 min at peak infectiousness
        0.08,  # vehicle: modelling choice, ~3x the train adjacent seat (car cabin; Mathai et al., Sci Adv 2021)
        0.005,  # checkpoint: modelling choice, brief passes, mostly outdoors
        0.0005,  # grid: modelling choice, telecom cell of ~1 km2 (China's 2021 "spatiotemporal companion" rule)
        0.00133,  # residence: Madewell et al., JAMA Netw Open 2020, household SAR 16.6% over the window
    )
    # --- seconds the source's interval is padded by (air that stays) --------
    linger_s: tuple = (
        1800,  # venue: one air-change time at 2 ACH (room air decays e-fold in 30 min)
        0,  # flight: everyone leaves together
        200,  # train: fits Hu et al. 2021: 0.075% attack rate in the index's seat after them
        0,  # bus: no data; passengers mostly leave with the source
        0,  # vehicle: everyone leaves together
        0,  # checkpoint: mostly outdoors
        0,  # grid: outdoor / km-scale cell
        0,  # residence: intervals already span whole days
    )
    # --- infectious window and onset (days) ---------------------------------
    pre_onset_days: float = 2.0  # China's protocol (7th ed., 2020): trace from 2 days before onset/sampling
    post_onset_days: float = 10.0  # end of the window when no isolation date is known
    incubation_days: float = 5.2  # Li et al., N Engl J Med 2020: mean incubation 5.2 days (hop >= 2 onsets)
    # --- infectiousness profile: shifted gamma relative to onset ------------
    # He et al., Nat Med 2020, as corrected (Author Correction, Nat Med 2020;
    # Ashcroft et al., Swiss Med Wkly 2020): density gamma(t + shift; shape, rate)
    profile_shape: float = 20.516508
    profile_rate_per_day: float = 1.592124
    profile_shift_days: float = 12.272481
    asymptomatic_relative: float = 1.0  # modelling choice (conservative); Buitrago-Garcia et al., PLoS Med 2020: 0.35
    reference_infectiousness: float = 0.5  # calibration value ~ mean profile over the [-2, +10] day window (0.48)
    # --- seat geometry (seat kinds: flight, train, bus; others unused) ------
    decay_seats: tuple = (1.0, 1.8, 1.8, 1.8, 1.0, 1.0, 1.0, 1.0)  # fitted to Hu et al. 2021 (seat widths)
    row_weight: tuple = (1.0, 4.0, 5.0, 4.0, 1.0, 1.0, 1.0, 1.0)  # one row = this many seat widths (pitch x backrest)
    background: tuple = (1.0, 0.005, 0.01, 0.6, 1.0, 1.0, 1.0, 1.0)  # far-field share; bus: Shen et al. 2020 (sealed)
    bus_ventilated_background: float = 0.02  # modelling choice: ventilated bus ~ train carriage
    cross_section: tuple = (1.0, 0.002, 0.002, 0.002, 1.0, 1.0, 1.0, 1.0)  # other cabin / carriage: modelling choice
    layout_rows: tuple = (0, 30, 18, 15, 0, 0, 0, 0)  # typical section for unknown seats: A320 / CRH 2nd class / coach
    layout_cols: tuple = (0, 6, 5, 4, 0, 0, 0, 0)
    # --- official rule classes (China's contact-tracing protocol) -----------
    venue_close_min_s: int = 900  # co-presence of 15 min or more at a venue is a close contact
    grid_close_min_s: int = 600  # "spatiotemporal companion": 10 min in the same cell
    bus_sealed: bool = True  # sealed bus: everyone on board is close (Shen et al. 2020)
    flight_close_rows: int = 3  # same row and 3 rows in front and behind
    ventilated_bus_close_rows: int = 3  # ventilated bus: same row and 3 rows either side

    def __post_init__(self):
        for name in PER_KIND_FIELDS:
            value = getattr(self, name)
            if isinstance(value, dict):
                value = _from_kind_dict(name, value)
            value = tuple(value)
            if len(value) != len(KINDS):
                raise ValidationError(
                    f"model config: {name} has {len(value)} values, expected {len(KINDS)}",
                    hint="give one value per kind in the order " + ", ".join(KINDS),
                )
            object.__setattr__(self, name, value)
        for name, value in self._numbers():
            if not math.isfinite(value) or value < 0:
                raise ValidationError(f"model config: {name} = {value!r} must be a finite number >= 0")
        if self.profile_shape <= 1 or self.profile_rate_per_day <= 0:
            raise ValidationError("model config: profile_shape must be > 1 and profile_rate_per_day > 0")
        if any(d <= 0 for d in self.decay_seats) or any(b > 1 for b in self.background):
            raise ValidationError("model config: decay_seats must be > 0 and background <= 1")

    def _numbers(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                continue
            for v in value if isinstance(value, tuple) else (value,):
                if not isinstance(v, (int, float)):
                    raise ValidationError(f"model config: {f.name} holds {v!r}, not a number")
                yield f.name, v

    def to_dict(self):
        """JSON-able dict; per-kind fields become ``{kind name: value}``.

        >>> ModelConfig().to_dict()["linger_s"]["venue"]
        1800
        """
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = dict(zip(KINDS, value)) if f.name in PER_KIND_FIELDS else value
        return out

    @classmethod
    def from_dict(cls, data):
        """Build from :meth:`to_dict` output; missing keys keep their default.

        Per-kind fields may be a ``{kind: value}`` dict (missing kinds keep
        the default) or a list in :data:`tracer.schema.KINDS` order.

        >>> ModelConfig.from_dict({"beta": {"venue": 0.02}}).beta[0]
        0.02
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(
                f"model config: unknown parameter(s) {', '.join(unknown)}",
                hint="check the spelling against ModelConfig in tracer/config.py",
            )
        defaults = cls()
        kwargs = {}
        for name, value in data.items():
            if name in PER_KIND_FIELDS and isinstance(value, dict):
                value = _from_kind_dict(name, value, getattr(defaults, name))
            elif name in _INT_FIELDS:
                value = int(value)
            elif isinstance(value, list):
                value = tuple(value)
            kwargs[name] = value
        return cls(**kwargs)


def _from_kind_dict(name, mapping, default=None):
    """Per-kind tuple from ``{kind name: value}``; gaps from ``default``."""
    bad = sorted(set(mapping) - set(KINDS))
    if bad:
        raise ValidationError(
            f"model config: {name} names unknown kind(s) {', '.join(map(str, bad))}",
            hint="use one of " + ", ".join(KINDS),
        )
    if default is None and len(mapping) != len(KINDS):
        raise ValidationError(f"model config: {name} needs a value for every kind", hint=", ".join(KINDS))
    return tuple(mapping.get(k, default[i] if default else None) for i, k in enumerate(KINDS))
