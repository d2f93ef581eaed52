-- ML features from the sequences: the first 10 signed packet lengths, and
-- statistics recomputed from them (equal to the flow's pkt_* columns when
-- the whole flow is kept: see schemas/sql.md).
SELECT flow_id,
       app_protocol,
       seq_head(packet_lengths, 10)         AS first_lengths,
       seq_stat(packet_lengths, 'mean')     AS mean_len,
       seq_stat(packet_lengths, 'up_max')   AS max_up_len,
       seq_stat(iats, 'median')             AS median_iat
FROM flows
ORDER BY flow_id
LIMIT 50;
