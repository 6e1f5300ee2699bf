"""Every named .cypher file: well-formed, and right on the real server
against brute-force answers computed in pandas."""

import re

import numpy as np
import pandas as pd
import pytest
from neo4j_fixtures import open_test_store, wipe
from naive_trace import naive_hop1

from queries import cypher
from tracer.config import ModelConfig
from tracer.schema import KINDS
from tracer.synth import generate_city
from tracer.tracing import prepare_cases, trace

PUBLIC = ["trace_b_class", "person_timeline", "place_visitors", "contact_graph", "case_clusters", "hotspots"]


@pytest.fixture(scope="module")
def world():
    """A small city in Neo4j, its presences as a keyed frame, and a saved run."""
    store = open_test_store()
    city = generate_city(n_people=200, days=3, seed=7)
    store.append(city.batch)
    p = city.batch.presences
    frame = pd.DataFrame({"person": p["person_key"].astype(str), "place": p["place_key"].astype(str),
                          "kind": np.asarray(KINDS, dtype=object)[p["kind"].to_numpy()],
                          "start": p["start"].to_numpy(np.int64), "end": p["end"].to_numpy(np.int64),
                          "record": p["record"].to_numpy(np.int64)})
    result = trace(store, city.cases, hops=2)
    run_id = store.save_run(result)
    yield store, city, frame, result, run_id
    wipe(store)
    store.close()


def rows(store, name, **params):
    keys, values = store.run(name, **params)
    return pd.DataFrame(values, columns=keys)


@pytest.mark.parametrize("name", cypher.names())
def test_every_file_has_a_header_and_only_parameters(name):
    text = cypher.load(name)
    head = cypher.header(name)
    assert head.startswith(name + ":"), "the header names the query"
    assert "Purpose" in head and "Parameters" in head and "Example" in head
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))
    # Cypher maps always have "key:"; a bare {name} or %s would be string formatting.
    assert not re.search(r"%[sdr]|\{\s*\w*\s*\}", body), "no string formatting, only $parameters"
    for param in re.findall(r"\$(\w+)", body):
        assert param in head, f"${param} is documented"


def test_public_queries_exist():
    assert set(PUBLIC) <= set(cypher.names())


def test_person_timeline(world):
    store, city, frame, _, _ = world
    person = frame["person"].iat[0]
    lo, hi = int(city.start_s + 20000), int(city.start_s + 120000)
    got = rows(store, "person_timeline", windows=[{"person": person, "start_s": lo, "end_s": hi}])
    want = frame[(frame.person == person) & (frame.end > lo) & (frame.start < hi)]
    assert sorted(got["record"]) == sorted(want["record"])
    assert got["start_s"].is_monotonic_increasing
    assert (got["start"].map(lambda t: t.to_native().timestamp()) == got["start_s"]).all()


def test_place_visitors(world):
    store, city, frame, _, _ = world
    busiest = frame["place"].value_counts().index[:3].tolist()
    lo = int(city.start_s + 30000)
    windows = [{"place": busiest[0], "start_s": lo, "end_s": lo + 7200},
               {"place": busiest[0], "start_s": lo + 3600, "end_s": lo + 90000},
               {"place": busiest[1], "start_s": lo, "end_s": lo + 600}]
    got = store.visits("place_visitors", windows=windows)
    want = frame[((frame.place == busiest[0]) & (frame.end > lo) & (frame.start < lo + 90000))
                 | ((frame.place == busiest[1]) & (frame.end > lo) & (frame.start < lo + 600))]
    assert sorted(got["record"]) == sorted(want["record"])  # each presence once


def test_trace_b_class_matches_the_naive_hop1(world):
    store, city, frame, _, _ = world
    cfg = ModelConfig()
    cases = prepare_cases(city.cases, cfg)
    got = rows(store, "trace_b_class",
               cases=[{"person": p, "window_start_s": int(a), "window_end_s": int(b)}
                      for p, a, b in cases[["person", "window_start_s", "window_end_s"]].itertuples(index=False)],
               linger_s={k: int(s) for k, s in zip(KINDS, cfg.linger_s)})
    windows = {p: (int(a), int(b)) for p, a, b in cases[["person", "window_start_s", "window_end_s"]].itertuples(index=False)}
    naive = pd.DataFrame(naive_hop1(frame, windows, list(cfg.linger_s)),
                         columns=["case", "contact", "place", "lo", "hi"])
    naive["overlap_s"] = naive["hi"] - naive["lo"]
    want = naive.groupby(["case", "contact", "place"]).agg(overlap_s=("overlap_s", "sum"),
                                                           first_contact_s=("lo", "min"),
                                                           events=("lo", "size")).reset_index()
    key = ["case", "contact", "place"]
    got = got.sort_values(key).reset_index(drop=True)
    want = want.sort_values(key).reset_index(drop=True)
    assert len(want) > 0
    pd.testing.assert_frame_equal(got[key + ["overlap_s", "first_contact_s", "events"]], want, check_dtype=False)


def test_contact_graph_draws_every_edge_of_the_run(world):
    store, _, _, result, run_id = world
    keys, values = store.run("contact_graph", run=run_id, slack_s=1800)
    got = pd.DataFrame(values, columns=keys)
    edges = {(r["a"]["key"], r["b"]["key"]) for _, r in got.iterrows()}
    contacts = result.contacts
    source = np.where(contacts["hop"] > 1, contacts["via"], contacts["source_case"])
    assert edges == set(zip(source, contacts["person"]))
    explained = got.dropna(subset=["pl"])
    assert len(explained) and all(r["pl"]["key"] in r["e"]["places"] for _, r in explained.iterrows())


def test_case_clusters_match_pandas(world):
    store, city, frame, _, _ = world
    store.driver.execute_query("MATCH (p:Person) WHERE p.key IN $keys SET p:Case",
                               keys=frame["person"].drop_duplicates().iloc[:40].tolist())
    keys, values = store.run("case_clusters", start_s=int(city.start_s), end_s=int(city.end_s))
    got = pd.DataFrame(values, columns=keys)
    recs, _, _ = store.driver.execute_query("MATCH (c:Case) RETURN c.key AS k")
    cases = {r["k"] for r in recs}
    f = frame[frame.person.isin(cases)]
    pairs = f.merge(f, on="place")
    pairs = pairs[(pairs.person_x < pairs.person_y) & (pairs.start_x < pairs.end_y) & (pairs.start_y < pairs.end_x)]
    pairs = pairs.assign(s=np.maximum(pairs.start_x, pairs.start_y), e=np.minimum(pairs.end_x, pairs.end_y))
    want = pairs.groupby(["person_x", "person_y"]).agg(together_s=("s", lambda s: 0), n=("s", "size"))
    want["together_s"] = (pairs.e - pairs.s).groupby([pairs.person_x, pairs.person_y]).sum()
    assert len(want) > 0
    got = got.set_index(["case_a", "case_b"]).sort_index()
    assert got.index.tolist() == want.index.tolist()
    assert got["together_s"].tolist() == want["together_s"].tolist()
    assert got["shared_visits"].tolist() == want["n"].tolist()


def test_hotspots_match_pandas(world):
    store, city, frame, _, _ = world
    lo, hi = int(city.start_s), int(city.start_s + 86400)
    got = rows(store, "hotspots", start_s=lo, end_s=hi, limit=10)
    recs, _, _ = store.driver.execute_query("MATCH (c:Case) RETURN c.key AS k")
    cases = {r["k"] for r in recs}
    f = frame[(frame.end > lo) & (frame.start < hi)]
    crowd = f.groupby("place")["person"].nunique()
    fc = f[f.person.isin(cases)]
    want = pd.DataFrame({"cases": fc.groupby("place")["person"].nunique(),
                         "case_time_s": (fc.end - fc.start).groupby(fc.place).sum()})
    want["crowd"] = crowd.reindex(want.index)
    want = want.reset_index().sort_values(["cases", "crowd", "case_time_s", "place"],
                                          ascending=[False, False, False, True]).head(10)
    assert got["place"].tolist() == want["place"].tolist()
    assert got["cases"].tolist() == want["cases"].tolist()
    assert got["crowd"].tolist() == want["crowd"].tolist()
