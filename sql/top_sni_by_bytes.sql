-- Top TLS/QUIC server names by bytes, with flow counts and the mean
-- application payload per packet.
SELECT sni,
       count(*)             AS flows,
       sum(byte_count)      AS bytes,
       avg(app_mean)        AS avg_app_mean
FROM flows
WHERE sni IS NOT NULL
GROUP BY sni
ORDER BY bytes DESC, sni
LIMIT 20;
