// create_visits: presences as VISITED edges, CREATE without a lookup.
//
// Purpose: the fast path of a push: the caller has just checked (with
// stored_records) that none of these records is stored, or the database
// held no presence at all when the push began. The uniqueness constraint on
// VISITED.record still refuses a duplicate, so a race with another writer
// can only fail the batch (the caller then checks and writes it again),
// never duplicate it. Parameters are columns (parallel lists, one value per
// presence): they pack and travel faster than one map or list per row.
// Parameters:
//   $person, $place  lists of person and place keys
//   $record, $start_s, $end_s, $section, $row, $col, $flags  lists of integers
// Example:
//   :param person => ['110105194912310029']
//   :param place => ['venue:V001']
//   :param record => [12345]
//   :param start_s => [1580000000]
//   :param end_s => [1580003600]
//   :param section => [-1]
//   :param row => [-1]
//   :param col => [-1]
//   :param flags => [0]
UNWIND range(0, size($record) - 1) AS i
MATCH (p:Person {key: $person[i]})
MATCH (pl:Place {key: $place[i]})
CREATE (p)-[:VISITED {record: $record[i], start_s: $start_s[i], end_s: $end_s[i],
                      start: datetime({epochSeconds: $start_s[i]}),
                      end: datetime({epochSeconds: $end_s[i]}),
                      section: $section[i], row: $row[i], col: $col[i], flags: $flags[i]}]->(pl)
