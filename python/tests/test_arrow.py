"""Arrow-native calls: ``read_flows`` has the Parquet dataset's schema and
pyarrow, polars and pandas take it; ``convert`` writes the CLI's dataset."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import wa1kpcap
from conftest import cli_binary, manifest


def test_schema_is_the_parquet_datasets(captures, tmp_path):
    t = wa1kpcap.read_flows(captures["sample"])
    ds = tmp_path / "ds"
    wa1kpcap.convert(captures["sample"], ds, tables=["none"])
    files = sorted((ds / "flows").rglob("*.parquet"))
    assert files
    assert pq.read_schema(files[0]).remove_metadata() == t.schema.remove_metadata()
    # types every reader takes: no unsigned ints, µs UTC timestamps, plain lists
    for f in t.schema:
        assert not pa.types.is_unsigned_integer(f.type), f.name
        assert not pa.types.is_large_list(f.type), f.name
        if pa.types.is_timestamp(f.type):
            assert f.type == pa.timestamp("us", tz="UTC"), f.name


def test_readers_take_the_table(captures):
    import pandas as pd
    import polars as pl

    t = wa1kpcap.read_flows(captures["traffic"])
    n = t.num_rows
    assert hasattr(t, "__arrow_c_stream__")
    assert pa.table(t).num_rows == n
    assert pl.DataFrame(t).height == n
    assert pl.from_arrow(t)["pkt_mean"].to_list() == t.column("pkt_mean").to_pylist()
    df = t.to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == n
    if hasattr(pd.DataFrame, "from_arrow"):  # pandas ≥ 3: the C stream interface
        assert len(pd.DataFrame.from_arrow(t)) == n
    assert df["sni"].dropna().tolist() == [s for s in t.column("sni").to_pylist() if s is not None]


def test_read_flows_shares_the_engines_buffers(captures):
    """One call's table is the engine's batches: pyarrow imported them
    through the C stream interface, so its own memory pool did not fill
    with a copy of them (a table rebuilt in Python would allocate there)."""
    before = pa.total_allocated_bytes()
    t = wa1kpcap.read_flows(captures["traffic"])
    grown = pa.total_allocated_bytes() - before
    assert t.num_rows > 0 and t.nbytes > 100_000
    assert grown < t.nbytes / 10, (grown, t.nbytes)
    # a copy does land in the pool: the check above can tell
    copy = pa.Table.from_pylist(t.slice(0, 200).to_pylist(), schema=t.schema)
    assert pa.total_allocated_bytes() - before > grown
    assert copy.num_rows == 200


def test_convert_writes_the_clis_dataset(captures, tmp_path):
    b = cli_binary()
    if b is None:
        pytest.skip("no wa1kpcap CLI")
    import subprocess

    py_ds, cli_ds = tmp_path / "py", tmp_path / "cli"
    m = wa1kpcap.convert([captures["sample"], captures["traffic"]], py_ds, partition_by="date",
                         tables=["packets", "dns", "tls_certificates"])
    subprocess.run([b, "convert", "-q", "--partition-by", "date", "--tables", "packets,dns,tls-certificates",
                    "-o", str(cli_ds), str(captures["sample"]), str(captures["traffic"])], check=True)
    cm = manifest(cli_ds)
    assert m["flows"] == cm["flows"] and m["packets"] == cm["packets"]
    assert m["settings"] == cm["settings"]
    for table in ("flows", "packets", "dns", "tls_certificates"):
        a = sorted(p.relative_to(py_ds) for p in (py_ds / table).rglob("*.parquet"))
        c = sorted(p.relative_to(cli_ds) for p in (cli_ds / table).rglob("*.parquet"))
        assert a == c, table
        for rel in a:
            assert pq.read_table(py_ds / rel).equals(pq.read_table(cli_ds / rel)), rel
    # a re-run resumes: nothing converted again
    again = wa1kpcap.convert([captures["sample"], captures["traffic"]], py_ds, partition_by="date",
                             tables=["packets", "dns", "tls_certificates"])
    assert again["inputs_skipped"] == 2
    with pytest.raises(ValueError):
        wa1kpcap.convert(captures["sample"], py_ds, partition_by="hour")


def test_read_tables_joins_by_flow_id(captures):
    t = wa1kpcap.read_tables(captures["sample"], ("flows", "packets", "dns", "tls_certificates"))
    flows, packets = t["flows"], t["packets"]
    assert packets.num_rows == sum(flows.column("packet_count").to_pylist())
    assert set(packets.column("flow_id").to_pylist()) <= set(flows.column("flow_id").to_pylist())
    assert set(t["dns"].column("flow_id").to_pylist()) <= set(flows.column("flow_id").to_pylist())
