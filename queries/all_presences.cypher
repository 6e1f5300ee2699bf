// all_presences: every presence (VISITED edge), optionally within a window.
//
// Purpose: the full read behind Neo4jStore.index() and presences() without
// a person or place filter; one row per place with its presences as
// parallel lists (as place_visitors); a scan, fine for small graphs.
// Parameters:
//   $start_s  int or null: only presences ending after it
//   $end_s    int or null: only presences starting before it
// Example (Browser):
//   :param start_s => null
//   :param end_s => null
MATCH (pl:Place)<-[v:VISITED]-(p:Person)
WHERE ($start_s IS NULL OR v.end_s > $start_s) AND ($end_s IS NULL OR v.start_s < $end_s)
WITH pl, collect(p.key) AS person, collect(v.start_s) AS start_s, collect(v.end_s) AS end_s,
     collect(v.section) AS section, collect(v.row) AS row, collect(v.col) AS col,
     collect(v.flags) AS flags, collect(v.record) AS record
RETURN pl.key AS place, pl.kind AS kind, person, start_s, end_s, section, row, col, flags, record
