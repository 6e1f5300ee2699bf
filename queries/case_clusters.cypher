// case_clusters: cases linked through shared places and times.
//
// Purpose: every pair of :Case persons whose presences at one place
// overlapped in time within a window, with the places and the time they
// shared; the pairs are the edges of case clusters (connected components),
// and drawing the returned paths in Browser shows the clusters.
// Parameters:
//   $start_s, $end_s  the window (UTC epoch seconds)
// Example (Browser):
//   :param start_s => 1578614400
//   :param end_s => 1579219200
MATCH (a:Case)-[va:VISITED]->(pl:Place)<-[vb:VISITED]-(b:Case)
WHERE a.key < b.key
  AND va.end_s > $start_s AND va.start_s < $end_s
  AND vb.end_s > $start_s AND vb.start_s < $end_s
  AND va.start_s < vb.end_s AND vb.start_s < va.end_s
WITH a, b, pl,
     CASE WHEN va.start_s > vb.start_s THEN va.start_s ELSE vb.start_s END AS s,
     CASE WHEN va.end_s < vb.end_s THEN va.end_s ELSE vb.end_s END AS e
RETURN a.key AS case_a, b.key AS case_b, collect(DISTINCT pl.key) AS places,
       count(*) AS shared_visits, sum(e - s) AS together_s, min(s) AS first_shared_s
ORDER BY together_s DESC, case_a, case_b
