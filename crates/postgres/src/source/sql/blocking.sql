SELECT coalesce(json_agg(b ORDER BY b.pid), '[]')::text
FROM (SELECT pid, pg_blocking_pids(pid) AS blocked_by,
             extract(epoch FROM now() - state_change)::float8 AS waiting_s
      FROM pg_stat_activity
      WHERE cardinality(pg_blocking_pids(pid)) > 0
      ORDER BY pid LIMIT {max_rows}) b
