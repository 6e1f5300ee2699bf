// person_timeline: where given persons were during given windows.
//
// Purpose: a person's presences (VISITED edges) overlapping a window, in
// time order; the engine reads the sources of a trace hop with it.
// Parameters:
//   $windows  list of {person, start_s, end_s}: person key and a window in
//             UTC epoch seconds; a presence [start_s, end_s) is returned when
//             it overlaps a window of its person.
// Example (Browser):
//   :param windows => [{person: '530103199306293897', start_s: 1578614400, end_s: 1579046400}]
//   then run this file; start/end are datetimes for reading, start_s/end_s integers.
UNWIND $windows AS w
WITH w.person AS key, collect([w.start_s, w.end_s]) AS spans
MATCH (p:Person {key: key})-[v:VISITED]->(pl:Place)
WHERE any(s IN spans WHERE v.end_s > s[0] AND v.start_s < s[1])
RETURN p.key AS person, pl.key AS place, pl.kind AS kind,
       v.start_s AS start_s, v.end_s AS end_s,
       v.section AS section, v.row AS row, v.col AS col, v.flags AS flags,
       v.record AS record, v.start AS start, v.end AS end, pl.name AS place_name
ORDER BY person, start_s, place
