"""The load report: every input row is loaded, a duplicate, or rejected.

``read == loaded + duplicates + rejected`` holds for the whole load and for
every file. Counts are of *input rows*: a checkpoint pass with a plate
yields two presences (checkpoint and vehicle) but is one row; it is a
duplicate when all its presences are already in the store or earlier in
the same load.

Examples
--------
>>> r = LoadReport(kind="venues", read=3, loaded=1, duplicates=1, rejected=1,
...                by_code={"no-identity": 1}, warnings={})
>>> r.to_dict()
{'read': 3, 'loaded': 1, 'duplicates': 1, 'rejected': 1, 'by_code': {'no-identity': 1}, 'warnings': {}}
"""

from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from .ledger import empty_rejects

__all__ = ["LoadReport", "SUMMARY_KEYS"]

#: Keys of :meth:`LoadReport.to_dict` (the ``--format json`` object).
SUMMARY_KEYS = ("read", "loaded", "duplicates", "rejected", "by_code", "warnings")


@dataclass
class LoadReport:
    """What :func:`loaders.load_files` did.

    Attributes
    ----------
    kind : source kind.
    read, loaded, duplicates, rejected : input row counts.
    by_code : ``{reject code: rows}``.
    warnings : ``{warning code: warnings}`` (a row may carry several).
    per_file : one dict per file with ``file`` and the same keys.
    source : the store's source id of the batch (-1: nothing new).
    presences_loaded : presences appended (a row may give two).
    merged_phones, moved_presences : phone keys of earlier loads merged
        into the ID holder this load names for them, and the stored
        presences that moved with them (``phone-merged`` warnings).
    notes : lines about whole files (a header found below a title line).
    rejects, warning_rows : DataFrames with ``file, line, field, code,
        message, raw`` (built on first access; ``raw`` is the row's cells
        as JSON under the file's own headers).
    """

    kind: str
    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    by_code: dict = field(default_factory=dict)
    warnings: dict = field(default_factory=dict)
    per_file: list = field(default_factory=list)
    source: int = -1
    presences_loaded: int = 0
    merged_phones: int = 0
    moved_presences: int = 0
    notes: list = field(default_factory=list)
    ledgers: list = field(default_factory=list, repr=False)

    def to_dict(self):
        """The summary as a JSON-ready dict with exactly :data:`SUMMARY_KEYS`."""
        return {k: getattr(self, k) for k in SUMMARY_KEYS}

    @cached_property
    def rejects(self):
        parts = [led.rejects() for led in self.ledgers]
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else empty_rejects()

    @cached_property
    def warning_rows(self):
        parts = [led.warning_rows() for led in self.ledgers]
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else empty_rejects()

    def summary_lines(self):
        """Human-readable summary lines (for stderr)."""
        lines = [
            f"{f['file']}: read {f['read']} = loaded {f['loaded']} + duplicates {f['duplicates']}"
            f" + rejected {f['rejected']}"
            for f in self.per_file
        ]
        if len(self.per_file) > 1:
            lines.append(
                f"total: read {self.read} = loaded {self.loaded} + duplicates {self.duplicates}"
                f" + rejected {self.rejected}"
            )
        lines += [f"  rejected {code}: {n}" for code, n in sorted(self.by_code.items())]
        lines += [f"  warning {code}: {n}" for code, n in sorted(self.warnings.items())]
        lines += [f"  note: {note}" for note in self.notes]
        if self.merged_phones:
            lines.append(f"  merged {self.merged_phones} phone key(s) of earlier loads into their ID holders: "
                         f"{self.moved_presences} stored presence(s) moved")  # fmt: skip
        return lines


def file_counts(path, led, duplicate_rows):
    """Per-file summary dict from its ledger and duplicate-row mask."""
    read = len(led)
    rejected = int((~led.alive).sum())
    duplicates = int((duplicate_rows & led.alive).sum())
    codes = pd.Series(led.code[~led.alive], dtype=object).value_counts()
    return {
        "file": str(path),
        "read": read,
        "loaded": read - rejected - duplicates,
        "duplicates": duplicates,
        "rejected": rejected,
        "by_code": {str(k): int(v) for k, v in sorted(codes.items())},
        "warnings": dict(sorted(led.warning_counts().items())),
    }


def build_report(kind, paths, ledgers, duplicate_rows, source=-1, presences_loaded=0):
    """Sum per-file counts into a :class:`LoadReport`."""
    per_file = [file_counts(p, led, d) for p, led, d in zip(paths, ledgers, duplicate_rows)]
    report = LoadReport(kind=kind, per_file=per_file, source=int(source), presences_loaded=int(presences_loaded),
                        ledgers=list(ledgers))  # fmt: skip
    for f in per_file:
        for k in ("read", "loaded", "duplicates", "rejected"):
            setattr(report, k, getattr(report, k) + f[k])
        for target, counts in ((report.by_code, f["by_code"]), (report.warnings, f["warnings"])):
            for code, n in counts.items():
                target[code] = target.get(code, 0) + n
    report.by_code = dict(sorted(report.by_code.items()))
    report.warnings = dict(sorted(report.warnings.items()))
    return report

