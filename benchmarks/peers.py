"""The peers tracer is measured against, each in its best formulation we know.

Every trace peer answers the same question as ``tracer.trace(..., hops=1,
linger=False)``: the distinct ``(case, contact)`` pairs such that the
case's presence clipped to its infectious window and the contact's presence
at the same place have an intersection of positive length (contact is not
the case). Pairs are returned as sorted unique int64 ``case << 32 |
contact`` so that sets compare with ``np.array_equal``. Self-join peers
return the number of unordered co-presence pairs of different persons with
positive overlap, tracer's ``count_self_join``.

Build (load, sort, graph construction) and query times are kept apart.
"""

import os
import shutil
import statistics
import subprocess
import threading
import time

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv

__all__ = [
    "Timeout", "FOLD_BITS", "timed", "pair_ids", "DUCK_TRACE_SQL", "DUCK_SELFJOIN_SQL", "duck_connect", "duck_load",
    "duck_trace", "duck_selfjoin", "duck_plan", "pandas_trace", "bed_write", "bed_sort",
    "bedtools_trace", "bedtools_count", "bedtools_selfjoin", "have_bedtools", "BEDTOOLS_TRACE_CMD",
    "BEDTOOLS_COUNT_CMD", "networkx_build", "networkx_trace",
]  # fmt: skip

#: Times are folded under the place: key = place << 40 | (t - t0), so one
#: pair of inequalities on keys also implies the same place.
FOLD_BITS = 40


class Timeout(Exception):
    """A peer did not finish within its time limit."""


def timed(fn, repeat, warmup=0):
    """Run ``fn`` ``warmup + repeat`` times; return (median s, [times], last result)."""
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def pair_ids(case, contact):
    """Sorted unique ``case << 32 | contact`` of two code arrays."""
    ids = (np.asarray(case, dtype=np.int64) << 32) | np.asarray(contact, dtype=np.int64)
    return np.unique(ids)


# ------------------------------------------------------------------ DuckDB

_SRC = """WITH src AS (
  SELECT c.person AS cp, p.place, greatest(p.s, c.ws) AS s, least(p.e, c.we) AS e,
         (p.place::BIGINT << {bits}) + (greatest(p.s, c.ws) - {t0}) AS k1,
         (p.place::BIGINT << {bits}) + (least(p.e, c.we) - {t0}) AS k2
  FROM pres p JOIN cases c ON p.person = c.person
  WHERE least(p.e, c.we) > greatest(p.s, c.ws))
"""

#: Trace formulations, by name (``{t0}``, ``{bits}`` filled in).
DUCK_TRACE_SQL = {
    "hash join on place, time residuals": _SRC + """SELECT DISTINCT src.cp AS case_p, b.person AS contact
FROM src JOIN pres b ON b.place = src.place AND b.s < src.e AND b.e > src.s
WHERE b.person <> src.cp AND b.e > b.s""",
    "place folded into time key (IEJoin)": _SRC + """SELECT DISTINCT src.cp AS case_p, b.person AS contact
FROM src JOIN pres b ON b.k1 < src.k2 AND b.k2 > src.k1
WHERE b.person <> src.cp AND b.e > b.s""",
    "hash join on place, prefiltered places": _SRC + """, b AS (
  SELECT * FROM pres WHERE e > s AND place IN (SELECT DISTINCT place FROM src))
SELECT DISTINCT src.cp AS case_p, b.person AS contact
FROM src JOIN b ON b.place = src.place AND b.s < src.e AND b.e > src.s
WHERE b.person <> src.cp""",
}

#: Self-join formulations: ordered pairs counted, halved by the caller.
DUCK_SELFJOIN_SQL = {
    "place folded into time key (IEJoin)": """SELECT count(*) FROM sj a JOIN sj b
ON a.k1 < b.k2 AND b.k1 < a.k2 WHERE a.person <> b.person""",
    "equality on place (hash join)": """SELECT count(*) FROM sj a JOIN sj b
ON a.place = b.place AND a.s < b.e AND b.s < a.e WHERE a.person <> b.person""",
}


def duck_connect(threads):
    """An in-memory DuckDB connection with ``threads`` threads."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    return con


def duck_load(con, table, frame, t0, positive_only=False):
    """Load presences as ``table(person, place, s, e, k1, k2)``; return seconds.

    ``k1, k2`` are the place-folded start and end keys (see :data:`FOLD_BITS`).
    """
    con.register("_frame", frame[["person", "place", "start", "end"]])
    where = 'WHERE "end" > start' if positive_only else ""
    t = time.perf_counter()
    con.execute(f"""CREATE OR REPLACE TABLE {table} AS SELECT person, place, start AS s, "end" AS e,
        (place::BIGINT << {FOLD_BITS}) + (start - {t0}) AS k1,
        (place::BIGINT << {FOLD_BITS}) + ("end" - {t0}) AS k2 FROM _frame {where}""")
    elapsed = time.perf_counter() - t
    con.unregister("_frame")
    return elapsed


def _interruptible(con, sql, timeout_s, fetch):
    timer = threading.Timer(timeout_s, con.interrupt)
    timer.start()
    try:
        return fetch(con.execute(sql))
    except Exception as exc:  # duckdb.InterruptException and friends
        if "interrupt" in str(exc).lower():
            raise Timeout(f"interrupted after {timeout_s:.0f} s") from None
        raise
    finally:
        timer.cancel()


def duck_trace(con, sql, timeout_s):
    """Run one trace formulation; return the pair ids."""
    got = _interruptible(con, sql, timeout_s, lambda r: r.fetchnumpy())
    return pair_ids(got["case_p"], got["contact"])


def duck_selfjoin(con, sql, timeout_s):
    """Run one self-join formulation; return the unordered pair count."""
    ordered = _interruptible(con, sql, timeout_s, lambda r: r.fetchone()[0])
    return int(ordered) // 2


def duck_plan(con, sql):
    """The join operators of DuckDB's physical plan (e.g. ``HASH_JOIN``)."""
    text = "\n".join(str(row[1]) for row in con.execute("EXPLAIN " + sql).fetchall()).upper().replace(" ", "_")
    ops = ("IE_JOIN", "HASH_JOIN", "PIECEWISE_MERGE_JOIN", "NESTED_LOOP_JOIN", "BLOCKWISE_NL_JOIN", "RANGE_JOIN")
    return [op for op in ops if op in text]


# ------------------------------------------------------------------ pandas

def _source_rows(frame, case_codes, ws, we):
    src = frame.loc[frame["person"].isin(case_codes), ["person", "place", "start", "end"]]
    s = np.maximum(src["start"].to_numpy(), ws)
    e = np.minimum(src["end"].to_numpy(), we)
    keep = e > s
    return pd.DataFrame({"cp": src["person"].to_numpy()[keep], "place": src["place"].to_numpy()[keep],
                         "s": s[keep], "e": e[keep]})


def pandas_trace(frame, case_codes, ws, we, budget_rows=20_000_000):
    """Merge the cases' clipped presences with everyone's on place, filter.

    Only places a case visited are merged, and the merge runs in chunks of
    sources whose candidate rows stay under ``budget_rows`` (memory bound).
    """
    src = _source_rows(frame, case_codes, ws, we)
    cand = frame.loc[frame["place"].isin(src["place"].unique()) & (frame["end"] > frame["start"]),
                     ["person", "place", "start", "end"]]
    sizes = cand["place"].value_counts()
    per_src = sizes.reindex(src["place"]).fillna(0).to_numpy(np.int64)
    bounds = np.searchsorted(np.cumsum(per_src), np.arange(0, per_src.sum() + budget_rows, budget_rows))
    bounds = np.unique(np.concatenate(([0], bounds, [len(src)])))
    parts = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        m = src.iloc[lo:hi].merge(cand, on="place")
        m = m[(m["start"] < m["e"]) & (m["end"] > m["s"]) & (m["person"] != m["cp"])]
        parts.append(pair_ids(m["cp"].to_numpy(), m["person"].to_numpy()))
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, np.int64)


# ---------------------------------------------------------------- bedtools

def bed_write(con, sql, path):
    """Write the rows of ``sql`` (chrom, start, end, name) as a BED file."""
    con.execute(f"COPY ({sql}) TO '{path}' (FORMAT csv, DELIMITER '\t', HEADER false, QUOTE '')")


def bed_sort(path, out):
    """``sort -k1,1 -k2,2n`` (C locale, 2 threads); return seconds."""
    env = dict(os.environ, LC_ALL="C")
    t = time.perf_counter()
    subprocess.run(["sort", "-k1,1", "-k2,2n", "-S", "2G", "--parallel=2", "-o", out, path],
                   check=True, env=env)
    return time.perf_counter() - t


BEDTOOLS_TRACE_CMD = "bedtools intersect -a src.bed -b all.bed -sorted -wa -wb > pairs.tsv"
BEDTOOLS_COUNT_CMD = "bedtools intersect -a {bed} -b {bed} -sorted -c | awk '{{s += $5}} END {{printf \"%d\\n\", s}}'"


def bedtools_trace(src_bed, all_bed, out_tsv, timeout_s):
    """Intersect sorted case intervals with all presences; return
    ``(intersect s, post-filter s, pair ids)``. The post-filter drops
    same-person rows and deduplicates pairs (pyarrow CSV reader, numpy)."""
    t = time.perf_counter()
    with open(out_tsv, "w") as fh:
        subprocess.run(["bedtools", "intersect", "-a", src_bed, "-b", all_bed, "-sorted", "-wa", "-wb"],
                       stdout=fh, check=True, timeout=timeout_s)
    t_join = time.perf_counter() - t
    t = time.perf_counter()
    names = ["c1", "s1", "e1", "case", "c2", "s2", "e2", "contact"]
    got = pacsv.read_csv(out_tsv, read_options=pacsv.ReadOptions(column_names=names),
                         parse_options=pacsv.ParseOptions(delimiter="\t"),
                         convert_options=pacsv.ConvertOptions(include_columns=["case", "contact"]))
    case, contact = got["case"].to_numpy(), got["contact"].to_numpy()
    keep = case != contact
    pairs = pair_ids(case[keep], contact[keep])
    return t_join, time.perf_counter() - t, pairs


def bedtools_count(bed, timeout_s):
    """Sum of ``bedtools intersect -c`` of a sorted BED file with itself;
    return (seconds, sum)."""
    cmd = BEDTOOLS_COUNT_CMD.format(bed=bed)
    t = time.perf_counter()
    out = subprocess.run(cmd, shell=True, check=True, capture_output=True, text=True, timeout=timeout_s)
    return time.perf_counter() - t, int(out.stdout.strip() or 0)


def bedtools_selfjoin(by_place_bed, by_place_person_bed, timeout_s):
    """Unordered pairs of different persons, from two ``-c`` passes.

    Pass 1 (chrom = place) counts, per interval, every overlapping interval
    at its place, itself and the same person's included; pass 2 (chrom =
    place and person) counts exactly those self and same-person overlaps.
    ``(sum1 - sum2) / 2`` are the pairs of different persons.
    Returns ``(seconds pass 1, seconds pass 2, pairs)``.
    """
    t1, s1 = bedtools_count(by_place_bed, timeout_s)
    t2, s2 = bedtools_count(by_place_person_bed, timeout_s)
    return t1, t2, (s1 - s2) // 2


def have_bedtools():
    return shutil.which("bedtools") is not None


# ---------------------------------------------------------------- networkx

def networkx_build(frame):
    """A bipartite person-place MultiGraph, one edge per presence (s, e)."""
    import networkx as nx

    graph = nx.MultiGraph()
    person = frame["person"].to_numpy()
    place = frame["place"].to_numpy()
    start = frame["start"].to_numpy()
    end = frame["end"].to_numpy()
    graph.add_edges_from(
        (("p", int(a)), ("q", int(b)), {"s": int(s), "e": int(e)})
        for a, b, s, e in zip(person, place, start, end)
    )
    return graph


def networkx_trace(graph, case_codes, ws, we):
    """Neighbourhood walk: case → places → persons, with interval filtering."""
    case_out, contact_out = [], []
    for case in case_codes:
        node = ("p", int(case))
        if node not in graph:
            continue
        for _, place, d in graph.edges(node, data=True):
            s, e = max(d["s"], ws), min(d["e"], we)
            if e <= s:
                continue
            for _, other, d2 in graph.edges(place, data=True):
                if other[1] != case and d2["s"] < e and d2["e"] > s and d2["e"] > d2["s"]:
                    case_out.append(case)
                    contact_out.append(other[1])
    return pair_ids(case_out, contact_out)
