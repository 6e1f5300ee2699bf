// run_exposures: one trace run with its EXPOSED_TO edges, in rank order.
//
// Purpose: what Neo4jStore.load_run reads back.
// Parameters:
//   $run  the TraceRun id
// Example (Browser):
//   :param run => 'run-20200115-093000-1a2b'
MATCH (r:TraceRun {id: $run})
OPTIONAL MATCH (a:Person)-[e:EXPOSED_TO {run: $run}]->(b:Person)
RETURN r.created AS created, r.params AS params, r.events AS events_json,
       e.rank AS rank, b.key AS person, e.risk AS risk, e.rule AS rule, e.hop AS hop,
       e.source_case AS source_case, e.first_contact.epochSeconds AS first_contact_s,
       e.overlap_s AS overlap_s, e.events AS events, a.key AS via
ORDER BY rank
