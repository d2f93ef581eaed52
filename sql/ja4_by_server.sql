-- Client fingerprints behind each server name: JA4 and its parts, how many
-- flows and clients used them.
SELECT sni,
       ja4,
       ja4_part(ja4, 'a')    AS ja4_a,
       count(*)              AS flows,
       count(DISTINCT src_ip) AS clients
FROM flows
WHERE ja4 IS NOT NULL
GROUP BY sni, ja4
ORDER BY flows DESC, sni, ja4;
