SELECT coalesce(json_agg(g ORDER BY g.errors DESC, g.pillow, g.error_type), '[]')::text
FROM (SELECT pillow, error_type, count(*) AS errors, sum(total_attempts)::bigint AS attempts,
             min(date_created)::text AS oldest, max(coalesce(date_last_attempt, date_created))::text AS newest,
             extract(epoch FROM now() - min(date_created))::float8 AS oldest_age_s,
             extract(epoch FROM now() - max(coalesce(date_last_attempt, date_created)))::float8 AS newest_age_s
      FROM pillow_retry_pillowerror
      GROUP BY pillow, error_type
      ORDER BY errors DESC, pillow, error_type LIMIT {max_rows}) g
