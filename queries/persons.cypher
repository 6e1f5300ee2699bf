// persons: the person dictionary, all persons or only given keys.
//
// Purpose: key, name, district of persons (Neo4jStore.persons).
// Parameters:
//   $keys  list of person keys, or null for every person
// Example (Browser):
//   :param keys => ['530103199306293897']
MATCH (p:Person)
WHERE ($keys IS NULL OR p.key IN $keys) AND p.merged_into IS NULL
RETURN p.key AS key, p.name AS name, p.district AS district
ORDER BY key
