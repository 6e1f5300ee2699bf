// phone_holders: the persons holding given identifiers (a load's phones).
//
// Purpose: before a load resolves identities, which persons already hold
// each of the batch's phone identifiers ('phone:+86…'): one index seek per
// identifier (Identifier.value is unique) instead of reading every alias.
// Parameters:
//   $aliases  list of identifier values
// Example:
//   :param aliases => ['phone:+8613800000000']
UNWIND $aliases AS alias
MATCH (p:Person)-[:ALIAS]->(:Identifier {value: alias})
RETURN p.key AS key, alias
ORDER BY key, alias
