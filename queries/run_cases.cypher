// run_cases: the A-class cases of one trace run with their infectious windows.
//
// Purpose: what Neo4jStore.load_run reads back as the run's case list; an
// investigator sees the same on the TRACED edges of a (:TraceRun) in Browser.
// Cases of runs saved without windows (pushed from an older store) come back
// with null windows.
// Parameters:
//   $run  the TraceRun id
// Example (Browser):
//   :param run => 'run-20200115-093000-1a2b'
MATCH (:TraceRun {id: $run})-[t:TRACED]->(p:Person)
RETURN p.key AS person, t.reference.epochSeconds AS reference_s, t.asymptomatic AS asymptomatic,
       t.window_start.epochSeconds AS window_start_s, t.window_end.epochSeconds AS window_end_s
ORDER BY t.pos, person
