// place_visitors: who was at given places during given windows.
//
// Purpose: every presence at a place overlapping a window, one row per
// place with its visitors as parallel lists (person[i] was there from
// start_s[i] to end_s[i]); each place is expanded once however many windows
// it has. The engine's narrow trace read (the presences around the sources'
// own presences) is this query: lists of scalars travel far faster than one
// record per presence, and go straight into numpy.
// Parameters:
//   $windows  list of {place, start_s, end_s}: place key and a window in
//             UTC epoch seconds; a presence [start_s, end_s) is returned
//             (once) when it overlaps any window of its place.
// Example (Browser):
//   :param windows => [{place: 'venue:V0001', start_s: 1578614400, end_s: 1578700800}]
//   then run this file; UNWIND range(0, size(person) - 1) AS i gives one row per visit.
UNWIND $windows AS w
WITH w.place AS key, collect([w.start_s, w.end_s]) AS spans
MATCH (pl:Place {key: key})<-[v:VISITED]-(p:Person)
WHERE any(s IN spans WHERE v.end_s > s[0] AND v.start_s < s[1])
WITH pl, collect(p.key) AS person, collect(v.start_s) AS start_s, collect(v.end_s) AS end_s,
     collect(v.section) AS section, collect(v.row) AS row, collect(v.col) AS col,
     collect(v.flags) AS flags, collect(v.record) AS record
RETURN pl.key AS place, pl.kind AS kind, person, start_s, end_s, section, row, col, flags, record
