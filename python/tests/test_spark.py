"""``wa1kpcap.spark`` in Spark's local mode, against the CLI: the rows of
``read_captures`` equal the CLI dataset's row for row (flow ids included),
``convert`` on Spark writes the CLI's dataset file for file, SQL in Spark
equals DuckDB over the CLI's dataset, damaged captures are reported and
the rest converts — on generated captures and on the shared corpus."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import wa1kpcap
from conftest import CERT_DER, cli_binary

ROW_TABLES = ("packets", "dns", "tls_certificates")


def _need(what: str, why: str):
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI: {why}")
    print(f"skipped: {why}", file=sys.stderr)
    pytest.skip(why)


@pytest.fixture(scope="module")
def ws():
    try:
        from wa1kpcap import spark
        import pyspark  # noqa: F401
    except ImportError:
        _need("pyspark", "pyspark is not installed (pip install ./python[spark])")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _need("java", "no Java runtime for Spark")
    return spark


@pytest.fixture(scope="module")
def spark(ws):
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    s = (SparkSession.builder.master("local[2]").appName("wa1kpcap-tests")
         .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "4").getOrCreate())
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def cli() -> str:
    b = cli_binary()
    if b is None:
        _need("WA1KPCAP_BIN", "no wa1kpcap CLI (set WA1KPCAP_BIN)")
    return b


def cli_convert(inputs, out: Path, *args: str) -> dict:
    """`wa1kpcap convert` (exit 1 when an input is damaged) and its manifest."""
    r = subprocess.run([cli(), "convert", "-q", "--overwrite", "-o", str(out), *args, *map(str, inputs)],
                       capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    return json.loads((out / "manifest.json").read_text())


def write_pcap_split(src: Path, parts: int, out_dir: Path) -> list[Path]:
    """A classic pcap cut at record boundaries into consecutive files (what
    `editcap -c` does), for `stitch`."""
    data = src.read_bytes()
    header, pos, records = data[:24], 24, []
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    while pos + 16 <= len(data):
        incl = int.from_bytes(data[pos + 8:pos + 12], "little" if order == "<" else "big")
        records.append(data[pos:pos + 16 + incl])
        pos += 16 + incl
    per = -(-len(records) // parts)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(parts):
        f = out_dir / f"part{i}.pcap"
        f.write_bytes(header + b"".join(records[i * per:(i + 1) * per]))
        files.append(f)
    return files


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Generated captures and two damaged ones."""
    d = tmp_path_factory.mktemp("spark-inputs")
    wa1kpcap.write_sample(d / "sample.pcap")
    traffic = wa1kpcap.write_sample(d / "traffic.pcap", "traffic", sessions=120)
    sub = d / "more"
    sub.mkdir()
    wa1kpcap.write_sample(sub / "traffic2.pcap", "traffic", sessions=40)
    wa1kpcap.write_sample(sub / "cert.pcap", "tls_cert", ders=[CERT_DER, CERT_DER])
    raw = traffic.read_bytes()
    (d / "broken.pcap").write_bytes(raw[: len(raw) // 2 + 7])  # cut inside a record
    (d / "junk.pcap").write_bytes(b"this is not a capture at all" * 10)
    return d


def sort_keys(t: pa.Table) -> list[tuple[str, str]]:
    flat = [f.name for f in t.schema
            if not (pa.types.is_nested(f.type) or pa.types.is_binary(f.type))]
    return [(n, "ascending") for n in flat]


def spark_arrow(df) -> pa.Table:
    if hasattr(df, "toArrow"):
        return df.toArrow()
    return pa.Table.from_batches(df._collect_as_arrow(), schema=None)


def dataset_table(root: Path, table: str) -> pa.Table | None:
    files = sorted((root / table).rglob("*.parquet"))
    if not files:
        return None
    return pa.concat_tables([pq.read_table(f, partitioning=None) for f in files])


def assert_rows_equal(got: pa.Table, want: pa.Table, ws, table: str):
    """Equal as Spark would hold them: the CLI's table cast to the Spark
    schema, both sorted on every flat column; every column compared."""
    target = ws.spark_arrow_schema(want.schema)
    want = want.cast(target)
    assert got.schema.names == want.schema.names, table
    for f, g in zip(want.schema, got.schema):
        assert g.type == f.type, f"{table}.{f.name}: {g.type} != {f.type}"
    assert got.num_rows == want.num_rows, table
    keys = sort_keys(want)
    got, want = got.sort_by(keys), want.sort_by(keys)
    for name in want.schema.names:
        assert got.column(name).equals(want.column(name)), f"{table}.{name} differs"


# --- schemas ---------------------------------------------------------------

def test_every_column_type_is_one_spark_takes_as_is(ws, spark):
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    for table in ("flows",) + ROW_TABLES + ("inputs",):
        engine = ws.engine_schema(table)
        target = ws.spark_arrow_schema(engine)
        assert target.names == engine.names
        try:
            back = to_arrow_schema(from_arrow_schema(target), timezone="UTC")
        except TypeError:  # pyspark < 4: no timezone argument, always UTC
            back = to_arrow_schema(from_arrow_schema(target))
        for f, b in zip(target, back):
            assert b.type == f.type, f"{table}.{f.name}: Spark gives {b.type} for {f.type}"
            assert b.nullable == f.nullable, f"{table}.{f.name} nullability"
    # the spark schema equals the DataFrame's
    assert ws.spark_schema("dns") == ws.read_captures(spark, [], table="dns").schema


def test_types_spark_rejects_are_mapped_and_cast_exactly(ws):
    engine = pa.schema([
        pa.field("u8", pa.uint8()), pa.field("u16", pa.uint16()), pa.field("u32", pa.uint32()),
        pa.field("u64", pa.uint64()), pa.field("ts", pa.timestamp("ns", tz="UTC")),
        pa.field("big", pa.large_list(pa.large_string())), pa.field("d", pa.dictionary(pa.int8(), pa.string())),
    ])
    want = [pa.int16(), pa.int32(), pa.int64(), pa.int64(), pa.timestamp("us", tz="UTC"),
            pa.list_(pa.string()), pa.string()]
    got = ws.spark_arrow_schema(engine)
    assert [f.type for f in got] == want
    ok = pa.table({"u64": pa.array([2**63 - 1], pa.uint64()), "ts": pa.array([1_000_000_000], pa.timestamp("ns", "UTC"))})
    t = ok.cast(pa.schema([got.field("u64"), got.field("ts")]))
    assert t.column("u64").to_pylist() == [2**63 - 1]
    # a value that does not fit is an error, never a silent change
    with pytest.raises(pa.ArrowInvalid):
        pa.table({"u64": pa.array([2**63], pa.uint64())}).cast(pa.schema([got.field("u64")]))
    with pytest.raises(pa.ArrowInvalid):
        pa.table({"ts": pa.array([1_000_000_001], pa.timestamp("ns", "UTC"))}).cast(pa.schema([got.field("ts")]))


# --- read_captures -----------------------------------------------------------

@pytest.fixture(scope="module")
def cli_dataset(inputs, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("cli-none")
    m = cli_convert([inputs], out, "--tables", "packets,dns,tls_certificates")
    return out, m


@pytest.mark.parametrize("table", ("flows",) + ROW_TABLES)
def test_read_captures_equals_the_cli_dataset(ws, spark, inputs, cli_dataset, table):
    got = spark_arrow(ws.read_captures(spark, inputs, table=table))
    want = dataset_table(cli_dataset[0], table)
    assert want is not None and want.num_rows > 0
    assert_rows_equal(got, want, ws, table)
    if table == "flows":
        ids = got.column("flow_id").to_pylist()
        assert len(set(ids)) == len(ids)
        # several captures, each with its own index in the high bits
        assert len({i >> 40 for i in ids}) >= 3


def test_inputs_table_reports_damaged_captures(ws, spark, inputs, cli_dataset):
    rows = {r["capture"]: r for r in spark_arrow(ws.read_captures(spark, inputs, table="inputs")).to_pylist()}
    cli_inputs = {r["capture"]: r for r in cli_dataset[1]["inputs"]}
    assert set(rows) == set(cli_inputs)
    for name, r in rows.items():
        c = cli_inputs[name]
        for k in ("capture_index", "size_bytes", "packets", "flows", "anomalies", "error"):
            assert r[k] == c[k], (name, k)
    assert rows["broken.pcap"]["error"] and rows["broken.pcap"]["packets"] > 0
    assert rows["junk.pcap"]["error"]
    assert rows["sample.pcap"]["error"] is None


def test_spark_sql_equals_duckdb_over_the_cli_dataset(ws, spark, inputs, cli_dataset):
    import duckdb
    q = "SELECT sni, count(*) AS n, avg(app_mean) AS m FROM flows GROUP BY sni"
    ws.read_captures(spark, inputs).createOrReplaceTempView("flows")
    got = sorted((r["sni"] or "", r["n"], r["m"]) for r in spark.sql(q).collect())
    con = duckdb.connect()
    con.execute(f"CREATE VIEW flows AS SELECT * FROM read_parquet('{cli_dataset[0]}/flows/**/*.parquet')")
    want = sorted((s or "", n, m) for s, n, m in con.execute(q).fetchall())
    assert len(got) == len(want) and len(got) >= 2
    for g, w in zip(got, want):
        assert g[:2] == w[:2]
        assert g[2] == pytest.approx(w[2], rel=1e-12)


def test_missing_path_is_an_error_before_any_task(ws, spark, inputs, tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pcap"):
        ws.read_captures(spark, [inputs / "sample.pcap", inputs / "nope.pcap"])
    with pytest.raises(FileNotFoundError):
        ws.convert(spark, [tmp_path / "nope.pcap"], tmp_path / "out")
    assert not (tmp_path / "out" / "flows").exists()
    with pytest.raises(ValueError, match="table"):
        ws.read_captures(spark, inputs, table="nope")
    with pytest.raises(TypeError, match="no_such_option"):
        ws.read_captures(spark, inputs, no_such_option=1)


# --- convert -----------------------------------------------------------------

def dataset_files(root: Path) -> dict[str, bytes]:
    """Every visible file of a dataset (data files, done markers) but the
    manifest, by relative path."""
    out = {}
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.name != "manifest.json":
            out[str(f.relative_to(root))] = f.read_bytes()
    return out


def assert_same_dataset(spark_root: Path, cli_root: Path, spark_manifest: dict):
    a, b = dataset_files(spark_root), dataset_files(cli_root)
    assert sorted(a) == sorted(b)
    for name in a:
        if name.endswith(".parquet"):
            # byte-equal apart from nothing: same writer, same settings
            assert pq.read_table(spark_root / name, partitioning=None).equals(
                pq.read_table(cli_root / name, partitioning=None)), name
        else:
            assert a[name] == b[name], name
    m_cli = json.loads((cli_root / "manifest.json").read_text())
    m_disk = json.loads((spark_root / "manifest.json").read_text())
    for m in (m_cli, m_disk, spark_manifest):
        m.pop("elapsed_s")
    assert m_disk == spark_manifest
    assert m_disk == m_cli


def test_convert_writes_the_cli_dataset(ws, spark, inputs, tmp_path):
    args = ("--partition-by", "date", "--tables", "packets,dns,tls_certificates")
    cli_m = cli_convert([inputs], tmp_path / "cli", *args)
    with pytest.warns(UserWarning, match="broken.pcap"):
        m = ws.convert(spark, inputs, tmp_path / "spark", partition_by="date",
                       tables=["packets", "dns", "tls_certificates"])
    assert any("date=" in o for r in m["inputs"] for o in r["outputs"])
    assert m["inputs_with_errors"] == cli_m["inputs_with_errors"] == 2
    bad = {r["capture"]: r["error"] for r in m["inputs"] if r["error"]}
    assert set(bad) == {"broken.pcap", "junk.pcap"}
    assert all(r["outputs"] for r in m["inputs"] if r["capture"] != "junk.pcap")
    assert_same_dataset(tmp_path / "spark", tmp_path / "cli", m)
    # the CLI's query reads it like its own
    q = subprocess.run([cli(), "query", str(tmp_path / "spark"), "--format", "csv", "-e",
                        "SELECT count(*) AS n FROM flows"], capture_output=True, text=True, check=True)
    assert int(q.stdout.split()[-1]) == m["flows"]


def test_convert_is_refused_while_another_conversion_holds_the_dataset(ws, spark, inputs, tmp_path):
    from wa1kpcap import _native

    out = tmp_path / "held"
    with _native.lock_dataset(out):  # what a running `wa1kpcap convert` holds
        with pytest.raises(ValueError, match="being written by another conversion"):
            ws.convert(spark, inputs, out, partition_by="none", tables=["none"])
        assert not (out / "manifest.json").exists()
        # and the CLI is refused while a driver holds it
        r = subprocess.run([cli(), "convert", "-q", "-o", str(out), str(inputs)], capture_output=True, text=True)
        assert r.returncode == 1 and "another conversion" in r.stderr
    m = ws.convert(spark, inputs, out, partition_by="none", tables=["none"])
    assert m["flows"] > 0


def test_convert_resumes_and_redoes_only_unfinished_units(ws, spark, inputs, tmp_path):
    out = tmp_path / "spark"
    first = ws.convert(spark, inputs, out, partition_by="none", tables=["dns"])
    files = {f: f.stat().st_mtime_ns for f in out.rglob("*.parquet")}
    again = ws.convert(spark, inputs, out, partition_by="none", tables=["dns"])
    # committed units are skipped (damaged ones too: the same bytes give the
    # same result), their reports and errors carried over
    assert all(r["skipped"] for r in again["inputs"])
    assert {r["capture"] for r in again["inputs"] if r["error"]} == {"broken.pcap", "junk.pcap"}
    assert {f: f.stat().st_mtime_ns for f in out.rglob("*.parquet")} == files
    # a task killed after committing part of its unit: files without a
    # marker and hidden temporaries; the next run redoes that unit only
    idx = next(r["capture_index"] for r in first["inputs"] if r["capture"] == "sample.pcap")
    (out / ".wa1kpcap" / "done" / f"{idx:06}.json").unlink()
    (out / "flows" / f".part-{idx:06}-00-0000.parquet.999-0.tmp").write_bytes(b"partial")
    (out / "flows" / f"part-{idx:06}-00-0007.parquet").write_bytes(b"partial")
    third = ws.convert(spark, inputs, out, partition_by="none", tables=["dns"])
    redone = {r["capture"] for r in third["inputs"] if not r["skipped"]}
    assert redone == {"sample.pcap"}
    assert not list(out.rglob("*.tmp")) and not (out / "flows" / f"part-{idx:06}-00-0007.parquet").exists()
    cli_convert([inputs], tmp_path / "cli", "--tables", "dns")
    third_disk = json.loads((out / "manifest.json").read_text())
    assert dataset_files(out) == dataset_files(tmp_path / "cli")
    assert third_disk["flows"] == json.loads((tmp_path / "cli" / "manifest.json").read_text())["flows"]
    # other settings on the same dataset are refused, as by the CLI
    with pytest.raises(ValueError, match="other settings"):
        ws.convert(spark, inputs, out, partition_by="hour", tables=["dns"])


def test_stitched_series_is_one_unit(ws, spark, inputs, tmp_path):
    parts = write_pcap_split(inputs / "traffic.pcap", 3, tmp_path / "series")
    cli_convert(parts, tmp_path / "cli", "--stitch", "--tables", "none")
    got = spark_arrow(ws.read_captures(spark, parts, stitch=True))
    want = dataset_table(tmp_path / "cli", "flows")
    assert_rows_equal(got, want, ws, "flows")
    # flows continue across the files: fewer than analysing them apart
    apart = ws.read_captures(spark, parts).count()
    assert got.num_rows < apart
    m = ws.convert(spark, parts, tmp_path / "spark", partition_by="none", tables=["none"], stitch=True)
    assert len({r["capture_index"] for r in m["inputs"]}) == 1
    assert dataset_files(tmp_path / "spark") == dataset_files(tmp_path / "cli")
    # the same series from binaryFile: one task holds it, in order
    df = spark.read.format("binaryFile").load(str(tmp_path / "series"))
    assert_rows_equal(spark_arrow(ws.read_captures(spark, df, stitch=True)), want, ws, "flows")


def test_binary_file_source_gives_the_same_rows(ws, spark, inputs, cli_dataset, tmp_path):
    df = (spark.read.format("binaryFile").option("recursiveFileLookup", "true")
          .option("pathGlobFilter", "*.pcap").load(str(inputs)))
    for table in ("flows", "dns"):
        got = spark_arrow(ws.read_captures(spark, df, table=table))
        assert_rows_equal(got, dataset_table(cli_dataset[0], table), ws, table)
    m = ws.convert(spark, df, tmp_path / "bin", partition_by="none", tables=["packets", "dns", "tls_certificates"])
    assert {r["capture"] for r in m["inputs"] if r["error"]} == {"broken.pcap", "junk.pcap"}
    for table in ("flows",) + ROW_TABLES:
        a, b = dataset_table(tmp_path / "bin", table), dataset_table(cli_dataset[0], table)
        assert a.sort_by(sort_keys(a)).equals(b.sort_by(sort_keys(b))), table
    # sizes and mtimes come from the listing: a re-run resumes
    (tmp_path / "bin" / ".wa1kpcap" / "done" / "000000.json").unlink()
    again = ws.convert(spark, df, tmp_path / "bin", partition_by="none", tables=["packets", "dns", "tls_certificates"])
    assert [r["capture_index"] for r in again["inputs"] if not r["skipped"]] == [0]
    assert again["flows"] == m["flows"]


# --- the shared corpus -------------------------------------------------------

@pytest.fixture(scope="module")
def corpus() -> Path:
    c = os.environ.get("WA1KPCAP_CORPUS")
    if not c or not Path(c).is_dir():
        _need("WA1KPCAP_CORPUS", "WA1KPCAP_CORPUS not set")
    return Path(c)


def test_corpus_on_spark_equals_the_cli(ws, spark, corpus, tmp_path):
    args = ("--partition-by", "date", "--tables", "dns,tls_certificates")
    cli_m = cli_convert([corpus], tmp_path / "cli", *args)
    assert cli_m["flows"] > 5000 and cli_m["inputs_with_errors"] > 0
    m = ws.convert(spark, corpus, tmp_path / "spark", partition_by="date", tables=["dns", "tls_certificates"])
    assert_same_dataset(tmp_path / "spark", tmp_path / "cli", m)
    for table in ("flows", "tls_certificates"):
        df = ws.read_captures(spark, corpus, table=table)
        got = spark_arrow(df)
        want = pq.read_table(tmp_path / "cli" / table).drop_columns(["date"])
        assert_rows_equal(got, want, ws, table)
        if table == "flows":
            df.createOrReplaceTempView("corpus_flows")
    # SQL in Spark equals DuckDB over the CLI's (Hive-partitioned) dataset
    import duckdb

    q = "SELECT sni, count(*) AS n, avg(app_mean) AS m FROM {} GROUP BY sni"
    got = sorted((r["sni"] or "", r["n"], r["m"]) for r in spark.sql(q.format("corpus_flows")).collect())
    want = sorted((s or "", n, m) for s, n, m in duckdb.sql(q.format(
        f"read_parquet('{tmp_path}/cli/flows/**/*.parquet', hive_partitioning = true)")).fetchall())
    assert len(got) == len(want) > 50
    for g, w in zip(got, want):
        assert g[:2] == w[:2]
        assert g[2] == pytest.approx(w[2], rel=1e-12)


def test_binary_file_captures_are_named_relative_to_their_common_directory(ws):
    # as the CLI names the files of a directory it is given; URIs keep
    # their `//` (os.path.commonpath would fold it)
    assert ws._common_dir(["s3a://b/corpus/x/1.pcap", "s3a://b/corpus/y/2.pcap"]) == "s3a://b/corpus/"
    assert ws._common_dir(["file:/data/one.pcap"]) == "file:/data/"
    assert ws._common_dir(["hdfs://nn/a/1.pcap", "hdfs://nn/a/1.pcapng"]) == "hdfs://nn/a/"
