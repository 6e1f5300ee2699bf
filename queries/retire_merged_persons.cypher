// retire_merged_persons: undo, in Neo4j, persons the embedded store merged away.
//
// Purpose: a person first stored under 'phone:+86…' (no valid ID yet) whose
// phone a later load gave one ID holder is merged into that holder in the
// embedded store (tracer.duck_merge). `tracer push` runs this first: it
// deletes the old person's VISITED edges (the same presences are then
// written under the holder, with the records the holder gives them) and
// ALIAS edges (the holder has the identifiers), and the Person node itself
// once nothing else refers to it (a saved run's EXPOSED_TO edges keep it).
// Idempotent: a merged key with nothing left matches nothing.
// Parameters:
//   $rows  list of {key, into_key}
// Example:
//   :param rows => [{key: 'phone:+8613800000000', into_key: '110105194912310029'}]
UNWIND $rows AS r
MATCH (old:Person {key: r.key})
CALL (old) {
  MATCH (old)-[e:VISITED|ALIAS]->()
  DELETE e
}
WITH old
WHERE NOT (old)--()
DELETE old
RETURN count(*) AS removed
