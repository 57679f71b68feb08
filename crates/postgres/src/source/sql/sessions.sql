WITH matched AS (
  SELECT * FROM pg_stat_activity
  WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'
)
SELECT json_build_object(
  'matched', (SELECT count(*) FROM matched),
  -- Backends this role may not see at all (no pg_read_all_stats): every column but the pid is hidden.
  'hidden', (SELECT count(*) FROM pg_stat_activity WHERE backend_type IS NULL),
  'rows', (SELECT coalesce(json_agg(s ORDER BY s.xact_age_s DESC NULLS LAST, s.query_age_s DESC NULLS LAST, s.pid), '[]')
           FROM (SELECT {session_columns}
                 FROM matched
                 ORDER BY xact_start NULLS LAST, query_start NULLS LAST, pid
                 LIMIT {max_rows}) s)
)::text
