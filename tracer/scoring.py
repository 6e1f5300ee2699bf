"""From source intervals to scored exposure events and ranked contacts.

Code-level (int person and place codes, epoch seconds) so the hot path
never touches strings; :mod:`tracer.tracing` turns the result into keys.
"""

import numpy as np
import pandas as pd


__all__ = ["source_presences", "find_events", "rank_contacts", "EVENT_COLUMNS"]

#: The code-level event arrays :func:`find_events` returns.
EVENT_COLUMNS = ("hop", "case", "root", "contact", "place", "kind", "start_s", "end_s", "overlap_s", "together_s",
                 "seat_distance", "rule", "p_event")  # fmt: skip


def _ranges(starts, lengths):
    """Concatenate ``arange(s, s + n)`` for each (s, n), vectorised."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    owner = np.repeat(np.arange(len(lengths)), lengths)
    first = np.cumsum(lengths) - lengths
    return owner, np.repeat(np.asarray(starts, dtype=np.int64), lengths) + (np.arange(total) - first[owner])


def positions_place(index, positions):
    """Place code of each index position (via the segment table)."""
    seg = np.searchsorted(index.seg_lo, positions, side="right") - 1
    return index.seg_place[seg]


def source_presences(index, sources, linger_s):
    """Each source's presences clipped to its window, padded by linger.

    Returns ``(owner, pos, place, kind, start_s, end_s, present_end_s)``:
    ``owner`` indexes ``sources``; ``end_s`` includes the linger padding,
    ``present_end_s`` does not; only intervals of positive length after
    clipping remain.
    """
    persons = sources["person"].to_numpy(np.int64)
    lo = index.person_off[persons]
    owner, k = _ranges(lo, index.person_off[persons + 1] - lo)
    pos = np.asarray(index.by_person, dtype=np.int64)[k]
    place = positions_place(index, pos)
    kind = index.place_kind[place]
    start = index.start[pos]
    present_end = start + index.dur[pos]
    window_end = sources["window_end_s"].to_numpy(np.int64)[owner]
    start = np.maximum(start, sources["window_start_s"].to_numpy(np.int64)[owner])
    end = np.minimum(present_end + linger_s[kind], window_end)
    present_end = np.minimum(present_end, window_end)
    keep = end > start
    return owner[keep], pos[keep], place[keep], kind[keep], start[keep], end[keep], present_end[keep]


def find_events(index, sources, linger_s, cfg, hop):
    """Every co-presence of the sources, scored by the exposure model.

    ``sources`` has ``person, reference_s, asymptomatic, window_start_s,
    window_end_s, risk, root``; infectiousness is averaged over each
    event's overlap. Returns a dict of code-level event arrays
    (:data:`EVENT_COLUMNS`), grouped by source, searched and scored in one
    numba pass (:func:`tracer.fused.score_copresences`).
    """
    from .fused import score_copresences

    owner, pos, place, kind, start, end, present_end = source_presences(index, sources, linger_s)

    def per_source(name, dtype):
        return sources[name].to_numpy(dtype)[owner]

    ev = score_copresences(
        index, place, start, end, present_end, index.person[pos], pos, kind,
        per_source("reference_s", np.int64), per_source("asymptomatic", bool), per_source("risk", np.float64), cfg,
    )  # fmt: skip
    src = ev["src"]
    return {
        "hop": np.full(len(src), hop, dtype=np.int8),
        "case": per_source("person", np.int32)[src],
        "root": per_source("root", np.int32)[src],
        "contact": ev["contact"],
        "place": place.astype(np.int32)[src],
        "kind": kind.astype(np.int8)[src],
        "start_s": ev["start_s"],
        "end_s": ev["end_s"],
        "overlap_s": ev["end_s"] - ev["start_s"],
        "together_s": ev["together_s"],
        "seat_distance": ev["seat_distance"],
        "rule": ev["rule"],
        "p_event": ev["p_event"],
    }


def rank_contacts(events, min_risk=0.0, n_persons=None):
    """Combine events per contact: ``risk = 1 - prod(1 - p_event)``.

    The source reported is the (root case, direct source) pair whose own
    events give the highest combined risk (ties: lowest codes); the rule is
    the strongest class over all events (close beats general). See
    :func:`tracer.aggregate.aggregate_contacts`.
    """
    from .aggregate import aggregate_contacts

    cols = ["person", "risk", "rule", "hop", "source", "via", "first_contact_s", "overlap_s", "events", "root"]
    if len(events["p_event"]) == 0:
        return pd.DataFrame({c: pd.Series([], dtype=np.int64) for c in cols})
    col = {name: np.asarray(events[name]) for name in ("contact", "root", "case", "rule", "hop", "start_s", "overlap_s")}
    log_q = np.log1p(-np.minimum(np.asarray(events["p_event"]), 1.0 - 1e-15))
    agg = aggregate_contacts(
        col["contact"], col["root"], col["case"], log_q, col["rule"], col["hop"], col["start_s"], col["overlap_s"],
        n_persons,
    )  # fmt: skip
    out = pd.DataFrame(
        {
            "person": agg["person"],
            "risk": -np.expm1(agg["log_q"]),
            "rule": agg["rule"],
            "hop": agg["hop"],
            "source": agg["root"],
            "via": agg["via"],
            "first_contact_s": agg["first_contact_s"],
            "overlap_s": agg["overlap_s"],
            "events": agg["events"],
            "root": agg["root"],
        }
    )
    return out[out["risk"] >= min_risk].reset_index(drop=True)
