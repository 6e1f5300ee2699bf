// mark_cases: label a run's A-class cases and link them to the run.
//
// Purpose: (:Person:Case {onset}) for each case of a trace run (onset is
// the symptom onset, or the sampling date when asymptomatic is true) and
// (:TraceRun)-[:TRACED {pos, reference, asymptomatic, window_start,
// window_end}]->(:Case): the case's infectious window in that run (pos keeps
// the run's case order; run_cases reads them back).
// Parameters:
//   $run    the TraceRun id (the node must exist: merge_run first)
//   $cases  list of {person, pos, onset_s, asymptomatic, window_start_s, window_end_s}
//           (onset_s null keeps the stored onset; null windows leave the edge bare)
// Example:
//   :param run => 'run-20200115-093000-1a2b'
//   :param cases => [{person: '530114197812281442', pos: 0, onset_s: 1578700800, asymptomatic: false,
//                     window_start_s: 1578528000, window_end_s: 1579564800}]
MATCH (r:TraceRun {id: $run})
UNWIND $cases AS c
MATCH (p:Person {key: c.person})
SET p:Case,
    p.onset = CASE WHEN c.onset_s IS NULL THEN p.onset ELSE datetime({epochSeconds: c.onset_s}) END,
    p.asymptomatic = coalesce(c.asymptomatic, p.asymptomatic)
MERGE (r)-[t:TRACED]->(p)
SET t.pos = c.pos,
    t.reference = CASE WHEN c.onset_s IS NULL THEN null ELSE datetime({epochSeconds: c.onset_s}) END,
    t.asymptomatic = c.asymptomatic,
    t.window_start = CASE WHEN c.window_start_s IS NULL THEN null ELSE datetime({epochSeconds: c.window_start_s}) END,
    t.window_end = CASE WHEN c.window_end_s IS NULL THEN null ELSE datetime({epochSeconds: c.window_end_s}) END
