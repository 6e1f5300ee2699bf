"""The exposure events of a hop, computed with the vectorised reference
model (:mod:`tracer.model`) over :func:`tracer.kernels.find_copresences`:
the twin of the fused numba pass (:func:`tracer.scoring.find_events`)."""

import numpy as np

from tracer.kernels import find_copresences
from tracer.model import event_probability, mean_infectiousness, proximity, rule_class, seat_distance
from tracer.scoring import source_presences


def reference_events(index, sources, linger_s, cfg, hop):
    """The same dict of arrays as ``find_events``, array op by array op."""
    owner, pos, place, kind, start, end, present_end = source_presences(index, sources, linger_s)
    src_i, cpos, ov_start, ov_end = find_copresences(index, place, start, end, index.person[pos])
    a = pos[src_i]
    who = owner[src_i]
    kind_e = kind[src_i]
    overlap_s = ov_end - ov_start
    contact_end = index.start[cpos] + index.dur[cpos]
    together_s = np.maximum(np.minimum(present_end[src_i], contact_end) - ov_start, 0)
    seat = (index.section[a], index.row[a], index.col[a], index.section[cpos], index.row[cpos], index.col[cpos])
    reference = sources["reference_s"].to_numpy(np.int64)[who]
    asymptomatic = sources["asymptomatic"].to_numpy(bool)[who]
    infect = mean_infectiousness(ov_start, ov_end, reference, cfg, asymptomatic=asymptomatic)
    prox = proximity(kind_e, *seat, cfg)
    p = event_probability(kind_e, overlap_s, prox, infect, cfg) * sources["risk"].to_numpy()[who]
    return {
        "hop": np.full(len(a), hop),
        "case": sources["person"].to_numpy()[who],
        "root": sources["root"].to_numpy()[who],
        "contact": index.person[cpos],
        "place": place[src_i],
        "kind": kind_e,
        "start_s": ov_start,
        "end_s": ov_end,
        "overlap_s": overlap_s,
        "together_s": together_s,
        "seat_distance": seat_distance(kind_e, *seat, cfg),
        "rule": rule_class(kind_e, *seat, together_s, cfg),
        "p_event": p,
    }
