"""``load_files``: raw files of one kind → one atomic, idempotent batch.

Steps: read every file → parse and validate per kind (rejects and
warnings on each file's ledger) → resolve identity across all files and
the store's aliases → reject rows whose place already has another kind →
estimate venue exits → fingerprint → count duplicates (earlier in the load
or already stored) → append **one** batch for all files of the call.

Keys travel as integer codes into their distinct values (identity
resolution, dwell, fingerprints and dictionaries never build a Python
string per row); the embedded store receives them as categoricals and
skips re-validating the batch (:class:`tracer.presence.Batch` ``validated``).

One append per call means a load is all or nothing: a failure or a
SIGKILL at any point leaves the store exactly as before, and running the
same command again completes it. Fingerprints ignore modelled ends (open
residences, venue scans without exit), so re-delivered rows are
duplicates even when the estimate would differ.

Examples
--------
>>> import os, tempfile
>>> from tracer.duck import DuckStore
>>> d = tempfile.mkdtemp()
>>> path = os.path.join(d, "scans.csv")
>>> _ = open(path, "w").write("姓名,手机号码,场所编码,扫码时间\\n张三,13812345678,V1,2020-02-01 09:00\\n"
...                           "李四,123,V1,2020-02-01 09:05\\n")
>>> with DuckStore(os.path.join(d, "t.duckdb")) as store:
...     load_files(store, "venues", [path]).to_dict()
{'read': 2, 'loaded': 1, 'duplicates': 0, 'rejected': 1, 'by_code': {'no-identity': 1}, 'warnings': {}}
"""

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tracer.errors import LoadError
from pandas.api.types import union_categoricals

from tracer.presence import Batch, fingerprint_coded
from tracer.schema import DEFAULT_TZ, KIND_CODES

from .accounting import build_report
from .dwell import dwell_seconds, estimate_ends
from .fields import Table, locate_header
from .identity import PHONE_PREFIX, resolve
from .io import read_table, start_numba_early
from .ledger import Ledger
from .coded import categorical, category_codes, first_seen
from .sources import PARSERS
from .storeview import (any_phone_persons, known_phone_holders, stored_phone_persons, stored_place_kinds,
                        stored_records)
from .templates import KINDS, read_mapping

__all__ = ["load_files", "prepare", "Prepared", "Options"]

_BATCH = ("person_key", "place_key", "start", "end", "kind", "section", "row", "col", "flags", "record")


@dataclass(frozen=True)
class Options:
    """Load options seen by the parsers."""

    tz: str = DEFAULT_TZ
    dwell_min: object = None


@dataclass
class Prepared:
    """A parsed, resolved load before it meets the store's duplicates.

    ``presences`` has the batch columns plus ``input_row`` (global input
    row number: ``offsets[file] + position``); ``persons``, ``places`` and
    ``aliases`` are the dictionary frames of a :class:`tracer.presence.Batch`.
    """

    kind: str
    paths: list
    ledgers: list
    offsets: np.ndarray
    presences: pd.DataFrame
    persons: pd.DataFrame
    places: pd.DataFrame
    aliases: pd.DataFrame
    merges: pd.DataFrame = None  # ``key, into_key``: stored phone persons this load gives an ID holder
    notes: list = None  # what the load noticed about whole files (a header below a title line)

    @property
    def source(self):
        names = ", ".join(os.path.basename(str(p)) for p in self.paths)
        return f"{self.kind}: {names}"[:500]

    def full_batch(self, keep=None, coded=False):
        """The :class:`Batch` of all presences (or of those ``keep`` selects).

        ``coded`` keeps ``person_key``/``place_key`` categorical over the
        dictionary keys and marks the batch ``validated`` (for
        :class:`tracer.duck.DuckStore`); otherwise they are plain strings."""
        frame = self.presences[list(_BATCH)]  # the batch columns only, then the rows
        frame = (frame if keep is None else frame[keep]).reset_index(drop=True)
        if not coded:
            for col in ("person_key", "place_key"):
                frame[col] = pd.Series(np.asarray(frame[col], dtype=object), dtype=object)
        return Batch(frame, persons=self.persons, places=self.places, aliases=self.aliases, source=self.source,
                     validated=bool(coded))  # fmt: skip

    def rejects(self):
        from .accounting import LoadReport

        return LoadReport(kind=self.kind, ledgers=self.ledgers).rejects


def _check_kind(kind):
    if kind not in KINDS:
        raise LoadError(f"unknown source kind {kind!r}", hint="use one of " + ", ".join(KINDS))


def _concat(frames):
    """``pd.concat`` that keeps categorical columns categorical across files."""
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    out = {}
    for col in frames[0].columns:
        parts = [f[col] for f in frames]
        if all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
            out[col] = pd.Series(union_categoricals([p.array for p in parts]))
        elif any(isinstance(p.dtype, pd.CategoricalDtype) or p.dtype == object for p in parts):
            out[col] = pd.Series(np.concatenate([p.to_numpy(dtype=object) for p in parts]), dtype=object)
        else:
            out[col] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(out)


def _parse_all(kind, paths, encoding, mapping, opts, progress, notes=None):
    ledgers, idents, presences = [], [], []
    for i, path in enumerate(paths):
        frame, header_line = locate_header(read_table(path, encoding), kind, path, mapping)
        if header_line > 1 and notes is not None:
            notes.append(f"{path}: header on line {header_line}; the {header_line - 1} line(s) above it "
                         "(a title) are not records")  # fmt: skip
        check_other_sheets(path, kind, mapping, notes)
        led = Ledger(path, frame)
        parsed = PARSERS[kind](Table(frame, kind, path, mapping), led, opts)
        ledgers.append(led)
        idents.append(parsed.idents.assign(file=i))
        presences.append(parsed.presences.assign(file=i))
        if progress:
            progress("read", i + 1, len(paths))
    return ledgers, _concat(idents), _concat(presences)


def check_other_sheets(path, kind, mapping, notes=None):
    """A workbook is read from its first sheet. Another sheet that holds
    rows under a header of the same kind (one sheet per day, say) would be
    lost: :class:`LoadError` before anything is loaded. Other non-empty
    sheets (notes, a summary) are named in ``notes`` as not read."""
    if not str(path).lower().endswith((".xlsx", ".xlsm")):
        return
    from .fields import header_fits
    from .xlsx import other_sheets

    for name, rows in other_sheets(path):
        at = next((i for i, r in enumerate(rows) if header_fits(r, kind, mapping)), None)
        if at is not None and at + 1 < len(rows):
            raise LoadError(
                f"{path}: sheet {name!r} also holds {kind} rows, but a workbook is read from its first sheet only;"
                " nothing was loaded",
                hint="save each sheet as its own file (or copy the rows into the first sheet) and load them together",
            )
        if notes is not None:
            notes.append(f"{path}: sheet {name!r} not read (it has no {kind} header)")


def _per_file(ledgers, offsets, rows, fn):
    """Call ``fn(ledger, local mask)`` for each file with global ``rows`` set."""
    rows = np.asarray(rows, dtype=np.int64)
    for i, led in enumerate(ledgers):
        local = rows[(rows >= offsets[i]) & (rows < offsets[i + 1])] - offsets[i]
        if len(local):
            mask = np.zeros(len(led), dtype=bool)
            mask[local] = True
            fn(led, mask)


def _alive_rows(ledgers):
    return np.concatenate([led.alive for led in ledgers])


def _resolve(ledgers, offsets, idents, store):
    """Person key code of every input row (-1 where the row has none), the
    distinct keys the codes point into, the identity rows and their aliases."""
    phones = np.zeros(0, dtype=object)
    if "phone" in idents.columns:
        codes, uniq = category_codes(idents["phone"])
        phones = uniq[np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(uniq)))]
    res = resolve(idents, known_phone_holders(store, phones), with_keys=False)
    rows = offsets[idents["file"].to_numpy()] + idents["pos"].to_numpy()
    _per_file(ledgers, offsets, rows[res.ambiguous], lambda led, m: led.warn(
        m, "phone", "shared-phone", "phone is shared by several ID holders; the row is keyed by the phone"))
    _per_file(ledgers, offsets, rows[res.conflict], lambda led, m: led.warn(m, "phone", "shared-phone"))
    split, merges = _split_phone_rows(idents, store, res)
    code = "phone-merged" if _merges_persons(store) else "phone-key-split"
    _per_file(ledgers, offsets, rows[split], lambda led, m: led.warn(m, "phone", code))
    code_by_row = np.full(offsets[-1], -1, dtype=np.int64)
    code_by_row[rows] = res.codes
    return code_by_row, res.uniques, rows, res.aliases, (merges if _merges_persons(store) else merges.iloc[:0])


def _merges_persons(store):
    """Whether ``store.append`` can move a phone person's presences to an ID holder."""
    return bool(getattr(store, "merges_persons", False))


def _split_phone_rows(idents, store, res):
    """Identity rows (first of each phone) that give a document holder to a
    phone the store already keys as a person of its own, and the ``key,
    into_key`` pairs (``phone:+86…``, holder) they imply. A store that
    :func:`_merges_persons` moves those earlier presences to the holder in
    this load's transaction (``phone-merged``); any other keeps them under
    the phone key, and the load says so (``phone-key-split``) instead of
    leaving the split silent. Phones with several holders are shared
    phones, warned as such."""
    none = np.zeros(len(idents), dtype=bool), pd.DataFrame({"key": pd.Series([], dtype=object),
                                                           "into_key": pd.Series([], dtype=object)})  # fmt: skip
    if "phone" not in idents.columns or "doc" not in idents.columns or not any_phone_persons(store):
        return none
    phone_code, phones = category_codes(idents["phone"])
    paired = (phone_code >= 0) & pd.Series(idents["doc"]).notna().to_numpy() & ~np.asarray(res.ambiguous, bool)
    if not paired.any():
        return none
    split = stored_phone_persons(store, phones[np.unique(phone_code[paired])])
    if not split:
        return none  # the usual case: one join over the batch's distinct phones
    phone = pd.Series(phones[np.maximum(phone_code, 0)], dtype=object).where(phone_code >= 0)
    doc = pd.Series(idents["doc"], dtype=object).reset_index(drop=True)
    holders = pd.concat([pd.DataFrame({"phone": phone[paired], "doc": doc[paired]}),
                         known_phone_holders(store, list(split))]).astype(str).drop_duplicates()  # fmt: skip
    count = holders.groupby("phone")["doc"].nunique()
    single = set(count.index[count.to_numpy() == 1]) & split
    hit = paired & phone.astype(str).isin(single).to_numpy()
    hit &= ~phone.where(hit).duplicated(keep="first").to_numpy()
    merges = pd.DataFrame({"key": (PHONE_PREFIX + phone[hit].astype(str)).to_numpy(dtype=object),
                           "into_key": doc[hit].astype(str).to_numpy(dtype=object)})  # fmt: skip
    return hit, merges


def _reject_kind_conflicts(ledgers, offsets, input_row, place_code, kind, place_keys, store):
    """A place key has one kind: reject rows that give it another one
    (the first row of a key new to the store sets its kind)."""
    inv, first_row = first_seen(place_code)
    stored = stored_place_kinds(store, place_keys[place_code[first_row]])
    kinds = np.asarray(kind, dtype=np.int64)
    expected = np.where(stored >= 0, stored, kinds[first_row])[inv]
    bad = kinds != expected
    if bad.any():
        _per_file(ledgers, offsets, input_row[bad],
                  lambda led, m: led.reject(m, "place", "place-kind-conflict", "the place already has another kind"))


def _estimate_venue_ends(pres, place_keys, dwell_min):
    est = pres["estimate"].to_numpy(bool)
    if not est.any():
        return pres["end"].to_numpy(np.int64)
    venue = pres["kind"].to_numpy() == KIND_CODES["venue"]
    rows = slice(None) if venue.all() else venue  # a venues load: views, not copies

    def sub(col, dtype=None):
        return pres[col].to_numpy(dtype)[rows]

    dwell = dwell_seconds(place_keys, dwell_min)[sub("place_code")]
    got = estimate_ends(sub("person_code"), sub("place_code"), sub("start", np.int64), est[rows], dwell)
    end = pres["end"].to_numpy(np.int64).copy()
    end[rows] = np.where(est[rows], got, end[rows])
    return end


def _first_per_key(frame, codes):
    """One row per distinct ``codes`` value (in order of first appearance)
    with the first non-missing value of each column of ``frame``; returns
    (frame, code of each output row)."""
    codes = np.asarray(codes, dtype=np.int64)
    inv, key_row = first_seen(codes)
    n_keys = len(key_row)
    out = {}
    for col in frame.columns:
        values = frame[col]
        if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object:
            vcodes, vuniq = category_codes(values)
            rows = np.flatnonzero(vcodes >= 0)[::-1]
            first = np.full(n_keys, -1, dtype=np.int64)
            first[inv[rows]] = rows
            picked = np.where(first >= 0, vcodes[np.maximum(first, 0)], -1)
            out[col] = pd.Series(np.append(vuniq, None).astype(object)[picked], dtype=object)
        else:
            out[col] = values.to_numpy()[key_row]  # numeric columns have no missing values here
    return pd.DataFrame(out), codes[key_row]


def _dictionaries(idents, person_codes, alive, pres, person_keys, place_keys):
    """Person and place dictionary frames (one row per key, first
    non-missing attributes) and the codes of their keys."""
    keep = alive & (person_codes >= 0)
    n = int(keep.sum())

    given = [c for c in ("name", "district") if c in idents.columns]
    persons, person_order = _first_per_key(
        pd.DataFrame({c: idents[c][keep].reset_index(drop=True) for c in given}, index=pd.RangeIndex(n)),
        person_codes[keep])  # fmt: skip
    for at, c in enumerate(("name", "district")):
        if c not in given:  # a column the files lack: no value for anyone
            persons.insert(at, c, pd.Series(np.full(len(person_order), None, object), dtype=object))
    persons.insert(0, "key", pd.Series(person_keys[person_order], dtype=object))
    place_code = pres["place_code"].to_numpy()
    places, place_order = _first_per_key(pd.DataFrame({
        "kind": pres["kind"].to_numpy(np.int8), "name": pres["place_name"], "district": pres["place_district"]}),
        place_code)  # fmt: skip
    places.insert(0, "key", pd.Series(place_keys[place_order], dtype=object))
    return persons, person_order, places, place_order


def _recode(codes, order):
    """Codes re-numbered so that ``order[k]`` becomes ``k``."""
    remap = np.full(int(max(codes.max(initial=-1), order.max(initial=-1))) + 1, -1, dtype=np.int64)
    remap[order] = np.arange(len(order))
    return remap[codes]


def prepare(kind, files, *, encoding=None, mapping=None, tz=DEFAULT_TZ, dwell_min=None, store=None, progress=None):
    """Read, parse, resolve and fingerprint ``files`` of one ``kind``.

    ``store`` (optional) supplies known phone holders and place kinds; it
    is only read. Returns a :class:`Prepared`. See :func:`load_files`.
    """
    _check_kind(kind)
    paths = [os.fspath(f) for f in ([files] if isinstance(files, (str, os.PathLike)) else list(files))]
    if not paths:
        raise LoadError("no files to load", hint="give one or more CSV/XLSX files")
    opts = Options(tz=tz, dwell_min=dwell_min)
    start_numba_early(paths)
    notes = []
    ledgers, idents, pres = _parse_all(kind, paths, encoding, read_mapping(mapping), opts, progress, notes)
    offsets = np.concatenate([[0], np.cumsum([len(led) for led in ledgers])]).astype(np.int64)
    code_by_row, person_keys, rows, aliases, merges = _resolve(ledgers, offsets, idents, store)
    input_row = offsets[pres["file"].to_numpy()] + pres["pos"].to_numpy()
    person_code = code_by_row[input_row]
    keyed = person_code >= 0
    # integer codes of the place keys: one hash pass, reused below
    place_code, place_keys = category_codes(pres["place_key"])
    _reject_kind_conflicts(ledgers, offsets, input_row[keyed], place_code[keyed], pres["kind"].to_numpy()[keyed],
                           place_keys, store)  # fmt: skip
    alive = _alive_rows(ledgers)
    keep = keyed & alive[input_row]
    pres = pres[keep].reset_index(drop=True)
    pres["input_row"], pres["place_code"], pres["person_code"] = input_row[keep], place_code[keep], person_code[keep]
    pres["end"] = _estimate_venue_ends(pres, place_keys, dwell_min)
    persons, person_order, places, place_order = _dictionaries(idents, code_by_row[rows], alive[rows], pres,
                                                               person_keys, place_keys)  # fmt: skip
    # keys as categoricals over the dictionaries' keys (codes = dictionary rows)
    person_row = _recode(pres["person_code"].to_numpy(), person_order)
    place_row = _recode(pres["place_code"].to_numpy(), place_order)
    open_end = pres["open_end"].to_numpy(bool)
    pres["record"] = fingerprint_coded(person_row, persons["key"], place_row, places["key"], pres["start"],
                                       np.where(open_end, -1, pres["end"].to_numpy(np.int64)),
                                       pres["section"], pres["row"], pres["col"])  # fmt: skip
    pres["person_key"] = categorical(person_row, persons["key"])
    pres["place_key"] = categorical(place_row, places["key"])
    aliases = aliases[aliases["key"].isin(persons["key"])].reset_index(drop=True)
    return Prepared(kind, paths, ledgers, offsets, pres, persons, places, aliases, merges, notes)


def _takes_coded(store):
    """The embedded store reads categorical key columns and trusts loader
    batches; other stores get plain string keys."""
    from tracer.duck import DuckStore

    return isinstance(store, DuckStore)


def load_files(store, kind, files, *, encoding=None, mapping=None, tz=DEFAULT_TZ, dwell_min=None, progress=None):
    """Load raw files of one source kind into ``store`` as one atomic batch.

    Parameters
    ----------
    store : a :class:`tracer.store.Store` (e.g. :class:`tracer.duck.DuckStore`).
    kind : one of :data:`loaders.KINDS`.
    files : paths (CSV in UTF-8/UTF-8-BOM/GB18030, XLSX, Parquet).
    encoding : str, optional, forces the encoding of CSV files.
    mapping : dict or path of a JSON/CSV header mapping, optional.
    tz : zone of naive times.
    dwell_min : venue dwell for scans without exit: minutes, or a mapping
        ``{venue code: minutes}`` with an optional ``"*"`` default (60).
    progress : callable ``(stage, done, total)``, optional; stages
        ``"read"`` (files) and ``"append"`` (presences, from the store).

    Returns
    -------
    LoadReport
        ``read == loaded + duplicates + rejected`` over input rows. When a
        row pairs a phone the store holds as a person of its own
        (``phone:+86…``) with one ID holder, the store moves those presences
        to the holder in the same append (``merged_phones``,
        ``moved_presences``; a row equal to a moved presence is a duplicate).

    Raises
    ------
    LoadError
        A file is missing, empty, undecodable or lacks a required column
        (nothing is appended).
    """
    prepared = prepare(kind, files, encoding=encoding, mapping=mapping, tz=tz, dwell_min=dwell_min,
                       store=store, progress=progress)  # fmt: skip
    pres = prepared.presences
    records = pres["record"].to_numpy(np.int64)
    dup = pd.Series(records).duplicated(keep="first").to_numpy() | stored_records(store, records)
    merges = prepared.merges if prepared.merges is not None and len(prepared.merges) else None
    if merges is not None:  # a row the moved presences already hold is a duplicate too
        dup |= np.isin(records, store.moved_records(merges))
    total_rows = int(prepared.offsets[-1])
    fresh_rows = np.zeros(total_rows, dtype=bool)
    fresh_rows[pres["input_row"].to_numpy()[~dup]] = True
    duplicate_rows = ~fresh_rows & _alive_rows(prepared.ledgers)
    append_progress = None if progress is None else (lambda done, total: progress("append", done, total))
    batch = prepared.full_batch(keep=~dup, coded=_takes_coded(store))
    extra = {} if merges is None else {"merge_persons": merges}
    result = store.append(batch, progress=append_progress, **extra)
    splits = np.split(duplicate_rows, prepared.offsets[1:-1])
    report = build_report(kind, prepared.paths, prepared.ledgers, splits, result.source, result.loaded)
    report.notes = list(prepared.notes or [])
    report.merged_phones = 0 if merges is None else len(merges)
    report.moved_presences = int(getattr(result, "moved", 0))
    return report
