// runs: the saved trace runs, oldest first.
//
// Purpose: id, created (datetime), params (JSON text) of every TraceRun.
// Parameters: none.
// Example (Browser): run as is.
MATCH (r:TraceRun)
RETURN r.id AS id, r.created AS created, r.params AS params
ORDER BY created, id
