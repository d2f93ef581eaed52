-- Drill-down: every packet of the flow with the most packets, with its
-- direction, length, TCP flags as letters and time since the flow began.
WITH target AS (
  SELECT flow_id, start_time FROM flows ORDER BY packet_count DESC, flow_id LIMIT 1
)
SELECT p.frame_number,
       p.direction,
       p.wirelen,
       tcp_flags_str(p.tcp_flags)  AS flags,
       p.timestamp - t.start_time  AS since_start
FROM packets p JOIN target t USING (flow_id)
ORDER BY p.timestamp, p.frame_number;
