// merge_visits: presences as VISITED edges, MERGE on the record fingerprint.
//
// Purpose: idempotent load of canonical presences; a record already stored
// is left as it is, so a repeated or interrupted load leaves no duplicates.
// Persons and places must exist (merge_persons / merge_places first).
// Parameters:
//   $rows  list of [person_key, place_key, record, start_s, end_s,
//                   section, row, col, flags]   (lists, not maps: compact)
// Example:
//   :param rows => [['110105194912310029', 'venue:V001', 12345, 1580000000, 1580003600, -1, -1, -1, 0]]
UNWIND $rows AS r
MATCH (p:Person {key: r[0]})
MATCH (pl:Place {key: r[1]})
MERGE (p)-[v:VISITED {record: r[2]}]->(pl)
  ON CREATE SET v.start_s = r[3], v.end_s = r[4],
                v.start = datetime({epochSeconds: r[3]}),
                v.end = datetime({epochSeconds: r[4]}),
                v.section = r[5], v.row = r[6], v.col = r[7], v.flags = r[8]
