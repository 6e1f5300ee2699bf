"""From source intervals to scored exposure events and ranked contacts.

Code-level (int person and place codes, epoch seconds) so the hot path
never touches strings; :mod:`tracer.tracing` turns the result into keys.
"""

import numpy as np
import pandas as pd

from .model import event_probability, mean_infectiousness, proximity, rule_class, seat_distance

__all__ = ["source_presences", "find_events", "rank_contacts"]


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
    event's overlap. Returns a frame of code-level events.
    """
    from .kernels import find_copresences

    owner, pos, place, kind, start, end, present_end = source_presences(index, sources, linger_s)
    src_i, cpos, ov_start, ov_end = find_copresences(index, place, start, end, index.person[pos])
    a = pos[src_i]
    who = owner[src_i]
    kind_e = kind[src_i]
    overlap_s = ov_end - ov_start
    # Time truly together (without the source's linger padding): the rule
    # classes (e.g. 15 min at a venue) count only that.
    contact_end = index.start[cpos] + index.dur[cpos]
    together_s = np.maximum(np.minimum(present_end[src_i], contact_end) - ov_start, 0)
    seat = (index.section[a], index.row[a], index.col[a], index.section[cpos], index.row[cpos], index.col[cpos])
    reference = sources["reference_s"].to_numpy(np.int64)[who]
    asymptomatic = sources["asymptomatic"].to_numpy(bool)[who]
    infect = mean_infectiousness(ov_start, ov_end, reference, cfg, asymptomatic=asymptomatic)
    prox = proximity(kind_e, *seat, cfg)
    p = event_probability(kind_e, overlap_s, prox, infect, cfg) * sources["risk"].to_numpy()[who]
    return pd.DataFrame(
        {
            "hop": np.full(len(a), hop, dtype=np.int64),
            "case": sources["person"].to_numpy(np.int32)[who],
            "root": sources["root"].to_numpy(np.int32)[who],
            "contact": index.person[cpos],
            "place": place[src_i],
            "kind": kind_e,
            "start_s": ov_start,
            "end_s": ov_end,
            "overlap_s": overlap_s,
            "together_s": together_s,
            "seat_distance": seat_distance(kind_e, *seat),
            "rule": rule_class(kind_e, *seat, together_s, cfg),
            "p_event": p,
        }
    )


def rank_contacts(events, min_risk=0.0, n_persons=None):
    """Combine events per contact: ``risk = 1 - prod(1 - p_event)``.

    The source reported is the (root case, direct source) pair whose own
    events give the highest combined risk (ties: lowest codes); the rule is
    the strongest class over all events (close beats general). See
    :func:`tracer.aggregate.aggregate_contacts`.
    """
    from .aggregate import aggregate_contacts

    cols = ["person", "risk", "rule", "hop", "source", "via", "first_contact_s", "overlap_s", "events", "root"]
    if events.empty:
        return pd.DataFrame({c: pd.Series([], dtype=np.int64) for c in cols})
    log_q = np.log1p(-np.minimum(events["p_event"].to_numpy(), 1.0 - 1e-15))
    agg = aggregate_contacts(
        events["contact"].to_numpy(), events["root"].to_numpy(), events["case"].to_numpy(), log_q,
        events["rule"].to_numpy(), events["hop"].to_numpy(), events["start_s"].to_numpy(),
        events["overlap_s"].to_numpy(), n_persons,
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
