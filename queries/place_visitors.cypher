// place_visitors: who was at given places during given windows.
//
// Purpose: every presence at a place overlapping a window; each place is
// expanded once however many windows it has. The engine's narrow trace read
// (the presences around the sources' own presences) is this query.
// Scalar columns only (no node objects), so it goes straight into numpy.
// Parameters:
//   $windows  list of {place, start_s, end_s}: place key and a window in
//             UTC epoch seconds; a presence [start_s, end_s) is returned
//             (once) when it overlaps any window of its place.
// Example (Browser):
//   :param windows => [{place: 'venue:V0001', start_s: 1578614400, end_s: 1578700800}]
//   then run this file; add datetime({epochSeconds: start_s}) to read times.
UNWIND $windows AS w
WITH w.place AS key, collect([w.start_s, w.end_s]) AS spans
MATCH (pl:Place {key: key})<-[v:VISITED]-(p:Person)
WHERE any(s IN spans WHERE v.end_s > s[0] AND v.start_s < s[1])
RETURN p.key AS person, pl.key AS place, pl.kind AS kind,
       v.start_s AS start_s, v.end_s AS end_s,
       v.section AS section, v.row AS row, v.col AS col, v.flags AS flags,
       v.record AS record
