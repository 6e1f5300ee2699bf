"""``load_files``: raw files of one kind → one atomic, idempotent batch.

Steps: read every file → parse and validate per kind (rejects and
warnings on each file's ledger) → resolve identity across all files and
the store's aliases → reject rows whose place already has another kind →
estimate venue exits → fingerprint → count duplicates (earlier in the load
or already stored) → append **one** batch for all files of the call.

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
from tracer.presence import Batch, fingerprint
from tracer.schema import DEFAULT_TZ, KIND_CODES

from .accounting import build_report
from .dwell import dwell_seconds, estimate_ends
from .fields import Table, object_frame
from .identity import resolve
from .io import read_table
from .ledger import Ledger
from .sources import PARSERS
from .storeview import known_phone_holders, stored_place_kinds, stored_records
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

    @property
    def source(self):
        names = ", ".join(os.path.basename(str(p)) for p in self.paths)
        return f"{self.kind}: {names}"[:500]

    def full_batch(self, keep=None):
        """The :class:`Batch` of all presences (or of those ``keep`` selects)."""
        frame = self.presences if keep is None else self.presences[keep]
        return Batch(frame[list(_BATCH)].reset_index(drop=True), persons=self.persons, places=self.places,
                     aliases=self.aliases, source=self.source)  # fmt: skip

    def rejects(self):
        from .accounting import LoadReport

        return LoadReport(kind=self.kind, ledgers=self.ledgers).rejects


def _check_kind(kind):
    if kind not in KINDS:
        raise LoadError(f"unknown source kind {kind!r}", hint="use one of " + ", ".join(KINDS))


def _parse_all(kind, paths, encoding, mapping, opts, progress):
    ledgers, idents, presences = [], [], []
    for i, path in enumerate(paths):
        frame = read_table(path, encoding)
        led = Ledger(path, frame)
        parsed = PARSERS[kind](Table(frame, kind, path, mapping), led, opts)
        ledgers.append(led)
        idents.append(parsed.idents.assign(file=i))
        presences.append(parsed.presences.assign(file=i))
        if progress:
            progress("read", i + 1, len(paths))
    return ledgers, pd.concat(idents, ignore_index=True), pd.concat(presences, ignore_index=True)


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
    """Person key of every input row (None where the row has none), the
    identity rows, their aliases and the integer code of every row's key."""
    phones = idents["phone"] if "phone" in idents.columns else pd.Series([], dtype=object)
    res = resolve(idents, known_phone_holders(store, phones))
    rows = offsets[idents["file"].to_numpy()] + idents["pos"].to_numpy()
    _per_file(ledgers, offsets, rows[res.ambiguous], lambda led, m: led.warn(
        m, "phone", "shared-phone", "phone is shared by several ID holders; the row is keyed by the phone"))
    _per_file(ledgers, offsets, rows[res.conflict], lambda led, m: led.warn(m, "phone", "shared-phone"))
    key_by_row = np.full(offsets[-1], None, dtype=object)
    key_by_row[rows] = res.keys
    code_by_row = np.full(offsets[-1], -1, dtype=np.int64)
    code_by_row[rows] = res.codes
    return key_by_row, rows, res.aliases, code_by_row


def _reject_kind_conflicts(ledgers, offsets, input_row, place_code, kind, place_key, store):
    """A place key has one kind: reject rows that give it another one
    (the first row of a key new to the store sets its kind)."""
    inv = pd.factorize(place_code)[0]
    first_row = np.zeros(int(inv.max(initial=-1)) + 1, dtype=np.int64)
    first_row[inv[::-1]] = np.arange(len(inv) - 1, -1, -1)
    stored = stored_place_kinds(store, place_key[first_row])
    kinds = np.asarray(kind, dtype=np.int64)
    expected = np.where(stored >= 0, stored, kinds[first_row])[inv]
    bad = kinds != expected
    if bad.any():
        _per_file(ledgers, offsets, input_row[bad],
                  lambda led, m: led.reject(m, "place", "place-kind-conflict", "the place already has another kind"))


def _estimate_venue_ends(pres, dwell_min):
    est = pres["estimate"].to_numpy(bool)
    if not est.any():
        return pres["end"].to_numpy(np.int64)
    venue = pres["kind"].to_numpy() == KIND_CODES["venue"]
    end = pres["end"].to_numpy(np.int64).copy()

    def sub(col, dtype=None):
        return pres[col].to_numpy(dtype)[venue]

    got = estimate_ends(sub("person_code"), sub("place_code"), sub("start", np.int64), est[venue],
                        dwell_seconds(sub("place_key", object), dwell_min))  # fmt: skip
    end[venue] = np.where(est[venue], got, end[venue])
    return end


def _first_per_key(frame, codes=None):
    """One row per ``key`` (in order of first appearance) with the first
    non-missing value of each column (``groupby(sort=False).first()`` on
    integer codes; ``codes``, optional, are integer codes of the keys)."""
    if not len(frame):
        return frame
    keys = frame["key"].to_numpy(object)
    codes = pd.factorize(keys if codes is None else np.asarray(codes))[0]
    n_keys = int(codes.max(initial=-1)) + 1
    key_row = np.zeros(n_keys, dtype=np.int64)
    key_row[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    out = {"key": pd.Series(keys[key_row], dtype=object)}
    uniq = key_row
    for col in frame.columns.drop("key"):
        values = frame[col].to_numpy()
        rows = np.flatnonzero(~pd.isna(values))[::-1]
        first = np.full(len(uniq), -1, dtype=np.int64)
        first[codes[rows]] = rows
        if values.dtype == object:
            got = np.full(len(uniq), None, dtype=object)
            got[first >= 0] = values[first[first >= 0]]
            out[col] = pd.Series(got, dtype=object)
        else:
            out[col] = values[first]  # numeric columns have no missing values here
    return pd.DataFrame(out)


def _dictionaries(idents, key_by_row, rows, key_codes, alive, pres):
    keys = key_by_row[rows]
    keep = alive[rows] & ~pd.isna(keys)
    n = int(keep.sum())

    def col(name):
        return idents[name].to_numpy(object)[keep] if name in idents.columns else np.full(n, None, object)

    persons = object_frame(key=keys[keep], name=col("name"), district=col("district"))
    places = object_frame(
        key=pres["place_key"].to_numpy(object), kind=pres["kind"].to_numpy(np.int8),
        name=pres["place_name"].to_numpy(object), district=pres["place_district"].to_numpy(object),
    )  # fmt: skip
    return _first_per_key(persons, key_codes[keep]), _first_per_key(places, pres["place_code"].to_numpy())


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
    ledgers, idents, pres = _parse_all(kind, paths, encoding, read_mapping(mapping), opts, progress)
    offsets = np.concatenate([[0], np.cumsum([len(led) for led in ledgers])]).astype(np.int64)
    key_by_row, rows, aliases, code_by_row = _resolve(ledgers, offsets, idents, store)
    input_row = offsets[pres["file"].to_numpy()] + pres["pos"].to_numpy()
    person_key = key_by_row[input_row]
    keyed = ~pd.isna(person_key)
    # integer codes of the keys: one hash pass each, reused below
    place_code = pd.factorize(pres["place_key"].to_numpy(object))[0]
    _reject_kind_conflicts(ledgers, offsets, input_row[keyed], place_code[keyed], pres["kind"].to_numpy()[keyed],
                           pres["place_key"].to_numpy(object)[keyed], store)  # fmt: skip
    alive = _alive_rows(ledgers)
    keep = keyed & alive[input_row]
    pres = pres[keep].reset_index(drop=True)
    pres["input_row"], pres["person_key"], pres["place_code"] = input_row[keep], person_key[keep], place_code[keep]
    pres["person_code"] = code_by_row[input_row[keep]]
    pres["end"] = _estimate_venue_ends(pres, dwell_min)
    open_end = pres["open_end"].to_numpy(bool)
    pres["record"] = fingerprint(pres["person_key"], pres["place_key"], pres["start"],
                                 np.where(open_end, -1, pres["end"].to_numpy(np.int64)),
                                 pres["section"], pres["row"], pres["col"])  # fmt: skip
    persons, places = _dictionaries(idents, key_by_row, rows, code_by_row[rows], alive, pres)
    alias_keys = set(persons["key"])
    aliases = aliases[aliases["key"].isin(alias_keys)].reset_index(drop=True)
    return Prepared(kind, paths, ledgers, offsets, pres, persons, places, aliases)


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
        ``read == loaded + duplicates + rejected`` over input rows.

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
    total_rows = int(prepared.offsets[-1])
    fresh_rows = np.zeros(total_rows, dtype=bool)
    fresh_rows[pres["input_row"].to_numpy()[~dup]] = True
    duplicate_rows = ~fresh_rows & _alive_rows(prepared.ledgers)
    append_progress = None if progress is None else (lambda done, total: progress("append", done, total))
    result = store.append(prepared.full_batch(keep=~dup), progress=append_progress)
    splits = np.split(duplicate_rows, prepared.offsets[1:-1])
    return build_report(kind, prepared.paths, prepared.ledgers, splits, result.source, result.loaded)
