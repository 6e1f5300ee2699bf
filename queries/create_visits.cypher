// create_visits: presences as VISITED edges, CREATE without a lookup.
//
// Purpose: the fast path of a push: the caller has just checked (with
// stored_records) that none of these records is stored. The uniqueness
// constraint on VISITED.record still refuses a duplicate, so a race can
// only fail the batch (then merge_visits is used), never duplicate it.
// Parameters:
//   $rows  list of [person_key, place_key, record, start_s, end_s,
//                   section, row, col, flags]
// Example:
//   :param rows => [['110105194912310029', 'venue:V001', 12345, 1580000000, 1580003600, -1, -1, -1, 0]]
UNWIND $rows AS r
MATCH (p:Person {key: r[0]})
MATCH (pl:Place {key: r[1]})
CREATE (p)-[:VISITED {record: r[2], start_s: r[3], end_s: r[4],
                      start: datetime({epochSeconds: r[3]}),
                      end: datetime({epochSeconds: r[4]}),
                      section: r[5], row: r[6], col: r[7], flags: r[8]}]->(pl)
