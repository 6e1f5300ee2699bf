"""Masking of personal data for output (tables, reports, exports).

Names, ID numbers and phones are stored as given; masking is an output
concern, applied unless the user asks for ``--show-pii``. Every function is
vectorised over a pandas Series, keeps the length of each value (so columns
stay aligned), replaces hidden characters with ``*`` and passes missing
values through.

========================  ==============================  =====================
what                      rule                            example
========================  ==============================  =====================
name, 1 character         ``*``                           ``*``
name, 2 characters        first + ``*``                   ``张*``
name, n >= 3              first + ``*`` * (n-2) + last    ``欧**明``
18-character ID           first 6 + 8 ``*`` + last 4      ``530102********123X``
15-digit ID               first 6 + 6 ``*`` + last 3
11-digit phone            first 3 + ``****`` + last 4     ``138****5678``
anything else             first 1 + ``*`` + last 2, or    ``E******78``
                          all ``*`` when shorter than 7
========================  ==============================  =====================

:func:`mask_key` masks person keys by their form and keeps the prefix:
``phone:+86138****5678``, ``passport:E******78``, ``530102********123X``.

:func:`mask_place` masks the place keys that point at a person: a vehicle's
licence plate (``vehicle:京A****5``: province and city letter and the last
character kept) and a household's address code (``home:110105******``: the
six-digit district prefix kept). Venues, flights, trains, buses and grid
cells are public places and shown as they are.
"""

import re

import numpy as np
import pandas as pd

__all__ = ["mask_name", "mask_id", "mask_phone", "mask_key", "mask_place", "mask_text", "mask_message"]

_PHONE_PREFIX = "phone:+86"
#: Key prefixes the loaders give (kept visible by :func:`mask_key`).
_KEY_PREFIXES = r"^(?:phone|passport):"


def _text(values):
    s = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    return s.astype("str")


def _stars(counts):
    """Series of '*' runs of the given lengths (NA stays NA)."""
    counts = np.asarray(counts, dtype=np.int64)
    table = np.array(["*" * k for k in range(int(counts.max(initial=0)) + 1)], dtype=object)
    return table[np.clip(counts, 0, None)]


def _keep_ends(s, head, tail):
    """Keep ``head`` first and ``tail`` last characters, star the rest."""
    n = s.str.len().fillna(0).astype(np.int64).to_numpy()
    middle = _stars(n - head - tail)
    tail_part = s.str.slice(-tail) if tail else ""
    out = s.str.slice(0, head) + pd.Series(middle, index=s.index) + tail_part
    return out.where(s.notna())


def mask_text(values, head=1, tail=2, min_hidden=4):
    """Generic mask: keep ``head`` + ``tail`` characters when at least
    ``min_hidden`` remain hidden, else hide everything.

    >>> import pandas as pd
    >>> mask_text(pd.Series(["E12345678", "abc"])).tolist()
    ['E******78', '***']
    """
    s = _text(values)
    n = s.str.len().fillna(0).astype(np.int64).to_numpy()
    kept = _keep_ends(s, head, tail)
    hidden = pd.Series(_stars(n), index=s.index).where(s.notna())
    return kept.where(n >= head + tail + min_hidden, hidden)


def mask_name(values):
    """Mask names: ``张三`` → ``张*``, ``欧阳小明`` → ``欧**明``.

    >>> import pandas as pd
    >>> mask_name(pd.Series(["张三", "欧阳小明", "李", None])).tolist()
    ['张*', '欧**明', '*', nan]
    """
    s = _text(values)
    n = s.str.len().fillna(0).astype(np.int64).to_numpy()
    stars = pd.Series(_stars(np.maximum(n - 1, 1)), index=s.index)
    two = s.str.slice(0, 1) + stars
    out = _keep_ends(s, 1, 1).where(n >= 3, two.where(n == 2, stars))
    return out.where(s.notna())


def mask_id(values):
    """Mask ID numbers: 18 characters → ``530102********123X``.

    >>> import pandas as pd
    >>> mask_id(pd.Series(["53010219800101123X"])).tolist()
    ['530102********123X']
    """
    s = _text(values)
    n = s.str.len().to_numpy()
    out = mask_text(s)
    out = _keep_ends(s, 6, 3).where(n == 15, out)
    return _keep_ends(s, 6, 4).where(n == 18, out)


def mask_phone(values):
    """Mask phone numbers: 11 digits → ``138****5678``.

    >>> import pandas as pd
    >>> mask_phone(pd.Series(["13812345678"])).tolist()
    ['138****5678']
    """
    s = _text(values)
    return _keep_ends(s, 3, 4).where(s.str.len().to_numpy() == 11, mask_text(s))


def mask_key(values):
    """Mask person keys by form, keeping a ``phone:+86`` / ``passport:`` prefix.

    >>> import pandas as pd
    >>> mask_key(pd.Series(["phone:+8613812345678", "passport:E12345678",
    ...                     "53010219800101123X"])).tolist()
    ['phone:+86138****5678', 'passport:E******78', '530102********123X']
    """
    return _per_distinct(_mask_key, _text(values))


#: Columns at least this long are masked once per distinct value.
_DISTINCT_MIN = 1024


def _per_distinct(fn, s):
    """``fn(s)`` computed once per distinct value of the str Series ``s``
    (a contact list repeats its few cases, an event list its places)."""
    if len(s) < _DISTINCT_MIN:
        return fn(s)
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    if 2 * len(uniq) > len(s):
        return fn(s)
    masked = fn(pd.Series(uniq, dtype=s.dtype))
    return pd.Series(masked.array.take(codes, allow_fill=True), index=s.index)


def _mask_key(s):
    """:func:`mask_key` of a str Series: 18-character ID numbers (most keys)
    by three Arrow kernels, the other forms by :func:`_mask_key_forms`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    plain = ((s.str.len().to_numpy(dtype=np.float64, na_value=0) == 18)
             & ~s.str.contains(":", regex=False).fillna(True).to_numpy(dtype=bool))  # fmt: skip
    if not plain.any():
        return _mask_key_forms(s)
    ids = _arrow_text(s[plain])
    masked = pc.binary_join_element_wise(pc.utf8_slice_codeunits(ids, 0, 6), pc.utf8_slice_codeunits(ids, 14, 18),
                                         pa.scalar("*" * 8, ids.type))  # fmt: skip
    if plain.all():
        return _text_series(masked, s)
    out = _mask_key_forms(s.where(~plain))
    out[plain] = masked.to_numpy(zero_copy_only=False)
    return out.where(s.notna())


def _arrow_text(s):
    """A str Series as an Arrow string array (no copy when Arrow-backed)."""
    import pyarrow as pa

    try:
        return pa.array(s.array)
    except (TypeError, ValueError, pa.ArrowException):
        return pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


def _text_series(arrow, like):
    """An Arrow string array as a Series with the dtype and index of ``like``."""
    try:
        return pd.Series(pd.array(arrow, dtype=like.dtype), index=like.index)
    except (TypeError, ValueError):
        return pd.Series(arrow.to_numpy(zero_copy_only=False), index=like.index, dtype=like.dtype)


def _mask_key_forms(s):
    """:func:`mask_key` by form, every form computed for every row."""
    out = mask_id(s)
    has_prefix = s.str.contains(":", regex=False).fillna(False).to_numpy(dtype=bool)
    known = s.str.match(_KEY_PREFIXES).fillna(False).to_numpy(dtype=bool)
    prefix = s.str.extract(r"^([^:]*:)", expand=False)
    rest = s.str.replace(r"^[^:]*:", "", regex=True)
    out = mask_text(s).where(has_prefix, out)  # an unknown prefix may itself be personal: all of it masked
    out = (prefix + mask_text(rest)).where(has_prefix & known, out)
    is_phone = s.str.startswith(_PHONE_PREFIX).fillna(False).to_numpy(dtype=bool)
    phones = _PHONE_PREFIX + mask_phone(s.str.slice(len(_PHONE_PREFIX)))
    out = phones.where(is_phone, out)
    return out.where(s.notna())


#: Place-key prefixes that identify a person, with (head, tail) kept after the prefix.
_PERSONAL_PLACES = {"vehicle:": (2, 1), "home:": (6, 0)}


def mask_place(values):
    """Mask the place keys that identify a person (plates, home addresses).

    >>> import pandas as pd
    >>> mask_place(pd.Series(["vehicle:京A12345", "vehicle:粤BD12345", "home:110105000123",
    ...                       "home:A1", "venue:V0001", None])).tolist()
    ['vehicle:京A****5', 'vehicle:粤B*****5', 'home:110105******', 'home:**', 'venue:V0001', nan]
    """
    return _per_distinct(_mask_place, _text(values))


def _mask_place(s):
    out = s.copy()
    for prefix, (head, tail) in _PERSONAL_PLACES.items():
        hit = s.str.startswith(prefix).fillna(False).to_numpy(dtype=bool)
        if hit.any():
            rest = s[hit].str.slice(len(prefix))
            out[hit] = prefix + mask_text(rest, head=head, tail=tail, min_hidden=2)
    return out.where(s.notna())


_MESSAGE_PATTERNS = (
    (re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])"), r"\1********\2"),
    (re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{6}(\d{3})(?![0-9A-Za-z])"), r"\1******\2"),
    (re.compile(r"(?:(?<=\+86)|(?<=\+86 )|(?<!\d))(1[3-9]\d)\d{4}(\d{4})(?!\d)"), r"\1****\2"),
    (re.compile(r"(passport:[A-Za-z0-9])[A-Za-z0-9]+([A-Za-z0-9]{2})"), r"\1******\2"),
)


def mask_message(text):
    """Mask ID numbers, phones and passports inside free text (error
    messages, log lines) by pattern.

    >>> mask_message("53010219800101123X and phone:+8613812345678 not found")
    '530102********123X and phone:+86138****5678 not found'
    """
    for pattern, repl in _MESSAGE_PATTERNS:
        text = pattern.sub(repl, text)
    return text
