-- Negotiated TLS versions, and servers that chose a weak cipher suite
-- (NULL, export, RC4, DES/3DES, anonymous, CBC with SHA-1 MACs are the
-- IANA ranges listed) or a version older than TLS 1.2.
SELECT tls_version,
       tls_cipher,
       CASE
         WHEN tls_version IN ('SSL 3.0', 'TLS 1.0', 'TLS 1.1') THEN 'old version'
         WHEN tls_cipher IN (0, 1, 2, 3, 4, 5, 8, 9, 10, 24, 27, 47, 53, 49170, 49171, 49172)
           THEN 'weak cipher'
         ELSE 'ok'
       END             AS verdict,
       count(*)        AS flows,
       min(sni)        AS example_sni
FROM flows
WHERE tls_version IS NOT NULL
GROUP BY tls_version, tls_cipher
ORDER BY verdict, flows DESC;
