"""Dictionary entries of a batch: persons, places and aliases for the store.

Before an append, :func:`person_entries`, :func:`place_entries` and
:func:`alias_entries` turn a :class:`tracer.presence.Batch`'s dictionary
frames (and the keys its presences mention) into one row per key, in order
of first appearance; :func:`upsert_entries` and :func:`insert_aliases` then
write them inside the append's transaction: new keys get the next codes,
known keys only have their empty attributes filled.

Examples
--------
>>> import pandas as pd
>>> persons = pd.DataFrame({"key": ["p1", "p1"], "name": [None, "Li"]})
>>> person_entries(persons, ["p2"], pd.DataFrame()).values.tolist()
[['p1', 'Li', None, 0], ['p2', None, None, 2]]
"""

import numpy as np
import pandas as pd

from .duck_sql import fetch_one, registered
from .errors import StoreError, ValidationError
from .presence import validate_presences
from .schema import KIND_CODES

__all__ = ["person_entries", "place_entries", "alias_entries", "check_place_kinds", "upsert_entries",
           "upsert_coded", "insert_aliases", "batch_parts", "entry_codes", "factorize_keys"]

#: SQL: the entry ``b`` already has a row in ``table``.
_KNOWN = "(SELECT 1 FROM {table} t WHERE t.key = b.key)"


def upsert_entries(con, table, entries, where="the store"):
    """Fill empty attributes of known keys, insert new keys; return #changes.

    ``entries`` (from :func:`person_entries` or :func:`place_entries`) go
    into ``table`` (``persons`` or ``places``) through ``con``; new keys get
    codes after the largest stored one, in ``pos`` order. ``where`` names the
    store in errors.
    """
    if not len(entries):
        return 0
    attrs = [c for c in entries.columns if c not in ("key", "pos")]
    with registered(con, _entries=entries):
        fill = " OR ".join(f"({_empty(table, c)} AND b.{c} IS NOT NULL)" for c in attrs)
        sets = ", ".join(f"{c} = CASE WHEN {_empty(table, c)} THEN b.{c} ELSE {table}.{c} END" for c in attrs)
        updated = fetch_one(con, f"UPDATE {table} SET {sets} FROM _entries b WHERE {table}.key = b.key AND ({fill})")[0]
        base = fetch_one(con, f"SELECT coalesce(max(code), -1) + 1 FROM {table}")[0]
        new = fetch_one(con, f"SELECT count(*) FROM _entries b WHERE NOT EXISTS {_KNOWN.format(table=table)}")[0]
        if base + new > np.iinfo(np.int32).max:
            raise StoreError(f"{table} dictionary of {where} would exceed int32 codes")
        cols = ", ".join(f"b.{c}" for c in attrs)
        con.execute(
            f"INSERT INTO {table} (code, key, {', '.join(attrs)}) "
            f"SELECT ? + row_number() OVER (ORDER BY b.pos) - 1, b.key, {cols} FROM _entries b "
            f"WHERE NOT EXISTS {_KNOWN.format(table=table)}",
            [base],
        )
    return int(updated) + int(new)


def upsert_coded(con, table, entries, where="the store"):
    """:func:`upsert_entries` that also returns every entry's code.

    Returns ``(changes, codes)``: codes (int64, aligned with ``entries``)
    of known keys come from ``table``; new keys get codes after the largest
    stored one in ``pos`` order. One join finds the known keys; the update
    runs only when there are some, so a batch of new keys is a plain insert.
    """
    codes = np.full(len(entries), -1, dtype=np.int64)
    if not len(entries):
        return 0, codes
    attrs = [c for c in entries.columns if c not in ("key", "pos")]
    with registered(con, _entries=entries.assign(_row=np.arange(len(entries), dtype=np.int64))):
        got = con.execute(f"SELECT b._row, t.code FROM _entries b JOIN {table} t ON t.key = b.key").fetchnumpy()
        codes[np.asarray(got["_row"], dtype=np.int64)] = np.asarray(got["code"], dtype=np.int64)
        updated = 0
        if len(got["_row"]):
            fill = " OR ".join(f"({_empty(table, c)} AND b.{c} IS NOT NULL)" for c in attrs)
            sets = ", ".join(f"{c} = CASE WHEN {_empty(table, c)} THEN b.{c} ELSE {table}.{c} END" for c in attrs)
            sql = f"UPDATE {table} SET {sets} FROM _entries b WHERE {table}.key = b.key AND ({fill})"
            updated = fetch_one(con, sql)[0]
    new = np.flatnonzero(codes < 0)
    if not len(new):
        return int(updated), codes
    base = fetch_one(con, f"SELECT coalesce(max(code), -1) + 1 FROM {table}")[0]
    if base + len(new) > np.iinfo(np.int32).max:
        raise StoreError(f"{table} dictionary of {where} would exceed int32 codes")
    new = new[np.argsort(entries["pos"].to_numpy()[new], kind="stable")]
    codes[new] = base + np.arange(len(new))
    fresh = entries.iloc[new][["key", *attrs]].reset_index(drop=True)
    fresh.insert(0, "code", codes[new].astype(np.int32))
    with registered(con, _new_entries=fresh):
        con.execute(f"INSERT INTO {table} (code, key, {', '.join(attrs)}) SELECT * FROM _new_entries")
    return int(updated) + len(new), codes


def insert_aliases(con, aliases):
    """Insert the ``key, alias`` pairs not yet stored; return how many."""
    if not len(aliases):
        return 0
    with registered(con, _aliases=aliases):
        if not fetch_one(con, "SELECT count(*) FROM (SELECT 1 FROM aliases LIMIT 1)")[0]:
            return fetch_one(con, "INSERT INTO aliases SELECT key, alias FROM _aliases")[0]
        return fetch_one(
            con,
            "INSERT INTO aliases SELECT key, alias FROM _aliases a WHERE NOT EXISTS "
            "(SELECT 1 FROM aliases x WHERE x.key = a.key AND x.alias = a.alias)",
        )[0]


def _empty(table, col):
    """SQL: the stored attribute is missing (NULL, or an empty string)."""
    if col in ("name", "district"):
        return f"coalesce({table}.{col}, '') = ''"
    return f"{table}.{col} IS NULL"


def _text(frame, col, n, strip=True):
    """Column ``col`` as an object array of str; missing or blank → None."""
    if col not in frame.columns or not n:
        return np.full(n, None, dtype=object)
    raw = pd.Series(frame[col].to_numpy(), dtype=object)
    text = raw.astype(str)
    text = text.str.strip() if strip else text
    blank = raw.isna().to_numpy() | (text.str.len() == 0).to_numpy()
    out = text.to_numpy(dtype=object)
    out[blank] = None
    return out


def _keys(frame, what):
    if not len(frame):
        return np.zeros(0, dtype=object)
    if "key" not in frame.columns:
        raise ValidationError(f"batch {what}: missing column key", hint="dictionary frames are keyed by `key`")
    keys = _text(frame, "key", len(frame), strip=False)
    bad = np.flatnonzero(pd.isna(keys))
    if len(bad):
        raise ValidationError(f"batch {what}: row {int(bad[0])}: empty key")
    return keys


def _first_per_key(frame):
    """One row per key: first non-missing value of every column; ``pos`` orders codes."""
    if not len(frame):
        return frame.assign(pos=np.zeros(0, dtype=np.int64))
    frame = frame.assign(pos=np.arange(len(frame), dtype=np.int64))
    return frame.groupby("key", sort=False, dropna=False).first().reset_index()


def person_entries(persons, presence_keys, aliases):
    """One row per person key, ``key, name, district, pos``: the batch's
    persons frame, then the keys its presences and aliases mention (the
    first non-empty attribute of a key wins; ``pos`` orders new codes)."""
    n = len(persons)
    given = pd.DataFrame({"key": _keys(persons, "persons"), "name": _text(persons, "name", n),
                          "district": _text(persons, "district", n)})
    extra = pd.DataFrame({"key": np.concatenate([np.asarray(presence_keys, dtype=object),
                                                 _keys(aliases, "aliases")])})
    frame = pd.concat([given, extra.assign(name=None, district=None)], ignore_index=True)
    out = _first_per_key(frame.astype({"name": object, "district": object}))
    return out[["key", "name", "district", "pos"]]


def _place_kind(values):
    """Place kinds given as codes or names (any case) → nullable Int8."""
    raw = pd.Series(values, dtype=object).reset_index(drop=True)
    named = raw.astype(str).str.strip().str.lower().map(KIND_CODES)
    numeric = pd.to_numeric(raw, errors="coerce")
    kinds = named.where(named.notna(), numeric)
    bad = raw.notna().to_numpy() & (kinds.isna().to_numpy() | ~kinds.isin(range(len(KIND_CODES))).to_numpy())
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(f"batch places: row {i}: unknown kind {raw[i]!r}", hint="use a kind name or code 0-7")
    return pd.array(kinds.to_numpy(dtype=object), dtype="Int8")


def _floats(frame, col, n):
    if col not in frame.columns:
        return pd.array([None] * n, dtype="Float64")
    return pd.array(pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float), dtype="Float64")


def place_entries(places, presence_keys, kinds, place_inv):
    """One row per place key, ``key, kind, name, district, lat, lon, pos``:
    the batch's places frame, then the places of its presences with the
    kind of each one's first row (``place_inv`` maps rows to keys)."""
    n = len(places)
    given = pd.DataFrame({
        "key": _keys(places, "places"),
        "kind": _place_kind(places["kind"]) if "kind" in places.columns else pd.array([None] * n, dtype="Int8"),
        "name": _text(places, "name", n),
        "district": _text(places, "district", n),
        "lat": _floats(places, "lat", n),
        "lon": _floats(places, "lon", n),
    })
    first_row = np.full(len(presence_keys), 0, dtype=np.int64)
    first_row[place_inv[::-1]] = np.arange(len(place_inv))[::-1]  # first row of each place
    seen = pd.DataFrame({"key": np.asarray(presence_keys, dtype=object),
                         "kind": pd.array(kinds[first_row] if len(kinds) else [], dtype="Int8")})
    frame = pd.concat([given, seen], ignore_index=True)
    frame = frame.astype({"name": object, "district": object, "lat": "Float64", "lon": "Float64", "kind": "Int8"})
    out = _first_per_key(frame)
    return out[["key", "kind", "name", "district", "lat", "lon", "pos"]]


def check_place_kinds(rows, place_keys, place_inv, stored_kinds):
    """Every presence of a place has the place's kind (the index relies on it)."""
    kinds = rows["kind"].to_numpy()
    bad = np.flatnonzero(stored_kinds[place_inv] != kinds)
    if len(bad):
        i = int(bad[0])
        key = place_keys[place_inv[i]]
        raise ValidationError(
            f"batch presences: record {int(rows['record'].iat[i])}: place {key} has kind "
            f"{int(stored_kinds[place_inv[i]])} in the dictionary but {int(kinds[i])} here",
            hint="a place key has exactly one kind; check the loader's place keys",
        )


def alias_entries(aliases):
    """The batch's ``key, alias`` pairs, without blank or repeated pairs."""
    if not len(aliases):
        return pd.DataFrame({"key": pd.Series([], dtype=object), "alias": pd.Series([], dtype=object)})
    frame = pd.DataFrame({"key": _keys(aliases, "aliases"), "alias": _text(aliases, "alias", len(aliases))})
    return frame.dropna().drop_duplicates().reset_index(drop=True)


def batch_parts(batch):
    """(rows, person codes, person keys, place codes, place keys, person,
    place and alias entries) of a batch: validated and deduplicated unless
    the batch is ``validated`` (built by the loaders: already checked, key
    columns categorical over its dictionary frames, records distinct)."""
    if getattr(batch, "validated", False):
        rows = batch.presences
        if (rows["end"].to_numpy() < rows["start"].to_numpy()).any():  # cheap invariant, kept as a guard
            raise ValidationError("batch presences: an end is before its start", hint="a loader bug; report it")
        # one trimmed row per key, listing every key of the batch (entry_codes checks)
        persons = _trusted(batch.persons, {"name": object, "district": object})
        places = _trusted(batch.places, {"kind": "Int8", "name": object, "district": object, "lat": "Float64",
                                         "lon": "Float64"})  # fmt: skip
        person_inv, person_keys = _entry_rows(rows["person_key"], persons)
        place_inv, place_keys = _entry_rows(rows["place_key"], places)
        aliases = batch.aliases[["key", "alias"]].reset_index(drop=True)
        return rows, person_inv, person_keys, place_inv, place_keys, persons, places, aliases
    rows = validate_presences(batch.presences, where=f"batch {batch.source or ''}".strip())
    rows = rows[~rows["record"].duplicated(keep="first").to_numpy()].reset_index(drop=True)
    person_inv, person_keys = factorize_keys(rows["person_key"])
    place_inv, place_keys = factorize_keys(rows["place_key"])
    persons = person_entries(batch.persons, person_keys, batch.aliases)
    places = place_entries(batch.places, place_keys, rows["kind"].to_numpy(), place_inv)
    return rows, person_inv, person_keys, place_inv, place_keys, persons, places, alias_entries(batch.aliases)


def _trusted(frame, attrs):
    """Entries of a loader's dictionary frame (already one row per key,
    text trimmed and blank as missing): the columns the store writes."""
    out = pd.DataFrame({"key": pd.Series(frame["key"].to_numpy(dtype=object), dtype=object)})
    for col, dtype in attrs.items():
        values = frame[col] if col in frame.columns else pd.Series([None] * len(frame), dtype=object)
        out[col] = pd.Series(values.to_numpy(dtype=object), dtype=object).astype(dtype)
    out["pos"] = np.arange(len(out), dtype=np.int64)
    return out


def _entry_rows(keys, entries):
    """:func:`factorize_keys` of a loader's categorical key column, whose
    categories are usually the entries' keys in order: then its codes are
    the entries' rows already (no hashing)."""
    values = keys.array
    if isinstance(values, pd.Categorical) and len(values.categories) == len(entries):
        categories = np.asarray(values.categories, dtype=object)
        codes = values.codes
        if np.array_equal(categories, entries["key"].to_numpy(dtype=object)) and (codes >= 0).all():
            return codes.astype(np.int64), categories
    return factorize_keys(keys)


def entry_codes(entries, codes, keys, what):
    """Codes of ``keys`` from the dictionary ``entries`` and their ``codes``."""
    if len(keys) == len(entries) and np.array_equal(keys, entries["key"].to_numpy(dtype=object)):
        return codes  # the entries' own keys, in their order
    at = pd.Index(entries["key"]).get_indexer(keys)
    if (at < 0).any():  # only a batch wrongly marked ``validated`` gets here
        raise ValidationError(f"batch presences: {what} key missing from the batch's {what}s frame",
                              hint="do not mark batches built outside the loaders as validated")  # fmt: skip
    return codes[at]


def factorize_keys(keys):
    """``pd.factorize`` of a key column (codes in order of first appearance);
    a categorical column is factorized on its integer codes."""
    values = keys.array if isinstance(keys, pd.Series) else keys
    if isinstance(values, pd.Categorical):
        inv, used = pd.factorize(values.codes)
        return inv, np.asarray(values.categories, dtype=object)[used]
    inv, uniq = pd.factorize(values)
    return inv, np.asarray(uniq, dtype=object)
