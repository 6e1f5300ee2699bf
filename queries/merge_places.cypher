// merge_places: create or complete Place nodes (idempotent).
//
// Purpose: one batch of the place dictionary; kind is the kind name
// (venue, flight, train, bus, vehicle, checkpoint, grid, residence).
// Attributes already stored are kept; missing ones are filled; a new node
// gets its values without reading any back (ON CREATE).
// Parameters:
//   $rows  list of {key, kind, name, district, lat, lon}
// Example:
//   :param rows => [{key: 'venue:V001', kind: 'venue', name: '超市', district: '五华区', lat: null, lon: null}]
UNWIND $rows AS r
MERGE (pl:Place {key: r.key})
  ON CREATE SET pl.kind = r.kind, pl.name = r.name, pl.district = r.district,
                pl.lat = r.lat, pl.lon = r.lon
  ON MATCH SET pl.kind = coalesce(pl.kind, r.kind),
               pl.name = coalesce(pl.name, r.name),
               pl.district = coalesce(pl.district, r.district),
               pl.lat = coalesce(pl.lat, r.lat),
               pl.lon = coalesce(pl.lon, r.lon)
