"""Neo4j benchmarks: push rate, and trace on Neo4j against pure Cypher.

1. **Push**: copy a synthetic city of about 1 M presences (the same city as
   ``benchmarks/run.py``, :func:`benchmarks.data.city_store`) from its
   DuckStore into an *emptied* Neo4j database with :func:`queries.push.push`
   (batched ``UNWIND``: an existence check on ``VISITED.record``, then
   ``CREATE``), and report presences per second. ``--bulk`` measures the
   offline import instead (:func:`queries.bulk.bulk_push`: CSV files, then
   ``scripts/neo4j import``: stop, ``neo4j-admin database import full``,
   start, schema), end to end; it replaces the database of the server in
   ``--neo4j-dir`` / ``$NEO4J_DIR`` (whose Bolt port must be the URI's).
2. **Trace**: 100 random residents as A-class cases (onset 2020-01-14, 4
   infectious days before, so each window is the whole period), ``hops=1``,
   linger on. tracer end to end on a fresh :class:`Neo4jStore` (narrow reads,
   numba core, write-back of the run) against ``trace_b_class.cypher``
   computing the same contact set; the two sets of ``(case, contact)`` pairs
   are checked equal before the times count.
3. **Floors** (``--floors``): what no Neo4j client can go below for this
   trace on this server, timed in the same run: expanding the same place
   neighbourhoods tracer reads (its ``place_visitors`` windows, only
   counted: nothing sent back), and creating as many bare relationships as
   the run writes back (no properties; committed, then deleted).

Usage::

    bash scripts/neo4j start
    python benchmarks/neo4j_bench.py                      # push + trace, ~1 M presences
    python benchmarks/neo4j_bench.py --skip-push          # trace only (graph already loaded)
    python benchmarks/neo4j_bench.py --skip-push --floors # ... and the server-side floors of the trace
    NEO4J_URI=bolt://127.0.0.1:7688 python benchmarks/neo4j_bench.py --presences 100000
    NEO4J_DIR=/tmp/n4 NEO4J_BOLT_PORT=7697 NEO4J_HTTP_PORT=7484 NEO4J_URI=bolt://127.0.0.1:7697 \
        python benchmarks/neo4j_bench.py --bulk      # offline import, then trace

The push empties the database first (``--skip-push`` keeps it).
"""

import argparse
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import pandas as pd  # noqa: E402


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def wipe(store):
    """Delete every node and relationship (in batches, implicit transactions)."""
    with store.driver.session(database=store.settings.database) as session:
        session.run("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 50000 ROWS").consume()
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 50000 ROWS").consume()


def open_city(workdir, n_presences, seed):
    """A read-only DuckStore of the benchmark city (copied if another process holds it)."""
    from benchmarks.data import city_store
    from tracer.duck import DuckStore
    from tracer.errors import StoreLocked

    path, info = city_store(workdir, n_presences, seed, log=log)
    try:
        return DuckStore(path, read_only=True), info
    except StoreLocked:
        copy = path.replace(".duckdb", "-neo4j-copy.duckdb")
        shutil.copyfile(path, copy)
        return DuckStore(copy, read_only=True), info


def bench_push(duck, store, batch_rows):
    from queries.push import push

    wipe(store)
    t0 = time.perf_counter()
    result = push(duck, store, batch_rows=batch_rows, runs=False)
    seconds = time.perf_counter() - t0
    log(f"push: {result.presences_read:,} presences ({result.presences_loaded:,} new) "
        f"in {seconds:.1f} s = {result.presences_read / seconds:,.0f} presences/s")
    return result, seconds


def bench_bulk(duck, uri, neo4j_dir):
    """Offline import (replaces the database), end to end."""
    from queries.bulk import bulk_push

    stages = {}
    t0 = time.perf_counter()
    result = bulk_push(duck, uri, force=True, neo4j_dir=neo4j_dir, runs=False, timings=stages)
    seconds = time.perf_counter() - t0
    log(f"bulk push: {result.presences_read:,} presences in {seconds:.1f} s = "
        f"{result.presences_read / seconds:,.0f} presences/s (CSV {stages['write_s']:.1f} s, "
        f"stop+import+start+schema {stages['import_s']:.1f} s, count check {stages['verify_s']:.1f} s)")
    return result, seconds


_EXPAND_FLOOR = """UNWIND $windows AS w
WITH w.place AS key, collect([w.start_s, w.end_s]) AS spans
MATCH (pl:Place {key: key})<-[v:VISITED]-(:Person)
WHERE any(s IN spans WHERE v.end_s > s[0] AND v.start_s < s[1])
RETURN count(*) AS n"""
_WRITE_FLOOR = """UNWIND range(0, size($source) - 1) AS i
MATCH (a:Person {key: $source[i]}) MATCH (b:Person {key: $person[i]})
CREATE (a)-[:BENCH_FLOOR]->(b)"""


def bench_floors(store, windows, contacts):
    """Seconds to expand tracer's place windows (counted only) and to create
    as many bare relationships as the run has contacts (then deleted)."""
    db = store.settings.database
    t0 = time.perf_counter()
    n = store.driver.execute_query(_EXPAND_FLOOR, {"windows": windows}, database_=db).records[0]["n"]
    expand_s = time.perf_counter() - t0
    params = {"source": contacts["source_case"].astype(str).tolist(), "person": contacts["person"].astype(str).tolist()}
    t0 = time.perf_counter()
    store.driver.execute_query(_WRITE_FLOOR, params, database_=db)
    write_s = time.perf_counter() - t0
    store.driver.execute_query("MATCH ()-[r:BENCH_FLOOR]->() DELETE r", database_=db)
    log(f"floors: expanding the {len(windows):,} place windows ({n:,} visits, counted only) {expand_s:.2f} s; "
        f"creating {len(contacts):,} bare relationships {write_s:.2f} s")
    return {"expand_floor_s": expand_s, "write_floor_s": write_s}


def bench_trace(duck, uri, n_cases, seed, floors=False):
    from benchmarks.data import PRE_ONSET_DAYS, case_windows, pick_cases
    from queries import cypher
    from queries.neo4j_store import Neo4jStore
    from tracer.config import ModelConfig
    from tracer.schema import KINDS
    from tracer.tracing import trace

    cases = pick_cases(duck.persons()["key"], n_cases, seed)
    ws, we = case_windows()
    cfg = ModelConfig()
    figures = {}
    with Neo4jStore(uri) as store:  # fresh object: cold dictionaries, warm JIT after a first run
        trace(store, cases.head(1), hops=1, pre_onset_days=PRE_ONSET_DAYS)  # numba compile, not timed
    with Neo4jStore(uri) as store:
        windows = _capture_place_windows(store)
        t0 = time.perf_counter()
        result = trace(store, cases, hops=1, pre_onset_days=PRE_ONSET_DAYS)
        figures["trace_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        run_id = store.save_run(result)
        figures["write_back_s"] = time.perf_counter() - t1
        figures["end_to_end_s"] = time.perf_counter() - t0
        figures["contacts"] = len(result.contacts)
        figures["events"] = len(result.events)
        log(f"tracer on Neo4j: trace {figures['trace_s']:.2f} s + write-back {figures['write_back_s']:.2f} s "
            f"= {figures['end_to_end_s']:.2f} s; {len(result.contacts):,} contacts, run {run_id}")
        params = {
            "cases": [{"person": p, "window_start_s": ws, "window_end_s": we} for p in cases["person"]],
            "linger_s": {k: int(s) for k, s in zip(KINDS, cfg.linger_s)},
        }
        t0 = time.perf_counter()
        keys, rows = store.driver.execute_query(
            cypher.load("trace_b_class"), params, database_=store.settings.database,
            result_transformer_=lambda r: (r.keys(), r.values()),
        )
        figures["cypher_s"] = time.perf_counter() - t0
        if floors:
            figures.update(bench_floors(store, windows, result.contacts))
    peer = pd.DataFrame(rows, columns=keys)
    ours = set(zip(result.events["case"], result.events["contact"]))
    theirs = set(zip(peer["case"], peer["contact"]))
    figures["pairs"] = len(ours)
    figures["same_pairs"] = ours == theirs
    figures["ratio"] = figures["cypher_s"] / figures["end_to_end_s"]
    log(f"trace_b_class.cypher: {figures['cypher_s']:.2f} s, {len(theirs):,} (case, contact) pairs; "
        f"same set as tracer: {figures['same_pairs']}; tracer is {figures['ratio']:.1f}x faster")
    if not figures["same_pairs"]:
        log(f"  only tracer: {len(ours - theirs)}, only Cypher: {len(theirs - ours)}")
    return figures


def _capture_place_windows(store):
    """A list that fills with the ``place_visitors`` windows ``store`` reads."""
    windows = []
    run = store.run

    def recording(name, write=False, **params):
        if name == "place_visitors":
            windows.extend(params["windows"])
        return run(name, write, **params)

    store.run = recording
    return windows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--presences", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=100)
    ap.add_argument("--batch-rows", type=int, default=20_000)
    ap.add_argument("--workdir", default="/tmp/tracer-bench")
    ap.add_argument("--uri", default=os.environ.get("NEO4J_URI"))
    ap.add_argument("--skip-push", action="store_true")
    ap.add_argument("--bulk", action="store_true", help="offline import instead of the UNWIND push")
    ap.add_argument("--neo4j-dir", default=os.environ.get("NEO4J_DIR"), help="server home for --bulk")
    ap.add_argument("--floors", action="store_true", help="also time the server-side floors of the trace")
    args = ap.parse_args(argv)
    from queries.neo4j_store import Neo4jStore

    duck, info = open_city(args.workdir, args.presences, args.seed)
    log(f"city: {info['n']:,} presences, {info['n_people']:,} people")
    with duck:
        if args.bulk:
            bench_bulk(duck, args.uri, args.neo4j_dir)
        elif not args.skip_push:
            with Neo4jStore(args.uri) as store:
                bench_push(duck, store, args.batch_rows)
        bench_trace(duck, args.uri, args.cases, args.seed, floors=args.floors)


if __name__ == "__main__":
    main()
