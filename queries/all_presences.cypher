// all_presences: every presence (VISITED edge), optionally within a window.
//
// Purpose: the full read behind Neo4jStore.index() and presences() without
// a person or place filter; fine for small graphs, a scan for large ones.
// Parameters:
//   $start_s  int or null: only presences ending after it
//   $end_s    int or null: only presences starting before it
// Example (Browser):
//   :param start_s => null
//   :param end_s => null
MATCH (p:Person)-[v:VISITED]->(pl:Place)
WHERE ($start_s IS NULL OR v.end_s > $start_s) AND ($end_s IS NULL OR v.start_s < $end_s)
RETURN p.key AS person, pl.key AS place, pl.kind AS kind,
       v.start_s AS start_s, v.end_s AS end_s,
       v.section AS section, v.row AS row, v.col AS col, v.flags AS flags,
       v.record AS record
