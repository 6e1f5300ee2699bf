"""Benchmark runner: tracer against DuckDB, pandas, bedtools and networkx.

One run, one synthetic city (``benchmarks/data.py``), every engine on the
same presences and the same 1,000 cases; every peer's answer is checked
against tracer's. Prints a table and writes ``benchmarks/RESULTS.md``.

    python benchmarks/run.py                                   # 1 M presences
    python benchmarks/run.py --presences 10000000 --selfjoin-presences 5000000
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import data  # noqa: E402
import peers  # noqa: E402
from report import write_results  # noqa: E402

__all__ = ["main"]

TRACE_KW = dict(hops=1, linger=False, pre_onset_days=data.PRE_ONSET_DAYS)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class Bench:
    """Collects figures: ``add(section, engine, what, seconds, ...)``."""

    def __init__(self):
        self.figures = []
        self.checks = []
        self.notes = []

    def add(self, section, engine, what, seconds, cmd, runs=None, ref=None):
        fig = dict(section=section, engine=engine, what=what, seconds=seconds, cmd=cmd,
                   runs=runs or ([seconds] if seconds is not None else []), ref=ref)
        self.figures.append(fig)
        shown = "n/a" if seconds is None else f"{seconds * 1e3:10.1f} ms"
        log(f"  [{section}] {engine:9s} {what:52s} {shown}")
        return fig

    def check(self, what, ok, detail):
        self.checks.append(dict(what=what, ok=bool(ok), detail=detail))
        log(f"  check {what}: {'OK' if ok else 'MISMATCH'} ({detail})")


# ---------------------------------------------------------------- children

CHILD_CMD = "python benchmarks/run.py --child-trace STORE CASES.csv"


def child_trace(store_path, cases_csv):
    """Fresh process: import, open the store, trace twice; print JSON times."""
    t0 = time.perf_counter()
    from tracer.duck import DuckStore
    from tracer.tracing import trace

    t1 = time.perf_counter()
    cases = pd.read_csv(cases_csv, dtype=str)
    store = DuckStore(store_path, read_only=True)
    t2 = time.perf_counter()
    trace(store, cases, **TRACE_KW)
    t3 = time.perf_counter()
    trace(store, cases, **TRACE_KW)
    t4 = time.perf_counter()
    cache = os.environ.get("NUMBA_CACHE_DIR", "")
    files = sum(len(f) for _, _, f in os.walk(cache)) if cache else -1
    print(json.dumps(dict(import_s=t1 - t0, open_s=t2 - t1, first_trace_s=t3 - t2, second_trace_s=t4 - t3,
                          cache_files=files)))


def run_child(store_path, cases_csv, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child-trace", store_path, cases_csv],
                         env=env, capture_output=True, text=True, check=True, cwd=os.path.dirname(HERE))
    got = json.loads(out.stdout.strip().splitlines()[-1])
    got["process_s"] = time.perf_counter() - t
    return got


def bench_children(b, args, path, cold_path, cases_csv, cold_cases_csv):
    cache = tempfile.mkdtemp(prefix="numba-cache-", dir=args.workdir)
    jit = run_child(path, cases_csv, cache)
    b.notes.append(f"JIT child: the empty NUMBA_CACHE_DIR held {jit['cache_files']} files after the run "
                   "(the kernels were compiled and cached there, then reused by the cold-start children)")
    cmd = f"NUMBA_CACHE_DIR=<empty dir> {CHILD_CMD}"
    b.add("trace", "tracer", "first trace, JIT compile (empty numba cache)", jit["first_trace_s"], cmd)
    b.add("trace", "tracer", "second trace in that process", jit["second_trace_s"], cmd)
    colds = [run_child(cold_path, cold_cases_csv, cache) for _ in range(args.cold_repeat)]
    mid = sorted(colds, key=lambda c: c["first_trace_s"])[len(colds) // 2]
    cmd = f"NUMBA_CACHE_DIR=<warm dir> {CHILD_CMD}  (store of {args.coldstart_presences} presences)"
    b.add("cold", "tracer", "cold start: first trace in a fresh process, cache warm",
          mid["first_trace_s"], cmd, runs=[c["first_trace_s"] for c in colds])
    b.add("cold", "tracer", "  its import tracer + open store", mid["import_s"] + mid["open_s"], cmd)
    b.add("cold", "tracer", "  second trace in that process (steady state)", mid["second_trace_s"], cmd)
    b.add("cold", "tracer", "  whole process (python start to exit)", mid["process_s"], cmd)
    shutil.rmtree(cache, ignore_errors=True)


# ------------------------------------------------------------------ tracer

def tracer_pairs(result, persons):
    lookup = pd.Index(persons["key"].to_numpy())
    ev = result.events
    return peers.pair_ids(persons["code"].to_numpy()[lookup.get_indexer(ev["case"])],
                          persons["code"].to_numpy()[lookup.get_indexer(ev["contact"])])


def bench_index(b, args, path, frame, n_persons, n_places):
    from tracer.index import PresenceIndex, build_index

    def build():
        return build_index(frame, n_persons=n_persons, n_places=n_places)

    t = time.perf_counter()
    index = build()
    first = time.perf_counter() - t
    b.add("index", "tracer", "index build, first call in process (incl. cache load or JIT)", first, "build_index(frame)")
    med, runs, index = peers.timed(build, args.repeat)
    b.add("index", "tracer", f"index build from canonical arrays ({index.n} rows)", med,
          "build_index(frame, n_persons, n_places)", runs)
    idx_dir = path + ".index"
    disk = sum(os.path.getsize(os.path.join(idx_dir, f)) for f in os.listdir(idx_dir))
    b.notes.append(f"index bytes per presence: {index.nbytes / index.n:.1f} in memory "
                   f"(PresenceIndex.nbytes), {disk / index.n:.1f} on disk ({idx_dir})")
    b.bytes_per_presence = max(index.nbytes, disk) / index.n
    for mmap in (True, False):
        med, runs, _ = peers.timed(lambda: PresenceIndex.load(idx_dir, mmap=mmap), args.repeat)
        b.add("index", "tracer", f"persisted index load (mmap={mmap})", med,
              f"PresenceIndex.load(dir, mmap={mmap})", runs)


def bench_tracer_trace(b, args, path, cases, persons, case_codes, ws, we):
    from tracer.config import ModelConfig
    from tracer.duck import DuckStore
    from tracer.scoring import find_events, rank_contacts, source_presences
    from tracer.kernels import find_copresences
    from tracer.tracing import trace

    def open_and_trace():
        with DuckStore(path, read_only=True) as st:
            return trace(st, cases, **TRACE_KW)

    med, runs, res = peers.timed(open_and_trace, args.repeat, warmup=1)
    ref = b.add("trace", "tracer", "persisted index → ranked DataFrame (open store + trace)", med,
                "with DuckStore(path, read_only=True) as st: trace(st, cases, hops=1, linger=False, "
                "pre_onset_days=4)", runs)
    b.trace_ref = ref
    got = res.cases[["window_start_s", "window_end_s"]].drop_duplicates().to_numpy().tolist()
    b.check("case windows", got == [[ws, we]], f"tracer windows {got}, peers use {[ws, we]}")
    store = DuckStore(path, read_only=True)
    index = store.index()
    med, runs, res = peers.timed(lambda: trace(store, cases, **TRACE_KW), args.repeat, warmup=1)
    b.add("trace", "tracer", "warm trace on an open store (index mapped)", med,
          "trace(st, cases, hops=1, linger=False, pre_onset_days=4)", runs)
    b.trace_stats = dict(contacts=len(res.contacts), events=res.n_events, cases=len(cases))
    b.trace_warm = med
    profile_note(b, lambda: trace(store, cases, **TRACE_KW))
    pairs = tracer_pairs(res, persons)
    sources = pd.DataFrame({"person": case_codes, "reference_s": ws + data.PRE_ONSET_DAYS * 86400,
                            "asymptomatic": False, "window_start_s": ws, "window_end_s": we,
                            "risk": 1.0, "root": case_codes})
    cfg, linger = ModelConfig(), np.zeros(8, np.int64)

    def core():
        got = source_presences(index, sources, linger)  # (owner, pos, place, kind, start, end, ...)
        return find_copresences(index, got[2], got[4], got[5], index.person[got[1]])

    med, runs, _ = peers.timed(core, args.repeat, warmup=1)
    b.add("trace", "tracer", "  part: co-presence kernel only (codes)", med,
          "source_presences + find_copresences", runs)
    med, runs, ev = peers.timed(lambda: find_events(index, sources, linger, cfg, 1), args.repeat, warmup=1)
    b.add("trace", "tracer", "  part: kernel + exposure model (find_events)", med, "find_events", runs)
    med, runs, _ = peers.timed(lambda: rank_contacts(ev), args.repeat)
    b.add("trace", "tracer", "  part: rank_contacts (numba aggregation)", med, "rank_contacts(events)", runs)
    b.trace_core_s = b.figures[-3]["seconds"]
    b.check("tracer code-level pairs == trace() events",
            np.array_equal(peers.pair_ids(ev["case"], ev["contact"]), pairs), f"{len(pairs)} pairs")
    store.close()
    return pairs


def profile_note(b, fn):
    """Where one warm trace spends its time (cProfile, cumulative, tracer functions)."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    stats = pstats.Stats(prof).stats
    wanted = ("trace", "find_events", "score_copresences", "rank_contacts", "aggregate_contacts", "_finish", "person_keys")
    got = {}
    for (file, _, name), (_, _, _, cum, _) in stats.items():
        if "tracer" in file and name in wanted:
            got[name] = got.get(name, 0.0) + cum
    total = got.get("trace", 0.0) or 1.0
    parts = ", ".join(f"{name} {got[name] * 1e3:,.0f} ms ({got[name] / total:.0%})" for name in wanted if name in got)
    b.notes.append(f"one warm trace under cProfile (cumulative): {parts}")


def skew_note(b, frame, ws):
    """How skewed the city is: quiet and busy places, long intervals."""
    counts = np.bincount(frame["place"].to_numpy())
    counts = counts[counts > 0]
    busiest = int(np.argmax(np.bincount(frame["place"].to_numpy())))
    at = frame["place"].to_numpy() == busiest
    per_day = np.bincount((frame["start"].to_numpy()[at] - ws) // 86400 + 1).max()
    dur_d = (frame["end"].to_numpy() - frame["start"].to_numpy()) / 86400
    top = np.sort(counts)[::-1]
    b.notes.append(
        f"skew of the city: {counts.size:,} places with presences, {np.mean(counts < 10):.0%} of them with fewer "
        f"than 10; busiest place {top[0]:,} presences ({per_day:,} starting on its busiest day), the 100 "
        f"busiest hold {top[:100].sum() / counts.sum():.0%} of all presences; {np.mean(dur_d >= 1):.1%} of "
        f"presences last a day or more, the longest {dur_d.max():.1f} days")


# ------------------------------------------------------------------- peers

def bench_duck_trace(b, args, con, pairs, t0):
    best = None
    for name, sql in peers.DUCK_TRACE_SQL.items():
        sql = sql.format(t0=t0, bits=peers.FOLD_BITS)
        plan = peers.duck_plan(con, sql)
        try:
            med, runs, got = peers.timed(lambda: peers.duck_trace(con, sql, args.timeout), args.peer_repeat,
                                         warmup=1)
        except peers.Timeout as exc:
            b.add("trace", "duckdb", f"{name} [{'+'.join(plan)}]: {exc}", None, sql)
            continue
        fig = b.add("trace", "duckdb", f"{name} [{'+'.join(plan)}]", med, sql, runs, ref=b.trace_ref)
        b.check(f"duckdb {name} pairs", np.array_equal(got, pairs), f"{len(got)} vs tracer {len(pairs)}")
        if best is None or med < best["seconds"]:
            best = fig
    b.duck_trace_best = best
    if best and getattr(b, "trace_core_s", None):
        b.notes.append(
            f"trace: tracer's co-presence kernel alone (codes, no scoring) takes {b.trace_core_s * 1e3:,.0f} ms, "
            f"{best['seconds'] / b.trace_core_s:,.1f}x faster than DuckDB's best SQL; the whole trace() takes "
            f"{b.trace_warm * 1e3:,.0f} ms because it also scores {b.trace_stats['events']:,} events and "
            "returns them, and the contacts, as string-keyed DataFrames (see the profile note)")


def bench_pandas_trace(b, args, frame, case_codes, ws, we, pairs):
    med, runs, got = peers.timed(lambda: peers.pandas_trace(frame, case_codes, ws, we), args.peer_repeat)
    b.add("trace", "pandas", "merge on place (visited places, chunked) + filter", med,
          "peers.pandas_trace(frame, case_codes, ws, we)", runs, ref=b.trace_ref)
    b.check("pandas pairs", np.array_equal(got, pairs), f"{len(got)} vs tracer {len(pairs)}")


def bench_bedtools_trace(b, args, con, pairs, t0, ws, we):
    if not peers.have_bedtools():
        b.notes.append("bedtools: skipped, not installed (apt-get install -y bedtools)")
        return
    d = tempfile.mkdtemp(prefix="bed-", dir=args.workdir)
    src_sql = (f"SELECT 'c' || p.place, greatest(p.s, c.ws) - {t0}, least(p.e, c.we) - {t0}, c.person "
               "FROM pres p JOIN cases c ON p.person = c.person WHERE least(p.e, c.we) > greatest(p.s, c.ws)")
    peers.bed_write(con, src_sql, f"{d}/src.raw")
    peers.bed_write(con, f"SELECT 'c' || place, s - {t0}, e - {t0}, person FROM pres WHERE e > s", f"{d}/all.raw")
    t_sort = peers.bed_sort(f"{d}/all.raw", f"{d}/all.bed") + peers.bed_sort(f"{d}/src.raw", f"{d}/src.bed")
    b.add("trace", "bedtools", "sort -k1,1 -k2,2n of both BED files (build)", t_sort,
          "LC_ALL=C sort -k1,1 -k2,2n -S 2G --parallel=2")
    runs = [peers.bedtools_trace(f"{d}/src.bed", f"{d}/all.bed", f"{d}/pairs.tsv", args.timeout)
            for _ in range(args.peer_repeat)]
    joins = sorted(r[0] for r in runs)
    b.add("trace", "bedtools", "intersect -sorted -wa -wb (query)", joins[len(joins) // 2],
          peers.BEDTOOLS_TRACE_CMD, joins, ref=b.trace_ref)
    posts = sorted(r[1] + r[0] for r in runs)
    b.add("trace", "bedtools", "intersect + post-filter (drop same person, dedupe)", posts[len(posts) // 2],
          peers.BEDTOOLS_TRACE_CMD + "; pandas read (pyarrow), person != person, unique", posts, ref=b.trace_ref)
    b.check("bedtools trace pairs", np.array_equal(runs[-1][2], pairs), f"{len(runs[-1][2])} vs {len(pairs)}")
    shutil.rmtree(d, ignore_errors=True)


def bench_networkx(b, args, ws, we):
    from tracer.duck import DuckStore
    from tracer.tracing import trace

    path, info = data.city_store(args.workdir, args.networkx_presences, args.seed, log=log)
    with DuckStore(path, read_only=True) as st:
        persons = st.persons()
        frame = data.canonical_frame(st.con)
        n_cases = min(args.cases, len(persons) // 10)
        cases = data.pick_cases(persons["key"], n_cases, args.seed)
        med, runs, res = peers.timed(lambda: trace(st, cases, **TRACE_KW), args.repeat, warmup=1)
    what = f"small city: {len(frame)} presences, {n_cases} cases"
    ref = b.add("networkx", "tracer", f"warm trace, {what}", med, "trace(st, cases, ...)", runs)
    pairs = tracer_pairs(res, persons)
    t = time.perf_counter()
    graph = peers.networkx_build(frame)
    b.add("networkx", "networkx", "bipartite MultiGraph build (build)", time.perf_counter() - t,
          "peers.networkx_build(frame)")
    case_codes = persons.set_index("key").loc[cases["person"], "code"].to_numpy()
    med, runs, got = peers.timed(lambda: peers.networkx_trace(graph, case_codes, ws, we), args.peer_repeat)
    b.add("networkx", "networkx", "neighbourhood walk + interval filter (query)", med,
          "peers.networkx_trace(graph, case_codes, ws, we)", runs, ref=ref)
    b.check("networkx pairs", np.array_equal(got, pairs), f"{len(got)} vs tracer {len(pairs)}")
    b.notes.append(f"networkx: run on a separate small city ({len(frame)} presences, {n_cases} cases); "
                   f"on the main city its Python loop over every presence of every visited place is "
                   f"too slow (it scales with the candidate rows, like the pandas merge)")


# --------------------------------------------------------------- self-join

def bench_selfjoin(b, args, frame):
    from tracer.index import build_index
    from tracer.kernels import count_self_join

    n = len(frame)
    t = time.perf_counter()
    index = build_index(frame)
    b.add("selfjoin", "tracer", f"index build ({n} presences) (build)", time.perf_counter() - t, "build_index(frame)")
    med, runs, count = peers.timed(lambda: count_self_join(index), args.repeat, warmup=1)
    ref = b.add("selfjoin", "tracer", "count_self_join (query)", med, "count_self_join(index)", runs)
    b.selfjoin_count = count
    t0 = int(frame["start"].min())
    con = peers.duck_connect(args.threads)
    load_s = peers.duck_load(con, "sj", frame, t0, positive_only=True)
    b.add("selfjoin", "duckdb", "CREATE TABLE sj (positive intervals, folded keys) (build)", load_s, "peers.duck_load")
    best = None
    for name, sql in peers.DUCK_SELFJOIN_SQL.items():
        plan = peers.duck_plan(con, sql)
        try:
            med, runs, got = peers.timed(lambda: peers.duck_selfjoin(con, sql, args.timeout), args.peer_repeat)
        except peers.Timeout as exc:
            b.add("selfjoin", "duckdb", f"{name} [{'+'.join(plan)}]: {exc}", None, sql)
            b.notes.append(f"duckdb self-join '{name}' did not finish in {args.timeout:.0f} s "
                           f"(ratio at least {args.timeout / ref['seconds']:.0f}x)")
            continue
        fig = b.add("selfjoin", "duckdb", f"{name} [{'+'.join(plan)}]", med, sql + "  -- then / 2", runs, ref=ref)
        b.check(f"duckdb self-join {name}", got == count, f"{got} vs tracer {count}")
        if best is None or med < best["seconds"]:
            best = fig
    b.duck_selfjoin_best = best
    b.bed_selfjoin = None
    if peers.have_bedtools():
        d = tempfile.mkdtemp(prefix="bedsj-", dir=args.workdir)
        peers.bed_write(con, f"SELECT 'c' || place, s - {t0}, e - {t0}, person FROM sj", f"{d}/p.raw")
        peers.bed_write(con, f"SELECT 'c' || place || '_' || person, s - {t0}, e - {t0}, person FROM sj",
                        f"{d}/pp.raw")
        t1 = peers.bed_sort(f"{d}/p.raw", f"{d}/p.bed")
        t2 = peers.bed_sort(f"{d}/pp.raw", f"{d}/pp.bed")
        b.add("selfjoin", "bedtools", "sort both BED files (build)", t1 + t2, "LC_ALL=C sort -k1,1 -k2,2n")
        runs = [peers.bedtools_selfjoin(f"{d}/p.bed", f"{d}/pp.bed", args.timeout) for _ in range(args.peer_repeat)]
        tot = sorted(r[0] + r[1] for r in runs)
        fig = b.add("selfjoin", "bedtools", "intersect -sorted -c, two passes (query)", tot[len(tot) // 2],
                    peers.BEDTOOLS_COUNT_CMD.format(bed="p.bed") + " ; same for pp.bed (chrom = place_person);"
                    " pairs = (sum1 - sum2) / 2", tot, ref=ref)
        b.check("bedtools self-join", runs[-1][2] == count, f"{runs[-1][2]} vs tracer {count}")
        b.bed_selfjoin = fig
        shutil.rmtree(d, ignore_errors=True)
    con.close()


# -------------------------------------------------------------------- main

def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--presences", type=int, default=1_000_000, help="trace/index city size (about)")
    ap.add_argument("--selfjoin-presences", type=int, default=None, help="self-join city (default: same city)")
    ap.add_argument("--coldstart-presences", type=int, default=1_000_000, help="cold-start store size")
    ap.add_argument("--networkx-presences", type=int, default=100_000, help="small city for networkx")
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5, help="runs per tracer figure (median)")
    ap.add_argument("--peer-repeat", type=int, default=3, help="runs per peer figure (median)")
    ap.add_argument("--cold-repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per peer query")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "tracer-bench"))
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--skip", default="", help="comma list: children,pandas,bedtools,networkx,selfjoin")
    ap.add_argument("--child-trace", nargs=2, metavar=("STORE", "CASES_CSV"), help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    if args.child_trace:
        return child_trace(*args.child_trace)
    from tracer.duck import DuckStore

    skip = set(filter(None, args.skip.split(",")))
    b = Bench()
    b.started = time.time()
    b.load_before = os.getloadavg()
    path, info = data.city_store(args.workdir, args.presences, args.seed, log=log)
    b.city = info
    with DuckStore(path, read_only=True) as st:
        persons = st.persons()
        frame = data.canonical_frame(st.con)
        n_places = int(st.con.execute("SELECT max(code) + 1 FROM places").fetchone()[0])
    cases = data.pick_cases(persons["key"], args.cases, args.seed)
    case_codes = persons.set_index("key").loc[cases["person"], "code"].to_numpy(np.int64)
    ws, we = data.case_windows()
    cases_csv = os.path.join(args.workdir, f"cases-{args.presences}.csv")
    cases.to_csv(cases_csv, index=False)
    skew_note(b, frame, data.case_windows()[0])
    log(f"city: {len(frame)} presences, {len(persons)} persons, {n_places} places; {len(cases)} cases")
    if "children" not in skip:
        cold_path = data.city_store(args.workdir, args.coldstart_presences, args.seed, log=log)[0]
        with DuckStore(cold_path, read_only=True) as st:
            cold_cases = data.pick_cases(st.persons()["key"], args.cases, args.seed)
        cold_csv = os.path.join(args.workdir, f"cases-{args.coldstart_presences}.csv")
        cold_cases.to_csv(cold_csv, index=False)
        bench_children(b, args, path, cold_path, cases_csv, cold_csv)
    bench_index(b, args, path, frame, len(persons), n_places)
    pairs = bench_tracer_trace(b, args, path, cases, persons, case_codes, ws, we)
    t0 = min(int(frame["start"].min()), ws)
    con = peers.duck_connect(args.threads)
    b.add("trace", "duckdb", "CREATE TABLE pres from the arrays (build)", peers.duck_load(con, "pres", frame, t0),
          "peers.duck_load")
    con.register("_cases", pd.DataFrame({"person": case_codes, "ws": ws, "we": we}))
    con.execute("CREATE TABLE cases AS SELECT * FROM _cases")
    bench_duck_trace(b, args, con, pairs, t0)
    if "pandas" not in skip:
        bench_pandas_trace(b, args, frame, case_codes, ws, we, pairs)
    if "bedtools" not in skip:
        bench_bedtools_trace(b, args, con, pairs, t0, ws, we)
    con.close()
    if "networkx" not in skip:
        bench_networkx(b, args, ws, we)
    if "selfjoin" not in skip:
        sj = frame if args.selfjoin_presences in (None, args.presences) else data.city_frame(
            args.workdir, args.selfjoin_presences, args.seed, log=log)
        del frame
        bench_selfjoin(b, args, sj)
    b.load_after = os.getloadavg()
    b.finished = time.time()
    write_results(b, args, sys.argv, args.results)
    log(f"wrote {args.results}")


if __name__ == "__main__":
    main()
