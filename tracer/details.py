"""Contact details of persons for the officers who follow up leads.

The ranked list names people by key (an ID number, or ``phone:+86…`` when no
valid ID was known); the officer who calls a contact needs the name and the
phone numbers the sources gave. :func:`contact_details` collects them from a
store's person dictionary and alias table, for the given keys only.

These are personal data: the CLI masks them unless ``--show-pii``.

Examples
--------
>>> import os, tempfile
>>> import pandas as pd
>>> from tracer.duck import DuckStore
>>> from tracer.presence import Batch, fingerprint
>>> rows = pd.DataFrame({"person_key": ["p1"], "place_key": ["venue:1"], "start": [0], "end": [60],
...                      "kind": pd.Series([0], dtype="int8")})
>>> for c in ("section", "row", "col"):
...     rows[c] = pd.Series([-1], dtype="int16")
>>> rows["flags"] = pd.Series([0], dtype="uint8")
>>> rows["record"] = fingerprint(rows.person_key, rows.place_key, rows.start, rows.end, rows.section, rows.row, rows.col)
>>> batch = Batch(rows, persons=pd.DataFrame({"key": ["p1"], "name": ["张三"], "district": ["五华区"]}),
...               aliases=pd.DataFrame({"key": ["p1", "p1"], "alias": ["phone:+8613912345678", "phone:+8613812345678"]}))
>>> with DuckStore(os.path.join(tempfile.mkdtemp(), "d.duckdb")) as store:
...     _ = store.append(batch)
...     contact_details(store, ["p1", "p2"]).to_dict("records")
[{'person': 'p1', 'name': '张三', 'phone': '13812345678; 13912345678', 'district': '五华区'}, {'person': 'p2', 'name': None, 'phone': None, 'district': None}]
"""

import numpy as np
import pandas as pd

__all__ = ["DETAIL_COLUMNS", "contact_details"]

#: Columns :func:`contact_details` adds after ``person``.
DETAIL_COLUMNS = ["name", "phone", "district"]

_PHONE_PREFIX = "phone:+86"


def contact_details(store, keys):
    """``person, name, phone, district`` for each of ``keys``, in order.

    ``phone`` lists every mobile number seen for the person (11 digits,
    sorted, ``"; "``-joined); a person keyed by a phone has that number.
    Missing values are None; a store without a person dictionary (a
    DataFrame of presences) gives None everywhere.
    """
    keys = pd.Series(np.asarray(list(keys), dtype=object), dtype=object).astype(str)
    out = pd.DataFrame({"person": keys.to_numpy(dtype=object)})
    for col in DETAIL_COLUMNS:
        out[col] = pd.Series(np.full(len(keys), None, dtype=object), dtype=object)
    if not len(keys) or not hasattr(store, "persons") or not hasattr(store, "aliases"):
        return out
    distinct = sorted(set(keys))
    persons = store.persons(distinct).drop_duplicates("key").set_index("key")
    aliases = store.aliases(distinct)
    own = pd.DataFrame({"key": [k for k in distinct if k.startswith(_PHONE_PREFIX)]})
    own["alias"] = own["key"]
    phones = pd.concat([aliases[["key", "alias"]].astype(object), own], ignore_index=True)
    phones = phones[phones["alias"].astype(str).str.startswith(_PHONE_PREFIX)].drop_duplicates()
    joined = (phones.assign(number=phones["alias"].str.slice(len(_PHONE_PREFIX)))
              .sort_values(["key", "number"]).groupby("key")["number"].agg("; ".join))  # fmt: skip
    for col, source in (("name", persons.get("name")), ("district", persons.get("district")), ("phone", joined)):
        if source is None:
            continue
        got = keys.map(source)
        out[col] = pd.Series(got.to_numpy(dtype=object), dtype=object).where(got.notna().to_numpy(), None)
    return out
