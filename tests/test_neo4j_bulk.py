"""Offline bulk import (queries/bulk.py, ``scripts/neo4j import``) against a
real, PRIVATE Neo4j server.

The module starts its own server in a temporary directory on other ports
(Bolt ``$TRACER_BULK_BOLT_PORT``, default 7698; HTTP 7485), because an
import stops the server and replaces its database: the shared server on 7687
that the other Neo4j tests use is never touched. The jars of the project's
``.neo4j/lib`` are reused (linked) when installed, else ``scripts/neo4j
install`` fetches them. Start-up and the imports take about a minute.

The oracle is :func:`queries.push.push`: the same small store, pushed
through Bolt and bulk-imported, must give the same graph (every node and
relationship with its label or type, properties and property types) and the
same schema.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pcsv
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queries.bulk import SCRIPT, _iso_utc, bulk_push, write_import_files
from queries.neo4j_store import Neo4jStore
from queries.push import push
from tracer.duck import DuckStore
from tracer.errors import StoreError
from tracer.presence import Batch, fingerprint
from tracer.synth import generate_city
from tracer.tracing import trace

REPO = Path(__file__).resolve().parent.parent
BOLT_PORT = int(os.environ.get("TRACER_BULK_BOLT_PORT", "7698"))
HTTP_PORT = int(os.environ.get("TRACER_BULK_HTTP_PORT", "7485"))


# -- the private server ---------------------------------------------------------
def _script(env, *args, check=True):
    done = subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=600)
    if check and done.returncode != 0:
        pytest.fail(f"scripts/neo4j {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}", pytrace=False)
    return done


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("neo4j-private")
    shared = REPO / ".neo4j"
    if (shared / ".installed").is_file() and (shared / "lib").is_dir():
        (home / "lib").symlink_to(shared / "lib", target_is_directory=True)
        shutil.copy(shared / ".installed", home / ".installed")
    env = dict(os.environ, NEO4J_DIR=str(home), NEO4J_BOLT_PORT=str(BOLT_PORT), NEO4J_HTTP_PORT=str(HTTP_PORT),
               NEO4J_HEAP_MAX="1g", NEO4J_PAGECACHE="256m", NEO4J_PYTHON=sys.executable)
    env.pop("NEO4J_URI", None)
    password = env.get("NEO4J_PASSWORD") or "tracer-dev-password"
    _script(env, "start")
    try:
        yield {"env": env, "home": home, "uri": f"bolt://127.0.0.1:{BOLT_PORT}", "password": password}
    finally:
        _script(env, "stop", check=False)


@pytest.fixture(scope="module")
def duck(tmp_path_factory):
    """A small messy store: a synthetic city, awkward names, an orphan alias
    owner, a saved trace run."""
    city = generate_city(n_people=120, days=2, seed=3, epidemic=False)
    path = tmp_path_factory.mktemp("duck") / "d.duckdb"
    store = DuckStore(path)
    store.append(city.batch)
    store.append(_awkward_batch(int(city.start_s)))
    cases = pd.DataFrame({"person": store.persons()["key"].iloc[:3], "onset": "2020-01-11"})
    store.save_run(trace(store, cases, hops=2))
    yield store
    store.close()


def _awkward_batch(t0):
    persons = pd.DataFrame({"key": ["awk-1", "awk-2", "awk-3"],
                            "name": ['Li, "Junior"', "  ", "two\nlines"], "district": [None, "西山区", ""]})
    places = pd.DataFrame({"key": ["venue:awk,1", 'venue:"q"'], "kind": [0, 0], "name": ["a,b", None],
                           "district": ["d", None], "lat": [25.5, np.nan], "lon": [102.5, np.nan]})
    aliases = pd.DataFrame({"key": ["awk-1", "awk-2", "no-visits"], "alias": ["phone:+861", "phone:+861", "passport:X"]})
    frame = pd.DataFrame({"person_key": ["awk-1", "awk-2", "awk-3", "awk-1"],
                          "place_key": ["venue:awk,1", "venue:awk,1", 'venue:"q"', 'venue:"q"'],
                          "start": np.array([0, 600, -86_400 * 400, 7200], np.int64) + t0,
                          "end": np.array([3600, 1200, -86_400 * 400 + 1, 7200], np.int64) + t0,
                          "kind": np.int8(0), "section": np.int16(-1), "row": np.int16(3), "col": np.int16(-1),
                          "flags": np.uint8(5)})
    frame["record"] = fingerprint(frame.person_key, frame.place_key, frame.start, frame.end,
                                  frame.section, frame.row, frame.col)
    return Batch(frame, source="awkward", persons=persons, places=places, aliases=aliases)


# -- a graph snapshot -------------------------------------------------------------
def snapshot(uri, password):
    """Every node and relationship with labels/type, properties and property
    types; the schema's constraint names. Node identity is its key."""
    with Neo4jStore(uri, password=password, setup_schema=False) as store:
        def q(text):
            return [tuple(r.values()) for r in store.driver.execute_query(text, database_=store.settings.database).records]

        ident = "coalesce(n.key, n.value, n.id)"
        nodes = q(f"MATCH (n) RETURN labels(n), {ident}, [k IN keys(n) | [k, n[k], valueType(n[k])]]")
        rels = q(f"MATCH (a)-[r]->(b) WITH a, r, b, {ident.replace('n.', 'a.')} AS ka, "
                 f"{ident.replace('n.', 'b.')} AS kb "
                 "WHERE type(r) IN ['VISITED', 'ALIAS'] "
                 "RETURN type(r), ka, kb, [k IN keys(r) | [k, r[k], valueType(r[k])]]")
        runs = q("MATCH (r:TraceRun) RETURN r.id, r.params")
        exposed = q("MATCH (a)-[e:EXPOSED_TO]->(b) RETURN a.key, b.key, e.run, e.risk, e.rank, e.places")
        constraints = q("SHOW CONSTRAINTS YIELD name RETURN name")

    def props(pairs):
        return sorted(repr(p) for p in pairs)

    return {"nodes": sorted(repr((sorted(lab), key, props(ps))) for lab, key, ps in nodes),
            "rels": sorted(repr((t, a, b, props(ps))) for t, a, b, ps in rels),
            "runs": sorted(map(repr, runs)), "exposed": sorted(map(repr, exposed)),
            "constraints": sorted(map(repr, constraints))}


@pytest.fixture(scope="module")
def pushed(server, duck):
    """The graph ``push`` writes for the store (the oracle)."""
    with Neo4jStore(server["uri"], password=server["password"]) as neo:
        result = push(duck, neo)
    return result, snapshot(server["uri"], server["password"])


# -- tests ------------------------------------------------------------------------
def test_bulk_import_gives_the_graph_push_writes(server, duck, pushed, tmp_path):
    push_result, want = pushed
    stages = {}
    result = bulk_push(duck, server["uri"], password=server["password"], workdir=tmp_path / "csv", force=True,
                       neo4j_dir=server["home"], timings=stages)
    got = snapshot(server["uri"], server["password"])
    assert len(want["rels"]) == push_result.presences_loaded + push_result.aliases > 0
    assert len(want["exposed"]) > 0
    assert got["nodes"] == want["nodes"]
    assert got["rels"] == want["rels"]
    assert got["runs"] == want["runs"]
    assert got["exposed"] == want["exposed"]
    assert got["constraints"] == want["constraints"]
    assert (result.persons, result.places, result.aliases) == (push_result.persons, push_result.places,
                                                               push_result.aliases)
    assert result.presences_loaded == result.presences_read == push_result.presences_loaded
    assert result.runs == push_result.runs == 1
    assert set(stages) == {"write_s", "import_s", "verify_s", "runs_s"}
    # The awkward names forced the multiline parsing of the person file only.
    assert (tmp_path / "csv" / "nodes-Person.ml.csv").is_file()
    assert (tmp_path / "csv" / "rels-VISITED.csv").is_file()


def test_trace_on_the_imported_graph_matches_the_embedded_store(server, duck, pushed):
    cases = pd.DataFrame({"person": duck.persons()["key"].iloc[3:8], "onset": "2020-01-11"})
    want = trace(duck, cases, hops=1).contacts
    with Neo4jStore(server["uri"], password=server["password"]) as neo:
        got = trace(neo, cases, hops=1).contacts
    assert got[["rank", "person", "hop", "events"]].equals(want[["rank", "person", "hop", "events"]])
    np.testing.assert_allclose(got["risk"].to_numpy(float), want["risk"].to_numpy(float), atol=1e-12)


def test_a_database_that_is_not_empty_is_refused(server, duck, pushed, tmp_path):
    with pytest.raises(StoreError, match="not empty"):
        bulk_push(duck, server["uri"], password=server["password"], neo4j_dir=server["home"])
    files = write_import_files(duck, tmp_path / "csv")
    done = _script(server["env"], "import", files.directory, check=False)
    assert done.returncode != 0
    assert "not empty" in done.stderr
    with Neo4jStore(server["uri"], password=server["password"], setup_schema=False) as neo:  # still up, untouched
        assert neo.driver.execute_query("MATCH ()-[v:VISITED]->() RETURN count(v) AS n").records[0]["n"] > 0


def test_the_script_explains_a_bad_directory(server, tmp_path):
    done = _script(server["env"], "import", str(tmp_path), check=False)
    assert done.returncode != 0 and "no nodes-<Label>.csv" in done.stderr


def test_a_failed_import_leaves_the_database_as_it_was(server, duck, pushed, tmp_path):
    """The importer writes a side store while the server stops: when it fails
    (here a VISITED row naming a person that does not exist), database neo4j
    is untouched and serves the same graph after a start."""
    before = snapshot(server["uri"], server["password"])
    files = write_import_files(duck, tmp_path / "csv")
    visited = next(Path(files.directory).glob("rels-VISITED*.csv"))
    with visited.open("a", encoding="utf-8") as out:
        out.write("999999999,0,1,0,1,1970-01-01T00:00:00Z,1970-01-01T00:00:01Z,-1,-1,-1,0\n")
    done = _script(server["env"], "import", files.directory, "--force", check=False)
    assert done.returncode != 0 and "database neo4j unchanged" in done.stderr
    assert not (server["home"] / "data" / "databases" / "tracerimport").exists()
    _script(server["env"], "start")
    assert snapshot(server["uri"], server["password"]) == before


# -- the CSV writer, without a server ---------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(-2**40, 2**40), min_size=1, max_size=50))
def test_iso_utc_matches_pandas(epoch_s):
    values = np.asarray(epoch_s, dtype=np.int64)
    want = pd.to_datetime(values, unit="s", utc=True).strftime("%Y-%m-%dT%H:%M:%SZ").tolist()
    assert _iso_utc(values).to_pylist() == want


_text = st.one_of(st.none(), st.text(alphabet=st.sampled_from(list('ab ,"\n\r;中\'') ), max_size=6))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_text, _text), min_size=1, max_size=8))
def test_person_file_round_trips_names(tmp_path_factory, names):
    """Names with commas, quotes and line breaks survive the CSV writer
    (oracle: pyarrow's CSV reader); blank ones become missing."""
    persons = pd.DataFrame({"code": np.arange(len(names), dtype=np.int32),
                            "key": [f"k{i}" for i in range(len(names))],
                            "name": [n for n, _ in names], "district": [d for _, d in names]})

    class Store:
        def persons(self):
            return persons

        def places(self):
            return pd.DataFrame({"code": np.zeros(0, np.int32), "key": [], "kind": pd.array([], dtype="Int8"),
                                 "name": [], "district": [], "lat": [], "lon": []})

        def aliases(self):
            return pd.DataFrame({"key": [], "alias": []}, dtype=str)

        def presences(self):
            return pd.DataFrame({c: np.zeros(0, np.int64) for c in
                                 ("person", "place", "start", "end", "section", "row", "col", "flags", "record")})

    out = tmp_path_factory.mktemp("csv")
    files = write_import_files(Store(), out)
    path = next(Path(files.directory).glob("nodes-Person*.csv"))
    table = pcsv.read_csv(path, parse_options=pcsv.ParseOptions(newlines_in_values=True),
                          convert_options=pcsv.ConvertOptions(column_types={"name": "string", "district": "string"},
                                                              strings_can_be_null=True, quoted_strings_can_be_null=False))
    assert table.column(":ID(Person)").to_pylist() == list(range(len(names)))

    def blank_to_none(v):
        return None if v is None or not v.strip() else v

    assert table.column("name").to_pylist() == [blank_to_none(n) for n, _ in names]
    assert table.column("district").to_pylist() == [blank_to_none(d) for _, d in names]
    has_break = any(v is not None and ("\n" in v or "\r" in v) for pair in names for v in pair if blank_to_none(v))
    assert path.name.endswith(".ml.csv") == has_break
