"""Loaders: raw source files → canonical presences plus rejects.

One parser per source kind (:mod:`loaders.sources`), sharing the vectorised
parsing and validation helpers in :mod:`loaders.normalize` (ID numbers,
phones, plates, flight and train numbers, seats, timestamps, names), the
header templates (:mod:`loaders.templates`), identity resolution
(:mod:`loaders.identity`) and venue dwell estimation (:mod:`loaders.dwell`).
The entry point is :func:`load_files`; importing this package is cheap
(pandas and friends load on first use of :func:`load_files`).

Examples
--------
>>> import loaders
>>> "venues" in loaders.KINDS
True
"""

import importlib

from .templates import KINDS, describe_template, template_table

__all__ = ["KINDS", "load_files", "LoadReport", "describe_template", "template_table"]

_LAZY = {"load_files": "api", "LoadReport": "accounting"}


def __getattr__(name):
    # PEP 562: keep `import loaders` free of pandas/pyarrow until needed.
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
