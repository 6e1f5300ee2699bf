"""Brute-force twins of the numba kernels: plain Python loops over a
canonical presence frame, slow and obviously right.

Each section belongs to one kernel module; add new twins in their own
clearly named functions.
"""

__all__ = ["naive_copresences", "naive_self_join", "presence_identity", "naive_group_rows", "naive_run_order"]


# ---------------------------------------------------- tracer.kernels twins


def presence_identity(row):
    """The fields that identify a presence independently of its position:
    ``(person, place, start, end, section, row, col, flags)``."""
    return (int(row["person"]), int(row["place"]), int(row["start"]), int(row["end"]),
            int(row.get("section", -1)), int(row.get("row", -1)), int(row.get("col", -1)),
            int(row.get("flags", 0)))


def _records(presences_df):
    return [presence_identity(row) for row in presences_df.to_dict("records")]


def naive_copresences(presences_df, src_place, src_start, src_end, src_person):
    """Twin of :func:`tracer.kernels.find_copresences`.

    Returns a sorted list of ``(src_i, identity, ov_start, ov_end)`` where
    ``identity`` is :func:`presence_identity` of the co-present presence.
    """
    records = _records(presences_df)
    out = []
    for i in range(len(src_place)):
        place, a, b, who = int(src_place[i]), int(src_start[i]), int(src_end[i]), int(src_person[i])
        for rec in records:
            person, at, start, end = rec[0], rec[1], rec[2], rec[3]
            if at != place or person == who:
                continue
            ov_start, ov_end = max(start, a), min(end, b)
            if ov_end - ov_start > 0:
                out.append((i, rec, ov_start, ov_end))
    return sorted(out)


def naive_self_join(presences_df):
    """Twin of :func:`tracer.kernels.self_join`.

    Returns a sorted list of ``(identity_lo, identity_hi, ov_start, ov_end)``
    for every unordered pair of presences at the same place, of different
    persons, overlapping strictly; the two identities are ordered so the
    result does not depend on row order.
    """
    records = _records(presences_df)
    out = []
    for x in range(len(records)):
        for y in range(x + 1, len(records)):
            p, q = records[x], records[y]
            if p[1] != q[1] or p[0] == q[0]:
                continue
            ov_start, ov_end = max(p[2], q[2]), min(p[3], q[3])
            if ov_end - ov_start > 0:
                out.append((min(p, q), max(p, q), ov_start, ov_end))
    return sorted(out)


# --------------------------------- tracer.grouping / tracer.index_sort twins


def naive_group_rows(codes):
    """Twin of :func:`tracer.grouping.group_rows`: the positions of the rows
    grouped by code, each code's in input order."""
    buckets = {}
    for position, code in enumerate(codes):
        buckets.setdefault(int(code), []).append(position)
    return [p for code in sorted(buckets) for p in buckets[code]]


def naive_run_order(keys):
    """Twin of the run sorts of :mod:`tracer.index_sort`: the stable order
    of one run's keys (ties keep their input order)."""
    return sorted(range(len(keys)), key=lambda i: (keys[i], i))
