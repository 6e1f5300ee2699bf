"""Render a benchmark run: a table on stderr and ``benchmarks/RESULTS.md``."""

import os
import platform
import sys
import time

__all__ = ["write_results", "machine"]

BAR_TRACE_S = 0.020
BAR_TRACE_RATIO = 20
BAR_BUILD_S = 1.0
BAR_BYTES = 40
BAR_SJ_DUCK = 5
BAR_SJ_BED = 10
BAR_COLD_S = 1.5


def machine():
    """One line per fact about the machine and the software."""
    import duckdb
    import networkx
    import numba
    import numpy
    import pandas

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = (f"Python {platform.python_version()}, numpy {numpy.__version__}, pandas {pandas.__version__}, "
                f"numba {numba.__version__}, duckdb {duckdb.__version__}, networkx {networkx.__version__}")
    try:
        import subprocess

        bed = subprocess.run(["bedtools", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        bed = "bedtools: not installed"
    return [f"CPU: {cpu}, {os.cpu_count()} logical cores visible (shared with other work)",
            f"RAM: {mem:.1f} GiB; {platform.platform()}", versions, bed]


def _ms(seconds):
    return "n/a" if seconds is None else f"{seconds * 1e3:,.1f}"


def _ratio(fig):
    if fig.get("ref") is None or fig["seconds"] is None or not fig["ref"]["seconds"]:
        return ""
    return f"{fig['seconds'] / fig['ref']['seconds']:,.1f}x"


def _table(b):
    rows = ["| section | engine | what | median ms | min ms | runs (ms) | peer / tracer |",
            "| --- | --- | --- | ---: | ---: | --- | ---: |"]
    for f in b.figures:
        runs = ", ".join(f"{r * 1e3:,.0f}" for r in f["runs"]) if len(f["runs"]) > 1 else ""
        what = f["what"].replace("|", "\\|")
        low = _ms(min(f["runs"])) if f["runs"] else "n/a"
        rows.append(f"| {f['section']} | {f['engine']} | {what} | {_ms(f['seconds'])} | {low} | {runs} | {_ratio(f)} |")
    return rows


def _fig(b, section, engine, startswith):
    for f in b.figures:
        if f["section"] == section and f["engine"] == engine and f["what"].startswith(startswith):
            return f
    return None


def _verdict(ok):
    return "**met**" if ok else "**missed**"


def _bars(b, args):
    out = []
    size_note = "" if args.presences >= 10_000_000 else f" (this run: {b.city['n']:,} presences, bar is set at 10 M)"
    tr = getattr(b, "trace_ref", None)
    if tr:
        out.append(f"- Warm trace, persisted index → ranked DataFrame ≤ 20 ms{size_note}: "
                   f"{_ms(tr['seconds'])} ms → {_verdict(tr['seconds'] <= BAR_TRACE_S)}"
                   f" (by {tr['seconds'] / BAR_TRACE_S:,.1f}x the budget)")
        duck = getattr(b, "duck_trace_best", None)
        if duck:
            ratio = duck["seconds"] / tr["seconds"]
            out.append(f"- ≥ 20× faster than DuckDB's fastest SQL (\"{duck['what']}\", {_ms(duck['seconds'])} ms)"
                       f": {ratio:,.2f}× → {_verdict(ratio >= BAR_TRACE_RATIO)}")
    build = _fig(b, "index", "tracer", "index build from")
    if build:
        out.append(f"- Index build ≤ 1 s{size_note}: {_ms(build['seconds'])} ms → "
                   f"{_verdict(build['seconds'] <= BAR_BUILD_S)}")
        out.append(f"- Persisted index ≤ 40 bytes per presence: {b.bytes_per_presence:.1f} → "
                   f"{_verdict(b.bytes_per_presence <= BAR_BYTES)}")
    sj = _fig(b, "selfjoin", "tracer", "count_self_join")
    if sj:
        n = args.selfjoin_presences or args.presences
        note = "" if n >= 5_000_000 else f" (this run: {n:,} presences, bar is set at 5 M)"
        checks = [c for c in b.checks if "self-join" in c["what"]]
        same = all(c["ok"] for c in checks)
        out.append(f"- Self-join: identical pair counts ({b.selfjoin_count:,} pairs){note}: "
                   f"{'yes' if same else 'NO'} ({len(checks)} peers checked)")
        duck = getattr(b, "duck_selfjoin_best", None)
        if duck:
            r = duck["seconds"] / sj["seconds"]
            out.append(f"- ≥ 5× faster than DuckDB's best plan (\"{duck['what']}\"): {r:,.1f}× → "
                       f"{_verdict(r >= BAR_SJ_DUCK)}")
        bed = getattr(b, "bed_selfjoin", None)
        if bed:
            r = bed["seconds"] / sj["seconds"]
            out.append(f"- ≥ 10× faster than bedtools intersect -sorted (sort apart): {r:,.1f}× → "
                       f"{_verdict(r >= BAR_SJ_BED)}")
    cold = _fig(b, "cold", "tracer", "cold start")
    if cold:
        out.append(f"- Cold start, first trace in a fresh process, cache warm, ≤ 1.5 s "
                   f"({args.coldstart_presences:,}-presence store): {_ms(cold['seconds'])} ms → "
                   f"{_verdict(cold['seconds'] <= BAR_COLD_S)}")
    return out


def _commands(b):
    out, seen = [], set()
    for f in b.figures:
        if f["cmd"] in seen:
            continue
        seen.add(f["cmd"])
        out += [f"**{f['engine']} — {f['what']}**", "", "```", f["cmd"], "```", ""]
    return out


def write_results(b, args, argv, path):
    """Print the table to stderr and write the Markdown report."""
    table = _table(b)
    print("\n".join(table), file=sys.stderr)
    city = b.city
    cmd = "python " + " ".join(["benchmarks/run.py"] + argv[1:])
    lines = [
        "# Benchmark results", "",
        f"Produced by `{cmd}` (from the repository root) on "
        f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(b.started))}, "
        f"{(b.finished - b.started) / 60:.1f} min.", "",
        "## Machine", "", *[f"- {m}" for m in machine()],
        f"- Load average before / after the run: {b.load_before[0]:.1f} / {b.load_after[0]:.1f} "
        "(2 cores shared with other work: figures are noisy, medians of the runs listed)", "",
        "## Data", "",
        f"- Trace and index: `tracer.synth.generate_city(n_people={city['n_people']}, days=14, seed={args.seed}, "
        f"epidemic=False)` → {city['n']:,} presences, appended to a DuckStore "
        f"(generation {city['generate_s']:.0f} s, append {city['append_s']:.0f} s, not part of any figure).",
        f"- Cases: {args.cases} residents drawn at random (seed {args.seed}), onset 2020-01-14, "
        "`pre_onset_days=4`: every infectious window is [2020-01-10, 2020-01-24) local, 14 days; "
        "`hops=1, linger=False`.",
        f"- Trace output: {getattr(b, 'trace_stats', {})}.",
        f"- Self-join: {'the same city' if args.selfjoin_presences in (None, args.presences) else str(args.selfjoin_presences) + ' presences wanted, its own city (same generator and seed)'}.",
        "- Contact set compared: distinct (case, contact) pairs; self-join: unordered pairs of different "
        "persons whose intervals overlap for a positive length.", "",
        "## Bars (issue 2)", "", *_bars(b, args), "",
        "## Checks (every peer against tracer)", "",
        *[f"- {c['what']}: {'identical' if c['ok'] else 'MISMATCH'} ({c['detail']})" for c in b.checks], "",
        "## Figures", "",
        "Build rows (marked build) are apart from query rows; ratio = peer median / tracer's reference "
        "figure of the same section (trace: persisted index → ranked DataFrame; self-join: count_self_join).",
        "", *table, "",
        "## Notes", "", *[f"- {n}" for n in b.notes], "",
        "## Commands and SQL behind each figure", "", *_commands(b),
    ]
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
