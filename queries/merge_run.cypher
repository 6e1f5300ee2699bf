// merge_run: create (or refresh) a TraceRun node.
//
// Purpose: (:TraceRun {id, created, params}); params is the run's
// parameters as JSON text, events the run's evidence events as JSON text.
// Parameters:
//   $id, $created_s (UTC epoch seconds), $params (JSON), $events (JSON, or
//   null to keep the events stored before)
// Example:
//   :param id => 'run-20200115-093000-1a2b'
MERGE (r:TraceRun {id: $id})
SET r.created = datetime({epochSeconds: $created_s}), r.params = $params,
    r.events = coalesce($events, r.events)
