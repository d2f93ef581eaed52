-- What each name resolved to: one row per (name, answer), from the flows'
-- DNS columns.
SELECT dns_query, answer, count(*) AS flows
FROM (SELECT dns_query, unnest(dns_answers) AS answer
      FROM flows
      WHERE dns_query IS NOT NULL)
GROUP BY dns_query, answer
ORDER BY flows DESC, dns_query, answer;
