// move_visits: move presences to the ID holder their person was merged into.
//
// Purpose: each VISITED edge with record `old` is replaced by an edge from
// the holder `into` to the same place, with the same times and seat and the
// record `new` it would have had if loaded under the holder; when the holder
// already has that record (the same stay, loaded under both keys), the old
// edge is only deleted. Runs in one transaction with retire_merged_persons.
// Parameters:
//   $rows  list of {old, new, into}: old record, new record, holder key
// Example:
//   :param rows => [{old: 123, new: 456, into: '110105194912310029'}]
UNWIND $rows AS r
MATCH (:Person)-[v:VISITED {record: r.old}]->(pl:Place)
MATCH (holder:Person {key: r.into})
OPTIONAL MATCH ()-[had:VISITED {record: r.new}]->()
WITH v, pl, holder, r, had IS NOT NULL AS dropped
FOREACH (_ IN CASE WHEN dropped THEN [] ELSE [1] END |
  CREATE (holder)-[:VISITED {record: r.new, start_s: v.start_s, end_s: v.end_s, start: v.start, `end`: v.`end`,
                             section: v.section, row: v.row, col: v.col, flags: v.flags}]->(pl))
DELETE v
RETURN count(*) AS seen, sum(CASE WHEN dropped THEN 1 ELSE 0 END) AS dropped
