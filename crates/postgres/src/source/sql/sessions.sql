WITH matched AS (
  SELECT * FROM pg_stat_activity
  WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'
)
SELECT json_build_object(
  'matched', (SELECT count(*) FROM matched),
  -- Backends this role may not see at all (no pg_read_all_stats): every column but the pid is hidden.
  'hidden', (SELECT count(*) FROM pg_stat_activity WHERE backend_type IS NULL),
  'rows', (SELECT coalesce(json_agg(s ORDER BY s.xact_age_s DESC NULLS LAST, s.query_age_s DESC NULLS LAST, s.pid), '[]')
           FROM (SELECT pid, datname AS database, usename AS "user", application_name AS application,
                        host(client_addr) AS client, state, wait_event_type, wait_event,
                        backend_start::text AS backend_start, query_start::text AS query_start,
                        extract(epoch FROM now() - xact_start)::float8 AS xact_age_s,
                        extract(epoch FROM now() - query_start)::float8 AS query_age_s,
                        extract(epoch FROM now() - state_change)::float8 AS state_age_s,
                        left(query, {query_chars}) AS query
                 FROM matched
                 ORDER BY xact_start NULLS LAST, query_start NULLS LAST, pid
                 LIMIT {max_rows}) s)
)::text
