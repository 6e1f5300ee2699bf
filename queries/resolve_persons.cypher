// resolve_persons: person keys for given keys or aliases.
//
// Purpose: a key that is a Person.key resolves to itself; otherwise an
// identifier (phone, passport, other ID number) that belongs to exactly one
// person resolves to that person; a person merged into an ID holder
// (retire_merged_persons) resolves to the holder; anything else gives null.
// Parameters:
//   $keys  list of strings (person keys or aliases)
// Example (Browser):
//   :param keys => ['530103199306293897', 'phone:+8617919225263']
UNWIND range(0, size($keys) - 1) AS pos
WITH pos, $keys[pos] AS given
OPTIONAL MATCH (p:Person {key: given})
OPTIONAL MATCH (q:Person)-[:ALIAS]->(:Identifier {value: given})
WITH pos, given, p, collect(DISTINCT q.key) AS owners
RETURN pos, CASE WHEN p IS NOT NULL THEN coalesce(p.merged_into, p.key)
                 WHEN size(owners) = 1 THEN owners[0] END AS key
ORDER BY pos
