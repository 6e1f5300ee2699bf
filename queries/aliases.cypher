// aliases: every identifier seen for a person.
//
// Purpose: (key, alias) pairs from (:Person)-[:ALIAS]->(:Identifier), of
// every person or of the given person keys.
// Parameters:
//   $keys  list of person keys, or null for every person
// Example (Browser):
//   :param keys => ['530103199306293897']
MATCH (p:Person)-[:ALIAS]->(i:Identifier)
WHERE $keys IS NULL OR p.key IN $keys
RETURN p.key AS key, i.value AS alias
ORDER BY key, alias
