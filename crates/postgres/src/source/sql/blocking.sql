-- pg_blocking_pids takes the lock manager's locks: called once per backend (a subquery with a volatile
-- function is not flattened), then filtered.
SELECT coalesce(json_agg(b ORDER BY b.pid), '[]')::text
FROM (SELECT pid, blocked_by, waiting_s
      FROM (SELECT pid, pg_blocking_pids(pid) AS blocked_by,
                   extract(epoch FROM now() - state_change)::float8 AS waiting_s
            FROM pg_stat_activity) a
      WHERE cardinality(blocked_by) > 0
      ORDER BY pid LIMIT {max_rows}) b
