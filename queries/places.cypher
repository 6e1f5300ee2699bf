// places: the place dictionary, all places or only given keys.
//
// Purpose: key, kind (name), name, district, lat, lon (Neo4jStore.places).
// Parameters:
//   $keys  list of place keys, or null for every place
// Example (Browser):
//   :param keys => ['venue:V0001']
MATCH (pl:Place)
WHERE $keys IS NULL OR pl.key IN $keys
RETURN pl.key AS key, pl.kind AS kind, pl.name AS name, pl.district AS district,
       pl.lat AS lat, pl.lon AS lon
ORDER BY key
