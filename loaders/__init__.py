"""Loaders: raw source files → canonical presences plus rejects.

One module per source kind, sharing the vectorised parsing and validation
helpers in :mod:`loaders.normalize` (ID numbers, phones, plates, flight and
train numbers, seats, timestamps, names).
"""

__all__ = []
