"""Identity resolution across all rows of a load (vectorised).

Rules (issue 3, item 3):

* A valid ID number is the person key; a valid passport (``passport:…``)
  likewise (a travel document identifies a person better than a phone).
* A row with no usable document but a valid mobile number gets the key of
  the one document holder known for that phone (in this load, or in the
  store's alias table); when no holder is known it is keyed
  ``phone:+86…``; when several are known (families share phones) it stays
  under the phone key with a ``shared-phone`` warning: never guessed.
* Two different documents are never merged; each pair (phone, document)
  of such a conflict is reported once per load as a ``shared-phone``
  warning.
* Every identifier seen for a person becomes an alias (document, phone).
* Presences already stored under ``phone:+86…`` move to the document
  holder when a later load shows that phone with one document
  (``phone-merged``, once per phone; the store's ``append(...,
  merge_persons=...)``, e.g. :mod:`tracer.duck_merge`); a store without
  that ability keeps them and the load warns ``phone-key-split`` instead
  (``loaders.api``).

Examples
--------
>>> import pandas as pd
>>> rows = pd.DataFrame({"doc": ["11010519491231002X", None, None],
...                      "phone": ["13812345678", "13812345678", "13912345678"]})
>>> resolve(rows).keys.tolist()
['11010519491231002X', '11010519491231002X', 'phone:+8613912345678']
"""

from typing import NamedTuple

import numpy as np
import pandas as pd

from .coded import category_codes, renumber

__all__ = ["Resolved", "resolve", "phone_pairs_from_aliases"]

PHONE_PREFIX = "phone:+86"


class Resolved(NamedTuple):
    """Per-row ``keys`` (object; None only for rows with no identifier;
    ``keys`` itself is None when :func:`resolve` was called ``with_keys=False``),
    ``ambiguous`` (phone-keyed because the phone has several holders),
    ``conflict`` (first row of a (phone, document) pair whose phone has
    several holders), the ``aliases`` frame ``key, alias`` and ``codes``,
    integer codes of ``keys`` (equal codes ⇔ equal keys; -1 where the key
    is None) into ``uniques`` (object array: ``keys == uniques[codes]``)."""

    keys: np.ndarray
    ambiguous: np.ndarray
    conflict: np.ndarray
    aliases: pd.DataFrame
    codes: np.ndarray = None
    uniques: np.ndarray = None


def phone_pairs_from_aliases(aliases):
    """``phone, doc`` pairs from a store alias table (``key, alias``):
    document-keyed persons with a ``phone:+86…`` alias.

    >>> a = pd.DataFrame({"key": ["11010519491231002X", "phone:+8613812345678"],
    ...                   "alias": ["phone:+8613812345678", "phone:+8613812345678"]})
    >>> phone_pairs_from_aliases(a).values.tolist()
    [['13812345678', '11010519491231002X']]
    """
    if aliases is None or not len(aliases):
        return pd.DataFrame({"phone": pd.Series([], dtype=object), "doc": pd.Series([], dtype=object)})
    key = pd.Series(aliases["key"], dtype=object).astype(str).reset_index(drop=True)
    alias = pd.Series(aliases["alias"], dtype=object).astype(str).reset_index(drop=True)
    keep = alias.str.startswith(PHONE_PREFIX) & ~key.str.startswith("phone:")
    out = pd.DataFrame({"phone": alias[keep].str.slice(len(PHONE_PREFIX)), "doc": key[keep]})
    return out.astype(object).reset_index(drop=True)


def resolve(rows, known=None, with_keys=True):
    """Resolve person keys of identity rows.

    Parameters
    ----------
    rows : DataFrame with ``doc`` (ID or ``passport:…``, None if unusable)
        and ``phone`` (11 digits or None); an optional ``key`` column gives
        keys that are used as they are (canonical input). Columns may be
        categorical (then only their integer codes are read).
    known : DataFrame ``phone, doc`` of holders already in the store.
    with_keys : bool, default True; False leaves ``keys`` None (callers
        that read ``codes`` and ``uniques`` spare a per-row object array).

    Returns
    -------
    Resolved
    """
    n = len(rows)
    (d_row, d_uniq), (p_row, p_uniq), (g_row, g_uniq) = (_coded(rows, c, n) for c in ("doc", "phone", "key"))
    # a row's outcome depends only on its (document, phone, key) codes:
    # resolve each distinct combination once, at its first row
    combo = _combine(d_row + 1, p_row + 1, g_row + 1)
    combo, n_combos = renumber(combo, int(combo.max(initial=0)) + 1)
    first = np.empty(n_combos, dtype=np.int64)
    first[combo[::-1]] = np.arange(n - 1, -1, -1)
    key_code, ambiguous, conflict, aliases, uniques = _resolve_distinct(
        d_row[first], p_row[first], g_row[first], d_uniq, p_uniq, g_uniq, known)
    key_code, ambiguous = key_code[combo], ambiguous[combo]
    conflict_rows = np.zeros(n, dtype=bool)
    conflict_rows[first[conflict]] = True  # the first row of each conflicting pair
    keys = np.append(uniques, None).astype(object)[key_code] if with_keys else None
    return Resolved(keys, ambiguous, conflict_rows, aliases, key_code.astype(np.int64), uniques)


def _resolve_distinct(d_row, p_row, g_row, d_uniq, p_uniq, g_uniq, known):
    """:func:`resolve` of rows with distinct (document, phone, key) codes,
    in order of first appearance: (key codes, ambiguous, conflict, aliases,
    distinct keys)."""
    n = len(d_row)
    has_doc, has_phone, has_given = d_row >= 0, p_row >= 0, g_row >= 0
    # the store's known pairs share the rows' integer codes
    known_phone, known_doc = _known(known)
    p_extra, p_uniq = _extend(p_uniq, known_phone)
    d_extra, d_uniq = _extend(d_uniq, known_doc)
    n_doc = max(len(d_uniq), 1)
    both = has_doc & has_phone
    pairs = pd.unique(np.concatenate([p_row[both] * n_doc + d_row[both], p_extra * n_doc + d_extra]))
    pair_phone, pair_doc = pairs // n_doc, pairs % n_doc
    size = np.bincount(pair_phone, minlength=max(len(p_uniq), 1))
    holder = np.full(max(len(p_uniq), 1), -1, dtype=np.int64)
    holder[pair_phone] = pair_doc  # meaningful where the phone has one holder
    n_holders = np.where(has_phone, size[np.maximum(p_row, 0)], 0)
    phone_only = ~has_doc & has_phone
    resolved = phone_only & (n_holders == 1)
    # key codes: documents, then phone keys (then given keys)
    key_code = np.where(has_doc, d_row, np.where(resolved, holder[np.maximum(p_row, 0)], n_doc + p_row))
    key_code = np.where(has_doc | has_phone, key_code, -1)
    phone_keys = _phone_keys(p_uniq)
    uniques = np.concatenate([d_uniq, np.full(n_doc - len(d_uniq), None, object), phone_keys])
    ambiguous = phone_only & (n_holders > 1) & ~has_given
    shared = has_doc & (n_holders > 1) & ~has_given
    conflict = np.zeros(n, dtype=bool)
    if shared.any():
        conflict[shared] = ~pd.Series(p_row[shared] * n_doc + d_row[shared]).duplicated().to_numpy()
    aliases = _aliases(uniques, d_uniq, phone_keys, (has_doc | has_phone) & ~has_given, has_doc, has_phone, key_code,
                       d_row, p_row)  # fmt: skip
    if has_given.any():  # canonical keys: codes of the strings themselves
        key_code = np.where(has_given, len(uniques) + g_row, key_code)
        uniques = np.concatenate([uniques, g_uniq])
        inner, uniques = pd.factorize(pd.Series(uniques, dtype=object), use_na_sentinel=True)
        key_code = np.where(key_code >= 0, np.append(inner, -1)[key_code], -1)
        uniques = np.asarray(uniques, dtype=object)
    return key_code, ambiguous, conflict, aliases, uniques


def _known(known):
    if known is None or not len(known):
        return np.zeros(0, dtype=object), np.zeros(0, dtype=object)
    return known["phone"].to_numpy(object), known["doc"].to_numpy(object)


def _coded(rows, name, n):
    """(int64 codes, -1 for missing; object array of distinct values)."""
    if name not in rows.columns:
        return np.full(n, -1, dtype=np.int64), np.zeros(0, dtype=object)
    return category_codes(rows[name])


def _extend(uniq, extra):
    """Codes of ``extra`` values among ``uniq``, appending the new ones."""
    if not len(extra):
        return np.zeros(0, dtype=np.int64), uniq
    both = np.concatenate([uniq, np.asarray(extra, dtype=object)])
    codes, both = pd.factorize(pd.Series(both, dtype=object))
    return codes[len(uniq):].astype(np.int64), np.asarray(both, dtype=object)


def _phone_keys(uniq_phones):
    return np.asarray(PHONE_PREFIX + pd.Series(uniq_phones, dtype=object).astype(str), dtype=object)


def _combine(*codes):
    """One int64 per row that is equal exactly where all non-negative
    ``codes`` are (mixed radix; re-numbered when it would overflow).
    Columns that are all zero add nothing and are skipped; the others are
    folded in place into one new array (large temporaries are slow to
    touch for the first time)."""
    out = None
    for code in codes:
        radix = int(code.max(initial=0)) + 1
        if radix == 1:
            continue
        if out is None:
            out = np.array(code, dtype=np.int64)
            continue
        if (int(out.max(initial=0)) + 1) * radix >= 1 << 62:
            out = pd.factorize(out)[0].astype(np.int64)
        out *= radix
        out += code
    return np.zeros(len(codes[0]), dtype=np.int64) if out is None else out


def _aliases(uniques, d_uniq, phone_keys, ok, has_doc, has_phone, key_code, doc_code, phone_code):
    """Every document and phone seen, under the row's key (rows ``ok``:
    keyed by a document or phone, not given)."""
    rows = np.flatnonzero(ok)
    # one row per distinct (key, doc, phone), found on integer codes (cheap)
    triple = _combine(*(np.asarray(c, dtype=np.int64)[rows] + 1 for c in (key_code, doc_code, phone_code)))
    rows = rows[~pd.Series(triple).duplicated().to_numpy()]
    m_doc, m_phone = rows[has_doc[rows]], rows[has_phone[rows]]
    # (key, alias) pairs, documents first, deduplicated on codes; strings for the survivors only
    n_doc = len(d_uniq) + 1
    alias_code = np.concatenate([doc_code[m_doc], n_doc + phone_code[m_phone]])
    key_part = np.concatenate([key_code[m_doc], key_code[m_phone]])
    pair = _combine(key_part, alias_code)
    keep = ~pd.Series(pair).duplicated().to_numpy()
    rows = np.concatenate([m_doc, m_phone])[keep]
    is_doc = (np.arange(len(pair)) < len(m_doc))[keep]
    alias = np.empty(len(rows), dtype=object)
    alias[is_doc] = d_uniq[doc_code[rows[is_doc]]]
    alias[~is_doc] = phone_keys[phone_code[rows[~is_doc]]]
    return pd.DataFrame({"key": pd.Series(uniques[key_code[rows]], dtype=object),
                         "alias": pd.Series(alias, dtype=object)})  # fmt: skip
