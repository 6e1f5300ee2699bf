// retire_merged_persons: undo persons that were merged into an ID holder.
//
// Purpose: a person first stored under 'phone:+86…' (no valid ID yet) whose
// phone a later load gave one ID holder is merged into that holder
// (tracer.duck_merge in the embedded store; move_visits when loading
// straight into Neo4j). This deletes the old person's VISITED edges (`tracer
// push` then writes the same presences under the holder, with the records
// the holder gives them), moves its ALIAS edges to the holder when the
// holder exists, and deletes the Person node once nothing else refers to
// it; a node that a saved run's EXPOSED_TO edges keep gets `merged_into`,
// so that resolve_persons leads to the holder and persons skips it.
// Idempotent.
// Parameters:
//   $rows  list of {key, into_key}
// Example:
//   :param rows => [{key: 'phone:+8613800000000', into_key: '110105194912310029'}]
UNWIND $rows AS r
MATCH (old:Person {key: r.key})
OPTIONAL MATCH (holder:Person {key: r.into_key})
CALL (old, holder) {
  MATCH (old)-[a:ALIAS]->(i:Identifier)
  FOREACH (_ IN CASE WHEN holder IS NULL THEN [] ELSE [1] END | MERGE (holder)-[:ALIAS]->(i))
  DELETE a
}
CALL (old) {
  MATCH (old)-[v:VISITED]->()
  DELETE v
}
SET old.merged_into = r.into_key
WITH old
WHERE NOT (old)--()
DELETE old
RETURN count(*) AS removed
