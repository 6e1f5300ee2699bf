"""Synthetic outbreaks: a city, its presences, and an epidemic with ground truth.

:func:`generate_city` draws a city (:mod:`tracer.synth_city`), seeds an
epidemic and spreads it day by day through the very co-presences it
generated, with the exposure model of :mod:`tracer.model`: every infection
in the ground truth happened at a place and time where infector and
infectee were both present. The case list handed to an analyst
(``SynthCity.cases``) holds the infections confirmed (sampled) before the
end of the period, and the presences of those cases stop at isolation.

Everything is drawn from ``numpy.random.Generator(PCG64(seed))``: the same
arguments give identical frames.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import ValidationError
from .presence import Batch, fingerprint
from .schema import BATCH_COLUMNS, KIND_CODES, KINDS
from .synth_city import DAY_S, CityConfig, build_city

__all__ = ["SynthCity", "generate_city", "resident_id_check", "INCUBATION_LOGNORMAL"]

#: Incubation period, lognormal (mu, sigma) in log-days: mean 5.2 d, 95th
#: percentile 12.5 d (Li et al., NEJM 2020, doi:10.1056/NEJMoa2001316).
INCUBATION_LOGNORMAL = (1.434, 0.661)
P_ASYMPTOMATIC = 0.25  # 20-30%: Buitrago-Garcia et al., PLoS Med 2020
ISOLATION_DELAY_DAYS = (0.5, 3.0)  # onset → sampled and isolated, uniform
SCREENING_DELAY_DAYS = (3.0, 10.0)  # asymptomatic: infection → found by screening
SPREAD_KINDS = tuple(KIND_CODES[k] for k in KINDS if k != "grid")  # grid is an observation layer

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))
_ID_REGIONS = ("530102", "530103", "530111", "530112", "530114",  # Kunming, where most residents were born
               "110101", "310101", "440106", "510104", "420102")  # Beijing, Shanghai, Guangzhou, Chengdu, Wuhan
_ID_REGION_P = (0.18, 0.16, 0.18, 0.14, 0.06, 0.06, 0.06, 0.06, 0.06, 0.04)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_SURNAME_P = np.array([7.1, 7.0, 6.6, 5.4, 4.5, 3.1, 2.2, 2.1, 2.0, 1.9,
                       1.6, 1.5, 1.4, 1.3, 1.3, 1.2, 1.1, 1.1, 1.1, 0.9])  # % of the population
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文辉建国志红梅鹏飞宇浩然欣怡子涵俊"


@dataclass
class SynthCity:
    """A synthetic city with an outbreak and its ground truth.

    Attributes
    ----------
    batch : :class:`tracer.presence.Batch` ready for ``Store.append``.
    persons : ``key, name, phone, district, home`` (home is a place key).
    infections : ground truth, one row per infected person: ``person,
        infected_by, place, time, onset, sampled, isolated, asymptomatic,
        hop``; times are UTC epoch seconds (nullable ``Int64``), seeds have
        ``infected_by`` and ``place`` None and hop 0.
    cases : the A-class list for an analyst: ``person, onset, sampled,
        isolated`` as tz-aware Timestamps in ``tz`` (onset NaT when
        asymptomatic), for every infection sampled before ``end_s``.
    tz, start_s, end_s : the zone and the simulated period (UTC s).
    """

    batch: Batch
    persons: pd.DataFrame
    infections: pd.DataFrame
    cases: pd.DataFrame
    tz: str
    start_s: int
    end_s: int


def resident_id_check(first17):
    """The ISO 7064 MOD 11-2 check character of 17-digit strings (vectorised).

    >>> resident_id_check(["11010519491231002"]).tolist()
    ['X']
    """
    raw = np.array(first17, dtype="S17")
    digits = raw.view(np.uint8).reshape(len(raw), 17).astype(np.int64) - 48
    return _ID_CHECK[(digits @ _ID_WEIGHTS) % 11]


def _distinct(draw, n):
    """``draw(rows)`` for rows ``0..n-1``, redrawing the rows whose value was
    already taken until all ``n`` values are distinct (deterministic)."""
    values = draw(np.arange(n))
    while True:
        dup = pd.Series(values).duplicated().to_numpy()
        if not dup.any():
            return values
        values[dup] = draw(np.flatnonzero(dup))


def _resident_ids(rng, birth_s):
    """Distinct 18-digit resident ID numbers for the given ``YYYYMMDD`` births."""

    def draw(rows):
        region = np.array(_ID_REGIONS)[rng.choice(len(_ID_REGIONS), size=len(rows), p=_ID_REGION_P)]
        seq = np.char.zfill(rng.integers(0, 1000, len(rows)).astype(str), 3)
        body = np.char.add(np.char.add(region, birth_s[rows]), seq)
        return np.char.add(body, resident_id_check(body)).astype(object)

    return _distinct(draw, len(birth_s))


def _make_people(rng, n, start_date):
    """``key, name, phone, age``: valid resident IDs, names, unique phones."""
    band = rng.choice(9, size=n, p=[0.10, 0.11, 0.15, 0.16, 0.15, 0.14, 0.10, 0.06, 0.03])
    age_days = ((band * 10 + rng.random(n) * 10) * 365.25).astype(np.int64)
    birth = np.datetime64(start_date, "D") - age_days.astype("timedelta64[D]")
    keys = _resident_ids(rng, np.char.replace(np.datetime_as_string(birth, unit="D"), "-", ""))

    def phones(rows):
        head = np.char.add("1", rng.integers(3, 10, len(rows)).astype(str))
        return np.char.add(head, np.char.zfill(rng.integers(0, 10**9, len(rows)).astype(str), 9)).astype(object)

    given = np.array(list(_GIVEN))
    surname = np.array(list(_SURNAMES))[rng.choice(len(_SURNAMES), size=n, p=_SURNAME_P / _SURNAME_P.sum())]
    name = np.char.add(surname, given[rng.integers(0, len(given), n)])
    name = np.char.add(name, np.where(rng.random(n) < 0.6, given[rng.integers(0, len(given), n)], ""))
    return pd.DataFrame({"key": keys, "name": name.astype(object),
                         "phone": _distinct(phones, n), "age": age_days // 365})


# --------------------------------------------------------------------------- epidemic


def _linger_by_kind(cfg):
    """``cfg.linger_s`` (one value per kind) as an int64 array by kind code."""
    return np.asarray(cfg.linger_s, dtype=np.int64)


class _Epidemic:
    """Per-person infection state; times are UTC s (float, inf = never)."""

    def __init__(self, n, end_s):
        self.time = np.full(n, np.inf)
        self.onset = np.full(n, np.inf)  # true (or, if asymptomatic, virtual) onset
        self.sampled = np.full(n, np.inf)
        self.isolated = np.full(n, np.inf)  # only cases confirmed within the period
        self.asym = np.zeros(n, bool)
        self.by = np.full(n, -1, np.int64)
        self.place = np.full(n, -1, np.int64)
        self.hop = np.full(n, -1, np.int64)
        self.end_s = end_s

    def infect(self, rng, who, time, by, place, hop):
        m = len(who)
        incubation = rng.lognormal(*INCUBATION_LOGNORMAL, m) * DAY_S
        asym = rng.random(m) < P_ASYMPTOMATIC
        sampled = np.where(asym, time + rng.uniform(*SCREENING_DELAY_DAYS, m) * DAY_S,
                           time + incubation + rng.uniform(*ISOLATION_DELAY_DAYS, m) * DAY_S)
        self.time[who], self.onset[who], self.asym[who] = time, np.floor(time + incubation), asym
        self.sampled[who] = np.floor(sampled)
        self.isolated[who] = np.where(self.sampled[who] < self.end_s, self.sampled[who], np.inf)
        self.by[who], self.place[who], self.hop[who] = by, place, hop


def _expand(lo, hi):
    """All positions ``lo[i] <= pos < hi[i]`` with their owner ``i``."""
    count = np.maximum(hi - lo, 0)
    owner = np.repeat(np.arange(len(lo)), count)
    pos = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + lo[owner]
    return owner, pos


class _Lookup:
    """Row positions by person and by (place, start), for the daily sweep."""

    def __init__(self, rows, n_people):
        self.rows = rows
        self.by_person = np.argsort(rows["person"], kind="stable")
        self.person_off = np.searchsorted(rows["person"][self.by_person], np.arange(n_people + 1))
        self.by_place = np.lexsort((rows["start"], rows["place"]))
        self.base_s = int(rows["start"].min())
        self.key = (rows["place"][self.by_place] << 32) + (rows["start"][self.by_place] - self.base_s)
        dur = pd.Series(rows["end"] - rows["start"]).groupby(rows["place"]).max()
        self.max_dur = np.zeros(int(rows["place"].max()) + 1, np.int64)
        self.max_dur[dur.index.to_numpy()] = dur.to_numpy()

    def of_people(self, people):
        _, pos = _expand(self.person_off[people], self.person_off[people + 1])
        return self.by_person[pos]

    def at_places(self, place, lo_s, hi_s):
        """For each query: rows at ``place[i]`` starting in ``[lo_s[i], hi_s[i])``."""
        lo = self.key.searchsorted((place << 32) + np.maximum(lo_s - self.base_s, 0))
        hi = self.key.searchsorted((place << 32) + np.maximum(hi_s - self.base_s, 0))
        owner, pos = _expand(lo, hi)
        return owner, self.by_place[pos]


def _day_events(look, state, linger, t0, t1):
    """Candidate (source row, target row) co-presences inside ``[t0, t1)``."""
    r = look.rows
    sources = np.flatnonzero((state.time < t0) & (state.isolated > t0))
    src = look.of_people(sources)
    src = src[np.isin(r["kind"][src], SPREAD_KINDS)]
    src_end = np.minimum(r["end"][src], state.isolated[r["person"][src]]) + linger[r["kind"][src]]
    keep = (r["start"][src] < np.minimum(t1, state.isolated[r["person"][src]])) & (src_end > t0)
    src, src_end = src[keep], src_end[keep].astype(np.int64)
    place = r["place"][src]
    owner, tgt = look.at_places(place, t0 - look.max_dur[place], np.minimum(t1, src_end))
    src, src_end = src[owner], src_end[owner]
    sp, tp = r["person"][src], r["person"][tgt]
    ov_start = np.maximum(np.maximum(r["start"][src], r["start"][tgt]), t0)
    ov_end = np.minimum(np.minimum(src_end, np.minimum(r["end"][tgt], state.isolated[tp])), t1)
    ok = (sp != tp) & np.isinf(state.time[tp]) & (ov_end > ov_start)
    return src[ok], tgt[ok], ov_start[ok].astype(np.int64), ov_end[ok].astype(np.int64)


def _spread(rng, rows, state, day_start_s, cfg, transmissibility):
    """Day by day: infections through co-presences, drawn with the exposure model."""
    from .model import event_probability, mean_infectiousness, proximity

    linger = _linger_by_kind(cfg)
    look = _Lookup(rows, len(state.time))
    bounds = np.r_[day_start_s[:-1], max(int(rows["end"].max()) + linger.max() + 1, day_start_s[-1])]
    for t0, t1 in zip(bounds[:-1], bounds[1:]):
        src, tgt, ov_start, ov_end = _day_events(look, state, linger, t0, t1)
        if not len(src):
            continue
        sp, kind = rows["person"][src], rows["kind"][src]
        # sources were infected before t0 <= ov_start: the profile never reaches back before infection
        inf = mean_infectiousness(ov_start, ov_end, state.onset[sp], cfg, asymptomatic=state.asym[sp])
        prox = proximity(kind, rows["section"][src], rows["row"][src], rows["col"][src],
                         rows["section"][tgt], rows["row"][tgt], rows["col"][tgt], cfg)
        p = np.asarray(event_probability(kind, ov_end - ov_start, prox, inf, cfg), dtype=np.float64)
        p = 1.0 - (1.0 - p) ** transmissibility  # scales the hazard β·…·hours exactly
        hit = np.flatnonzero(rng.random(len(p)) < p)
        if not len(hit):
            continue
        when = ov_start[hit] + (rng.random(len(hit)) * (ov_end[hit] - ov_start[hit])).astype(np.int64)
        tp = rows["person"][tgt[hit]]
        order = np.lexsort((when, tp))
        first = order[np.r_[True, tp[order][1:] != tp[order][:-1]]]
        who, by = tp[first], sp[hit[first]]
        place = rows["place"][src[hit[first]]]
        state.infect(rng, who, when[first].astype(np.float64), by, place, state.hop[by] + 1)


def _seed(rng, state, people, n_seeds, start_s):
    """Seed cases among adults, infected 1-4 days before the period starts
    and sampled (so isolated) no earlier than noon of the first day."""
    adults = np.flatnonzero(people["age"].to_numpy() >= 18)
    pool = adults if len(adults) >= n_seeds else np.arange(len(people))
    who = np.sort(rng.choice(pool, size=n_seeds, replace=False))
    time = np.floor(start_s - rng.uniform(1, 4, n_seeds) * DAY_S)
    state.infect(rng, who, time, -1, -1, 0)
    # a seed is still at large when the period starts
    state.sampled[who] = np.maximum(state.sampled[who], start_s + DAY_S / 2)
    state.isolated[who] = np.where(state.sampled[who] < state.end_s, state.sampled[who], np.inf)


# --------------------------------------------------------------------------- assembly


def _check_args(n_people, days, n_seeds, transmissibility, tz, start_date):
    """Raise :class:`ValidationError` for arguments a caller got wrong."""
    for name, value, low in (("n_people", n_people, 1), ("days", days, 1), ("n_seeds", n_seeds, 0)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValidationError(f"{name}={value!r} is not an integer >= {low}",
                                  hint=f"pass a whole number for {name}")
    if n_seeds > n_people:
        raise ValidationError(f"n_seeds={n_seeds} exceeds n_people={n_people}", hint="seed fewer cases")
    if not transmissibility >= 0:
        raise ValidationError(f"transmissibility={transmissibility!r} is negative", hint="use a factor >= 0")
    try:
        pd.Timestamp(start_date).tz_localize(tz)
    except Exception as exc:  # noqa: BLE001 - pandas raises several types here
        raise ValidationError(f"bad start_date {start_date!r} or tz {tz!r}: {exc}",
                              hint="use an ISO date and an IANA zone such as Asia/Shanghai") from None


def _clip_to_isolation(rows, isolated):
    """Isolated cases stop moving: drop and cut their presences at isolation."""
    iso = isolated[rows["person"]]
    keep = rows["start"] < iso
    out = {k: v[keep] for k, v in rows.items()}
    out["end"] = np.minimum(out["end"], iso[keep]).astype(np.int64)
    return out


def _presences(rows, person_keys, place_keys):
    """The batch presences frame (exact :data:`BATCH_COLUMNS` dtypes) with fingerprints."""
    person_key, place_key = person_keys[rows["person"]], place_keys[rows["place"]]
    record = fingerprint(person_key, place_key, rows["start"], rows["end"], rows["section"], rows["row"], rows["col"])
    columns = dict(rows, person_key=person_key, place_key=place_key, record=record)
    # explicit dtypes: pandas would otherwise infer (slow) arrow strings for the keys
    return pd.DataFrame({c: pd.Series(columns[c], dtype=t, copy=False) for c, t in BATCH_COLUMNS.items()})


def _infections(state, person_keys, place_keys):
    """Ground truth frame, in order of infection time."""
    who = np.flatnonzero(np.isfinite(state.time))
    who = who[np.lexsort((who, state.time[who]))]

    def seconds(values):
        ints = np.where(np.isfinite(values), values, 0).astype(np.int64)
        return pd.arrays.IntegerArray(ints, ~np.isfinite(values))

    by, place = state.by[who], state.place[who]
    return pd.DataFrame({
        "person": person_keys[who],
        "infected_by": np.where(by >= 0, person_keys[np.maximum(by, 0)], None),
        "place": np.where(place >= 0, place_keys[np.maximum(place, 0)], None),
        "time": seconds(state.time[who]),
        "onset": seconds(np.where(state.asym[who], np.inf, state.onset[who])),
        "sampled": seconds(state.sampled[who]),
        "isolated": seconds(state.isolated[who]),
        "asymptomatic": state.asym[who],
        "hop": state.hop[who],
    })


def _cases(infections, end_s, tz):
    """The A-class list: infections sampled before ``end_s``, times tz-aware in ``tz``."""
    confirmed = infections[infections["sampled"].notna() & (infections["sampled"] < end_s)]

    def stamps(col):
        values = confirmed[col].astype("float64").to_numpy()
        return pd.to_datetime(values, unit="s", utc=True).tz_convert(tz)

    return pd.DataFrame({"person": confirmed["person"].to_numpy(), "onset": stamps("onset"),
                         "sampled": stamps("sampled"), "isolated": stamps("isolated")})


def generate_city(n_people=5000, days=14, seed=0, start_date="2020-01-10", tz="Asia/Shanghai", n_seeds=3,
                  config=None, transmissibility=1.0, epidemic=True, city_config=None):
    """Generate a synthetic city with an outbreak and its ground truth.

    Parameters
    ----------
    n_people, days : residents and simulated days (local midnights in ``tz``).
    seed : seed of the one ``numpy.random.Generator(PCG64(seed))`` used.
    start_date : first local day, ISO date.
    n_seeds : infected residents at the start (infected 1-4 days before).
    config : :class:`tracer.config.ModelConfig` for spreading (default one).
    transmissibility : multiplies every event hazard (1.0 = the model as is;
        with the default city that gives tens to a few hundred infections
        among 5000 people in 14 days, depending on the seed).
    epidemic : False skips spreading (no infections, no cases; fast).
    city_config : :class:`tracer.synth_city.CityConfig` knobs of the city.

    Returns
    -------
    SynthCity
        Presences come in no particular order. Seeds are infected before
        the period; infection times, onsets and sampling dates are drawn
        (incubation :data:`INCUBATION_LOGNORMAL`, :data:`P_ASYMPTOMATIC`
        without symptoms, found by screening) and a confirmed case is
        isolated when sampled. Transmission runs through every kind but
        ``grid`` (an observation layer over the venue visits).

    Examples
    --------
    >>> sc = generate_city(n_people=300, days=3, seed=1)
    >>> sc.batch.presences.columns[:3].tolist(), len(sc.persons)
    (['person_key', 'place_key', 'start'], 300)
    """
    _check_args(n_people, days, n_seeds, transmissibility, tz, start_date)
    rng = np.random.Generator(np.random.PCG64(seed))
    people = _make_people(rng, n_people, start_date)
    built = build_city(rng, people, days, start_date, tz, city_config or CityConfig())
    start_s, end_s = int(built.day_start_s[0]), int(built.day_start_s[-1])
    state = _Epidemic(n_people, end_s)
    if epidemic and n_seeds:
        if config is None:
            from .config import ModelConfig

            config = ModelConfig()
        _seed(rng, state, people, n_seeds, start_s)
        _spread(rng, built.rows, state, built.day_start_s, config, transmissibility)
    rows = _clip_to_isolation(built.rows, state.isolated)
    person_keys, place_keys = people["key"].to_numpy(), built.places["key"].to_numpy()
    used = np.flatnonzero(np.bincount(rows["place"], minlength=len(place_keys)))
    places = built.places.iloc[used].reset_index(drop=True)
    persons = pd.DataFrame({"key": person_keys, "name": people["name"], "phone": people["phone"],
                            "district": people["district"], "home": place_keys[people["home"].to_numpy()]})
    batch = Batch(
        presences=_presences(rows, person_keys, place_keys),
        persons=persons[["key", "name", "district"]].copy(),
        places=places,
        aliases=pd.DataFrame({"key": person_keys, "alias": "phone:+86" + people["phone"]}),
        source=f"synth:n={n_people}:days={days}:seed={seed}",
    )
    infections = _infections(state, person_keys, place_keys)
    return SynthCity(batch=batch, persons=persons, infections=infections, cases=_cases(infections, end_s, tz),
                     tz=tz, start_s=start_s, end_s=end_s)
