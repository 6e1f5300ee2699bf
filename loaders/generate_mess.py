"""Realistic damage for generated raw files, each change recorded.

:func:`loaders.generate.write_raw_sources` renders clean rows first, then
this module damages them the way real exports are damaged, and keeps a log
row for every change with the outcome the loaders must reach:

* **repairable mess** (the row still loads, as the same presence): ID
  numbers with a lower-case ``x``, 15-digit old numbers, inner spaces,
  full-width digits, a spreadsheet apostrophe, a wrong check digit next to
  a valid phone (keyed by the phone, which resolves to its holder; never
  next to a shared family phone, which has two holders); phones
  with ``+86``/``0086``, dashes or spaces, or missing next to a valid ID;
  flight numbers ``CA 1234``, ``ca1234``, ``CA01234`` and ICAO ``CCA1234``;
  train numbers ``g1234``, ``G1234次``; codes in lower case with spaces;
  plates with a middle dot; seats ``023c``, ``05车12F``; timestamps as
  ``2020/1/10 8:05:03``, ``2020年1月10日 8时5分3秒``, ``20200110080503``,
  ISO 8601 in UTC, and Excel serial numbers (XLSX only);
* **duplicates** (counted, not loaded): exact copies of rows, some of them
  re-typed with one of the repairable changes above;
* **invalid rows** (rejected, with a stable code): copies of real rows with
  a wrong check digit and no phone (``no-identity``), no place
  (``unknown-place``; ``missing-value`` for flight and train numbers), an
  unreadable time (``bad-timestamp``), or an end before the start
  (``end-before-start``);
* **a shared family phone** (:func:`family_phones`): in
  :data:`FAMILY_PHONE_SHARE` of the households of two or more (at least
  one), the youngest member has no phone and every row with their ID gives
  the oldest member's. The ID stays valid, so their rows load as before
  and the two IDs are never merged; the loaders warn ``shared-phone`` at
  the first row of each (phone, ID) pair of a load (:func:`family_log`).
  The member, having no SIM, is in no ``grid`` row; the holder's grid rows
  carry a phone of two ID holders and load under ``phone:+86…``, each with
  a ``shared-phone`` warning.

Invalid rows are *extra* copies, so every real presence still arrives and
the loaded store can be compared with the truth as a whole. Every change
keeps the row's meaning exactly (times keep their seconds in every format).

Examples
--------
>>> format_local(np.array([1578614703]), "chinese", "datetime")
['2020年1月10日 0时5分3秒']
"""

import datetime
import os

import numpy as np
import pandas as pd

from .identity import PHONE_PREFIX

__all__ = ["MESS", "INVALID", "FAMILY_PHONE_SHARE", "format_local", "inject", "invalid_copies", "damage", "account",
           "local_seconds", "family_phones", "family_log", "grid_key"]

_EPOCH = datetime.datetime(1970, 1, 1)
_EXCEL_EPOCH_DAYS = 25569  # 1899-12-30 → 1970-01-01
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_CHECK = "10X98765432"
#: Share of the households of two or more whose youngest member gives the
#: oldest member's phone (at least one such household when ``mess`` > 0).
FAMILY_PHONE_SHARE = 0.02
_ICAO = {"CA": "CCA", "MU": "CES", "CZ": "CSN", "HU": "CHH", "ZH": "CSZ", "MF": "CXA", "3U": "CSC", "KY": "KNA"}


def local_seconds(utc_s, tz):
    """Naive local epoch seconds (wall clock in ``tz``) of UTC epoch seconds.

    >>> local_seconds(np.array([0]), "Asia/Shanghai").tolist()
    [28800]
    """
    idx = pd.DatetimeIndex(np.asarray(utc_s, dtype=np.int64).astype("datetime64[s]"))
    return idx.tz_localize("UTC").tz_convert(tz).tz_localize(None).as_unit("s").asi8


def format_local(local_s, variant, style):
    """Cells for naive local seconds in one ``variant`` of a ``style``.

    ``style`` is ``datetime``, ``time`` (of day) or ``date``; variants are
    ``slash``, ``chinese``, ``compact``, ``excel`` (a float) and ``iso``
    (ISO 8601 with ``Z``: pass UTC seconds, not local ones). Seconds are
    written whenever non-zero.
    """
    out = []
    for s in np.asarray(local_s, dtype=np.int64).tolist():
        dt = _EPOCH + datetime.timedelta(seconds=s)
        out.append(_format_one(dt, s, variant, style))
    return out


def _format_one(dt, s, variant, style):
    sec = dt.second
    if variant == "excel":
        if style == "time":
            return (s % 86400) / 86400
        if style == "date":
            return float(s // 86400 + _EXCEL_EPOCH_DAYS)
        return s / 86400 + _EXCEL_EPOCH_DAYS
    if variant == "iso":
        return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    if variant == "compact":
        return dt.strftime({"date": "%Y%m%d", "time": "%H:%M:%S"}.get(style, "%Y%m%d%H%M%S"))
    if variant == "chinese":
        date = f"{dt.year}年{dt.month}月{dt.day}日"
        clock = f"{dt.hour}时{dt.minute}分" + (f"{sec}秒" if sec else "")
    else:  # slash
        date = f"{dt.year}/{dt.month}/{dt.day}"
        clock = f"{dt.hour}:{dt.minute:02d}" + (f":{sec:02d}" if sec else "")
    return {"date": date, "time": clock}.get(style, f"{date} {clock}")


# ------------------------------------------------------------------ the catalogue


def _wrong_check(key):
    right = _CHECK.index(key[17]) if len(key) == 18 and key[17] in _CHECK else 0
    return key[:17] + _CHECK[(right + 5) % 11]


def _col(rs, name):
    return rs.cells[name].to_numpy(object) if name in rs.cells.columns else None


def _given(rs, name, idx):
    values = _col(rs, name)
    return np.zeros(len(idx), bool) if values is None else ~pd.isna(values[idx])


def _cell(test, fn):
    """A change of one cell: ``test(value)`` says where it applies, ``fn(value)``
    gives the new cell. Returns ``(ok(rs, col, idx), make(rs, col, idx))``."""

    def ok(rs, col, idx):
        return np.array([isinstance(v, str) and test(v) for v in _col(rs, col)[idx]], dtype=bool)

    def make(rs, col, idx):
        return [fn(v) for v in _col(rs, col)[idx]]

    return ok, make


def _always(value):
    return True


def _id_and_phone(rs, col, idx):
    """Rows with both an ID and a phone, outside residence (loaded first: it
    must give every phone its holder) and grid (phone only)."""
    both = _given(rs, "phone", idx) & _given(rs, "id_number", idx)
    return both & (rs.kind not in ("residence", "grid"))


def _id_and_own_phone(rs, col, idx):
    """:func:`_id_and_phone`, but not a shared family phone: a row keyed by
    such a phone stays under ``phone:+86…`` (two holders), not its own ID."""
    shared = np.zeros(len(idx), bool) if rs.shared is None else rs.shared[idx]
    return _id_and_phone(rs, col, idx) & ~shared


def _time_mess(variant):
    def make(rs, col, idx):
        style, local_s, utc_s = rs.times[col]
        if variant == "utc":  # ISO 8601 with Z: the UTC wall clock
            return format_local(utc_s[idx], "iso", style)
        return format_local(local_s[idx], variant, style)

    return make


def _exit_same_day(rs, col, idx):
    _, scan, _ = rs.times["scan_time"]
    _, leave, _ = rs.times["exit_time"]
    return _given(rs, col, idx) & (scan[idx] // 86400 == leave[idx] // 86400)


def _with_carriage(rs, col, idx):
    return _given(rs, col, idx) & _given(rs, "carriage", idx)


def _seat_and_carriage(rs, col, idx):
    return [f"{c}车{v}" for c, v in zip(_col(rs, "carriage")[idx], _col(rs, col)[idx])]


def _exit_time_of_day(rs, col, idx):
    return format_local(rs.times[col][1][idx], "compact", "time")


def _no_phone(rs, col, idx):
    return [None] * len(idx)


_ID = "id_number"
_PLACE = "<place>"  # the kind's place code column
_TIME = "<time>"  # every time column of the kind

#: name → (column, warning code the loaders must record or None,
#: ok(rows, column, idx) → mask over idx, make(rows, column, idx) → new cells).
MESS = {
    "id-lowercase-x": (_ID, "id-lowercase-x", *_cell(lambda k: k.endswith("X"), lambda k: k[:-1] + "x")),
    "id-15-digit": (_ID, "id-upgraded-15-to-18", *_cell(lambda k: k[6:8] == "19", lambda k: k[:6] + k[8:17])),
    "id-spaces": (_ID, None, *_cell(_always, lambda k: f"{k[:6]} {k[6:14]} {k[14:]}")),
    "id-fullwidth": (_ID, "fullwidth-normalised", *_cell(_always, lambda k: k.translate(_FULLWIDTH))),
    "id-apostrophe": (_ID, None, *_cell(_always, lambda k: "'" + k)),
    "id-bad-check-phone": (_ID, "bad-id-checksum", _id_and_own_phone, _cell(_always, _wrong_check)[1]),
    "phone-country-code": ("phone", "phone-country-code-stripped",
                           *_cell(_always, lambda p: ("+86 " if len(p) % 2 else "0086-") + p)),
    "phone-dashes": ("phone", None, *_cell(_always, lambda p: f"{p[:3]}-{p[3:7]}-{p[7:]}")),
    "phone-spaces": ("phone", None, *_cell(_always, lambda p: f"{p[:3]} {p[3:7]} {p[7:]}")),
    "phone-missing": ("phone", None, _id_and_phone, _no_phone),
    "flight-no-space": ("flight_no", None, *_cell(_always, lambda f: f[:2] + " " + f[2:])),
    "flight-no-lower": ("flight_no", None, *_cell(_always, str.lower)),
    "flight-no-zero": ("flight_no", None, *_cell(_always, lambda f: f[:2] + "0" + f[2:])),
    "flight-no-icao": ("flight_no", "icao-mapped-to-iata",
                       *_cell(lambda f: f[:2] in _ICAO, lambda f: _ICAO[f[:2]] + f[2:])),
    "train-no-lower": ("train_no", None, *_cell(_always, str.lower)),
    "train-no-ci": ("train_no", None, *_cell(_always, lambda t: t + "次")),
    "code-lower-spaced": (_PLACE, None, *_cell(lambda c: len(c) > 4, lambda c: f" {c[:4].lower()} {c[4:].lower()}")),
    "plate-dotted": ("plate", None, *_cell(_always, lambda p: p[0] + p[1].lower() + "·" + p[2:])),
    "seat-padded": ("seat", None, *_cell(lambda v: v[-1] in "ABCDEFGHJKL" and len(v) <= 3,
                                         lambda v: v.rjust(4, "0").lower())),
    "seat-with-carriage": ("seat", None, _with_carriage, _seat_and_carriage),
    "exit-time-of-day": ("exit_time", None, _exit_same_day, _exit_time_of_day),
    "time-slash": (_TIME, None, None, _time_mess("slash")),
    "time-chinese": (_TIME, None, None, _time_mess("chinese")),
    "time-utc": (_TIME, None, None, _time_mess("utc")),
    "time-compact": (_TIME, None, None, _time_mess("compact")),
    "time-excel": (_TIME, None, None, _time_mess("excel")),
}  # fmt: skip


def _time_ok(rs, col, idx):
    return _given(rs, col, idx)


def _columns(rs, name):
    """The columns a change applies to in these rows (and its ``ok`` test)."""
    column, _, ok, _ = MESS[name]
    if column == _PLACE:
        return [] if rs.place_column in ("flight_no", "train_no") else [(rs.place_column, ok)]
    if column != _TIME:
        return [(column, ok)] if column in rs.cells.columns else []
    out = []
    for col, (style, _, _) in rs.times.items():
        skip = (name == "time-excel" and not rs.xlsx) or (name == "time-utc" and style != "datetime")
        if not skip and not (name == "time-compact" and style == "time"):
            out.append((col, _time_ok))
    return out


def inject(rs, rows, rng, outcome="loaded"):
    """Apply one random applicable change to each of ``rows`` (positions).

    A row whose drawn change does not apply to it stays clean. Mutates
    ``rs.cells``; returns the log: ``pos, field, mess, outcome, code``
    (code: the warning the loaders must record, or None).
    """
    rows = np.asarray(rows, dtype=np.int64)
    options = [(name, col, ok) for name in MESS for col, ok in _columns(rs, name)]
    log = []
    if not len(rows) or not options:
        return _log_frame(log)
    pick = rng.integers(0, len(options), len(rows))
    for k, (name, col, ok) in enumerate(options):
        idx = rows[pick == k]
        idx = idx[ok(rs, col, idx)] if len(idx) else idx
        if not len(idx):
            continue
        cells = rs.cells[col].to_numpy(object).copy()
        cells[idx] = np.array(MESS[name][3](rs, col, idx) + [None], dtype=object)[:-1]
        rs.cells[col] = pd.Series(cells, dtype=object, index=rs.cells.index)
        log += [(int(i), col, name, outcome, MESS[name][1]) for i in idx]
    return _log_frame(log)


def _log_frame(log):
    return pd.DataFrame(log, columns=["pos", "field", "mess", "outcome", "code"]).astype({"pos": np.int64})


# ------------------------------------------------------------------ invalid rows


def _no_identity(rs, cells):
    if "id_number" in cells.columns:
        cells["id_number"] = [_wrong_check(k) for k in cells["id_number"]]
        cells["phone"] = None
    else:
        cells["phone"] = "1234567"
    return "no-identity"


def _no_place(rs, cells):
    cells[rs.place_column] = None
    return "missing-value" if rs.kind in ("flights", "trains") else "unknown-place"


def _bad_time(rs, cells):
    cells[rs.time_column] = "2020-13-45 25:61"
    return "bad-timestamp"


def _end_before_start(rs, cells):
    start_col, end_col = rs.interval
    start, end = cells[start_col].to_numpy(object), cells[end_col].to_numpy(object)
    cells[start_col], cells[end_col] = end, start
    return "end-before-start"


def _any_row(rs):
    return np.arange(len(rs.cells))


def _with_id(rs):
    ids = _col(rs, "id_number")
    return _any_row(rs) if ids is None else np.flatnonzero(~pd.isna(ids))


def _swappable(rs):
    """Rows whose interval has both ends and a positive length."""
    if rs.interval is None:
        return np.zeros(0, np.int64)
    start_col, end_col = rs.interval
    every = _any_row(rs)
    ok = _given(rs, start_col, every) & _given(rs, end_col, every)
    return np.flatnonzero(ok & (rs.times[end_col][1] > rs.times[start_col][1]))


#: name → (pool(rows) → positions it can damage, make(rows, copies) → reject code).
INVALID = {
    "no-identity": (_with_id, _no_identity),
    "no-place": (_any_row, _no_place),
    "bad-timestamp": (_any_row, _bad_time),
    "end-before-start": (_swappable, _end_before_start),
}


def invalid_copies(rs, n, rng):
    """``n`` damaged copies of random rows, the kinds of damage in turn.

    Returns ``(cells, log)``: the copies (a frame like ``rs.cells``) with
    ``_after`` (the row they are inserted after), and their log rows with
    outcome ``rejected`` (``pos`` is the copy's position in ``cells``).
    """
    pools = {name: pool(rs) for name, (pool, _) in INVALID.items()}
    names = [name for name, pool in pools.items() if len(pool)]
    parts, log = [], []
    for k, name in enumerate(names):
        count = len(range(k, n, len(names)))
        if not count:
            continue
        src = pools[name][rng.integers(0, len(pools[name]), count)]
        copies = rs.cells.iloc[src].reset_index(drop=True)
        code = INVALID[name][1](rs, copies)
        parts.append(copies.assign(_after=src))
        field = {"no-identity": "id_number" if "id_number" in rs.cells.columns else "phone",
                 "no-place": rs.place_column, "bad-timestamp": rs.time_column,
                 "end-before-start": rs.interval[1] if rs.interval else None}[name]  # fmt: skip
        log += [(name, field, code)] * count
    cells = pd.concat(parts, ignore_index=True) if parts else rs.cells.iloc[:0].assign(_after=np.zeros(0, np.int64))
    frame = pd.DataFrame(log, columns=["mess", "field", "code"])
    frame.insert(0, "pos", np.arange(len(frame), dtype=np.int64))
    frame.insert(3, "outcome", "rejected")
    return cells, frame[["pos", "field", "mess", "outcome", "code"]]


# ------------------------------------------------------------------ damage and its accounting


def damage(rs, rng, mess):
    """Damage the clean rows; returns the final rows in order.

    Returns ``(cells, expect, reject_code, log)``: ``reject_code`` is the
    code of each invalid copy (None elsewhere) and ``log`` the changes with
    ``pos`` in the final order.
    """
    n = len(rs.cells)
    if mess <= 0 or not n:
        return rs.cells, rs.expect, np.full(n, None, object), inject(rs, [], rng)
    log = inject(rs, np.flatnonzero(rng.random(n) < mess), rng)
    src = np.sort(rng.choice(n, size=min(n, int(round(n * mess / 2))), replace=False))
    dups = rs.take(src)
    retyped = ~np.isin(src, log["pos"]) & (rng.random(len(src)) < 0.5)
    dup_log = inject(dups, np.flatnonzero(retyped), rng, outcome="duplicate")
    copied = log[log["pos"].isin(src[~retyped])].copy()  # exact copies carry their source's change
    copied["pos"] = np.searchsorted(src, copied["pos"].to_numpy())
    bad, bad_log = invalid_copies(rs, max(len(INVALID), int(round(n * mess / 10))), rng)
    after = bad.pop("_after").to_numpy(np.int64)
    cells = pd.concat([rs.cells, dups.cells, bad], ignore_index=True)
    expect = pd.concat([rs.expect, dups.expect, rs.expect.iloc[after]], ignore_index=True)
    code = np.r_[np.full(n + len(src), None, object), bad_log["code"].to_numpy(object)]
    log = pd.concat([log, dup_log.assign(pos=dup_log["pos"] + n), copied.assign(pos=copied["pos"] + n),
                     bad_log.assign(pos=bad_log["pos"] + n + len(src))], ignore_index=True)  # fmt: skip
    # each copy follows its source row (invalid ones first), as a re-delivery or a re-typed row would
    order = np.argsort(np.r_[np.arange(n) * 4, src * 4 + 2, after * 4 + 1], kind="stable")
    final = np.empty(len(order), np.int64)
    final[order] = np.arange(len(order))
    log["pos"] = final[log["pos"].to_numpy(np.int64)]
    return (cells.iloc[order].reset_index(drop=True), expect.iloc[order].reset_index(drop=True), code[order],
            log.sort_values("pos", kind="stable").reset_index(drop=True))  # fmt: skip


def account(paths, file_rows, expect, code, key_columns):
    """Expected outcome of every (file, row) and the expected report.

    ``file_rows`` gives the row positions in each file (a row may be in two
    files: a re-delivery); invalid rows (``code`` set) are rejected, the
    others loaded the first time their ``key_columns`` appear (in file
    order) and duplicates after. Returns ``(status per file row, report
    dict, keys of the loaded rows)``.
    """
    rows = np.concatenate(file_rows)
    alive = pd.isna(code[rows])
    keys = expect.iloc[rows][list(key_columns)].reset_index(drop=True)
    dup = np.zeros(len(rows), bool)
    dup[alive] = keys[alive].duplicated().to_numpy()
    status = np.where(~alive, "rejected", np.where(dup, "duplicate", "loaded")).astype(object)
    per_file, start = [], 0
    for path, r in zip(paths, file_rows):
        s, c = status[start:start + len(r)], code[r]
        by_code = pd.Series(c[s == "rejected"], dtype=object).value_counts()
        per_file.append({"file": os.path.basename(path), "read": len(r), "loaded": int((s == "loaded").sum()),
                         "duplicates": int((s == "duplicate").sum()), "rejected": int((s == "rejected").sum()),
                         "by_code": {str(k): int(v) for k, v in sorted(by_code.items())}})  # fmt: skip
        start += len(r)
    total = {k: sum(f[k] for f in per_file) for k in ("read", "loaded", "duplicates", "rejected")}
    by_code = {}
    for f in per_file:
        for k, v in f["by_code"].items():
            by_code[k] = by_code.get(k, 0) + v
    total.update(by_code=dict(sorted(by_code.items())), per_file=per_file)
    loaded = keys[status == "loaded"]
    return status, total, loaded


# ------------------------------------------------------------------ a shared family phone

_FAMILY_COLUMNS = ["home", "holder", "member", "phone"]


def family_phones(persons, rng, mess):
    """The households where one member gives another's phone.

    Among the households (``home``) of two or more ``persons`` (``key``: a
    valid ID, birth date in characters 7-14; ``phone``; ``home``), a share
    :data:`FAMILY_PHONE_SHARE` is drawn (at least one; none when ``mess``
    is 0); in each, the youngest member has no phone of their own and gives
    the oldest member's. Returns ``home, holder, member, phone`` (the
    holder's phone), one row per household, in ``home`` order.

    >>> people = pd.DataFrame({"key": ["110101195001010011", "110101201001010012", "110101198001010013"],
    ...                        "phone": ["13800000001", "13800000002", "13800000003"], "home": ["h1", "h1", "h2"]})
    >>> family_phones(people, np.random.default_rng(0), 0.03).values.tolist()
    [['h1', '110101195001010011', '110101201001010012', '13800000001']]
    """
    if mess <= 0 or not len(persons):
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in _FAMILY_COLUMNS})
    frame = pd.DataFrame({"home": persons["home"].to_numpy(object), "key": persons["key"].to_numpy(object),
                          "birth": persons["key"].astype(str).str.slice(6, 14).to_numpy(object),
                          "phone": persons["phone"].to_numpy(object)})  # fmt: skip
    frame = frame.sort_values(["home", "birth"], kind="mergesort")  # oldest first; ties in person order
    homes = frame.groupby("home", sort=True).agg(holder=("key", "first"), member=("key", "last"),
                                                 phone=("phone", "first"), size=("key", "size"))  # fmt: skip
    homes = homes[homes["size"] >= 2].reset_index()
    count = max(1, int(round(FAMILY_PHONE_SHARE * len(homes)))) if len(homes) else 0
    pick = np.sort(rng.choice(len(homes), size=count, replace=False))
    return homes.iloc[pick][_FAMILY_COLUMNS].astype(object).reset_index(drop=True)


def _phone_holders(known, phone):
    """IDs known to hold ``phone`` among ``(phone, ID)`` pairs."""
    return {doc for p, doc in known if p == phone}


def grid_key(known, phone):
    """The person key of a grid row (phone only) as the loaders resolve it:
    the phone's one known holder, else ``phone:+86…`` (reported, not guessed)."""
    holders = _phone_holders(known, phone)
    return next(iter(holders)) if len(holders) == 1 else PHONE_PREFIX + phone


def family_log(kind, cells, expect, code, rows, family, known):
    """Where loading ``rows`` must warn ``shared-phone`` about family phones.

    Mirrors :func:`loaders.identity.resolve` for the phones of ``family``
    (:func:`family_phones`): the first row of each (phone, ID) pair of a
    load is warned when the phone has two or more holders in the load or
    among ``known``, the ``(phone, ID)`` pairs of earlier loads (updated
    here); a grid row of such a phone (no ID) is warned whenever it is.

    Parameters
    ----------
    kind : source kind.
    cells, expect, code : the damaged rows, their expected presences and
        reject codes (:func:`damage`).
    rows : positions of the rows in load order (files concatenated; a
        re-delivered row appears twice).
    family : ``home, holder, member, phone``.
    known : set of ``(phone, ID)`` pairs.

    Returns
    -------
    DataFrame ``at`` (index into ``rows``), ``mess`` (``family-phone``:
    the member's rows with the phone; ``family-phone-holder``: the holder's
    warned row; ``family-phone-only``: a grid row of the phone), ``code``
    (``shared-phone``, or None where no warning is due).
    """
    log = pd.DataFrame({"at": pd.Series([], dtype=np.int64), "mess": pd.Series([], dtype=object),
                        "code": pd.Series([], dtype=object)})  # fmt: skip
    if not len(family) or not len(rows):
        return log
    person = expect["person_key"].to_numpy(object)[rows]
    alive = pd.isna(code[rows])
    phone_of = dict(zip(family["holder"], family["phone"]))
    if kind == "grid":  # keyed by grid_key: the holder or the phone
        phone_of.update({PHONE_PREFIX + p: p for p in family["phone"]})
        at = np.flatnonzero(alive & pd.Series(person).isin(list(phone_of)).to_numpy())
        warn = [len(_phone_holders(known, phone_of[k])) > 1 for k in person[at]]
        return pd.DataFrame({"at": at[warn], "mess": "family-phone-only", "code": "shared-phone"})
    is_member = pd.Series(person).isin(family["member"]).to_numpy()
    phone_of.update(zip(family["member"], family["phone"]))
    given = ~pd.isna(cells["phone"].to_numpy(object)[rows]) if "phone" in cells.columns else np.zeros(len(rows), bool)
    at = np.flatnonzero(alive & given & pd.Series(person).isin(list(phone_of)).to_numpy())
    pairs = {(phone_of[k], k) for k in person[at]}
    holders = pairs | known
    first = ~pd.Series(person[at]).duplicated().to_numpy()  # each person gives one phone
    warn = first & np.array([len(_phone_holders(holders, phone_of[k])) > 1 for k in person[at]], bool)
    known |= pairs
    keep = is_member[at] | warn  # every member row is a change; a holder row only where warned
    return pd.DataFrame({"at": at[keep], "mess": np.where(is_member[at], "family-phone", "family-phone-holder")[keep],
                         "code": np.where(warn, "shared-phone", None)[keep]})  # fmt: skip
