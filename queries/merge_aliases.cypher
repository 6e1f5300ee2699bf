// merge_aliases: link persons to every identifier seen for them (idempotent).
//
// Purpose: (:Person)-[:ALIAS]->(:Identifier {value}) for ID numbers, phones,
// passports; one identifier may belong to several persons (a shared phone).
// Parameters:
//   $rows  list of {key, alias}
// Example:
//   :param rows => [{key: '110105194912310029', alias: 'phone:+8613800000000'}]
UNWIND $rows AS r
MERGE (p:Person {key: r.key})
MERGE (i:Identifier {value: r.alias})
MERGE (p)-[:ALIAS]->(i)
