// mark_cases: label a run's A-class cases and link them to the run.
//
// Purpose: (:Person:Case {onset}) for each case of a trace run (onset is
// the symptom onset, or the sampling date when asymptomatic is true) and
// (:TraceRun)-[:TRACED]->(:Case).
// Parameters:
//   $run    the TraceRun id (the node must exist: merge_run first)
//   $cases  list of {person, onset_s, asymptomatic} (onset_s null keeps the stored onset)
// Example:
//   :param run => 'run-20200115-093000-1a2b'
//   :param cases => [{person: '530114197812281442', onset_s: 1578700800, asymptomatic: false}]
MATCH (r:TraceRun {id: $run})
UNWIND $cases AS c
MATCH (p:Person {key: c.person})
SET p:Case,
    p.onset = CASE WHEN c.onset_s IS NULL THEN p.onset ELSE datetime({epochSeconds: c.onset_s}) END,
    p.asymptomatic = coalesce(c.asymptomatic, p.asymptomatic)
MERGE (r)-[:TRACED]->(p)
