-- Flows, packets and bytes per application protocol recognised from the
-- flows' bytes (NULL: none of tls, quic, http, dns, dhcp).
SELECT coalesce(app_protocol, '(none)') AS app_protocol,
       count(*)          AS flows,
       sum(packet_count) AS packets,
       sum(byte_count)   AS bytes
FROM flows
GROUP BY 1
ORDER BY flows DESC, 1;
