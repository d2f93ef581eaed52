-- Names that did not resolve: DNS responses with NXDOMAIN, by name and
-- asking client (the dns table: convert with --packets or --tables dns).
SELECT qname,
       dst_ip        AS client,
       count(*)      AS responses,
       min(timestamp) AS first_seen
FROM dns
WHERE response AND rcode = 'NXDOMAIN'
GROUP BY qname, dst_ip
ORDER BY responses DESC, qname;
