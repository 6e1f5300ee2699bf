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
    several holders) and the ``aliases`` frame ``key, alias``."""

    keys: np.ndarray
    ambiguous: np.ndarray
    conflict: np.ndarray
    aliases: pd.DataFrame


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
    doc = _col(rows, "doc", n)
    phone = _col(rows, "phone", n)
    given = _col(rows, "key", n)
    has_doc, has_phone = ~pd.isna(doc), ~pd.isna(phone)
    both = has_doc & has_phone
    pairs = pd.DataFrame({"phone": pd.Series(phone[both], dtype=object), "doc": pd.Series(doc[both], dtype=object)})
    if known is not None and len(known):
        pairs = pd.concat([pairs, known[["phone", "doc"]].astype(object)], ignore_index=True)
    pairs = pairs.drop_duplicates()
    holders = pairs.groupby("phone", sort=False)["doc"].agg(["first", "size"])
    phone_s = pd.Series(phone, dtype=object)
    n_holders = phone_s.map(holders["size"]).fillna(0).to_numpy(np.int64)
    the_holder = phone_s.map(holders["first"]).to_numpy(object)
    phone_only = ~has_doc & has_phone
    keys = np.where(has_doc, doc, None)
    resolved = phone_only & (n_holders == 1)
    keys[resolved] = the_holder[resolved]
    by_phone = phone_only & (n_holders != 1)
    keys[by_phone] = PHONE_PREFIX + phone_s[by_phone].astype(str).to_numpy(object)
    has_given = ~pd.isna(given)
    keys[has_given] = given[has_given]
    ambiguous = phone_only & (n_holders > 1) & ~has_given
    shared = has_doc & (n_holders > 1) & ~has_given
    conflict = np.zeros(n, dtype=bool)
    if shared.any():
        sub = pd.DataFrame({"p": pd.Series(phone[shared], dtype=object), "d": pd.Series(doc[shared], dtype=object)})
        conflict[shared] = ~sub.duplicated().to_numpy()
    return Resolved(keys, ambiguous, conflict, _aliases(keys, doc, phone, has_given))


def _col(rows, name, n):
    if name not in rows.columns:
        return np.full(n, None, dtype=object)
    out = np.array(pd.Series(rows[name]).astype(object), dtype=object, copy=True)
    out[pd.isna(out)] = None
    return out


def _aliases(keys, doc, phone, has_given):
    """Every document and phone seen, under the row's key."""
    ok = ~pd.isna(keys) & ~has_given
    # one row per distinct (key, doc, phone), found on integer codes (cheap)
    combined = np.zeros(len(keys), dtype=np.int64)
    for values in (keys, doc, phone):
        code = pd.factorize(pd.Series(values, dtype=object))[0].astype(np.int64) + 1
        combined = pd.factorize(combined * (code.max(initial=0) + 1) + code)[0].astype(np.int64)
    rows = np.flatnonzero(ok)
    first = np.zeros(len(keys), dtype=bool)
    first[rows[np.unique(combined[rows], return_index=True)[1]]] = True
    m_doc, m_phone = first & ~pd.isna(doc), first & ~pd.isna(phone)
    frame = pd.DataFrame({
        "key": pd.Series(np.concatenate([keys[m_doc], keys[m_phone]]), dtype=object),
        "alias": pd.Series(np.concatenate([doc[m_doc], PHONE_PREFIX + phone[m_phone]]), dtype=object),
    })  # fmt: skip
    return frame.drop_duplicates().reset_index(drop=True)
