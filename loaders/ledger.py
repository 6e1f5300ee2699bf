"""Per-row bookkeeping of one raw file: rejects and warnings.

A :class:`Ledger` holds, for every input row of one file, whether it is
still alive and, if not, the first reason it was rejected (field, stable
code, message). Warnings (repaired values, degraded identity) are collected
the same way. Only at the end are the raw cells turned into JSON, for the
rows that need it, so that bookkeeping stays vectorised.

Examples
--------
>>> import numpy as np, pandas as pd
>>> frame = pd.DataFrame({"line": [2, 3], "a": ["x", None]})
>>> led = Ledger("f.csv", frame)
>>> led.reject(frame["a"].isna().to_numpy(), "a", "missing-value", "a is empty")
>>> led.rejects()[["line", "code"]].values.tolist()
[[3, 'missing-value']]
"""

import os

import numpy as np
import pandas as pd

from .io import REJECT_COLUMNS, raw_records

__all__ = ["Ledger", "MESSAGES", "message_for", "empty_rejects", "code_masks"]

#: Messages of the stable codes (``{field}`` is filled in).
MESSAGES = {
    "missing-value": "{field} is empty",
    "bad-id-format": "{field} is not an 18-digit ID number or a passport number",
    "bad-id-checksum": "{field} fails the ID check digit",
    "bad-id-birthdate": "{field} holds an impossible birth date",
    "bad-phone": "{field} is not an 11-digit mobile number",
    "bad-plate": "{field} is not a licence plate",
    "bad-flight-no": "{field} is not a flight number",
    "bad-train-no": "{field} is not a train number",
    "bad-seat": "{field} is not a seat; seat left unknown",
    "bad-timestamp": "{field} is not a recognised date or time",
    "end-before-start": "{field} is before the start",
    "unknown-place": "{field} is empty: the place is unknown",
    "unknown-kind": "{field} is not a presence kind",
    "no-identity": "no valid ID number, passport or mobile number",
    "place-kind-conflict": "{field} already has another kind",
    "fullwidth-normalised": "{field}: full-width characters folded",
    "id-lowercase-x": "{field}: lower-case x check digit",
    "id-upgraded-15-to-18": "{field}: 15-digit ID upgraded to 18 digits",
    "id-type-mismatch": "{field}: declared a passport but is a valid ID number",
    "phone-country-code-stripped": "{field}: country code removed",
    "icao-mapped-to-iata": "{field}: ICAO carrier code mapped to IATA",
    "train-no-split": "{field}: through train; first number kept",
    "carriage-mismatch": "{field}: carriage in the seat differs from the carriage column",
    "seat-standing": "{field}: standing ticket, no seat",
    "time-rolled-over-midnight": "{field}: arrival after midnight, moved to the next day",
    "shared-phone": "{field}: mobile number shared by several ID holders; not merged",
    "phone-key-split": "{field}: an earlier load stored presences under this mobile number alone, before its ID "
                       "was known; they stay under the phone key (not merged): trace that key too",
    "phone-merged": "{field}: an earlier load stored presences under this mobile number alone, before its ID "
                    "was known; they now belong to this row's ID holder",
    "bad-exit-time": "{field} is not a time; end estimated",
}


def message_for(code, field):
    """The message of ``code`` about ``field``.

    >>> message_for("bad-phone", "phone")
    'phone is not an 11-digit mobile number'
    """
    return MESSAGES.get(code, "{field}: " + code).format(field=field)


def empty_rejects():
    """An empty frame with :data:`loaders.io.REJECT_COLUMNS`."""
    return pd.DataFrame({c: pd.Series([], dtype=np.int64 if c == "line" else object) for c in REJECT_COLUMNS})


class Ledger:
    """Reject and warning bookkeeping for the rows of one file.

    Parameters
    ----------
    path : the file (kept in every reject row).
    frame : the raw table as read (with its ``line`` column); its other
        columns, under their original headers, become the ``raw`` JSON.
    """

    def __init__(self, path, frame):
        self.path = os.fspath(path)
        self.frame = frame
        n = len(frame)
        self.alive = np.ones(n, dtype=bool)
        self.code = np.full(n, None, dtype=object)
        self.field = np.full(n, None, dtype=object)
        self.message = np.full(n, None, dtype=object)
        self._warnings = []  # (positions, field, code, message)

    def __len__(self):
        return len(self.alive)

    def reject(self, mask, field, code, message=None):
        """Reject the alive rows selected by ``mask`` (first reason wins).

        ``message`` may be a string or an array aligned with the rows."""
        mask = np.asarray(mask, dtype=bool) & self.alive
        if not mask.any():
            return
        self.alive[mask] = False
        self.code[mask], self.field[mask] = code, field
        if message is None or isinstance(message, str):
            self.message[mask] = message or message_for(code, field)
        else:
            self.message[mask] = np.asarray(message, dtype=object)[mask]

    def reject_codes(self, errors, field, mask=None):
        """Reject rows where the per-cell ``errors`` (codes or None) is set.

        ``errors`` may be an object array or a (categorical) Series; a
        categorical one is read on its integer codes (no per-row strings)."""
        for code, where in code_masks(errors, mask):
            self.reject(where, field, code)

    def warn(self, mask, field, code, message=None):
        """Record a warning on the rows selected by ``mask``."""
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self._warnings.append((np.flatnonzero(mask), field, code, message or message_for(code, field)))

    def warn_codes(self, warnings, field, mask=None):
        """Record per-cell warning codes (``a;b`` joined codes are split)."""
        for joined, where in code_masks(warnings, mask):
            for code in str(joined).split(";"):
                self.warn(where, field, code)

    # -- output ---------------------------------------------------------
    def _rows(self, positions, field, code, message):
        frame = self.frame.iloc[positions]
        raw = raw_records(frame)
        return pd.DataFrame(
            {
                "file": self.path,
                "line": frame["line"].to_numpy(np.int64),
                "field": field,
                "code": code,
                "message": message,
                "raw": raw,
            },
            columns=REJECT_COLUMNS,
        )

    def rejects(self):
        """One reject row per rejected input row, in file order."""
        pos = np.flatnonzero(~self.alive)
        if not len(pos):
            return empty_rejects()
        return self._rows(pos, self.field[pos], self.code[pos], self.message[pos])

    def warning_rows(self):
        """Warnings of rows that were not rejected, in file order."""
        parts = []
        for pos, field, code, message in self._warnings:
            pos = pos[self.alive[pos]]
            if len(pos):
                parts.append((pos, np.full(len(pos), field, object), np.full(len(pos), code, object),
                              np.full(len(pos), message, object)))  # fmt: skip
        if not parts:
            return empty_rejects()
        pos, field, code, message = (np.concatenate(p) for p in zip(*parts))
        order = np.argsort(pos, kind="stable")
        return self._rows(pos[order], field[order], code[order], message[order])

    def warning_counts(self):
        """``{code: count}`` over the warnings of rows not rejected."""
        counts = {}
        for pos, _, code, _ in self._warnings:
            n = int(self.alive[pos].sum())
            if n:
                counts[code] = counts.get(code, 0) + n
        return counts


def code_masks(codes, mask=None):
    """``(code, row mask)`` for each distinct code of per-cell ``codes`` (in
    order of first appearance among the rows ``mask`` selects)."""
    if isinstance(codes, pd.Series) and isinstance(codes.dtype, pd.CategoricalDtype):
        ints = codes.cat.codes.to_numpy()
        names = codes.cat.categories
        if mask is not None:
            ints = np.where(np.asarray(mask, dtype=bool), ints, -1)
        present = ints >= 0
        if not present.any():
            return []
        used, first = np.unique(ints[present], return_index=True)
        return [(names[k], ints == k) for k in used[np.argsort(first)]]
    codes = np.asarray(codes, dtype=object)
    has = ~pd.isna(codes)
    if mask is not None:
        has &= np.asarray(mask, dtype=bool)
    return [(c, has & (codes == c)) for c in pd.unique(codes[has])]
