// trace_sources: the sources' own presences for one trace hop, as columns.
//
// Purpose: the engine's first narrow read of a trace hop on Neo4j
// (Neo4jStore.index_for_sources): every presence of the given persons that
// overlaps one of their windows, with only the scalar columns the presence
// index needs (no datetimes, no names), one row per person with its
// presences as parallel lists (place[i], start_s[i], ...; collect skips nulls,
// hence the coalesce on kind): lists of scalars
// travel far faster than one record per presence. person_timeline is the
// same read for people.
// Parameters:
//   $windows  list of {person, start_s, end_s}: person key and a window in
//             UTC epoch seconds; a presence [start_s, end_s) is returned
//             (once) when it overlaps any window of its person.
// Example (Browser):
//   :param windows => [{person: '530103199306293897', start_s: 1578614400, end_s: 1579046400}]
UNWIND $windows AS w
WITH w.person AS key, collect([w.start_s, w.end_s]) AS spans
MATCH (p:Person {key: key})-[v:VISITED]->(pl:Place)
WHERE any(s IN spans WHERE v.end_s > s[0] AND v.start_s < s[1])
WITH p, collect(pl.key) AS place, collect(coalesce(pl.kind, "")) AS kind, collect(v.start_s) AS start_s,
     collect(v.end_s) AS end_s, collect(v.section) AS section, collect(v.row) AS row,
     collect(v.col) AS col, collect(v.flags) AS flags, collect(v.record) AS record
RETURN p.key AS person, place, kind, start_s, end_s, section, row, col, flags, record
