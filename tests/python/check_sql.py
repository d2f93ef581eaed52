"""`wa1kpcap query` and DuckDB give the same numbers on the same Parquet.

Usage: check_sql.py WA1KPCAP_BINARY DATASET_DIR
Runs one aggregate through both (per application protocol: flows, packets,
bytes, mean of app_mean, distinct server names) and a filtered count, and
compares them exactly (floats to 1e-9 relative).
"""
import json
import math
import subprocess
import sys

import duckdb

binary, root = sys.argv[1], sys.argv[2]
pattern = f"{root}/flows/**/*.parquet"

AGG = """SELECT coalesce(app_protocol, '-') AS proto, count(*) AS flows,
       sum(packet_count) AS packets, sum(byte_count) AS bytes,
       avg(app_mean) AS mean_app, count(DISTINCT sni) AS snis
FROM {t} GROUP BY 1 ORDER BY 1"""
FILTERED = """SELECT count(*) AS n, sum(byte_count) AS bytes FROM {t}
WHERE protocol = 6 AND packet_count > 3 AND dst_port IN (80, 443)"""


def ours(sql):
    out = subprocess.run(
        [binary, "query", root, "-e", sql.format(t="flows"), "--format", "json"],
        check=True, capture_output=True, text=True,
    ).stdout
    return [tuple(r.values()) for r in json.loads(out or "[]")]


def theirs(sql):
    return [tuple(r) for r in duckdb.sql(sql.format(t=f"'{pattern}'")).fetchall()]


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


for sql in (AGG, FILTERED):
    a, b = ours(sql), theirs(sql)
    assert len(a) == len(b), (a, b)
    for ra, rb in zip(a, b):
        assert len(ra) == len(rb) and all(same(x, y) for x, y in zip(ra, rb)), (ra, rb)
print(f"query vs duckdb: {len(ours(AGG))} protocol groups and a filtered count equal")
