// stored_records: which of the given presence fingerprints are stored.
//
// Purpose: the existence check before create_visits (one index seek each,
// through the VISITED.record uniqueness constraint's index).
// Parameters:
//   $records  list of int64 fingerprints
// Example:
//   :param records => [12345, -67890]
UNWIND $records AS record
MATCH ()-[v:VISITED {record: record}]->()
RETURN v.record AS record
