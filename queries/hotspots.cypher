// hotspots: places ranked by case presence and crowd.
//
// Purpose: the places where :Case persons spent time within a window,
// ranked by the number of cases there, then by the crowd (distinct persons
// present in the window), then by the cases' total time there.
// Parameters:
//   $start_s, $end_s  the window (UTC epoch seconds)
//   $limit            how many places to return
// Example (Browser):
//   :param start_s => 1578614400
//   :param end_s => 1579219200
//   :param limit => 20
MATCH (c:Case)-[vc:VISITED]->(pl:Place)
WHERE vc.end_s > $start_s AND vc.start_s < $end_s
WITH pl, count(DISTINCT c) AS cases, sum(vc.end_s - vc.start_s) AS case_time_s
CALL (pl) {
  MATCH (pl)<-[v:VISITED]-(p:Person)
  WHERE v.end_s > $start_s AND v.start_s < $end_s
  RETURN count(DISTINCT p) AS crowd
}
RETURN pl.key AS place, pl.kind AS kind, pl.name AS name, pl.district AS district,
       cases, crowd, case_time_s
ORDER BY cases DESC, crowd DESC, case_time_s DESC, place
LIMIT $limit
