"""Columns as integer codes into their distinct values.

A column of a million cells usually holds a few thousand distinct values
(IDs, phones, names, place keys, error codes). The loaders carry such a
column as a pandas ``Categorical`` (int codes + the distinct values once),
so that missing-value checks, hashing and joins run on integers and the
string work runs once per distinct value.

Examples
--------
>>> import numpy as np
>>> s = coded_series(np.array([0, 1, 0, -1]), np.array(["a", "b"], object))
>>> category_codes(s)[0].tolist()
[0, 1, 0, -1]
"""

import numpy as np
import pandas as pd

from tracer.jit import jit_pays

__all__ = ["coded_series", "categorical", "category_codes", "renumber", "renumber_numpy", "first_seen"]


def coded_series(codes, values, index=None, name=None):
    """Categorical Series of ``values[codes]`` (``values``: object array that
    may repeat values and hold None/NaN; ``codes`` -1 means missing).

    >>> coded_series(np.array([0, 1, 2, -1]), np.array(["a", None, "a"], object)).tolist()
    ['a', nan, 'a', nan]
    """
    codes = np.asarray(codes, dtype=np.int64)
    inner, uniq = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    inner = np.append(inner, -1)  # codes of -1 pick the appended "missing"
    return pd.Series(categorical(inner[codes], uniq), index=index, name=name)


def categorical(codes, distinct):
    """``pd.Categorical`` from codes and *distinct* values (object dtype),
    without re-checking that they are distinct (they come from a factorize).

    >>> categorical(np.array([1, -1]), np.array(["a", "b"], object)).tolist()
    ['b', nan]
    """
    categories = pd.Index(np.asarray(distinct, dtype=object), dtype=object)
    try:
        dtype = pd.CategoricalDtype._from_fastpath(categories, False)
    except AttributeError:  # pandas without the fast path: validated
        dtype = pd.CategoricalDtype(categories)
    return pd.Categorical.from_codes(np.asarray(codes), dtype=dtype, validate=False)


def category_codes(values):
    """(int64 codes with -1 for missing, object array of distinct values) of
    a Series/array; categorical input is read on its codes (no hashing).

    >>> c, u = category_codes(pd.Series(["b", None, "b"], dtype=object))
    >>> c.tolist(), u.tolist()
    ([0, -1, 0], ['b'])
    """
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.Categorical):
        return values.codes.astype(np.int64), np.asarray(values.categories, dtype=object)
    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(uniq, dtype=object)


def renumber(values, upper):
    """(codes in order of first appearance, how many) of non-negative ints
    below ``upper``: a lookup table when ``upper`` is small, else a hash."""
    if upper > 4 * len(values) + 1024:
        codes, uniq = pd.factorize(values)
        return codes.astype(np.int64), len(uniq)
    if not jit_pays(len(values)):
        return renumber_numpy(values, upper)
    from .kernels import first_appearance  # numba, imported on first use

    codes, n = first_appearance(np.asarray(values, dtype=np.int64), int(upper))
    return codes, int(n)


def renumber_numpy(values, upper):
    """:func:`renumber` by a lookup table in numpy (the kernel's twin)."""
    first = np.full(upper, len(values), dtype=np.int64)
    first[values[::-1]] = np.arange(len(values) - 1, -1, -1)
    seen = np.flatnonzero(first < len(values))
    table = np.empty(upper, dtype=np.int64)
    table[seen[np.argsort(first[seen], kind="stable")]] = np.arange(len(seen))
    return table[values], len(seen)


def first_seen(codes):
    """(codes renumbered in order of first appearance, first row of each
    distinct code) of integer codes >= -1: ``pd.factorize(codes)[0]``
    without hashing (a lookup table; -1 counts as a value like any other).

    >>> inv, first = first_seen(np.array([5, -1, 5, 2]))
    >>> inv.tolist(), first.tolist()
    ([0, 1, 0, 2], [0, 1, 3])
    """
    codes = np.asarray(codes, dtype=np.int64)
    inv, n = renumber(codes + 1, int(codes.max(initial=-1)) + 2)
    first = np.empty(n, dtype=np.int64)
    first[inv[::-1]] = np.arange(len(inv) - 1, -1, -1)
    return inv, first
