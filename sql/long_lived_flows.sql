-- The longest flows, with their rate and how they ended.
SELECT src_ip, src_port, dst_ip, dst_port, protocol,
       duration,
       packet_count,
       byte_count,
       CASE WHEN duration > 0 THEN byte_count / duration END AS bytes_per_s,
       end_reason
FROM flows
ORDER BY duration DESC, packet_count DESC
LIMIT 20;
