// browser_labels: display labels for Neo4j Browser (places by kind, one
// run's contacts by risk band, edge captions).
//
// Purpose: Browser styles nodes by label and edges by type, never by a
// property's value, so this adds what queries/browser/tracer.grass draws:
//   * every Place gets the label of its kind: :Venue :Flight :Train :Bus
//     :Vehicle :Checkpoint :Grid :Residence;
//   * every person exposed in run $run gets :Contact and one risk band by
//     its highest risk over that run's EXPOSED_TO edges into it:
//     :HighRisk (risk >= 0.05), :MediumRisk (>= 0.01), :LowRisk (below);
//     these four labels are first removed from everyone, so they always
//     show a single run: the one labelled last;
//   * the run's EXPOSED_TO edges get a display-only text property
//     `summary`, e.g. 'close 9.5% 10h23m' (rule, risk in per cent,
//     overlap), the edge caption of the style.
// Nothing else changes and running it again changes nothing. Returns one
// row: places, cleared (persons whose old contact labels were removed),
// contacts, high, medium, low.
// Parameters:
//   $run   the TraceRun id
// Example (Browser):
//   MATCH (r:TraceRun) RETURN r.id ORDER BY r.created DESC LIMIT 1
//   :param run => 'run-20200115-093000-1a2b'
//   then run this file, then contact_graph.cypher.
CALL () {
  MATCH (pl:Place)
  FOREACH (_ IN CASE WHEN pl.kind = 'venue' THEN [1] ELSE [] END | SET pl:Venue)
  FOREACH (_ IN CASE WHEN pl.kind = 'flight' THEN [1] ELSE [] END | SET pl:Flight)
  FOREACH (_ IN CASE WHEN pl.kind = 'train' THEN [1] ELSE [] END | SET pl:Train)
  FOREACH (_ IN CASE WHEN pl.kind = 'bus' THEN [1] ELSE [] END | SET pl:Bus)
  FOREACH (_ IN CASE WHEN pl.kind = 'vehicle' THEN [1] ELSE [] END | SET pl:Vehicle)
  FOREACH (_ IN CASE WHEN pl.kind = 'checkpoint' THEN [1] ELSE [] END | SET pl:Checkpoint)
  FOREACH (_ IN CASE WHEN pl.kind = 'grid' THEN [1] ELSE [] END | SET pl:Grid)
  FOREACH (_ IN CASE WHEN pl.kind = 'residence' THEN [1] ELSE [] END | SET pl:Residence)
  RETURN count(pl) AS places
}
CALL () {
  MATCH (p:Contact)
  REMOVE p:Contact:HighRisk:MediumRisk:LowRisk
  RETURN count(p) AS cleared
}
CALL () {
  MATCH (:Person)-[e:EXPOSED_TO {run: $run}]->(b:Person)
  SET e.summary = e.rule + ' '
      + CASE WHEN e.risk < 0.001 THEN '<0.1%' ELSE toString(round(100.0 * e.risk, 1)) + '%' END + ' '
      + toString(e.overlap_s / 3600) + 'h' + toString(e.overlap_s % 3600 / 60) + 'm'
  WITH b, max(e.risk) AS risk
  SET b:Contact
  FOREACH (_ IN CASE WHEN risk >= 0.05 THEN [1] ELSE [] END | SET b:HighRisk)
  FOREACH (_ IN CASE WHEN 0.01 <= risk < 0.05 THEN [1] ELSE [] END | SET b:MediumRisk)
  FOREACH (_ IN CASE WHEN risk < 0.01 THEN [1] ELSE [] END | SET b:LowRisk)
  RETURN count(b) AS contacts,
         sum(CASE WHEN risk >= 0.05 THEN 1 ELSE 0 END) AS high,
         sum(CASE WHEN 0.01 <= risk < 0.05 THEN 1 ELSE 0 END) AS medium,
         sum(CASE WHEN risk < 0.01 THEN 1 ELSE 0 END) AS low
}
RETURN places, cleared, contacts, high, medium, low
