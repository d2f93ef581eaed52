-- Flows, bytes and distinct clients per hour of flow start (UTC).
SELECT date_trunc('hour', start_time) AS hour,
       count(*)                       AS flows,
       sum(byte_count)                AS bytes,
       count(DISTINCT src_ip)         AS clients
FROM flows
GROUP BY 1
ORDER BY 1;
