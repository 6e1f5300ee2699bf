// merge_persons: create or complete Person nodes (idempotent).
//
// Purpose: one batch of the person dictionary; a missing name or district
// is filled by the first non-empty value seen (never overwritten); a new
// node gets its values without reading any back (ON CREATE); a person that
// was merged into an ID holder (merged_into) and is named again is a person
// of its own again.
// Parameters:
//   $rows  list of {key, name, district}  (name/district may be null)
// Example:
//   :param rows => [{key: '110105194912310029', name: '张三', district: '朝阳区'}]
UNWIND $rows AS r
MERGE (p:Person {key: r.key})
  ON CREATE SET p.name = r.name, p.district = r.district
  ON MATCH SET p.name = coalesce(p.name, r.name),
               p.district = coalesce(p.district, r.district),
               p.merged_into = null
