// aliases: every identifier seen for a person.
//
// Purpose: (key, alias) pairs from (:Person)-[:ALIAS]->(:Identifier).
// Parameters: none.
// Example (Browser): run as is.
MATCH (p:Person)-[:ALIAS]->(i:Identifier)
RETURN p.key AS key, i.value AS alias
ORDER BY key, alias
