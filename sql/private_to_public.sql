-- Traffic leaving private address space, per destination, with the
-- Community ID of one of its flows (to pivot into Zeek or Suricata logs).
SELECT dst_ip,
       count(*)         AS flows,
       sum(byte_count)  AS bytes,
       min(community_id(src_ip, dst_ip, src_port, dst_port, protocol)) AS a_community_id
FROM flows
WHERE is_private_ip(src_ip) AND NOT is_private_ip(dst_ip)
GROUP BY dst_ip
ORDER BY bytes DESC, dst_ip;
