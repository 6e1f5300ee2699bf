// trace_b_class: a pure-Cypher hop-1 trace (the peer tracer measures against).
//
// Purpose: for each A-class case and its infectious window, every person
// who was at the same place at the same time (B-class candidates), with the
// overlap per (case, contact, place). The case's interval is clipped to its
// window and padded by the linger time of the place's kind (air that stays
// after the case left), as tracer's engine does; no exposure model, no hops.
// Its best formulation (a fair peer): the cases' clipped intervals are
// grouped per place first, so each place's VISITED edges are expanded once
// however many cases and visits meet there (the naive one-expansion-per-case-
// visit form expands ~6x more edges on the benchmark city), and each visitor
// is checked against that place's list of intervals.
// Parameters:
//   $cases     list of {person, window_start_s, window_end_s} (UTC epoch s)
//   $linger_s  map kind name -> seconds, e.g. {venue: 1800, train: 200}
//              (kinds not in the map get 0)
// Example (Browser):
//   :param cases => [{person: '530114197812281442', window_start_s: 1578614400, window_end_s: 1579219200}]
//   :param linger_s => {venue: 1800, train: 200}
UNWIND $cases AS c
MATCH (a:Person {key: c.person})-[va:VISITED]->(pl:Place)
WHERE va.end_s > c.window_start_s AND va.start_s < c.window_end_s
WITH c, a, pl, va, coalesce($linger_s[pl.kind], 0) AS linger
WITH c, a, pl,
     CASE WHEN va.start_s > c.window_start_s THEN va.start_s ELSE c.window_start_s END AS s0,
     CASE WHEN va.end_s + linger < c.window_end_s THEN va.end_s + linger ELSE c.window_end_s END AS e0
WHERE e0 > s0
WITH pl, collect({case: c.person, a: a, s0: s0, e0: e0}) AS spans, min(s0) AS lo, max(e0) AS hi
MATCH (pl)<-[vb:VISITED]-(b:Person)
WHERE vb.start_s < hi AND vb.end_s > lo
UNWIND [s IN spans WHERE vb.start_s < s.e0 AND vb.end_s > s.s0 AND s.a <> b] AS s
WITH s.case AS case, b, pl,
     CASE WHEN vb.start_s > s.s0 THEN vb.start_s ELSE s.s0 END AS ov_start,
     CASE WHEN vb.end_s < s.e0 THEN vb.end_s ELSE s.e0 END AS ov_end
RETURN case, b.key AS contact, pl.key AS place, sum(ov_end - ov_start) AS overlap_s,
       min(ov_start) AS first_contact_s, count(*) AS events
ORDER BY case, overlap_s DESC, contact, place
