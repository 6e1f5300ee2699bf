"""Loader throughput: messy venues, flights and trains files → a fresh DuckDB store.

Generates realistic raw files with numpy (valid resident IDs with a few
wrong check digits, lower-case ``x`` and full-width digits, phones with
``+86`` and dashes, mixed time formats, venue scans without exit, ICAO
flight numbers, ``023c`` seats, duplicated rows), then times the stages of
:func:`loaders.load_files` and the whole call, and prints rows/s.

Stages (best of ``--repeat``, wall and CPU seconds; the machine's load
average is printed first, as other work on the machine skews wall time):
``read`` (:func:`loaders.io.read_table`), ``parse`` (template
match + the kind's parser: normalise and validate every field),
``prepare`` (read + parse + identity resolution + dwell + fingerprints,
i.e. :func:`loaders.api.prepare`), ``append`` (``DuckStore.append`` of the
prepared batch into a fresh store) and ``end to end`` (``load_files`` into
a fresh store, the figure the bar is about).

Usage::

    python benchmarks/bench_load.py                  # 200k rows each, best of 3
    python benchmarks/bench_load.py --rows 1000000 --kinds venues --repeat 1
    python benchmarks/bench_load.py --kinds flights.xlsx,trains.xlsx   # 100k rows each
    python benchmarks/bench_load.py --kinds trains.xlsx --engine openpyxl   # the fallback
    python benchmarks/bench_load.py --profile venues # cProfile of one load_files
    python benchmarks/bench_load.py --rows 1000000 --append-profile venues   # DuckStore.append's parts

After the stages, each file is loaded once more in a fresh process, which
prints that load's wall time and the process's peak resident memory
(``VmHWM``; ``--no-memory`` skips it).

Examples
--------
>>> frame = venues_frame(50, seed=1)
>>> abs(len(frame) - 50) <= 1 and "scan_time" in frame.columns
True
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

__all__ = ["venues_frame", "flights_frame", "trains_frame", "write_csv", "write_xlsx", "time_stages", "peak_memory",
           "append_breakdown", "main"]

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = np.array(list("10X98765432"))
_REGIONS = np.array(["110105", "310101", "440305", "530102", "530111", "510104"])
_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
T0 = np.datetime64("2020-01-10T00:00:00")


def _people(rng, n):
    """``id, phone, name`` of ``n`` people (valid 18-digit IDs)."""
    birth = np.datetime64("1950-01-01") + rng.integers(0, 365 * 60, n).astype("timedelta64[D]")
    body = np.char.add(np.char.add(rng.choice(_REGIONS, n), np.char.replace(np.datetime_as_string(birth), "-", "")),
                       np.char.zfill(rng.integers(0, 1000, n).astype(str), 3))  # fmt: skip
    digits = body.astype("S17").view(np.uint8).reshape(n, 17).astype(np.int64) - 48
    ids = np.char.add(body, _CHECK[(digits @ _WEIGHTS) % 11])
    phone = np.char.add("1", np.char.add(rng.integers(3, 10, n).astype(str),
                                         np.char.zfill(rng.integers(0, 10**9, n).astype(str), 9)))  # fmt: skip
    surnames, given = np.array(list("王李张刘陈杨黄赵吴周")), np.array(list("伟芳娜秀英敏静丽强磊军洋勇艳杰"))
    name = np.char.add(rng.choice(surnames, n), rng.choice(given, n))
    return ids.astype(object), phone.astype(object), name.astype(object)


def _damage_ids(rng, ids):
    ids = ids.copy()
    n = len(ids)
    r = rng.random(n)
    bad = np.flatnonzero(r < 0.01)  # wrong check digit
    ids[bad] = [s[:17] + ("0" if s[17] != "0" else "1") for s in ids[bad]]
    low = np.flatnonzero((r >= 0.01) & (r < 0.015))
    ids[low] = [s.replace("X", "x") for s in ids[low]]
    wide = np.flatnonzero((r >= 0.015) & (r < 0.02))
    ids[wide] = [s.translate(_FULLWIDTH) for s in ids[wide]]
    ids[(r >= 0.02) & (r < 0.03)] = None  # phone only
    return ids


def _damage_phones(rng, phones):
    phones = phones.copy()
    r = rng.random(len(phones))
    fmt = np.flatnonzero(r < 0.03)
    phones[fmt] = ["+86 " + p[:3] + "-" + p[3:7] + "-" + p[7:] for p in phones[fmt]]
    phones[(r >= 0.03) & (r < 0.035)] = "123"
    return phones


def _times(rng, seconds):
    """Local time strings in mixed formats (90% ``YYYY-MM-DD HH:MM:SS``)."""
    stamps = T0 + seconds.astype("timedelta64[s]")
    iso = np.char.replace(np.datetime_as_string(stamps, unit="s"), "T", " ").astype(object)
    r = rng.random(len(seconds))
    slash = np.flatnonzero(r < 0.06)
    iso[slash] = [f"{s[:4]}/{int(s[5:7])}/{int(s[8:10])} {int(s[11:13])}:{s[14:16]}" for s in iso[slash]]
    chinese = np.flatnonzero((r >= 0.06) & (r < 0.08))
    iso[chinese] = [f"{s[:4]}年{int(s[5:7])}月{int(s[8:10])}日 {int(s[11:13])}时{int(s[14:16])}分" for s in iso[chinese]]
    compact = np.flatnonzero((r >= 0.08) & (r < 0.09))
    iso[compact] = [s.replace("-", "").replace(" ", "").replace(":", "") for s in iso[compact]]
    iso[(r >= 0.09) & (r < 0.092)] = "not a time"
    return iso


def _duplicate(rng, frame, rate=0.01):
    extra = frame.iloc[rng.choice(len(frame), int(len(frame) * rate), replace=False)]
    return pd.concat([frame, extra], ignore_index=True)


def venues_frame(n_rows, seed=0, n_people=None, n_venues=None):
    """A messy raw venues table of about ``n_rows`` rows (strings)."""
    rng = np.random.default_rng(seed)
    n = int(n_rows / 1.01)
    ids, phones, names = _people(rng, n_people or max(n // 10, 10))
    who = rng.integers(0, len(ids), n)
    n_venues = n_venues or max(n // 50, 5)
    venue = rng.integers(0, n_venues, n)
    scan = rng.integers(0, 14 * 86400, n)
    exit_s = scan + rng.integers(60, 3 * 3600, n)
    exit_t = _times(rng, exit_s)
    exit_t[rng.random(n) < 0.3] = None  # no exit scan
    code = np.char.add("V530102S", np.char.zfill(venue.astype(str), 5)).astype(object)
    lower = rng.random(n) < 0.02
    code[lower] = np.char.lower(code[lower].astype(str)).astype(object)
    frame = pd.DataFrame({
        "name": names[who], "id_number": _damage_ids(rng, ids[who]), "phone": _damage_phones(rng, phones[who]),
        "venue_code": code, "venue_name": np.char.add("场所", venue.astype(str)).astype(object),
        "district": np.array(["五华区", "官渡区", "盘龙区"], dtype=object)[venue % 3],
        "scan_time": _times(rng, scan), "exit_time": exit_t,
    })  # fmt: skip
    return _duplicate(rng, frame)


_CARRIERS = np.array(["CA", "MU", "CZ", "HU", "3U", "MF"])
_ICAO = {"CA": "CCA", "MU": "CES", "CZ": "CSN", "HU": "CHH", "3U": "CSC", "MF": "CXA"}


def flights_frame(n_rows, seed=0, n_people=None, n_flights=None):
    """A messy raw flights table of about ``n_rows`` rows (strings)."""
    rng = np.random.default_rng(seed)
    n = int(n_rows / 1.01)
    ids, phones, names = _people(rng, n_people or max(n // 4, 10))
    who = rng.integers(0, len(ids), n)
    n_flights = n_flights or max(n // 150, 5)
    flight = rng.integers(0, n_flights, n)
    carrier = _CARRIERS[flight % len(_CARRIERS)]
    number = (flight * 7 % 9000 + 100).astype(str)
    fno = np.char.add(carrier, number).astype(object)
    r = rng.random(n)
    spaced = np.flatnonzero(r < 0.05)
    fno[spaced] = [f"{c.lower()} {x}" for c, x in zip(carrier[spaced], number[spaced])]
    icao = np.flatnonzero((r >= 0.05) & (r < 0.07))
    fno[icao] = [_ICAO[c] + x for c, x in zip(carrier[icao], number[icao])]
    day = flight % 14
    dep_s = day * 86400 + 6 * 3600 + (flight * 600) % (14 * 3600)
    arr_s = dep_s + 3600 + (flight * 300) % 10800
    date = np.datetime_as_string(np.datetime64("2020-01-10") + day.astype("timedelta64[D]"), unit="D").astype(object)
    clock = pd.to_datetime(dep_s, unit="s").strftime("%H:%M").to_numpy(object)
    arr_clock = pd.to_datetime(arr_s, unit="s").strftime("%H:%M").to_numpy(object)
    full = rng.random(n) < 0.3  # some exports give full timestamps
    dep = np.where(full, _times(rng, dep_s), clock)
    arr = np.where(full, _times(rng, arr_s), arr_clock)
    seat = np.char.add(rng.integers(1, 40, n).astype(str), rng.choice(list("ABCDEFK"), n)).astype(object)
    r = rng.random(n)
    seat[r < 0.05] = np.char.add("0", seat[r < 0.05].astype(str)).astype(object)
    seat[(r >= 0.05) & (r < 0.08)] = None
    id_type = np.where(rng.random(n) < 0.5, "身份证", "居民身份证").astype(object)
    frame = pd.DataFrame({
        "name": names[who], "id_type": id_type, "id_number": _damage_ids(rng, ids[who]),
        "phone": _damage_phones(rng, phones[who]), "flight_no": fno, "flight_date": date,
        "dep_airport": np.array(["PEK", "KMG", "PVG", "CAN"], dtype=object)[flight % 4],
        "arr_airport": np.array(["CTU", "SZX", "XIY", "KMG"], dtype=object)[flight % 4],
        "dep_time": dep, "arr_time": arr, "seat": seat,
    })  # fmt: skip
    return _duplicate(rng, frame)


_STATIONS = np.array(["北京西", "石家庄", "郑州东", "武汉", "长沙南", "广州南"], dtype=object)


def trains_frame(n_rows, seed=0, n_people=None, n_trains=None):
    """A messy raw trains table of about ``n_rows`` rows (strings; each
    passenger rides their own segment of the train's route)."""
    rng = np.random.default_rng(seed)
    n = int(n_rows / 1.01)
    ids, phones, names = _people(rng, n_people or max(n // 4, 10))
    who = rng.integers(0, len(ids), n)
    n_trains = n_trains or max(n // 400, 5)
    train = rng.integers(0, n_trains, n)
    prefix = np.array(list("GDKZT"))[train % 5]
    number = (train * 13 % 9000 + 1).astype(str)
    tno = np.char.add(prefix, number).astype(object)
    r = rng.random(n)
    odd = np.flatnonzero(r < 0.05)
    tno[odd] = [f"{p.lower()} {x}次" for p, x in zip(prefix[odd], number[odd])]
    day = train % 14
    board = rng.integers(0, len(_STATIONS) - 1, n)
    alight = board + 1 + (rng.random(n) * (len(_STATIONS) - 1 - board)).astype(np.int64)
    dep_s = day * 86400 + 6 * 3600 + (train * 900) % (12 * 3600) + board * 5400
    arr_s = day * 86400 + 6 * 3600 + (train * 900) % (12 * 3600) + alight * 5400  # may pass midnight
    date = np.datetime_as_string(np.datetime64("2020-01-10") + day.astype("timedelta64[D]"), unit="D").astype(object)
    dep = pd.to_datetime(dep_s, unit="s").strftime("%H:%M").to_numpy(object)
    arr = pd.to_datetime(arr_s, unit="s").strftime("%H:%M").to_numpy(object)
    car = rng.integers(1, 17, n)
    row = rng.integers(1, 20, n).astype(str)
    letter = rng.choice(list("ABCDF"), n)
    seat = np.char.add(row, letter).astype(object)
    carriage = car.astype(str).astype(object)
    r = rng.random(n)
    inline = np.flatnonzero(r < 0.4)  # carriage inside the seat cell
    seat[inline] = [f"{c:02d}车{s}" for c, s in zip(car[inline], seat[inline])]
    carriage[inline[: len(inline) // 2]] = None
    berth = np.flatnonzero((r >= 0.4) & (r < 0.5))
    seat[berth] = [f"{c:02d}车{int(s[:-1]):03d}号{'上中下'[k % 3]}铺" for k, c, s in zip(berth, car[berth], seat[berth])]
    seat[(r >= 0.5) & (r < 0.52)] = "无座"
    seat[(r >= 0.52) & (r < 0.55)] = None
    id_type = np.where(rng.random(n) < 0.5, "身份证", "居民身份证").astype(object)
    frame = pd.DataFrame({
        "name": names[who], "id_type": id_type, "id_number": _damage_ids(rng, ids[who]),
        "phone": _damage_phones(rng, phones[who]), "train_no": tno, "travel_date": date,
        "board_station": _STATIONS[board], "alight_station": _STATIONS[alight],
        "dep_time": dep, "arr_time": arr, "carriage": carriage, "seat": seat,
    })  # fmt: skip
    return _duplicate(rng, frame)


FRAMES = {"venues": venues_frame, "flights": flights_frame, "trains": trains_frame}
_DATE_COLUMNS = ("flight_date", "travel_date")


def write_csv(frame, path, encoding="utf-8"):
    frame.to_csv(path, index=False, encoding=encoding)
    return path


def write_xlsx(frame, path, shared_strings=True):
    """Write ``frame`` as an XLSX workbook: travel dates as date cells,
    the rest as text (one time of day in five with seconds). Text goes to
    the shared-strings table as Excel and WPS save it, or, with
    ``shared_strings=False``, inline in the sheet as pandas/openpyxl write
    it (a sheet twice as large, slower to read)."""
    frame = frame.copy()
    for col in _DATE_COLUMNS:
        if col in frame.columns:
            frame[col] = pd.to_datetime(frame[col]).dt.date.astype(object)
    rng = np.random.default_rng(7)
    for col in ("dep_time", "arr_time"):
        cells = frame[col].to_numpy(object)
        pick = np.flatnonzero((rng.random(len(cells)) < 0.2) & np.array([len(str(c)) == 5 for c in cells]))
        cells[pick] = [c + ":00" for c in cells[pick]]
        frame[col] = cells
    frame.to_excel(path, index=False, engine="openpyxl")
    if shared_strings:
        _to_shared_strings(path)
    return path


def _to_shared_strings(path):
    """Move a workbook's inline strings into ``xl/sharedStrings.xml``."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as zin:
        parts = {name: zin.read(name) for name in zin.namelist()}
    table = {}

    def shared(m):
        text = m.group(2)
        index = table.setdefault(text, len(table))
        return b'<c r="%s" t="s"><v>%d</v></c>' % (m.group(1), index)

    cell = re.compile(rb'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t(?: xml:space="preserve")?>(.*?)</t></is></c>')
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = re.sub(rb'<c r="[A-Z]+[0-9]+" t="inlineStr" />', b"", cell.sub(shared, parts[sheet]))
    items = b"".join(b'<si><t xml:space="preserve">%s</t></si>' % t for t in table)
    parts["xl/sharedStrings.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main" count="%d" uniqueCount="%d">%s</sst>' % (len(table), len(table), items)
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')  # fmt: skip
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)


def _best(fn, repeat):
    """(best wall seconds, CPU seconds of that run, result) over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append((time.perf_counter() - t, time.process_time() - c))
    return min(times), out


def time_stages(kind, path, repeat=3, workdir=None):
    """``{stage: (wall s, CPU s)}`` (best of ``repeat``) for one raw file."""
    from loaders.api import Options, load_files, prepare
    from loaders.fields import Table
    from loaders.io import read_table
    from loaders.ledger import Ledger
    from loaders.sources import PARSERS
    from tracer.duck import DuckStore

    workdir = workdir or tempfile.mkdtemp(prefix="bench-load-")
    out = {}
    out["read"], frame = _best(lambda: read_table(path), repeat)

    def parse():
        return PARSERS[kind](Table(frame, kind, path), Ledger(path, frame), Options())

    out["parse"], _ = _best(parse, repeat)
    out["prepare"], prepared = _best(lambda: prepare(kind, [path]), repeat)

    def fresh(name):
        p = os.path.join(workdir, name)
        for q in (p, p + ".wal"):
            if os.path.exists(q):
                os.remove(q)
        shutil.rmtree(p + ".index", ignore_errors=True)
        return DuckStore(p)

    def append():
        with fresh("append.duckdb") as store:
            return store.append(prepared.full_batch(coded=True))  # as load_files gives it

    out["append"], _ = _best(append, repeat)

    def end_to_end():
        with fresh("e2e.duckdb") as store:
            return load_files(store, kind, [path])

    out["end to end"], report = _best(end_to_end, repeat)
    return out, report


def _profile(kind, path, top=35):
    import cProfile
    import pstats

    from loaders.api import load_files
    from tracer.duck import DuckStore

    d = tempfile.mkdtemp(prefix="bench-load-")
    with DuckStore(os.path.join(d, "p.duckdb")) as store:
        prof = cProfile.Profile()
        prof.enable()
        load_files(store, kind, [path])
        prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(top)


class _TimedConnection:
    """A DuckDB connection that adds each statement's time (execute and
    fetch) to ``times`` under its first words."""

    def __init__(self, con, times, counts):
        self._con, self._times, self._counts, self._last = con, times, counts, None

    def _add(self, key, t):
        self._times[key] += time.perf_counter() - t
        self._counts[key] += 1

    def execute(self, sql, *args):
        self._last = "SQL " + " ".join(str(sql).split())[:80]
        t = time.perf_counter()
        self._con.execute(sql, *args)
        self._add(self._last, t)
        return self

    def _fetch(self, method):
        t = time.perf_counter()
        out = getattr(self._con, method)()
        self._add(self._last + " [fetch]", t)
        return out

    def fetchall(self):
        return self._fetch("fetchall")

    def fetchnumpy(self):
        return self._fetch("fetchnumpy")

    def __getattr__(self, name):
        return getattr(self._con, name)


def append_breakdown(kind, path):
    """``(wall s, {part: (s, calls)})`` of one ``DuckStore.append`` of the
    prepared batch of ``path``: its helpers and SQL statements, timed by
    wrapping them at run time (tracer/duck.py is not changed)."""
    import collections
    import functools

    import tracer.duck as duck
    import tracer.duck_dicts as duck_dicts
    from loaders.api import prepare

    batch = prepare(kind, [path]).full_batch(coded=True)  # as load_files gives it
    times, counts = collections.defaultdict(float), collections.Counter()

    def timed(name, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                times[name] += time.perf_counter() - t
                counts[name] += 1

        return wrapper

    saved = {}
    for owner, names in ((duck, ("batch_parts", "upsert_coded", "insert_aliases")),
                         (duck_dicts, ("validate_presences", "person_entries", "place_entries", "alias_entries")),
                         (duck.DuckStore, ("_fresh_presences", "_insert_presences", "_codes"))):  # fmt: skip
        for name in names:
            saved[owner, name] = getattr(owner, name)
            setattr(owner, name, timed(name, saved[owner, name]))
    d = tempfile.mkdtemp(prefix="bench-load-append-")
    try:
        with duck.DuckStore(os.path.join(d, "a.duckdb")) as store:
            store._con = _TimedConnection(store._con, times, counts)
            t = time.perf_counter()
            store.append(batch)
            wall = time.perf_counter() - t
            store._con = store._con._con
    finally:
        for (owner, name), fn in saved.items():
            setattr(owner, name, fn)
        shutil.rmtree(d, ignore_errors=True)
    return wall, {k: (v, counts[k]) for k, v in sorted(times.items(), key=lambda kv: -kv[1])}


def _set_xlsx_engine(engine):
    """Force one XLSX engine (``calamine`` or ``openpyxl``) for a before/after."""
    import loaders.xlsx

    if engine:
        loaders.xlsx.XLSX_ENGINES = (engine,)


def peak_memory(kind, path, engine=None):
    """``(wall s, peak RSS bytes, rows read)`` of one ``load_files`` of
    ``path`` into a fresh store, in a fresh Python process (the peak
    includes the interpreter and imported libraries: see ``baseline``)."""
    import json
    import subprocess

    cmd = [sys.executable, os.path.abspath(__file__), "--child", kind, path] + (["--engine", engine] if engine else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _peak_rss_bytes():
    """This process's peak resident memory: ``VmHWM`` of /proc (not
    ``ru_maxrss``, which after fork + exec keeps the parent's peak)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child(kind, path, engine):
    """Body of :func:`peak_memory`: one load, JSON on stdout."""
    import json

    import loaders.api  # noqa: F401  (imports count in the baseline, not the load)
    from tracer.duck import DuckStore

    _set_xlsx_engine(engine)
    d = tempfile.mkdtemp(prefix="bench-load-mem-")
    with DuckStore(os.path.join(d, "m.duckdb")) as store:
        base = _peak_rss_bytes()
        t = time.perf_counter()
        report = loaders.api.load_files(store, kind, [path])
        wall = time.perf_counter() - t
    shutil.rmtree(d, ignore_errors=True)
    peak = _peak_rss_bytes()
    print(json.dumps({"wall_s": wall, "peak_bytes": peak, "baseline_bytes": base, "read": report.read}))


def _bench_file(workdir, spec, rows, xlsx_rows, inline=False):
    """Path of the raw file for ``kind`` or ``kind.xlsx`` (made once, cached)."""
    kind, _, fmt = spec.partition(".")
    fmt = fmt or "csv"
    n = xlsx_rows if fmt == "xlsx" else rows
    path = os.path.join(workdir, f"{kind}_{n}{'_inline' if inline and fmt == 'xlsx' else ''}.{fmt}")
    if not os.path.exists(path):
        frame = FRAMES[kind](n, seed=1)
        tmp = path + ".tmp." + fmt
        write_xlsx(frame, tmp, shared_strings=not inline) if fmt == "xlsx" else write_csv(frame, tmp)
        os.replace(tmp, path)
    return kind, path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=200_000, help="rows of each CSV file")
    ap.add_argument("--xlsx-rows", type=int, default=100_000, help="rows of each XLSX file")
    ap.add_argument("--kinds", default="venues,flights", help="comma-separated KIND (CSV) or KIND.xlsx")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--engine", choices=["calamine", "openpyxl"], help="force one XLSX engine")
    ap.add_argument("--xlsx-inline", action="store_true", help="XLSX text inline (as pandas writes), not shared")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory load (a fresh process)")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "tracer-bench-load"))
    ap.add_argument("--profile", metavar="KIND", help="print a cProfile of one load_files of KIND and stop")
    ap.add_argument("--append-profile", metavar="KIND", help="time DuckStore.append's parts for KIND and stop")
    ap.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return _child(*args.child, args.engine)
    _set_xlsx_engine(args.engine)
    os.makedirs(args.workdir, exist_ok=True)
    specs = [args.profile or args.append_profile] if args.profile or args.append_profile else args.kinds.split(",")
    paths = [_bench_file(args.workdir, spec, args.rows, args.xlsx_rows, args.xlsx_inline) for spec in specs]
    if args.profile:
        _profile(*paths[0])
        return
    if args.append_profile:
        wall, parts = append_breakdown(*paths[0])
        print(f"load average {os.getloadavg()[0]:.2f}; DuckStore.append of {os.path.basename(paths[0][1])}: "
              f"{wall:.3f} s (helpers include the SQL they run; parts under 5 ms not shown)")  # fmt: skip
        for part, (seconds, calls) in parts.items():
            if seconds >= 0.005:
                print(f"  {seconds:7.3f} s  x{calls:<3d} {part}")
        return
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; best of {args.repeat}"
          + (f"; XLSX engine {args.engine}" if args.engine else ""))  # fmt: skip
    for kind, path in paths:
        stages, report = time_stages(kind, path, args.repeat, args.workdir)
        rows = report.read
        print(f"{os.path.basename(path)}: {rows:,} rows ({os.path.getsize(path) / 1e6:.1f} MB), "
              f"loaded {report.loaded:,}, duplicates {report.duplicates:,}, rejected {report.rejected:,} "
              f"{report.by_code}")  # fmt: skip
        for stage, (wall, cpu) in stages.items():
            print(f"  {stage:<11} {wall:7.3f} s  {rows / wall:>12,.0f} rows/s   (CPU {cpu:6.3f} s)")
        if not args.no_memory:
            got = peak_memory(kind, path, args.engine)
            print(f"  fresh process: end to end {got['wall_s']:.3f} s  {rows / got['wall_s']:>12,.0f} rows/s; "
                  f"peak RSS {got['peak_bytes'] / 2**20:,.0f} MiB "
                  f"(before the load {got['baseline_bytes'] / 2**20:,.0f} MiB)")  # fmt: skip


if __name__ == "__main__":
    main()
