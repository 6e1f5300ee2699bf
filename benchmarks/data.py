"""Benchmark data: synthetic cities from :func:`tracer.synth.generate_city`.

Every benchmark figure is measured on a city drawn by the project's own
generator (no epidemic: ``epidemic=False``), 14 simulated days, so the skew
is the generator's: many quiet places, a few very busy venues and grid
cells, households whose residence intervals last days. A city is stored once
per ``(n_presences, seed)`` in the work directory as a :class:`DuckStore`
(with its persisted index) and reused by later runs.

Examples
--------
>>> people_for(910_000)
20000
"""

import json
import os
import shutil
import time

import numpy as np
import pandas as pd

__all__ = [
    "DAYS", "START_DATE", "TZ", "ONSET", "PRE_ONSET_DAYS", "people_for", "city_store",
    "canonical_frame", "city_frame", "pick_cases", "case_windows",
]  # fmt: skip

#: 14 simulated days from 2020-01-10 (local midnights in Asia/Shanghai).
DAYS = 14
START_DATE = "2020-01-10"
TZ = "Asia/Shanghai"
#: Every case has onset 2020-01-14 and 4 infectious days before onset, so
#: its window [onset - 4 d, onset + 10 d) is the whole 14-day period.
ONSET = "2020-01-14"
PRE_ONSET_DAYS = 4
POST_ONSET_DAYS = 10
#: Presences per resident over 14 days in tracer.synth (measured: 910,207
#: presences for 20,000 people, seed 1).
PRESENCES_PER_PERSON = 45.5
FRAME_SQL = 'SELECT person, place, start, "end", kind, section, "row", col, flags FROM presences'


def people_for(n_presences):
    """Residents that give about ``n_presences`` presences in 14 days."""
    return max(200, int(round(n_presences / PRESENCES_PER_PERSON)))


def city_store(workdir, n_presences, seed, log=print):
    """Path of a DuckStore holding a synthetic city, and how it was made.

    Built (generate, append, first index) when missing; the ``info`` dict
    records the generation, append and first-index times and the row count.
    """
    from tracer.duck import DuckStore
    from tracer.synth import generate_city

    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, f"city-{n_presences}-s{seed}.duckdb")
    done = path + ".json"
    if os.path.exists(done):
        with open(done) as fh:
            return path, json.load(fh)
    for leftover in (path, path + ".wal"):
        if os.path.exists(leftover):
            os.remove(leftover)
    shutil.rmtree(path + ".index", ignore_errors=True)
    n_people = people_for(n_presences)
    log(f"generating a city of {n_people} people ({n_presences} presences wanted) ...")
    t0 = time.perf_counter()
    city = generate_city(n_people=n_people, days=DAYS, seed=seed, start_date=START_DATE, tz=TZ, epidemic=False)
    info = {"n_people": n_people, "generate_s": time.perf_counter() - t0, "seed": seed}
    with DuckStore(path) as store:
        t0 = time.perf_counter()
        store.append(city.batch)
        info["append_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        info["n"] = store.index().n
        info["first_index_s"] = time.perf_counter() - t0
    info.update(start_s=int(city.start_s), end_s=int(city.end_s))
    with open(done, "w") as fh:
        json.dump(info, fh)
    log(f"  {info['n']} presences: generate {info['generate_s']:.1f} s, append {info['append_s']:.1f} s")
    return path, info


def canonical_frame(con):
    """Code-level canonical presences of a store's DuckDB connection."""
    return pd.DataFrame(con.execute(FRAME_SQL).fetchnumpy(), copy=False)


def city_frame(workdir, n_presences, seed, log=print):
    """Canonical presences (codes from ``pd.factorize``) of a city, no store.

    Cached as Parquet in ``workdir``; used for the self-join when its size
    differs from the trace city's.
    """
    from tracer.synth import generate_city

    path = os.path.join(workdir, f"frame-{n_presences}-s{seed}.parquet")
    if os.path.exists(path):
        return pd.read_parquet(path)
    n_people = people_for(n_presences)
    log(f"generating a self-join city of {n_people} people ...")
    p = generate_city(n_people=n_people, days=DAYS, seed=seed, start_date=START_DATE, tz=TZ,
                      epidemic=False).batch.presences
    frame = pd.DataFrame({
        "person": pd.factorize(p["person_key"])[0].astype(np.int32),
        "place": pd.factorize(p["place_key"])[0].astype(np.int32),
        "start": p["start"].to_numpy(np.int64), "end": p["end"].to_numpy(np.int64),
        "kind": p["kind"].to_numpy(np.int8), "section": p["section"].to_numpy(np.int16),
        "row": p["row"].to_numpy(np.int16), "col": p["col"].to_numpy(np.int16),
        "flags": p["flags"].to_numpy(np.uint8),
    })  # fmt: skip
    frame.to_parquet(path)
    return frame


def pick_cases(person_keys, n_cases, seed):
    """``n_cases`` distinct person keys (sorted) and the cases frame for trace."""
    rng = np.random.default_rng(seed)
    keys = np.sort(rng.choice(np.asarray(person_keys, dtype=object), size=n_cases, replace=False))
    return pd.DataFrame({"person": keys, "onset": ONSET})


def case_windows():
    """The infectious window ``(start_s, end_s)`` shared by every case."""
    onset_s = pd.Timestamp(ONSET).tz_localize(TZ).value // 10**9
    return int(onset_s - PRE_ONSET_DAYS * 86400), int(onset_s + POST_ONSET_DAYS * 86400)
