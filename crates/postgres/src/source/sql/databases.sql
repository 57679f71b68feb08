SELECT coalesce(json_agg(d ORDER BY d.bytes DESC, d.name), '[]')::text
FROM (SELECT datname AS name, pg_database_size(oid) AS bytes
      FROM pg_database WHERE datallowconn
      ORDER BY 2 DESC, 1 LIMIT {max_rows}) d
