SELECT backend_start::text, query_start::text,
       CASE WHEN backend_start = $2::text::timestamptz
             AND query_start IS NOT DISTINCT FROM $3::text::timestamptz
            THEN {function}(pid) END AS sent
FROM pg_stat_activity WHERE pid = $1
