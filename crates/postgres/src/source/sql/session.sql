SELECT row_to_json(s)::text
FROM (SELECT {session_columns}
      FROM pg_stat_activity WHERE pid = $1) s
