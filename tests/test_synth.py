"""Tests of the synthetic outbreak generator (tracer.synth)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracer.config import ModelConfig
from tracer.errors import ValidationError
from tracer.presence import fingerprint, validate_presences
from tracer.schema import BATCH_COLUMNS, FLAG_SEAT_UNKNOWN, KIND_CODES
from tracer.synth import SynthCity, _linger_by_kind, generate_city, resident_id_check

K = KIND_CODES
PLACE_PATTERNS = {
    "venue": r"venue:V\d{6}[0-9A-Z]\d{4}",
    "flight": r"flight:[A-Z0-9]{2}\d{4}:\d{4}-\d{2}-\d{2}",
    "train": r"train:[GD]\d{4}:\d{4}-\d{2}-\d{2}",
    "bus": r"bus:R\d{3}-\d{3}:\d{4}-\d{2}-\d{2}",
    "vehicle": r"vehicle:云A[A-Z0-9]{5}",
    "checkpoint": r"checkpoint:KM-\d{2}",
    "grid": r"grid:G\d{6}",
    "residence": r"home:\d{12}",
}
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_REGIONS = {"530102", "530103", "530111", "530112", "530114", "110101", "310101", "440106", "510104", "420102"}


def naive_check(first17):
    """ISO 7064 MOD 11-2, digit by digit."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS)) % 11]


def make(**kwargs):
    """A city and the per-kind linger (s) its spreading used."""
    city = generate_city(**kwargs)
    return city, _linger_by_kind(kwargs.get("config") or ModelConfig())


@pytest.fixture(scope="module")
def default():
    return make()


# --------------------------------------------------------------------------- helpers (oracles)


def assert_ground_truth(city, linger):
    """Every non-seed infection happened where infector and infectee were both present."""
    inf, pres = city.infections, city.batch.presences
    seeds = inf[inf["infected_by"].isna()]
    assert (seeds["hop"] == 0).all() and seeds["place"].isna().all()
    rest = inf[inf["infected_by"].notna()]
    by = inf.set_index("person")
    assert rest["infected_by"].isin(by.index).all()
    src = by.loc[rest["infected_by"]]
    assert (src["time"].to_numpy() < rest["time"].to_numpy()).all(), "infector infected before"
    assert (src["hop"].to_numpy() + 1 == rest["hop"].to_numpy()).all()
    for who, pad in (("person", False), ("infected_by", True)):
        m = rest.reset_index().merge(pres, left_on=[who, "place"], right_on=["person_key", "place_key"])
        end = m["end"] + (linger[m["kind"].to_numpy()] if pad else 0)
        inside = (m["start"] <= m["time"]) & (m["time"] <= end)
        covered = set(m.loc[inside.to_numpy(), "index"])
        assert covered == set(rest.reset_index()["index"]), f"{who} not present at place and time"
    assert not inf["person"].duplicated().any()


def body_presences(pres):
    """Presences where a person's body is (grid and checkpoints overlay them)."""
    return pres[~pres["kind"].isin([K["grid"], K["checkpoint"]])]


# --------------------------------------------------------------------------- tests


def test_types_and_validation(default):
    city, _ = default
    pres = city.batch.presences
    assert isinstance(city, SynthCity)
    assert list(pres.columns) == list(BATCH_COLUMNS)
    assert {c: pres[c].dtype for c in pres} == {c: np.dtype(t) for c, t in BATCH_COLUMNS.items()}
    # validate_presences hands keys back as pandas' str dtype: compare values
    pd.testing.assert_frame_equal(validate_presences(pres), pres, check_dtype=False)
    assert (pres["end"] >= pres["start"]).all()
    assert set(pres["kind"].unique()) == set(K.values()), "every kind occurs"


def test_records_are_fingerprints(default):
    pres = default[0].batch.presences
    again = fingerprint(pres["person_key"], pres["place_key"], pres["start"], pres["end"],
                        pres["section"], pres["row"], pres["col"])
    assert (again == pres["record"].to_numpy()).all()
    assert not pres["record"].duplicated().any()


def test_place_keys_well_formed(default):
    city, _ = default
    pres, places = city.batch.presences, city.batch.places
    for name, pattern in PLACE_PATTERNS.items():
        keys = pres.loc[pres["kind"] == K[name], "place_key"]
        bad = keys[~keys.str.fullmatch(pattern)]
        assert bad.empty, f"{name}: {bad.head().tolist()}"
    assert set(places["key"]) == set(pres["place_key"])
    kinds = places.set_index("key")["kind"]
    assert (kinds.loc[pres["place_key"]].to_numpy() == pres["kind"].to_numpy()).all()
    dated = pres[pres["kind"].isin([K["flight"], K["train"], K["bus"]])]
    date = pd.to_datetime(dated["place_key"].str[-10:])
    local = pd.to_datetime(dated["start"], unit="s", utc=True).dt.tz_convert(city.tz).dt.tz_localize(None)
    assert ((local - date) >= pd.Timedelta(0)).all() and ((local - date) < pd.Timedelta("1D")).all()


def test_person_keys_are_valid_ids(default):
    city, _ = default
    keys = city.persons["key"]
    assert keys.str.fullmatch(r"\d{17}[\dX]").all() and keys.is_unique
    assert all(naive_check(k[:17]) == k[17] for k in keys)
    assert set(keys.str[:6]) <= ID_REGIONS
    birth = pd.to_datetime(keys.str[6:14], format="%Y%m%d")  # raises on an impossible date
    assert birth.min() >= pd.Timestamp("1925-01-01") and birth.max() <= pd.Timestamp("2020-01-10")
    assert set(city.batch.presences["person_key"]) <= set(keys)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit_matches_naive(first17):
    assert resident_id_check([first17])[0] == naive_check(first17)


def test_persons_frame(default):
    city, _ = default
    persons = city.persons
    assert list(persons.columns) == ["key", "name", "phone", "district", "home"]
    assert persons["phone"].str.fullmatch(r"1[3-9]\d{9}").all() and persons["phone"].is_unique
    assert persons["name"].str.fullmatch(r"[\u4e00-\u9fff]{2,3}").all()
    assert persons["home"].str.fullmatch(PLACE_PATTERNS["residence"]).all()
    assert persons["district"].notna().all()
    aliases = city.batch.aliases
    assert (aliases["alias"] == "phone:+86" + persons["phone"].to_numpy()).all()


def test_seats_per_kind(default):
    pres = default[0].batch.presences
    unknown = (pres["flags"] & FLAG_SEAT_UNKNOWN) > 0
    seat = pres[["section", "row", "col"]]
    assert (seat[unknown] == -1).all().all()
    bounds = {"flight": ((0, 0), (1, 40), (0, 5)), "train": ((1, 16), (1, 20), (0, 4)),
              "bus": ((0, 0), (1, 12), (0, 3))}
    for name, limits in bounds.items():
        s = seat[(pres["kind"] == K[name]) & ~unknown]
        assert len(s), name
        for col, (lo, hi) in zip(s.columns, limits):
            assert s[col].between(lo, hi).all(), (name, col)
        if name != "bus":  # one passenger per seat on a flight or a train
            assert not pres.loc[s.index, ["place_key", "section", "row", "col"]].duplicated().any()
    others = pres[~pres["kind"].isin([K[n] for n in bounds])]
    assert (others[["section", "row", "col"]] == -1).all().all()
    trains = pres[pres["kind"] == K["train"]].groupby("place_key")[["start", "end"]].nunique()
    assert (trains.max(axis=1) > 1).any(), "passengers board and alight at their own stations"


def test_itineraries_do_not_overlap(default):
    body = body_presences(default[0].batch.presences).sort_values(["person_key", "start", "end"])
    same = body["person_key"].to_numpy()[1:] == body["person_key"].to_numpy()[:-1]
    assert (body["start"].to_numpy()[1:][same] >= body["end"].to_numpy()[:-1][same]).all()


def test_people_sleep_at_home(default):
    city, _ = default
    pres = city.batch.presences
    home = pres[pres["kind"] == K["residence"]]
    home = home.merge(city.persons[["key", "home"]], left_on="person_key", right_on="key")
    assert (home["place_key"] == home["home"]).all()
    nights = pd.date_range("2020-01-11 03:00", periods=13, freq="D", tz=city.tz).as_unit("s").asi8
    asleep = sum(((home["start"] <= t) & (home["end"] > t)).sum() for t in nights)
    isolated = city.cases["isolated"].notna().sum() * len(nights)
    assert asleep >= 0.95 * (len(city.persons) * len(nights) - isolated)


def test_skewed_venue_popularity(default):
    pres = default[0].batch.presences
    visits = pres.loc[pres["kind"] == K["venue"], "place_key"].value_counts()
    assert visits.iloc[0] >= 10 * visits.median()


def test_outbreak_with_defaults(default):
    city, linger = default
    assert len(city.infections) > 3 + 3 and len(city.cases) >= 3
    assert_ground_truth(city, linger)


def test_cases_are_confirmed_infections(default):
    city, _ = default
    inf, cases = city.infections, city.cases
    assert list(cases.columns) == ["person", "onset", "sampled", "isolated"]
    confirmed = inf[inf["sampled"].notna() & (inf["sampled"] < city.end_s)]
    assert list(cases["person"]) == list(confirmed["person"])
    assert str(cases["sampled"].dt.tz) == city.tz
    sym = ~inf["asymptomatic"]
    assert (inf.loc[sym, "onset"] > inf.loc[sym, "time"]).all() and inf.loc[~sym, "onset"].isna().all()
    assert (inf["sampled"] > inf["time"]).all()
    asym_cases = cases["person"].isin(inf.loc[inf["asymptomatic"], "person"])
    assert cases.loc[asym_cases, "onset"].isna().all() and cases.loc[~asym_cases, "onset"].notna().all()
    iso = confirmed.set_index("person")["isolated"]
    pres = city.batch.presences
    mine = pres[pres["person_key"].isin(iso.index)]
    assert (mine["end"].to_numpy() <= iso.loc[mine["person_key"]].to_numpy()).all(), "isolated cases stop moving"


def test_deterministic_under_seed():
    a, _ = make(n_people=400, days=4, seed=7, n_seeds=5)
    b, _ = make(n_people=400, days=4, seed=7, n_seeds=5)
    c, _ = make(n_people=400, days=4, seed=8, n_seeds=5)
    for name in ("presences", "persons", "places", "aliases"):
        pd.testing.assert_frame_equal(getattr(a.batch, name), getattr(b.batch, name))
    for name in ("persons", "infections", "cases"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.batch.presences["record"].equals(c.batch.presences["record"])
    assert not a.persons["key"].equals(c.persons["key"])


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_people=st.integers(1, 400), days=st.integers(1, 4))
def test_small_cities_keep_invariants(seed, n_people, days):
    city, linger = make(n_people=n_people, days=days, seed=seed, n_seeds=min(3, n_people), transmissibility=30.0)
    pres = city.batch.presences
    pd.testing.assert_frame_equal(validate_presences(pres), pres, check_dtype=False)
    assert set(city.persons["key"]) == set(city.batch.presences["person_key"])  # everyone sleeps somewhere
    assert_ground_truth(city, linger)


def test_without_epidemic():
    city, _ = make(n_people=300, days=2, epidemic=False)
    assert city.infections.empty and city.cases.empty
    assert len(city.batch) > 300


@pytest.mark.parametrize("kwargs", [dict(n_people=0), dict(days=0), dict(n_people=5, n_seeds=6),
                                   dict(tz="Mars/Olympus"), dict(start_date="2020-13-40"),
                                   dict(transmissibility=-1.0), dict(n_people=2.5)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValidationError):
        generate_city(**kwargs)
