"""Numba kernel of :func:`tracer.presence.fingerprint_coded` (imported on
first use, so that importing :mod:`tracer.presence` stays free of numba).

The fingerprint of a presence is ``h = hash(person key)``, then
``h = h * 1000003 ^ part`` for the place key's hash and, in this order,
``start, end, section, row, col``, each mixed as
:func:`pandas.util.hash_array` mixes a 64-bit integer (the splitmix64
finaliser). The kernel does this in one pass per row, with the same result
bit for bit as the column-at-a-time numpy version it replaces.

Examples
--------
>>> import numpy as np
>>> from pandas.util import hash_array
>>> int(mix(np.uint64(7))) == int(hash_array(np.array([7], dtype=np.uint64))[0])
True
"""

import numpy as np
from numba import njit

from .jit import JIT

__all__ = ["mix", "combine_fingerprints"]

_PRIME = np.uint64(1_000_003)


@njit(**JIT)
def mix(x):
    """:func:`pandas.util.hash_array` of one uint64 value."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@njit(**JIT)
def combine_fingerprints(person_hash, person_codes, place_hash, place_codes, start, end, section, row, col):
    """uint64 fingerprints: ``person_hash[person_codes]`` and
    ``place_hash[place_codes]`` (hashes of the distinct keys) combined with
    the mixed integers of each row (negative ones as their two's complement)."""
    out = np.empty(len(start), dtype=np.uint64)
    for i in range(len(start)):
        h = person_hash[person_codes[i]]
        h = (h * _PRIME) ^ place_hash[place_codes[i]]
        h = (h * _PRIME) ^ mix(np.uint64(np.int64(start[i])))
        h = (h * _PRIME) ^ mix(np.uint64(np.int64(end[i])))
        h = (h * _PRIME) ^ mix(np.uint64(np.int64(section[i])))
        h = (h * _PRIME) ^ mix(np.uint64(np.int64(row[i])))
        h = (h * _PRIME) ^ mix(np.uint64(np.int64(col[i])))
        out[i] = h
    return out
