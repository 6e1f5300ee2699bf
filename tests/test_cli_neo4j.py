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
