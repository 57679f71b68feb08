pid, datname AS database, usename AS "user", application_name AS application,
host(client_addr) AS client, state, wait_event_type, wait_event,
backend_start::text AS backend_start, query_start::text AS query_start,
extract(epoch FROM now() - xact_start)::float8 AS xact_age_s,
extract(epoch FROM now() - query_start)::float8 AS query_age_s,
extract(epoch FROM now() - state_change)::float8 AS state_age_s,
left(query, {query_chars}) AS query
