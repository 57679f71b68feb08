SELECT coalesce(json_agg(d ORDER BY d.bytes DESC, d.name), '[]')::text
FROM (SELECT name, bytes
      FROM (SELECT datname AS name, pg_database_size(oid) AS bytes FROM pg_database WHERE datallowconn) s
      -- A database being dropped while this runs has no size (NULL): it is left out.
      WHERE bytes IS NOT NULL
      ORDER BY 2 DESC, 1 LIMIT {max_rows}) d
