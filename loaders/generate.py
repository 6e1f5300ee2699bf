"""``write_raw_sources``: a synthetic city rendered as raw, messy source files.

:func:`tracer.synth.generate_city` draws a city with an outbreak; this
module writes its presences the way the agencies deliver them, one source
kind per file in the loader templates (:mod:`loaders.templates`), damages
them (:mod:`loaders.generate_mess`), and writes the ground truth beside
them, so that ``generate → load → trace`` can be checked end to end.

=============  =====================  ============================  ========================
kind           file(s)                encoding, headers             comes from
=============  =====================  ============================  ========================
residence      ``residence.csv``      UTF-8, Chinese                home stays
venues         ``venues_1.csv``,      GB18030, Chinese;             venue visits (no exit
               ``venues_2.csv``       UTF-8, English (repeats the   scan where the city's
                                      tail of part 1)               end is estimated)
buses          ``buses.csv``          UTF-8, English                bus rides
flights        ``flights.xlsx``       XLSX, Chinese                 flights
trains         ``trains.csv``         UTF-8 with BOM, English       train legs
checkpoints    ``checkpoints.csv``    UTF-8, Chinese                checkpoint passes (the
                                                                    taxi's plate)
grid           ``grid.csv``           UTF-8, English                cell-grid presence
=============  =====================  ============================  ========================

Plus ``cases.csv`` (the A-class list: ``person, onset, sampled,
isolated``, persons keyed by ID number as the loaders key them),
``expected_load.json`` (per kind and file: ``read, loaded, duplicates,
rejected, by_code``) and ``truth/``: ``infections.csv`` (who infected whom,
where, when; epoch seconds), ``presences.parquet`` (the city's canonical
presences), ``expected_presences.parquet`` (what loading the files must
give), ``mess.csv`` (every injected change: file, line, field, change,
outcome, code) and ``shared_phones.csv`` (the households where one member
gives another's phone: ``home, holder, member, phone``; see
:func:`loaders.generate_mess.family_phones`).

What loading gives back, compared with the city (``expected_presences``):

* flights and buses: the loaders keep the cabin/section unknown (-1) where
  the city has 0; trains and residence are exact;
* grid: exact, except for a shared family phone: the member without a
  phone is in no grid row, and the holder's grid rows are keyed
  ``phone:+86<number>`` (the phone has two ID holders);
* venues: exact, except that a visit without exit scan has an estimated end
  (``end`` -1 in ``expected_presences``);
* checkpoints: a pass at ``t`` is the checkpoint ``[t - 2 min, t + 2 min]``
  and the taxi ``vehicle:<plate>`` ``[t - 5 min, t + 5 min]``
  (:data:`loaders.sources.CHECKPOINT_HALF_S`, ``VEHICLE_HALF_S``); taxi rides
  that pass no checkpoint are in no source at all.

Load the kinds in :data:`LOAD_ORDER`: residence first gives every phone its
ID holders, so rows keyed by a phone (a wrong check digit next to a valid
phone; all of ``grid``) resolve to the same person as the truth, or to
``phone:+86<number>`` for a phone two family members give. (Another order
ends in the same store: rows first keyed by a phone move to its holder when
a later load names one; ``tests/test_generate.py`` loads grid first.)

Examples
--------
>>> import tempfile
>>> out = write_raw_sources(tempfile.mkdtemp(), n_people=200, days=2, seed=1)
>>> list(out.files)[:3], out.expected["grid"]["read"] > 0
(['residence', 'venues', 'buses'], True)
"""

import json
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tracer.schema import FLAG_END_ESTIMATED, KIND_CODES

from .generate_mess import account, damage, family_log, family_phones, grid_key, local_seconds
from .sources import CHECKPOINT_HALF_S, VEHICLE_HALF_S
from .templates import template

__all__ = ["write_raw_sources", "GeneratedFiles", "LOAD_ORDER", "FILES", "EXPECT_COLUMNS"]

#: Load the kinds in this order (see the module docstring).
LOAD_ORDER = ("residence", "venues", "buses", "flights", "trains", "checkpoints", "grid")
#: kind → files: (name, encoding or None for XLSX, header language).
FILES = {
    "residence": (("residence.csv", "utf-8", "zh"),),
    "venues": (("venues_1.csv", "gb18030", "zh"), ("venues_2.csv", "utf-8", "en")),
    "buses": (("buses.csv", "utf-8", "en"),),
    "flights": (("flights.xlsx", None, "zh"),),
    "trains": (("trains.csv", "utf-8-sig", "en"),),
    "checkpoints": (("checkpoints.csv", "utf-8", "zh"),),
    "grid": (("grid.csv", "utf-8", "en"),),
}
#: Columns of ``truth/expected_presences.parquet`` (``end`` -1: estimated).
EXPECT_COLUMNS = ("person_key", "place_key", "kind", "start", "end", "section", "row", "col")

_KEY_COLUMNS = list(EXPECT_COLUMNS) + ["plate"]
_FLIGHT_COLS, _TRAIN_COLS, _BUS_COLS = "ABCDEFGHJKL", "ABCDF", "ABCD"
_STATIONS = ("昆明南", "曲靖北", "富源北", "盘州", "六盘水", "安顺西", "贵阳北", "凯里南")
_AIRPORT = {"昆明": "昆明长水国际机场"}


@dataclass
class GeneratedFiles:
    """What :func:`write_raw_sources` wrote.

    Attributes
    ----------
    directory : the output directory.
    files : kind → list of paths, in :data:`LOAD_ORDER` (a kind the city
        has no presences of, e.g. flights in a tiny city, is left out: the
        loaders refuse files without rows).
    cases_path : ``cases.csv``, the A-class list.
    truth_dir : ``truth/`` (infections, presences, expected presences, mess).
    expected : kind → ``read, loaded, duplicates, rejected, by_code`` and
        ``per_file`` (the same per file name), when the kinds are loaded in
        :data:`LOAD_ORDER` into a store that holds nothing else.
    mess : every injected change: ``kind, file, line, field, mess,
        outcome`` (loaded, duplicate, rejected) ``, code`` (the warning or
        reject code the loaders must record there, or None).
    n_presences : presences of the city.
    shared_phones : ``home, holder, member, phone``: the member gives the
        holder's phone (``truth/shared_phones.csv``).
    """

    directory: str
    files: dict
    cases_path: str
    truth_dir: str
    expected: dict
    mess: pd.DataFrame = field(repr=False)
    n_presences: int = 0
    shared_phones: pd.DataFrame = field(default=None, repr=False)


@dataclass
class _Rows:
    """Rows of one kind: raw cells by template column, their expected
    canonical presence, the times behind each time column, and which rows
    give a shared family phone."""

    kind: str
    cells: pd.DataFrame
    expect: pd.DataFrame
    times: dict  # column → (style, naive local s, UTC s)
    place_column: str
    time_column: str
    interval: tuple = None
    xlsx: bool = False
    shared: np.ndarray = None  # bool per row; None: none

    def take(self, idx):
        """The rows at positions ``idx`` (copies)."""
        times = {c: (st, loc[idx], utc[idx]) for c, (st, loc, utc) in self.times.items()}
        cells, expect = self.cells.iloc[idx].reset_index(drop=True), self.expect.iloc[idx].reset_index(drop=True)
        shared = None if self.shared is None else self.shared[idx]
        return _Rows(self.kind, cells, expect, times, self.place_column, self.time_column, self.interval, self.xlsx,
                     shared)  # fmt: skip


# --------------------------------------------------------------------------- cells


def _chars(strings, lo, hi):
    """Characters ``lo:hi`` of every string of a fixed-width unicode array."""
    width = strings.dtype.itemsize // 4
    grid = strings.view("U1").reshape(len(strings), width)[:, lo:hi]
    return np.ascontiguousarray(grid).view(f"U{hi - lo}").ravel()


def _stamps(local_s, style):
    """Vectorised ``YYYY-MM-DD HH:MM[:SS]`` (or the date or time part);
    seconds only when some value has them."""
    local_s = np.asarray(local_s, dtype=np.int64)
    text = np.datetime_as_string(local_s.astype("datetime64[s]"), unit="s")
    if not len(text):
        return np.zeros(0, dtype=object)
    date, clock = _chars(text, 0, 10), _chars(text, 11, 19 if (local_s % 60).any() else 16)
    if style == "date":
        return date.astype(object)
    if style == "time":
        return clock.astype(object)
    return np.char.add(np.char.add(date, " "), clock).astype(object)


def _times(tz, **columns):
    """Cells and the ``times`` entry of each ``name=(style, utc_s)``."""
    cells, times = {}, {}
    for name, (style, utc_s) in columns.items():
        utc_s = np.asarray(utc_s, dtype=np.int64)
        local = local_seconds(utc_s, tz)
        if style == "date":
            local = local // 86400 * 86400
        cells[name], times[name] = _stamps(local, style), (style, local, utc_s)
    return cells, times


def _frame(cells):
    """Cells as object columns (pandas 3 would infer its slower Arrow strings)."""
    n = len(next(iter(cells.values())))
    return pd.DataFrame({k: pd.Series(np.asarray(v, dtype=object) if len(v) == n else v, dtype=object)
                         for k, v in cells.items()})


def _expect(p, kind, section=None, end=None, plate=None):
    n = len(p)
    return pd.DataFrame({
        "person_key": p["person_key"].to_numpy(object), "place_key": p["place_key"].to_numpy(object),
        "kind": np.full(n, KIND_CODES[kind], np.int8), "start": p["start"].to_numpy(np.int64),
        "end": p["end"].to_numpy(np.int64) if end is None else end,
        "section": p["section"].to_numpy(np.int16) if section is None else np.asarray(section, np.int16),
        "row": p["row"].to_numpy(np.int16), "col": p["col"].to_numpy(np.int16),
        "plate": np.full(n, None, object) if plate is None else plate,
    })  # fmt: skip


def _person_cells(ctx, p, with_type=False):
    pos = ctx["person_pos"].get_indexer(p["person_key"].to_numpy(object))
    cells = {"name": ctx["names"][pos]}
    if with_type:
        cells["id_type"] = np.full(len(p), "身份证", object)
    cells.update(id_number=p["person_key"].to_numpy(object), phone=ctx["phones"][pos])
    return cells


def _place_info(ctx, keys, column):
    return ctx["places"][column].to_numpy(object)[ctx["place_pos"].get_indexer(keys)]


def _key_parts(keys, n_parts):
    """``kind:code[:date]`` place keys → their parts (object arrays; split
    once per distinct key)."""
    codes, uniq = pd.factorize(np.asarray(keys, dtype=object))
    parts = np.array([k.split(":", n_parts - 1) for k in uniq] or np.zeros((0, n_parts)), dtype=object)
    return [parts[codes, i] for i in range(n_parts)]


def _seat_text(row, col, letters):
    ok = (row >= 0) & (col >= 0)
    text = np.char.add(np.maximum(row, 0).astype(str), np.array(list(letters))[np.maximum(col, 0)])
    return np.where(ok, text.astype(object), None)


# --------------------------------------------------------------------------- one builder per kind


def _flights(ctx, p):
    _, number, date = _key_parts(p["place_key"], 3)
    names = pd.Series(_place_info(ctx, p["place_key"].to_numpy(object), "name"), dtype=object)
    route = names.str.split(" ", n=1).str[1]  # "CA1234 昆明→大理"
    out = route.str.contains("→", regex=False).to_numpy(bool)
    ends = route.str.split("[→←]", regex=True)
    here, there = ends.str[0].to_numpy(object), ends.str[1].to_numpy(object)
    dep, arr = np.where(out, here, there), np.where(out, there, here)
    cells, times = _times(ctx["tz"], flight_date=("date", p["start"]), dep_time=("time", p["start"]),
                          arr_time=("time", p["end"]))  # fmt: skip
    airport = np.vectorize(lambda c: _AIRPORT.get(c, c + "机场"), otypes=[object])
    cells = dict(_person_cells(ctx, p, True), flight_no=number, flight_date=cells["flight_date"],
                 dep_airport=airport(dep), arr_airport=airport(arr), dep_time=cells["dep_time"],
                 arr_time=cells["arr_time"], seat=_seat_text(p["row"].to_numpy(), p["col"].to_numpy(), _FLIGHT_COLS))
    return _Rows("flights", _frame(cells), _expect(p, "flight", section=np.full(len(p), -1)), times,
                 "flight_no", "dep_time", xlsx=True)  # fmt: skip


def _station_ordinals(p):
    """Stop ordinal of each boarding and alighting within its service (by time)."""
    keys = p["place_key"].to_numpy(object)
    frame = pd.DataFrame({"place": np.r_[keys, keys], "t": np.r_[p["start"].to_numpy(), p["end"].to_numpy()]})
    ordinal = frame.groupby("place")["t"].rank(method="dense").to_numpy(np.int64) - 1
    return ordinal[: len(p)], ordinal[len(p):]


def _trains(ctx, p):
    _, number, date = _key_parts(p["place_key"], 3)
    board, alight = _station_ordinals(p)
    names = np.array(_STATIONS, dtype=object)
    cells, times = _times(ctx["tz"], dep_time=("datetime", p["start"]), arr_time=("datetime", p["end"]))
    sec, row, col = (p[c].to_numpy() for c in ("section", "row", "col"))
    seat = _seat_text(row, col, _TRAIN_COLS)
    seat = np.where(pd.isna(seat), "无座", np.char.add(np.where(row < 10, "0", ""), seat.astype(str)).astype(object))
    carriage = np.where(sec > 0, np.char.zfill(np.maximum(sec, 0).astype(str), 2).astype(object), None)
    cells = dict(_person_cells(ctx, p, True), train_no=number, travel_date=date,
                 board_station=names[board % len(names)], alight_station=names[alight % len(names)],
                 dep_time=cells["dep_time"], arr_time=cells["arr_time"], carriage=carriage, seat=seat)
    return _Rows("trains", _frame(cells), _expect(p, "train"), times, "train_no", "dep_time",
                 interval=("dep_time", "arr_time"))  # fmt: skip


def _buses(ctx, p):
    _, run, date = _key_parts(p["place_key"], 3)
    cells, times = _times(ctx["tz"], dep_time=("time", p["start"]), arr_time=("time", p["end"]))
    row, col = p["row"].to_numpy(), p["col"].to_numpy()
    number = ((row - 1) * 4 + col + 1).astype(str).astype(object)
    seat = np.where(ctx["rng"].random(len(p)) < 0.5, _seat_text(row, col, _BUS_COLS), number)
    seat = np.where((row >= 0) & (col >= 0), seat, None)
    cells = dict(_person_cells(ctx, p), bus_no=run, travel_date=date, dep_time=cells["dep_time"],
                 arr_time=cells["arr_time"], seat=seat)
    return _Rows("buses", _frame(cells), _expect(p, "bus", section=np.full(len(p), -1)), times,
                 "bus_no", "dep_time")  # fmt: skip


def _venues(ctx, p):
    keys = p["place_key"].to_numpy(object)
    estimated = (p["flags"].to_numpy() & FLAG_END_ESTIMATED) > 0
    cells, times = _times(ctx["tz"], scan_time=("datetime", p["start"]), exit_time=("datetime", p["end"]))
    cells = dict(_person_cells(ctx, p), venue_code=_key_parts(keys, 2)[1], venue_name=_place_info(ctx, keys, "name"),
                 district=_place_info(ctx, keys, "district"), scan_time=cells["scan_time"],
                 exit_time=np.where(estimated, None, cells["exit_time"]))  # fmt: skip
    end = np.where(estimated, -1, p["end"].to_numpy(np.int64))
    return _Rows("venues", _frame(cells), _expect(p, "venue", end=end), times, "venue_code", "scan_time",
                 interval=("scan_time", "exit_time"))  # fmt: skip


def _checkpoints(ctx, p, taxis):
    """One row per pass; the plate is the taxi the person rode at the time."""
    keys = p["place_key"].to_numpy(object)
    at = p["start"].to_numpy(np.int64)
    plate = _plates_at(p, taxis)
    cells, times = _times(ctx["tz"], pass_time=("datetime", at))
    direction = np.array(["进城", "出城"], dtype=object)[ctx["rng"].integers(0, 2, len(p))]
    cells = dict(checkpoint_id=_key_parts(keys, 2)[1], checkpoint_name=_place_info(ctx, keys, "name"),
                 pass_time=cells["pass_time"], direction=direction, plate=plate,
                 role=np.full(len(p), "乘客", object), **_person_cells(ctx, p))  # fmt: skip
    expect = _expect(p, "checkpoint", end=at + CHECKPOINT_HALF_S, plate=plate)
    expect["start"] = at - CHECKPOINT_HALF_S
    return _Rows("checkpoints", _frame(cells), expect, times, "checkpoint_id", "pass_time")


def _plates_at(p, taxis):
    """The plate of the taxi row of the same person covering each pass."""
    left = pd.DataFrame({"person_key": p["person_key"].to_numpy(object), "t": p["start"].to_numpy(np.int64),
                         "i": np.arange(len(p))}).sort_values("t")  # fmt: skip
    right = pd.DataFrame({"person_key": taxis["person_key"].to_numpy(object), "t": taxis["start"].to_numpy(np.int64),
                          "end": taxis["end"].to_numpy(np.int64),
                          "plate": _key_parts(taxis["place_key"].to_numpy(object), 2)[1]}).sort_values("t")  # fmt: skip
    got = pd.merge_asof(left, right, on="t", by="person_key").sort_values("i")
    inside = got["end"].to_numpy(float) >= got["t"].to_numpy(float)
    return np.where(inside, got["plate"].to_numpy(object), None)


def _grid(ctx, p):
    """Grid rows carry only the phone: a holder's shared family phone loads
    under the key the loaders resolve it to (:func:`grid_key`)."""
    keys = p["place_key"].to_numpy(object)
    cells, times = _times(ctx["tz"], start_time=("datetime", p["start"]), end_time=("datetime", p["end"]))
    phone = _person_cells(ctx, p)["phone"]
    cells = dict(phone=phone, grid_id=_key_parts(keys, 2)[1], **cells)
    expect = _expect(p, "grid")
    family = ctx["family"]
    for holder, number in zip(family["holder"], family["phone"]):
        expect.loc[expect["person_key"] == holder, "person_key"] = grid_key(ctx["known_phones"], number)
    return _Rows("grid", _frame(cells), expect, times, "grid_id", "start_time",
                 interval=("start_time", "end_time"))  # fmt: skip


def _residence(ctx, p):
    keys = p["place_key"].to_numpy(object)
    cells, times = _times(ctx["tz"], move_in=("datetime", p["start"]), move_out=("datetime", p["end"]))
    cells = dict(_person_cells(ctx, p), address_code=_key_parts(keys, 2)[1], address=_place_info(ctx, keys, "name"),
                 district=_place_info(ctx, keys, "district"), **cells)  # fmt: skip
    return _Rows("residence", _frame(cells), _expect(p, "residence"), times, "address_code", "move_in",
                 interval=("move_in", "move_out"))  # fmt: skip


_BUILDERS = {"flights": (_flights, "flight"), "trains": (_trains, "train"), "buses": (_buses, "bus"),
             "venues": (_venues, "venue"), "grid": (_grid, "grid"), "residence": (_residence, "residence")}


def _build(kind, ctx, presences):
    """The clean rows of one source kind, in time order (None: no rows)."""
    kinds = presences["kind"].to_numpy()

    def of(name):
        p = presences[kinds == KIND_CODES[name]]
        return p.sort_values(["start", "person_key"], kind="mergesort").reset_index(drop=True)

    if kind == "checkpoints":
        passes = of("checkpoint")
        rows = _checkpoints(ctx, passes, of("vehicle")) if len(passes) else None
    else:
        builder, name = _BUILDERS[kind]
        p = of(name)
        if kind == "grid":  # a member who gives another's phone has no SIM of their own
            p = p[~p["person_key"].isin(ctx["family"]["member"])].reset_index(drop=True)
        rows = builder(ctx, p) if len(p) else None
    if rows is not None and "phone" in rows.cells.columns:
        rows.shared = rows.cells["phone"].isin(ctx["family"]["phone"]).to_numpy()
    return rows


# --------------------------------------------------------------------------- files and truth


def _file_rows(kind, n, mess):
    """Row positions of each file of ``kind``: venues come in two parts, the
    second starting with a re-delivery of the last rows of the first."""
    if len(FILES[kind]) == 1 or n < 5:
        return [np.arange(n)]
    cut = (n * 3) // 5
    overlap = min(cut, int(round(n * mess / 2)))
    return [np.arange(cut), np.arange(cut - overlap, n)]


def _expected_presences(loaded):
    """Canonical presences the loads must give (checkpoints add the taxi)."""
    out = loaded[list(EXPECT_COLUMNS)]
    taxi = loaded[~pd.isna(loaded["plate"].to_numpy(object))]
    if len(taxi):
        at = taxi["start"].to_numpy(np.int64) + CHECKPOINT_HALF_S
        n = len(taxi)
        out = pd.concat([out, pd.DataFrame({
            "person_key": taxi["person_key"].to_numpy(object),
            "place_key": ("vehicle:" + taxi["plate"].astype(str)).to_numpy(object),
            "kind": np.full(n, KIND_CODES["vehicle"], np.int8), "start": at - VEHICLE_HALF_S,
            "end": at + VEHICLE_HALF_S, "section": np.full(n, -1, np.int16), "row": np.full(n, -1, np.int16),
            "col": np.full(n, -1, np.int16)})], ignore_index=True)  # fmt: skip
    return out.reset_index(drop=True)


def _csv_bytes(pacsv, pa, table, quoting):
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style=quoting))
    return sink.getvalue().to_pybytes()


def _write(frame, path, encoding, language, kind):
    columns = [c.name for c in template(kind) if c.name in frame.columns]
    frame = frame[columns]
    if language == "zh":
        frame = frame.rename(columns={c.name: c.aliases[0] for c in template(kind)})
    if encoding is None:
        frame.to_excel(path, index=False, engine="openpyxl")
        return
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.table({str(c): pa.array(frame[c].to_numpy(object), type=pa.string()) for c in frame.columns})
    try:  # unquoted, as most exports are; quoted when a cell needs it
        data = _csv_bytes(pacsv, pa, table, "none")
    except pa.ArrowInvalid:
        data = _csv_bytes(pacsv, pa, table, "needed")
    if encoding == "utf-8-sig":
        data = b"\xef\xbb\xbf" + data
    elif encoding != "utf-8":
        data = data.decode("utf-8").encode(encoding)
    with open(path, "wb") as fh:
        fh.write(data)


def _render_kind(rs, directory, rng, mess, family, known_phones):
    """Damage and write one kind; returns (paths, expected, log, loaded keys).

    ``known_phones``: (phone, ID) pairs of the shared family phones loaded
    before this kind (updated)."""
    kind = rs.kind
    cells, expect, code, log = damage(rs, rng, mess)
    file_rows = _file_rows(kind, len(cells), mess)
    paths = [os.path.join(directory, name) for name, _, _ in FILES[kind]][: len(file_rows)]
    for path, rows, (_, encoding, language) in zip(paths, file_rows, FILES[kind]):
        _write(cells.iloc[rows].reset_index(drop=True), path, encoding, language, kind)
    status, expected, loaded = account(paths, file_rows, expect, code, _KEY_COLUMNS)
    logs, start = [], 0
    for path, rows in zip(paths, file_rows):
        line = pd.Series(np.arange(len(rows)) + 2, index=rows)
        here = log[log["pos"].isin(rows)].copy()
        here["file"], here["line"] = path, line.reindex(here["pos"].to_numpy()).to_numpy()
        here["outcome"] = status[start + here["line"].to_numpy() - 2]
        logs.append(here)
        start += len(rows)
    logs.append(_family_log(kind, paths, file_rows, cells, expect, code, status, family, known_phones))
    log = pd.concat(logs, ignore_index=True).assign(kind=kind)
    order = np.lexsort((log["line"].to_numpy(np.int64), pd.Index(paths).get_indexer(log["file"])))
    log = log.iloc[order].reset_index(drop=True)
    return paths, expected, log[["kind", "file", "line", "field", "mess", "outcome", "code"]], loaded


def _family_log(kind, paths, file_rows, cells, expect, code, status, family, known_phones):
    """The log rows of the shared family phones, at their file and line."""
    got = family_log(kind, cells, expect, code, np.concatenate(file_rows), family, known_phones)
    at = got["at"].to_numpy(np.int64)
    file_of = np.repeat(np.arange(len(file_rows)), [len(r) for r in file_rows])
    line = np.concatenate([np.arange(len(r), dtype=np.int64) + 2 for r in file_rows])
    return pd.DataFrame({"file": np.array(paths, dtype=object)[file_of[at]], "line": line[at], "field": "phone",
                         "mess": got["mess"].to_numpy(object), "outcome": status[at],
                         "code": got["code"].to_numpy(object)})  # fmt: skip


# --------------------------------------------------------------------------- the entry point


def _context(city, tz, rng, family):
    persons, places = city.persons, city.batch.places
    person_pos = pd.Index(persons["key"].to_numpy(object))
    phones = persons["phone"].to_numpy(object).copy()
    phones[person_pos.get_indexer(family["member"].to_numpy(object))] = family["phone"].to_numpy(object)
    return {"tz": tz, "rng": rng, "person_pos": person_pos, "names": persons["name"].to_numpy(object),
            "phones": phones, "places": places, "place_pos": pd.Index(places["key"].to_numpy(object)),
            "family": family, "known_phones": set()}  # fmt: skip


def _write_truth(city, truth_dir, expected_presences, mess_log, family):
    os.makedirs(truth_dir, exist_ok=True)
    city.batch.presences.to_parquet(os.path.join(truth_dir, "presences.parquet"), index=False)
    expected_presences.to_parquet(os.path.join(truth_dir, "expected_presences.parquet"), index=False)
    city.infections.to_csv(os.path.join(truth_dir, "infections.csv"), index=False)
    mess_log.to_csv(os.path.join(truth_dir, "mess.csv"), index=False)
    family.to_csv(os.path.join(truth_dir, "shared_phones.csv"), index=False)


def write_raw_sources(directory, n_people=5000, days=14, seed=7, tz="Asia/Shanghai", mess=0.03, progress=None,
                      **city_options):
    """Write a synthetic city's presences as raw, messy source files.

    Parameters
    ----------
    directory : output directory (created if missing; files are overwritten).
    n_people, days, seed, tz : passed to :func:`tracer.synth.generate_city`.
    mess : share of rows with a repairable change; duplicates are
        ``mess / 2`` of the rows and invalid rows ``mess / 10`` (at least one
        of each kind of damage per source); when above 0, a shared family
        phone in :data:`loaders.generate_mess.FAMILY_PHONE_SHARE` (2%) of
        the households of two or more (at least one). 0 writes clean files.
    progress : callable ``(stage, done, total)``, optional; stages
        ``"generate"`` and ``"write"`` (source kinds).
    **city_options : more :func:`tracer.synth.generate_city` arguments
        (``n_seeds``, ``transmissibility``, ``start_date``, ...).

    Returns
    -------
    GeneratedFiles

    Raises
    ------
    tracer.errors.ValidationError
        Bad city arguments, or ``mess`` outside [0, 1].
    """
    from tracer.errors import ValidationError
    from tracer.synth import generate_city

    if not 0.0 <= float(mess) <= 1.0:
        raise ValidationError(f"mess={mess!r} is not a share between 0 and 1", hint="use e.g. 0.03")
    if progress:
        progress("generate", 0, 1)
    city = generate_city(n_people=n_people, days=days, seed=seed, tz=tz, **city_options)
    if progress:
        progress("generate", 1, 1)
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    # the families draw from their own stream: the other damage stays as it was without them
    family = family_phones(city.persons, np.random.Generator(np.random.PCG64([seed, 2])), mess)
    ctx = _context(city, tz, np.random.Generator(np.random.PCG64([seed, 1])), family)
    files, expected, logs, loaded = {}, {}, [], []
    for i, kind in enumerate(LOAD_ORDER):
        for name, _, _ in FILES[kind]:  # no stale file of an earlier run
            if os.path.exists(os.path.join(directory, name)):
                os.remove(os.path.join(directory, name))
        rows = _build(kind, ctx, city.batch.presences)
        if rows is not None:  # the loaders refuse empty files: a kind without rows gets none
            files[kind], expected[kind], log, keys = _render_kind(rows, directory, ctx["rng"], mess, family,
                                                                  ctx["known_phones"])  # fmt: skip
            logs.append(log)
            loaded.append(keys)
        if progress:
            progress("write", i + 1, len(LOAD_ORDER))
    cases_path = os.path.join(directory, "cases.csv")
    city.cases.to_csv(cases_path, index=False)
    truth_dir = os.path.join(directory, "truth")
    mess_log = pd.concat(logs, ignore_index=True)
    _write_truth(city, truth_dir, _expected_presences(pd.concat(loaded, ignore_index=True)), mess_log, family)
    with open(os.path.join(directory, "expected_load.json"), "w", encoding="utf-8") as fh:
        json.dump(expected, fh, ensure_ascii=False, indent=1)
    return GeneratedFiles(directory, files, cases_path, truth_dir, expected, mess_log, len(city.batch), family)
