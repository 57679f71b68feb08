SELECT json_build_object(
  'version', current_setting('server_version'),
  'version_num', current_setting('server_version_num')::int,
  'in_recovery', pg_is_in_recovery(),
  'user', current_user,
  'superuser', current_setting('is_superuser') = 'on',
  'sees_all_sessions', pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'),
  'may_signal', pg_has_role(current_user, 'pg_signal_backend', 'USAGE'),
  'uptime_s', extract(epoch FROM now() - pg_postmaster_start_time())::float8
)::text
