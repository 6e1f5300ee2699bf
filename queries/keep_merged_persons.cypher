// keep_merged_persons: pointer nodes for persons merged into an ID holder.
//
// Purpose: a trace run saved before a merge names the old person (a
// 'phone:+86…' key) as a contact or case. `tracer push` makes sure a node
// with that key exists, marked merged_into, before it writes the saved
// runs' edges; retire_merged_persons then deletes the pointers no run uses.
// Parameters:
//   $rows  list of {key, into_key}
// Example:
//   :param rows => [{key: 'phone:+8613800000000', into_key: '110105194912310029'}]
UNWIND $rows AS r
MERGE (p:Person {key: r.key})
  ON CREATE SET p.merged_into = r.into_key
