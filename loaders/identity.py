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

__all__ = ["Resolved", "resolve", "phone_pairs_from_aliases"]

PHONE_PREFIX = "phone:+86"


class Resolved(NamedTuple):
    """Per-row ``keys`` (object; None only for rows with no identifier),
    ``ambiguous`` (phone-keyed because the phone has several holders),
    ``conflict`` (first row of a (phone, document) pair whose phone has
    several holders), the ``aliases`` frame ``key, alias`` and ``codes``,
    integer codes of ``keys`` (equal codes ⇔ equal keys; meaningless where
    the key is None)."""

    keys: np.ndarray
    ambiguous: np.ndarray
    conflict: np.ndarray
    aliases: pd.DataFrame
    codes: np.ndarray = None


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


def resolve(rows, known=None):
    """Resolve person keys of identity rows.

    Parameters
    ----------
    rows : DataFrame with ``doc`` (ID or ``passport:…``, None if unusable)
        and ``phone`` (11 digits or None); an optional ``key`` column gives
        keys that are used as they are (canonical input).
    known : DataFrame ``phone, doc`` of holders already in the store.

    Returns
    -------
    Resolved
    """
    n = len(rows)
    (doc, has_doc), (phone, has_phone), (given, has_given) = (_col(rows, c, n) for c in ("doc", "phone", "key"))
    # integer codes (one hash pass per column); the store's known pairs share them
    known_phone, known_doc = _known(known)
    p_code, p_uniq = _codes(phone, known_phone)
    d_code, d_uniq = _codes(doc, known_doc)
    n_doc = max(len(d_uniq), 1)
    both = has_doc & has_phone
    pairs = p_code[:n][both] * n_doc + d_code[:n][both]
    if len(known_phone):
        pairs = np.concatenate([pairs, p_code[n:] * n_doc + d_code[n:]])
    pairs = np.unique(pairs)
    pair_phone, pair_doc = pairs // n_doc, pairs % n_doc
    size = np.bincount(pair_phone, minlength=max(len(p_uniq), 1))
    holder = np.full(max(len(p_uniq), 1), -1, dtype=np.int64)
    holder[pair_phone] = pair_doc  # meaningful where the phone has one holder
    rp = p_code[:n]
    n_holders = np.where(has_phone, size[np.maximum(rp, 0)], 0)
    phone_only = ~has_doc & has_phone
    keys = np.where(has_doc, doc, None)
    resolved = phone_only & (n_holders == 1)
    if resolved.any():
        keys[resolved] = d_uniq[holder[rp[resolved]]]
    by_phone = phone_only & (n_holders != 1)
    if by_phone.any():
        keys[by_phone] = _phone_keys(p_uniq)[rp[by_phone]]
    keys[has_given] = given[has_given]
    ambiguous = phone_only & (n_holders > 1) & ~has_given
    shared = has_doc & (n_holders > 1) & ~has_given
    conflict = np.zeros(n, dtype=bool)
    if shared.any():
        conflict[shared] = ~pd.Series(rp[shared] * n_doc + d_code[:n][shared]).duplicated().to_numpy()
    # key codes of the rows that are not given: documents, then phones
    key_code = np.where(has_doc, d_code[:n], np.where(resolved, holder[np.maximum(rp, 0)], n_doc + rp))
    aliases = _aliases(keys, doc, phone, (has_doc | has_phone) & ~has_given, has_doc, has_phone, key_code,
                       d_code[:n], rp)  # fmt: skip
    if has_given.any():  # canonical keys: codes of the strings themselves
        key_code = pd.factorize(keys)[0].astype(np.int64)
    return Resolved(keys, ambiguous, conflict, aliases, key_code)


def _known(known):
    if known is None or not len(known):
        return np.zeros(0, dtype=object), np.zeros(0, dtype=object)
    return known["phone"].to_numpy(object), known["doc"].to_numpy(object)


def _codes(values, extra):
    """Factorize ``values`` followed by ``extra`` (-1 for missing)."""
    both = np.concatenate([values, extra]) if len(extra) else values
    codes, uniq = pd.factorize(pd.Series(both, dtype=object))
    return codes.astype(np.int64), np.asarray(uniq, dtype=object)


def _phone_keys(uniq_phones):
    return np.asarray(PHONE_PREFIX + pd.Series(uniq_phones, dtype=object).astype(str), dtype=object)


def _col(rows, name, n):
    """(object array with None for missing, mask of present cells)."""
    if name not in rows.columns:
        return np.full(n, None, dtype=object), np.zeros(n, dtype=bool)
    out = np.array(pd.Series(rows[name]).astype(object), dtype=object, copy=True)
    missing = pd.isna(out)
    out[missing] = None
    return out, ~missing


def _aliases(keys, doc, phone, ok, has_doc, has_phone, key_code, doc_code, phone_code):
    """Every document and phone seen, under the row's key (rows ``ok``:
    keyed by a document or phone, not given)."""
    # one row per distinct (key, doc, phone), found on integer codes (cheap)
    combined = np.zeros(len(keys), dtype=np.int64)
    for code in (key_code, doc_code, phone_code):
        code = np.asarray(code, dtype=np.int64) + 1
        combined = pd.factorize(combined * (code.max(initial=0) + 1) + code)[0].astype(np.int64)
    rows = np.flatnonzero(ok)
    first = np.zeros(len(keys), dtype=bool)
    first[rows[np.unique(combined[rows], return_index=True)[1]]] = True
    m_doc, m_phone = np.flatnonzero(first & has_doc), np.flatnonzero(first & has_phone)
    # (key, alias) pairs, documents first, deduplicated on codes; strings for the survivors only
    n_doc = int(np.max(doc_code, initial=-1)) + 2
    k = np.asarray(key_code, dtype=np.int64)
    alias_code = np.concatenate([np.asarray(doc_code)[m_doc], n_doc + np.asarray(phone_code)[m_phone]])
    key_part = np.concatenate([k[m_doc], k[m_phone]])
    pair = pd.factorize(key_part)[0].astype(np.int64) * (int(alias_code.max(initial=0)) + 1) + alias_code
    keep = ~pd.Series(pair).duplicated().to_numpy()
    rows = np.concatenate([m_doc, m_phone])[keep]
    is_doc = (np.arange(len(pair)) < len(m_doc))[keep]
    alias = np.empty(len(rows), dtype=object)
    alias[is_doc] = doc[rows[is_doc]]
    alias[~is_doc] = PHONE_PREFIX + phone[rows[~is_doc]]
    return pd.DataFrame({"key": pd.Series(keys[rows], dtype=object), "alias": pd.Series(alias, dtype=object)})
