"""The synthetic city behind :func:`tracer.synth.generate_city`.

People (valid resident ID numbers, Chinese names, phones, households),
places (homes, venues with skewed popularity and two hubs, workplaces,
schools, bus runs, taxis, flights, trains, checkpoints, grid cells) and each
person's day-by-day itinerary as integer-coded presence rows. Everything is
drawn from one ``numpy.random.Generator`` so a seed fixes the whole city.
The strings (keys, names) are made once per person or place, never per row.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .schema import FLAG_END_ESTIMATED, FLAG_SEAT_UNKNOWN, FLAG_TIME_APPROX, KIND_CODES

__all__ = ["CityConfig", "City", "build_city"]

MIN_S, HOUR_S, DAY_S = 60, 3600, 86400
K = KIND_CODES
#: Kunming districts: code, name, centre lat, lon, share of households.
DISTRICTS = (
    ("530102", "五华区", 25.043, 102.704, 0.25),
    ("530103", "盘龙区", 25.070, 102.720, 0.22),
    ("530111", "官渡区", 25.015, 102.745, 0.25),
    ("530112", "西山区", 25.030, 102.665, 0.20),
    ("530114", "呈贡区", 24.885, 102.821, 0.08),
)
LEISURE = ("餐厅", "超市", "农贸市场", "药店", "茶馆", "健身房", "电影院", "理发店", "便利店", "网吧")
DESTINATIONS = ("大理", "丽江", "曲靖", "贵阳", "楚雄", "玉溪", "广州", "上海", "北京", "成都")
AIRLINES = ("CA", "MU", "CZ", "3U", "MF", "KY", "HU", "ZH")
BUS_FIRST_MIN, BUS_RUN_MIN, BUS_RUNS = 360, 10, 102  # runs every 10 min, 06:00-23:00
FLIGHT_SEATS, TRAIN_SEATS = (40, 6), (16, 20, 5)


@dataclass(frozen=True)
class CityConfig:
    """Knobs of the synthetic city (rates per person-day unless noted).

    >>> CityConfig(p_travel=0.02).p_travel
    0.02
    """

    people_per_venue: int = 25  # leisure venues: one per this many residents
    people_per_workplace: int = 60
    people_per_school: int = 800
    unit_size: int = 20  # people per office floor (school classes: twice that)
    people_per_route: int = 250  # bus routes: a run carries a few dozen at rush hour
    venue_sigma: float = 1.3  # lognormal spread of venue popularity (the skew)
    mall_share: float = 0.05  # share of leisure visits that go to the big mall
    station_share: float = 0.01  # share of leisure visits to the railway station
    p_local: float = 0.6  # leisure visit inside the home district
    p_travel: float = 0.006  # a train or flight that day (Spring Festival rush)
    p_bus: float = 0.35  # a person's usual ride is a bus ...
    p_taxi: float = 0.12  # ... or a taxi (else untracked walking/cycling)
    p_grid: float = 0.3  # a venue visit also shows up as cell-grid presence
    p_checkpoint: float = 0.05  # a taxi ride passes a health checkpoint
    p_end_estimated: float = 0.6  # venue scans without an exit scan


@dataclass
class City:
    """An integer-coded city: ``rows`` maps column → array (person and
    place are codes into ``people`` and ``places``)."""

    rows: dict
    people: pd.DataFrame  # key, name, phone, district, home (code), age
    places: pd.DataFrame  # key, kind, name, district, lat, lon
    day_start_s: np.ndarray  # UTC s of each local midnight, days + 1 values


class _Places:
    """Appends blocks of places and hands out their codes."""

    def __init__(self):
        self.blocks, self.n = [], 0

    def add(self, keys, kind, names, district, lat=np.nan, lon=np.nan):
        n = len(keys)
        block = pd.DataFrame({"key": keys, "kind": np.full(n, kind, np.int8), "name": names,
                              "district": district, "lat": lat, "lon": lon})
        self.blocks.append(block)
        base, self.n = self.n, self.n + n
        return base

    def frame(self):
        return pd.concat(self.blocks, ignore_index=True)


class _Rows:
    """Accumulates presence row chunks (scalars broadcast)."""

    NAMES = ("person", "place", "start", "end", "kind", "section", "row", "col", "flags")
    DTYPES = (np.int64, np.int64, np.int64, np.int64, np.int8, np.int16, np.int16, np.int16, np.uint8)

    def __init__(self):
        self.chunks = []

    def add(self, person, place, start, end, kind, section=-1, row=-1, col=-1, flags=0):
        n = len(person)
        values = (person, place, start, end, kind, section, row, col, flags)
        self.chunks.append([np.broadcast_to(np.asarray(v, t), (n,)) for v, t in zip(values, self.DTYPES)])

    def arrays(self):
        return {name: np.concatenate([c[i] for c in self.chunks]).astype(t, copy=False)
                for i, (name, t) in enumerate(zip(self.NAMES, self.DTYPES))}


def _district_names(idx):
    return np.array([d[1] for d in DISTRICTS], dtype=object)[idx]


def _coords(rng, district_idx, spread=0.03):
    lat = np.array([d[2] for d in DISTRICTS])[district_idx] + rng.normal(0, spread, len(district_idx))
    lon = np.array([d[3] for d in DISTRICTS])[district_idx] + rng.normal(0, spread, len(district_idx))
    return lat.round(5), lon.round(5)


def _venue_keys(district_idx, first_seq):
    codes = np.array([d[0] for d in DISTRICTS], dtype=object)[district_idx]
    seq = np.arange(first_seq, first_seq + len(district_idx))
    return np.array([f"venue:V{c}{s:05d}" for c, s in zip(codes, seq)], dtype=object)


def _households(rng, n_people, places):
    """Assign people to households of 1-5; returns home code per person."""
    sizes = rng.choice(np.arange(1, 6), size=n_people, p=[0.2, 0.3, 0.25, 0.15, 0.1])
    ends = np.cumsum(sizes)
    n_home = int(np.searchsorted(ends, n_people) + 1)
    household = np.repeat(np.arange(n_home), sizes[:n_home])[:n_people]
    share = np.array([d[4] for d in DISTRICTS])
    dist = rng.choice(len(DISTRICTS), size=n_home, p=share / share.sum())
    codes = np.array([d[0] for d in DISTRICTS], dtype=object)[dist]
    keys = np.array([f"home:{c}{i:06d}" for c, i in zip(codes, range(n_home))], dtype=object)
    names = np.array([f"{d}住宅{i % 997 + 1}号楼" for i, d in enumerate(_district_names(dist))], dtype=object)
    base = places.add(keys, K["residence"], names, _district_names(dist), *_coords(rng, dist))
    return base + household, dist[household]


def _venues(rng, n_people, cfg, places):
    """Leisure venues with popularity weights, the railway station, the big
    mall and the airport.

    The mall is split into zones of a 5000-resident city's crowd each (each
    zone its own scan code, as malls had per-floor codes), so its crowd per
    code does not grow with the city while the station's does.
    """
    n_leisure = max(20, n_people // cfg.people_per_venue)
    dist = rng.choice(len(DISTRICTS), size=n_leisure)
    cat = rng.integers(0, len(LEISURE), n_leisure)
    names = [f"{d}{LEISURE[c]}{i + 1}号店" for i, (d, c) in enumerate(zip(_district_names(dist), cat))]
    hubs_dist = np.array([0, 2])
    hub_keys = np.array(["venue:V530102S0001", "venue:V530111A0001"], dtype=object)
    hub_names = np.array(["昆明站", "昆明长水国际机场"], dtype=object)
    hub_base = places.add(hub_keys, K["venue"], hub_names, _district_names(hubs_dist),
                          *_coords(rng, hubs_dist, 0.001))
    n_zones = max(1, round(n_people / 5000))
    zone_keys = np.array([f"venue:V530102M{z + 1:04d}" for z in range(n_zones)], dtype=object)
    zone_names = np.array([f"顺城购物中心{z + 1}区" for z in range(n_zones)], dtype=object)
    zone_base = places.add(zone_keys, K["venue"], zone_names, _district_names(np.zeros(n_zones, np.int64)),
                           *_coords(rng, np.zeros(n_zones, np.int64), 0.001))
    base = places.add(_venue_keys(dist, 1), K["venue"], np.array(names, dtype=object), _district_names(dist),
                      *_coords(rng, dist))
    weight = rng.lognormal(0.0, cfg.venue_sigma, n_leisure)
    rest = 1.0 - cfg.mall_share - cfg.station_share
    weight = np.concatenate([[cfg.station_share], np.full(n_zones, cfg.mall_share / n_zones),
                             rest * weight / weight.sum()])
    return {
        "leisure": np.concatenate([[hub_base], zone_base + np.arange(n_zones), base + np.arange(n_leisure)]),
        "leisure_district": np.concatenate([[0], np.zeros(n_zones, np.int64), dist]),
        "weight": weight,
        "station": hub_base, "airport": hub_base + 1, "next_seq": n_leisure + 1,
    }


def _grid_of_places(places_frame):
    """Map every place with coordinates to a ~1 km grid cell place."""
    lat, lon = places_frame["lat"].to_numpy(), places_frame["lon"].to_numpy()
    ok = ~np.isnan(lat) & (places_frame["kind"].to_numpy() == K["venue"])
    ix = np.floor(np.where(ok, lon - 102.4, 0) / 0.01).astype(np.int64)
    iy = np.floor(np.where(ok, lat - 24.6, 0) / 0.009).astype(np.int64)
    cell = np.where(ok, ix * 1000 + iy, -1)
    return cell


def _transport(rng, n_people, days, dates, places, cfg):
    """Bus runs, taxis, checkpoints, flights and trains (all days)."""
    n_routes = max(3, n_people // cfg.people_per_route)
    route, day, run = np.meshgrid(np.arange(n_routes), np.arange(days), np.arange(BUS_RUNS), indexing="ij")
    keys = [f"bus:R{r:03d}-{u:03d}:{dates[d]}" for r, d, u in zip(route.ravel(), day.ravel(), run.ravel())]
    names = [f"{r + 1}路公交" for r in route.ravel()]
    bus_base = places.add(np.array(keys, dtype=object), K["bus"], np.array(names, dtype=object), None)
    n_taxi = max(10, n_people // 150)
    letters = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"))
    plates = set()
    while len(plates) < n_taxi:
        plates.add("云A" + "".join(letters[rng.integers(0, 24)]) + "".join(letters[rng.integers(0, 34, 4)]))
    taxi_keys = np.array(["vehicle:" + p for p in sorted(plates)], dtype=object)
    taxi_base = places.add(taxi_keys, K["vehicle"], np.array(["出租车"] * n_taxi, dtype=object), None)
    n_check = 6
    ck_keys = np.array([f"checkpoint:KM-{i + 1:02d}" for i in range(n_check)], dtype=object)
    ck_names = np.array([f"高速收费站检查点{i + 1}" for i in range(n_check)], dtype=object)
    ck_base = places.add(ck_keys, K["checkpoint"], ck_names, None)
    return {
        "n_routes": n_routes, "bus_base": bus_base,
        "taxi": taxi_base + np.arange(n_taxi), "checkpoint": ck_base + np.arange(n_check),
        "flight": _services(rng, days, dates, places, "flight", max(2, n_people // 3000)),
        "train": _services(rng, days, dates, places, "train", max(2, n_people // 4000)),
    }


def _services(rng, days, dates, places, kind, n_per_day):
    """Daily scheduled services; returns codes (days, n) and stop offsets."""
    if kind == "flight":
        numbers = {f"{AIRLINES[rng.integers(len(AIRLINES))]}{rng.integers(1000, 10000)}" for _ in range(3 * n_per_day)}
        stops = np.zeros((n_per_day, 2), np.int64)
        stops[:, 1] = rng.integers(80, 241, n_per_day) * MIN_S
        first = rng.integers(7 * 60, 21 * 60, n_per_day) * MIN_S
        city = rng.integers(0, 2, n_per_day)  # 0: departs here, 1: arrives here
    else:
        numbers = {f"{'GD'[rng.integers(2)]}{rng.integers(1000, 10000)}" for _ in range(3 * n_per_day)}
        n_stops = rng.integers(4, 8, n_per_day)
        seg = rng.integers(15, 46, (n_per_day, 7)) * MIN_S
        stops = np.concatenate([np.zeros((n_per_day, 1), np.int64), np.cumsum(seg, axis=1)], axis=1)
        stops = np.where(np.arange(8) < n_stops[:, None], stops, -1)
        first = rng.integers(6 * 60 + 30, 19 * 60, n_per_day) * MIN_S
        city = rng.integers(0, n_stops)
    numbers = sorted(numbers)[:n_per_day]
    keys = [f"{kind}:{num}:{dates[d]}" for d in range(days) for num in numbers]
    arrow = np.where(city == 0, "→", "←")
    names = [f"{num} 昆明{arrow[i]}{DESTINATIONS[i % len(DESTINATIONS)]}" if kind == "flight" else num
             for _d in range(days) for i, num in enumerate(numbers)]
    base = places.add(np.array(keys, dtype=object), K[kind], np.array(names, dtype=object), None)
    codes = base + np.arange(days * n_per_day).reshape(days, n_per_day)
    return {"codes": codes, "stops": stops, "first": first, "city": city}


def build_city(rng, people, days, start_date, tz, cfg=None):
    """Draw places and itineraries for ``people`` (a frame with ``age``).

    Adds ``home`` (place code) and ``district`` to ``people``.

    Examples
    --------
    >>> rng = np.random.Generator(np.random.PCG64(0))
    >>> city = build_city(rng, pd.DataFrame({"age": np.full(300, 30)}), 2, "2020-01-10", "Asia/Shanghai")
    >>> bool(len(city.rows["person"]) > 300)
    True
    """
    cfg = cfg or CityConfig()
    n_people = len(people)
    local = pd.date_range(start_date, periods=days + 1, freq="D", tz=tz)
    day_start_s = local.as_unit("s").asi8.astype(np.int64)
    dates = [d.strftime("%Y-%m-%d") for d in local[:days]]
    places = _Places()
    people["home"], home_district = _households(rng, n_people, places)
    people["district"] = _district_names(home_district)
    venues = _venues(rng, n_people, cfg, places)
    transport = _transport(rng, n_people, days, dates, places, cfg)
    rows = _Rows()
    weekday = local.day_of_week[:days]
    _itineraries(rng, rows, people, home_district, venues, transport, day_start_s, weekday, cfg, places)
    arrays = rows.arrays()
    _add_grid_rows(rng, arrays, places.frame(), places, cfg)
    return City(rows=arrays, people=people, places=places.frame(), day_start_s=day_start_s)


def _add_grid_rows(rng, rows, frame, places, cfg):
    """Cell-grid presences shadowing a share of venue visits (15-min resolution)."""
    cell_of_place = _grid_of_places(frame)
    pick = np.flatnonzero((rows["kind"] == K["venue"]) & (rng.random(len(rows["kind"])) < cfg.p_grid))
    pick = pick[cell_of_place[rows["place"][pick]] >= 0]
    cell = cell_of_place[rows["place"][pick]]
    cells = np.flatnonzero(np.bincount(cell))  # used cells, sorted (cheaper than np.unique)
    keys = np.array([f"grid:G{c // 1000:03d}{c % 1000:03d}" for c in cells], dtype=object)
    base = places.add(keys, K["grid"], np.array(["基站网格"] * len(keys), dtype=object), None)
    code_of_cell = np.zeros(cells[-1] + 1 if len(cells) else 1, np.int64)
    code_of_cell[cells] = base + np.arange(len(cells))
    step = 15 * MIN_S
    extra = {
        "person": rows["person"][pick], "place": code_of_cell[cell],
        "start": rows["start"][pick] // step * step, "end": -(-rows["end"][pick] // step) * step,
        "kind": np.full(len(pick), K["grid"], np.int8),
        "section": np.full(len(pick), -1, np.int16), "row": np.full(len(pick), -1, np.int16),
        "col": np.full(len(pick), -1, np.int16), "flags": np.full(len(pick), FLAG_TIME_APPROX, np.uint8),
    }
    for name in rows:
        rows[name] = np.concatenate([rows[name], extra[name].astype(rows[name].dtype)])


# --------------------------------------------------------------------------- itineraries


def _choose_leisure(rng, district, venues, p_local):
    """A leisure venue per draw: popularity-weighted, often in the home district."""
    w, vd = venues["weight"], venues["leisure_district"]
    out = rng.choice(len(w), size=len(district), p=w / w.sum())
    local = rng.random(len(district)) < p_local
    for k in range(len(DISTRICTS)):
        idx = np.flatnonzero(local & (district == k))
        cand = np.flatnonzero(vd == k)
        if len(idx) and len(cand):
            out[idx] = cand[rng.choice(len(cand), size=len(idx), p=w[cand] / w[cand].sum())]
    return venues["leisure"][out]


def _roles(rng, people, cfg, places, next_seq):
    """Role (0 other, 1 worker, 2 student) and anchor venue per person.

    Employers (lognormal sizes) and schools are split into floors and
    classes of a few dozen people, each its own venue code: the unit in
    which colleagues and classmates actually meet.
    """
    age = people["age"].to_numpy()
    n = len(age)
    student = ((age >= 6) & (age <= 18)) | ((age > 18) & (age <= 22) & (rng.random(n) < 0.5))
    worker = ~student & (age > 18) & (age < 60) & (rng.random(n) < 0.85)
    role = np.where(student, 2, np.where(worker, 1, 0)).astype(np.int8)
    n_work = max(5, n // cfg.people_per_workplace)
    n_school = max(2, n // cfg.people_per_school)
    size = rng.lognormal(0.0, 1.0, n_work)
    org = np.full(n, -1, np.int64)
    org[worker] = rng.choice(n_work, size=int(worker.sum()), p=size / size.sum())
    org[student] = n_work + rng.integers(0, n_school, int(student.sum()))
    who = np.flatnonzero(org >= 0)
    unit = _rank_in_group(org[who]) // np.where(org[who] < n_work, cfg.unit_size, 2 * cfg.unit_size)
    units, inv = np.unique(org[who] * 10_000 + unit, return_inverse=True)
    unit_org, unit_no = units // 10_000, units % 10_000
    org_dist = rng.choice(len(DISTRICTS), size=n_work + n_school)
    lat, lon = _coords(rng, org_dist)
    dist = org_dist[unit_org]
    names = [f"{d}公司{o + 1}·{u + 1}层" if o < n_work else f"{d}学校{o - n_work + 1}·{u + 1}班"
             for d, o, u in zip(_district_names(dist), unit_org, unit_no)]
    base = places.add(_venue_keys(dist, next_seq), K["venue"], np.array(names, dtype=object),
                      _district_names(dist), lat[unit_org], lon[unit_org])
    anchor = np.full(n, -1, np.int64)
    anchor[who] = base + inv
    return role, anchor


def _rank_in_group(group):
    """0, 1, 2, ... within each value of ``group`` (in order of appearance)."""
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    rank = np.empty(len(group), np.int64)
    rank[order] = np.arange(len(group)) - np.searchsorted(sorted_group, sorted_group, side="left")
    return rank


def _ride(rng, rows, ctx, mask, t, person, day, mode):
    """Maybe ride a bus or taxi from ``t``; emits rows, returns the new time."""
    m, tr = len(t), ctx["transport"]
    uses = mask & (mode > 0) & (rng.random(m) < 0.8)
    start = t + rng.integers(3, 16, m) * MIN_S
    dur = np.where(mode == 1, rng.integers(10, 46, m), rng.integers(8, 36, m)) * MIN_S
    minute = (start - ctx["day_start_s"][day]) // MIN_S
    run = (minute - BUS_FIRST_MIN) // BUS_RUN_MIN
    bus = np.flatnonzero(uses & (mode == 1) & (run >= 0) & (run < BUS_RUNS))
    place = tr["bus_base"] + (ctx["route"][person[bus]] * ctx["days"] + day[bus]) * BUS_RUNS + run[bus]
    standing = rng.random(len(bus)) < 0.5
    rows.add(person[bus], place, start[bus], start[bus] + dur[bus], K["bus"],
             np.where(standing, -1, 0), np.where(standing, -1, rng.integers(1, 13, len(bus))),
             np.where(standing, -1, rng.integers(0, 4, len(bus))), np.where(standing, FLAG_SEAT_UNKNOWN, 0))
    taxi = np.flatnonzero(uses & (mode == 2))
    rows.add(person[taxi], tr["taxi"][rng.integers(0, len(tr["taxi"]), len(taxi))], start[taxi],
             start[taxi] + dur[taxi], K["vehicle"])
    ck = taxi[rng.random(len(taxi)) < ctx["cfg"].p_checkpoint]
    at = start[ck] + (rng.random(len(ck)) * dur[ck]).astype(np.int64)
    rows.add(person[ck], tr["checkpoint"][rng.integers(0, len(tr["checkpoint"]), len(ck))], at,
             at + rng.integers(60, 241, len(ck)), K["checkpoint"])
    return np.where(uses, start + dur, t)


def _visit(rng, rows, ctx, mask, t, person, place, dur):
    """Walk a few minutes, then stay at a venue; returns the new time."""
    start = t + rng.integers(3, 16, len(t)) * MIN_S
    idx = np.flatnonzero(mask)
    flags = np.where(rng.random(len(idx)) < ctx["cfg"].p_end_estimated, FLAG_END_ESTIMATED, 0)
    rows.add(person[idx], place[idx], start[idx], start[idx] + dur[idx], K["venue"], flags=flags)
    return np.where(mask, start + dur, t)


def _ordinary_days(rng, rows, ctx, person, day, is_work):
    """Work and errand days: up to three stops with rides; returns dep, ret."""
    m, cfg = len(person), ctx["cfg"]
    role, anchor, mode = ctx["role"][person], ctx["anchor"][person], ctx["mode"][person]
    dep_h = np.where(is_work, rng.normal(7.75, 0.6, m).clip(5.5, 10), rng.normal(10, 1.5, m).clip(6, 14))
    dep = ctx["day_start_s"][day] + (dep_h * HOUR_S).astype(np.int64)
    extra = np.where(is_work, rng.random(m) < 0.35, rng.binomial(2, 0.4, m))
    need = (np.arange(3) <= extra[:, None]) & ~((np.arange(3) == 0) & is_work[:, None])
    stops = np.full((m, 3), -1, np.int64)
    stops[need] = _choose_leisure(rng, np.broadcast_to(ctx["home_district"][person][:, None], (m, 3))[need],
                                  ctx["venues"], cfg.p_local)
    dur = (rng.lognormal(np.log(50), 0.6, (m, 3)).clip(10, 240) * MIN_S).astype(np.int64)
    work_h = np.where(role == 2, rng.normal(8, 0.5, m), rng.normal(9, 1, m)).clip(4, 11)
    stops[:, 0] = np.where(is_work, anchor, stops[:, 0])
    dur[:, 0] = np.where(is_work, (work_h * HOUR_S).astype(np.int64), dur[:, 0])
    t, late = dep, ctx["day_start_s"][day] + 22 * HOUR_S
    for j in range(3):
        present = (j <= extra) & (t < late)
        t = _ride(rng, rows, ctx, present, t, person, day, mode)
        t = _visit(rng, rows, ctx, present, t, person, stops[:, j], dur[:, j])
    t = _ride(rng, rows, ctx, np.ones(m, bool), t, person, day, mode)
    return dep, t + rng.integers(3, 16, m) * MIN_S


def _seats(code, kind):
    """Distinct seats per service (overflow: seat unknown, like a standing ticket)."""
    rank = _rank_in_group(code)
    cap = int(np.prod(FLIGHT_SEATS if kind == "flight" else TRAIN_SEATS))
    idx = (rank * 7 + code * 131) % cap
    unknown = rank >= cap
    if kind == "flight":
        sec, row, col = np.zeros_like(idx), idx // 6 + 1, idx % 6
    else:
        sec, row, col = idx // 100 + 1, idx % 100 // 5 + 1, idx % 5
    sec, row, col = (np.where(unknown, -1, a) for a in (sec, row, col))
    return sec, row, col, np.where(unknown, FLAG_SEAT_UNKNOWN, 0)


def _travel_days(rng, rows, ctx, person, day, kind):
    """A train or flight leg through the city's station/airport; returns dep, ret."""
    svc, m = ctx["transport"][kind], len(person)
    day_start = ctx["day_start_s"][day]
    s = rng.integers(0, svc["codes"].shape[1], m)
    stops, city = svc["stops"][s], svc["city"][s]
    n_stops = (stops >= 0).sum(axis=1)
    out = (city < n_stops - 1) & ((city == 0) | (rng.random(m) < 0.5))
    board = np.where(out, city, (rng.random(m) * city).astype(np.int64))
    alight = np.where(out, city + 1 + (rng.random(m) * (n_stops - 1 - city)).astype(np.int64), city)
    t_board = day_start + svc["first"][s] + stops[np.arange(m), board]
    t_alight = day_start + svc["first"][s] + stops[np.arange(m), alight]
    code = svc["codes"][day, s]
    rows.add(person, code, t_board, t_alight, K[kind], *_seats(code, kind))
    hub = ctx["venues"]["airport" if kind == "flight" else "station"]
    wait = rng.integers(20, 61, m) * MIN_S
    hub_start = np.where(out, t_board - wait, t_alight)
    hub_end = np.where(out, t_board, t_alight + rng.integers(10, 31, m) * MIN_S)
    rows.add(person, np.full(m, hub), hub_start, hub_end, K["venue"])
    dep = np.where(out, hub_start - rng.integers(30, 91, m) * MIN_S, t_board - rng.integers(60, 181, m) * MIN_S)
    taxi = np.where(rng.random(m) < 0.5, 2, 0)
    home = _ride(rng, rows, ctx, ~out, hub_end, person, day, taxi) + rng.integers(10, 40, m) * MIN_S
    away = np.minimum(t_alight + rng.integers(2, 7, m) * HOUR_S, ctx["day_start_s"][day + 1] + 3 * HOUR_S)
    return dep, np.where(out, away, home)


def _home_rows(rows, ctx, n_people, person, day, dep, ret):
    """Home (residence) presences between outings: people sleep at home."""
    order = np.lexsort((day, person))
    person, dep, ret = person[order], dep[order], ret[order]
    t0, t1 = ctx["day_start_s"][0], ctx["day_start_s"][-1]
    first = np.r_[True, person[1:] != person[:-1]]
    last = np.r_[person[1:] != person[:-1], True]
    start = np.where(first, t0, np.r_[t0, ret[:-1]])
    home = ctx["home"]
    rows.add(person, home[person], start, dep, K["residence"])
    rows.add(person[last], home[person[last]], ret[last], np.maximum(ret[last], t1), K["residence"])
    idle = np.flatnonzero(np.bincount(person, minlength=n_people) == 0)
    rows.add(idle, home[idle], np.full(len(idle), t0), np.full(len(idle), t1), K["residence"])


def _itineraries(rng, rows, people, home_district, venues, transport, day_start_s, weekday, cfg, places):
    """Every person's days: travel, stay home, work or errands."""
    n, days = len(people), len(day_start_s) - 1
    role, anchor = _roles(rng, people, cfg, places, venues["next_seq"])
    ctx = dict(cfg=cfg, venues=venues, transport=transport, day_start_s=day_start_s, days=days,
               role=role, anchor=anchor, home_district=home_district, home=people["home"].to_numpy(),
               route=people["home"].to_numpy() % transport["n_routes"],
               mode=rng.choice(3, size=n, p=[1 - cfg.p_bus - cfg.p_taxi, cfg.p_bus, cfg.p_taxi]))
    person, day = np.repeat(np.arange(n), days), np.tile(np.arange(days), n)
    age = people["age"].to_numpy()[person]
    weekend = np.asarray(weekday)[day] >= 5
    travel = (age >= 16) & (rng.random(len(person)) < cfg.p_travel)
    p_home = np.where(age < 3, 0.6, np.where(weekend | (role[person] == 0), 0.3, 0.08))
    stay = ~travel & (rng.random(len(person)) < p_home)
    work = ~travel & ~stay & (role[person] > 0) & ~weekend
    parts = []
    out = np.flatnonzero(~travel & ~stay)
    parts.append((person[out], day[out], *_ordinary_days(rng, rows, ctx, person[out], day[out], work[out])))
    flight = rng.random(len(person)) < 0.3
    for kind, mask in (("flight", travel & flight), ("train", travel & ~flight)):
        idx = np.flatnonzero(mask)
        parts.append((person[idx], day[idx], *_travel_days(rng, rows, ctx, person[idx], day[idx], kind)))
    _home_rows(rows, ctx, n, *(np.concatenate(x) for x in zip(*parts)))
