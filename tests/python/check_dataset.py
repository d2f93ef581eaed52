"""A converted dataset opens unchanged in pyarrow, DuckDB, polars and pandas.

Usage: check_dataset.py DATASET_DIR  (as written by `wa1kpcap convert`/`demo`).
Checks row counts against manifest.json, column types, list columns, the
query users quote, Hive partition columns when the dataset is partitioned,
and the packets, tls_certificates and dns tables (if written) against the
flows, through each reader
with no options beyond naming the files.
"""
import glob
import json
import os
import sys

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds

root = sys.argv[1]
flows = f"{root}/flows"
manifest = json.load(open(f"{root}/manifest.json"))
expected = manifest["flows"]
assert expected > 0, "dataset has flows"
files = sorted(glob.glob(f"{flows}/**/*.parquet", recursive=True))
partitioned = any(os.path.dirname(f) != flows for f in files)
pattern = f"{flows}/**/*.parquet"

t = ds.dataset(flows, format="parquet", partitioning="hive").to_table()
assert t.num_rows == expected, (t.num_rows, expected)
types = {f.name: f.type for f in t.schema}
assert types["start_time"] == pa.timestamp("us", tz="UTC"), types["start_time"]
assert types["packet_lengths"] == pa.list_(pa.int64()), types["packet_lengths"]
assert types["iats"] == pa.list_(pa.float64()), types["iats"]
assert types["src_port"] == pa.int32() and types["packet_count"] == pa.int64()
assert all(not pa.types.is_unsigned_integer(ty) for ty in types.values()), "signed integers only"
assert len(set(t.column("flow_id").to_pylist())) == expected, "flow ids unique"
partition_cols = []
if partitioned:
    key = os.path.relpath(files[0], flows).split(os.sep)[0].split("=")[0]
    partition_cols = [key]
    assert key in types, f"hive partition column {key} appears"

rows = duckdb.sql(
    f"SELECT src_ip, dst_ip, packet_count, pkt_mean, app_mean, iat_max FROM '{pattern}'"
).fetchall()
assert len(rows) == expected
n_lists = duckdb.sql(f"SELECT sum(len(packet_lengths)) FROM '{pattern}'").fetchall()[0][0]
assert n_lists == sum(r[2] for r in rows), "list lengths equal packet counts"
if partitioned:
    cols = [c[0] for c in duckdb.sql(f"DESCRIBE SELECT * FROM '{pattern}'").fetchall()]
    assert partition_cols[0] in cols, ("duckdb sees the partition column", cols)

# polars infers Hive partitions when given the directory
df = pl.read_parquet(f"{flows}/")
assert df.height == expected and df.schema["packet_lengths"] == pl.List(pl.Int64)

pdf = pd.read_parquet(flows)
assert len(pdf) == expected and str(pdf["start_time"].dtype) == "datetime64[us, UTC]"

if partitioned:
    key = partition_cols[0]
    assert key in df.columns and key in pdf.columns, "polars and pandas see the partition column"
    if key == "capture":
        # percent-encoded directory names decode back to the capture paths
        captures = {r["capture"] for r in manifest["inputs"] if r["flows"] > 0}
        for values in (
            set(t.column("capture").to_pylist()),
            {r[0] for r in duckdb.sql(f"SELECT DISTINCT capture FROM '{pattern}'").fetchall()},
            set(df["capture"].to_list()),
            set(pdf["capture"].astype(str)),
        ):
            assert values == captures, sorted(values ^ captures)[:5]

# application-protocol columns: nullable, and the query users quote works
tls = duckdb.sql(
    f"SELECT sni, alpn, ja4, app_mean, app_protocol, quic_version FROM '{pattern}' WHERE sni IS NOT NULL"
).fetchall()
assert types["sni"] == pa.string() and types["alpn"] == pa.list_(pa.string())
assert len(tls) == t.column("sni").drop_null().length(), "sni rows agree"
assert len(tls) > 0, "the dataset has TLS flows with a server name"
# JA4 starts with t over TCP, q over QUIC, d over DTLS; a Google QUIC
# CHLO (version Q0xx) names its server without a TLS hello, so no JA4
first = {"quic": "q", "dtls": "d"}
gquic = [r for r in tls if (r[5] or "").startswith("Q0")]
assert all(r[2] is None for r in gquic), "no JA4 without a TLS hello"
assert all(
    r[2] and r[2][0] == first.get(r[4], "t") for r in tls if r not in gquic
), "a JA4 beside every SNI of a TLS hello"

msg = f"python readers: {expected} flows, {t.num_columns} columns read by pyarrow, duckdb, polars, pandas"
if partitioned:
    msg += f" (hive partitions: {partition_cols[0]})"
msg += f"; {len(tls)} with a TLS server name"

packets = f"{root}/packets"
if os.path.isdir(packets):
    ppattern = f"{packets}/**/*.parquet"
    p = ds.dataset(packets, format="parquet", partitioning="hive").to_table()
    ptypes = {f.name: f.type for f in p.schema}
    assert ptypes["timestamp"] == pa.timestamp("us", tz="UTC")
    assert ptypes["flow_id"] == pa.int64() and ptypes["tcp_flags"] == pa.int32()
    # every counted packet has a row, and each joins its flow
    per_flow = duckdb.sql(
        f"""SELECT f.flow_id, f.packet_count, count(p.flow_id) AS n
            FROM '{pattern}' f LEFT JOIN '{ppattern}' p USING (flow_id)
            GROUP BY f.flow_id, f.packet_count
            HAVING count(p.flow_id) <> f.packet_count"""
    ).fetchall()
    assert per_flow == [], per_flow[:5]
    assert p.num_rows == sum(r[2] for r in rows), (p.num_rows, "packets = Σ packet_count")
    assert pl.read_parquet(ppattern).height == p.num_rows
    assert len(pd.read_parquet(packets)) == p.num_rows
    msg += f"; packets: {p.num_rows} rows join their flows"

certs = f"{root}/tls_certificates"
if os.path.isdir(certs):
    cpattern = f"{certs}/**/*.parquet"
    c = ds.dataset(certs, format="parquet", partitioning="hive").to_table()
    # one row per certificate of each flow's chain: rows = Σ cert_chain_len,
    # and the leaf (position 0) is the flow's cert_* columns
    chain_total = duckdb.sql(f"SELECT coalesce(sum(cert_chain_len), 0) FROM '{pattern}'").fetchall()[0][0]
    assert c.num_rows == chain_total, (c.num_rows, chain_total)
    odd = duckdb.sql(
        f"""SELECT f.flow_id FROM '{pattern}' f JOIN '{cpattern}' c USING (flow_id)
            WHERE c.position = 0 AND (c.sha256 <> f.cert_sha256
                  OR c.subject IS DISTINCT FROM f.cert_subject)"""
    ).fetchall()
    assert odd == [], odd[:5]
    assert pl.read_parquet(cpattern).height == c.num_rows
    assert len(pd.read_parquet(certs)) == c.num_rows
    msg += f"; tls_certificates: {c.num_rows} rows = their flows' chains"

dns_dir = f"{root}/dns"
if os.path.isdir(dns_dir):
    dpattern = f"{dns_dir}/**/*.parquet"
    d = ds.dataset(dns_dir, format="parquet", partitioning="hive").to_table()
    # every message joins a DNS flow, whose first question it may be
    orphans = duckdb.sql(
        f"""SELECT count(*) FROM '{dpattern}' d LEFT JOIN '{pattern}' f USING (flow_id)
            WHERE f.flow_id IS NULL OR f.app_protocol IS NULL"""
    ).fetchall()[0][0]
    assert orphans == 0, orphans
    unlisted = duckdb.sql(
        f"""SELECT count(*) FROM '{dpattern}' d JOIN '{pattern}' f USING (flow_id)
            WHERE d.qname IS NOT NULL AND NOT list_contains(f.dns_queries, d.qname)
              AND len(f.dns_queries) < 32"""
    ).fetchall()[0][0]
    assert unlisted == 0, unlisted
    assert pl.read_parquet(dpattern).height == d.num_rows
    assert len(pd.read_parquet(dns_dir)) == d.num_rows
    msg += f"; dns: {d.num_rows} messages join their flows"
print(msg)
