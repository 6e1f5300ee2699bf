"""The CLI against the real Neo4j server: push, trace with write-back, and
clear words when Neo4j is down."""

import json
import os

import pandas as pd
from click.testing import CliRunner

import cli
from neo4j_fixtures import count, open_test_store, neo4j_test_uri
from tracer.duck import DuckStore

DATA = os.path.join(os.path.dirname(__file__), "data")
SMALL = os.path.join(DATA, "presences_small.csv")
CASE = "110101199003074514"


def test_push_then_trace_on_neo4j_gives_the_embedded_ranking(tmp_path):
    neo = open_test_store()  # empties the database
    runner = CliRunner()
    store = str(tmp_path / "t.duckdb")
    uri = neo4j_test_uri()
    assert runner.invoke(cli.main, ["--store", store, "load", "presences", SMALL]).exit_code == 0
    local = runner.invoke(cli.main, ["--store", store, "--show-pii", "trace", "--case", CASE, "--onset", "2020-02-02",
                                     "--format", "json"])  # fmt: skip
    assert local.exit_code == 0, local.output
    res = runner.invoke(cli.main, ["--store", store, "--neo4j-uri", uri, "push"])
    assert res.exit_code == 0, res.output
    assert "6 presences read = 6 written" in res.stderr
    with DuckStore(store) as st:
        assert count(neo, "()-[:VISITED]->()") == len(st.presences())
    again = runner.invoke(cli.main, ["--store", store, "--neo4j-uri", uri, "push"])
    assert "= 0 written + 6 already there" in again.stderr
    remote = runner.invoke(cli.main, ["--neo4j-uri", uri, "--show-pii", "trace", "--case", CASE, "--onset",
                                      "2020-02-02", "--format", "json"])  # fmt: skip
    assert remote.exit_code == 0, remote.output
    cols = ["rank", "person", "rule", "hop", "source_case", "events"]
    a, b = pd.DataFrame(json.loads(local.stdout)), pd.DataFrame(json.loads(remote.stdout))
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert count(neo, "()-[:EXPOSED_TO]->()") >= len(b)
    neo.close()


def test_neo4j_down_is_one_clear_line(tmp_path):
    res = CliRunner().invoke(cli.main, ["--neo4j-uri", "bolt://127.0.0.1:7699", "trace", "--case", CASE,
                                        "--onset", "2020-02-02"])  # fmt: skip
    assert res.exit_code == 1
    assert "bolt://127.0.0.1:7699" in res.output and "Traceback" not in res.output
    assert "password" not in res.output.lower() or "NEO4J_PASSWORD" in res.output


def test_explain_and_report_on_a_neo4j_run_rebuild_its_evidence(tmp_path):
    """A run traced on Neo4j keeps its contacts and case windows, not every
    event: explain and report trace its cases again, and refuse once the
    graph has changed under the run."""
    neo = open_test_store()  # empties the database
    runner = CliRunner()
    store, uri = str(tmp_path / "t.duckdb"), neo4j_test_uri()
    assert runner.invoke(cli.main, ["--store", store, "load", "presences", SMALL]).exit_code == 0
    assert runner.invoke(cli.main, ["--store", store, "--neo4j-uri", uri, "push"]).exit_code == 0
    trace_args = ["trace", "--case", CASE, "--onset", "2020-02-02", "--hops", "2"]
    assert runner.invoke(cli.main, ["--store", store, *trace_args]).exit_code == 0
    res = runner.invoke(cli.main, ["--neo4j-uri", uri, *trace_args])
    assert res.exit_code == 0, res.output
    run = neo.load_run()
    assert len(run.events) == 0 and run.cases["person"].tolist() == [CASE]
    listed = runner.invoke(cli.main, ["--neo4j-uri", uri, "runs", "--format", "json"])
    assert [(r["id"], r["hops"]) for r in json.loads(listed.stdout)] == [(run.id, 2)]
    with DuckStore(store) as st:
        cases = st.load_run().cases
    pd.testing.assert_frame_equal(run.cases, cases, check_dtype=False)

    for contact in ("#1", "#2", "phone:+8613812345678"):
        local = runner.invoke(cli.main, ["--store", store, "explain", CASE, contact, "--format", "csv"])
        remote = runner.invoke(cli.main, ["--neo4j-uri", uri, "explain", CASE, contact, "--format", "csv"])
        assert local.exit_code == 0 and remote.exit_code == 0, local.output + remote.output
        assert len(pd.read_csv(pd.io.common.StringIO(remote.stdout))) >= 1
        assert remote.stdout == local.stdout
    report = tmp_path / "r.html"
    res = runner.invoke(cli.main, ["--neo4j-uri", uri, "report", "-o", str(report)])
    assert res.exit_code == 0, res.output
    assert "(derived)" not in report.read_text(encoding="utf-8")  # the saved case list is used

    # A new co-presence with the case reaches the graph: the saved run no longer reproduces.
    extra = tmp_path / "extra.csv"
    extra.write_text("person,place,kind,start,end\nphone:+8613000000001,venue:V001,venue,"
                     "2020-02-01 09:00,2020-02-01 09:40\n", encoding="utf-8")  # fmt: skip
    res = runner.invoke(cli.main, ["--neo4j-uri", uri, "load", "presences", str(extra)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli.main, ["--neo4j-uri", uri, "explain", CASE, "#1"])
    assert res.exit_code == 1
    assert "has changed since trace run" in res.output and "Traceback" not in res.output
    neo.close()
