// create_exposures: a new run's ranked contacts as EXPOSED_TO edges.
//
// Purpose: the fast path of merge_exposures for a run id that was not
// stored before (checked in the same transaction), so nothing to match;
// properties inline in CREATE (one write per edge, ~30% faster than SET).
// (source)-[:EXPOSED_TO {run, risk, hop, first_contact, overlap_s,
// events, rule, rank, source_case, places}]->(contact); source is the direct
// source (the case at hop 1, the hop-k contact it came through after that).
// Parameters:
//   $run   the TraceRun id
//   $rows  list of {source, person, risk, hop, first_contact_s, overlap_s,
//          events, rule, rank, source_case, places}
// Example:
//   :param run => 'run-20200115-093000-1a2b'
UNWIND $rows AS r
MATCH (a:Person {key: r.source})
MATCH (b:Person {key: r.person})
CREATE (a)-[:EXPOSED_TO {run: $run, risk: r.risk, hop: r.hop,
                         first_contact: datetime({epochSeconds: r.first_contact_s}),
                         overlap_s: r.overlap_s, events: r.events, rule: r.rule,
                         rank: r.rank, source_case: r.source_case, places: r.places}]->(b)
