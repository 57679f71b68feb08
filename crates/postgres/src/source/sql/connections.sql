SELECT json_build_object(
  'max_connections', current_setting('max_connections')::int,
  'superuser_reserved', current_setting('superuser_reserved_connections')::int,
  'total', (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
  'hidden', (SELECT count(*) FROM pg_stat_activity WHERE backend_type IS NULL),
  'by_state', (SELECT coalesce(json_agg(s ORDER BY s.count DESC, s.state), '[]')
               FROM (SELECT coalesce(state, 'unknown') AS state, count(*) AS count
                     FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1) s),
  'by_client', (SELECT coalesce(json_agg(c ORDER BY c.count DESC, c."user", c.application), '[]')
                FROM (SELECT usename AS "user", application_name AS application, count(*) AS count
                      FROM pg_stat_activity WHERE backend_type = 'client backend'
                      GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT {max_rows}) c)
)::text
