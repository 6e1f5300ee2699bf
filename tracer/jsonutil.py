"""JSON for run parameters: numpy scalars, arrays, times and sets as JSON.

Both run stores (the DuckDB file and Neo4j) serialise a run's ``params``
with :func:`json_default`; they differ only in what happens to a value it
does not know (the embedded store refuses it, Neo4j stores its text).

Examples
--------
>>> import json
>>> import numpy as np
>>> json.dumps({"hops": np.int64(2), "kinds": {"bus"}}, default=json_default)
'{"hops": 2, "kinds": ["bus"]}'
"""

from datetime import datetime

import numpy as np
import pandas as pd

__all__ = ["json_default"]


def json_default(value, fallback=str):
    """A JSON-able stand-in for ``value``, for ``json.dumps(default=...)``.

    Parameters
    ----------
    value : a value :mod:`json` cannot encode.
    fallback : callable(value), used for any other type: its result is
        encoded (``str`` by default), or it raises.

    Returns
    -------
    numpy scalars as Python scalars, arrays as lists, timestamps as ISO 8601
    text, sets and tuples as lists, anything else as ``fallback(value)``.

    Examples
    --------
    >>> import pandas as pd
    >>> json_default(pd.Timestamp("2020-02-01 10:00")), json_default(object, fallback=repr)
    ('2020-02-01T10:00:00', "<class 'object'>")
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return fallback(value)
