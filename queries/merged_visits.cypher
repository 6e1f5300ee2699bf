// merged_visits: the presences of persons about to be merged into an ID holder.
//
// Purpose: a person first loaded under 'phone:+86…' (no valid ID yet) whose
// phone a later load gives one ID holder is merged into that holder; this
// reads the presences that move, with what their new record fingerprint is
// computed from (tracer.presence.rekeyed_records).
// Parameters:
//   $keys  list of person keys (the phone keys being merged)
// Example:
//   :param keys => ['phone:+8613800000000']
UNWIND $keys AS key
MATCH (:Person {key: key})-[v:VISITED]->(pl:Place)
RETURN key, pl.key AS place, v.record AS record, v.start_s AS start_s, v.end_s AS end_s, v.flags AS flags,
       v.section AS section, v.row AS row, v.col AS col
ORDER BY record
