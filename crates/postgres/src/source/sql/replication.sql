SELECT json_build_object(
  'in_recovery', pg_is_in_recovery(),
  'replay_delay_s', CASE WHEN pg_is_in_recovery()
                         THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END,
  'standbys', (SELECT coalesce(json_agg(r), '[]')
               FROM (SELECT application_name AS application, host(client_addr) AS client, state, sync_state,
                            extract(epoch FROM write_lag)::float8 AS write_lag_s,
                            extract(epoch FROM flush_lag)::float8 AS flush_lag_s,
                            extract(epoch FROM replay_lag)::float8 AS replay_lag_s,
                            CASE WHEN pg_is_in_recovery() THEN NULL
                                 ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 END AS replay_lag_bytes
                     FROM pg_stat_replication
                     ORDER BY application_name, pid LIMIT {max_rows}) r)
)::text
