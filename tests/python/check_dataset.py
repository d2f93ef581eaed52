"""A converted dataset opens unchanged in pyarrow, DuckDB, polars and pandas.

Usage: check_dataset.py DATASET_DIR  (as written by `wa1kpcap convert`/`demo`).
Checks row counts against manifest.json, column types, list columns, and
the query users quote, through each reader with no options.
"""
import json
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

t = ds.dataset(flows, format="parquet").to_table()
assert t.num_rows == expected, (t.num_rows, expected)
types = {f.name: f.type for f in t.schema}
assert types["start_time"] == pa.timestamp("us", tz="UTC"), types["start_time"]
assert types["packet_lengths"] == pa.list_(pa.int64()), types["packet_lengths"]
assert types["iats"] == pa.list_(pa.float64()), types["iats"]
assert types["src_port"] == pa.int32() and types["packet_count"] == pa.int64()
assert all(not pa.types.is_unsigned_integer(ty) for ty in types.values()), "signed integers only"
assert len(set(t.column("flow_id").to_pylist())) == expected, "flow ids unique"

rows = duckdb.sql(
    f"SELECT src_ip, dst_ip, packet_count, pkt_mean, app_mean, iat_max FROM '{flows}/*.parquet'"
).fetchall()
assert len(rows) == expected
n_lists = duckdb.sql(f"SELECT sum(len(packet_lengths)) FROM '{flows}/*.parquet'").fetchall()[0][0]
assert n_lists == sum(r[2] for r in rows), "list lengths equal packet counts"

df = pl.read_parquet(f"{flows}/*.parquet")
assert df.height == expected and df.schema["packet_lengths"] == pl.List(pl.Int64)

pdf = pd.read_parquet(flows)
assert len(pdf) == expected and str(pdf["start_time"].dtype) == "datetime64[us, UTC]"

print(f"python readers: {expected} flows, {t.num_columns} columns read by pyarrow, duckdb, polars, pandas")
