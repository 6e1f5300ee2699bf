// contact_graph: the EXPOSED_TO subgraph of a trace run, with the places
// that explain it (for drawing in Neo4j Browser).
//
// Purpose: every exposure edge written by a run (source -> contact, with
// risk, hop, rule, overlap), the places where the events behind it happened
// (EXPOSED_TO.places) and the two persons' VISITED edges there that overlap
// in time (allowing $slack_s seconds for linger).
// Parameters:
//   $run      the TraceRun id, e.g. 'run-20200115-093000-1a2b'
//   $slack_s  seconds two visits may be apart and still be drawn (e.g. 1800)
// Example (Browser):
//   MATCH (r:TraceRun) RETURN r.id ORDER BY r.created DESC LIMIT 1
//   :param run => 'run-20200115-093000-1a2b'
//   :param slack_s => 1800
MATCH (a:Person)-[e:EXPOSED_TO {run: $run}]->(b:Person)
OPTIONAL MATCH (a)-[va:VISITED]->(pl:Place)<-[vb:VISITED]-(b)
WHERE pl.key IN e.places
  AND va.start_s < vb.end_s + $slack_s AND vb.start_s < va.end_s + $slack_s
RETURN a, e, b, pl, va, vb
