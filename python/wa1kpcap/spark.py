"""Captures → flows on Apache Spark: the engine runs inside Spark tasks
(``DataFrame.mapInArrow``), one work unit (a capture, or a whole
``stitch`` series) at a time.

- ``read_captures(spark, paths, table="flows", **options)``: the rows of
  ``flows`` (``packets``, ``dns``, ``tls_certificates``, or ``inputs``:
  one report row per capture, errors included) as a Spark DataFrame whose
  schema is the engine's own Arrow schema made Spark-compatible
  (``spark_arrow_schema``); flow ids are those ``wa1kpcap convert`` gives.
- ``convert(spark, paths, output, partition_by="date", **options)``: the
  dataset ``wa1kpcap convert`` writes (layout, file names, flow ids, done
  markers, ``manifest.json``), its units written by the tasks straight
  into ``output``, which every executor must see (a local path in local
  mode; NFS, Lustre or another POSIX file system with atomic rename on a
  cluster). A re-run resumes; a killed task leaves only hidden
  temporaries, removed when its unit is redone.

``paths`` are files, directories and globs as the CLI takes them (made
absolute on the driver; executors must read them at the same paths), or
a DataFrame of Spark's ``binaryFile`` source for captures in object
stores: then the tasks analyse the bytes in memory (each capture under
2 GiB, Spark's limit for a ``binaryFile`` row; a task holds its
partition's contents twice).

Options are the Python API's (``read_tables``): ``udp_timeout``,
``filter_ack``, ``bpf_filter``, ``app_layer_parsing``, ``stitch``,
``max_memory_mib``, ``threads`` … pyspark is imported only here.
"""

from __future__ import annotations

import heapq
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Union

import pyarrow as pa

from . import _native
from ._arrow import arrow_table
from .api import _engine_options, _paths

ROW_TABLES = ("packets", "dns", "tls_certificates")
TABLES = ("flows",) + ROW_TABLES + ("inputs",)
# The per-capture report (`manifest.json`'s `inputs`, without the file
# list) as rows: `read_captures(..., table="inputs")`.
INPUTS_SCHEMA = pa.schema([
    pa.field("path", pa.string(), False),
    pa.field("capture", pa.string(), False),
    pa.field("capture_index", pa.int64(), False),
    pa.field("size_bytes", pa.int64(), False),
    pa.field("mtime_unix_s", pa.int64(), False),
    pa.field("packets", pa.int64(), False),
    pa.field("flows", pa.int64(), False),
    pa.field("anomalies", pa.int64(), False),
    pa.field("error", pa.string(), True),
])
# Tasks per core when many small units are packed into tasks: enough for
# Spark to balance, few enough that a task's start-up stays negligible.
TASKS_PER_CORE = 4


# --- schemas -------------------------------------------------------------

def _spark_type(t: pa.DataType) -> pa.DataType:
    """The Arrow type Spark accepts for values of type ``t``, exactly
    (every value of ``t`` fits): unsigned ints widen, timestamps become µs
    (Spark's unit), large and fixed-size variants become plain ones,
    dictionaries their values."""
    if pa.types.is_dictionary(t):
        return _spark_type(t.value_type)
    if pa.types.is_unsigned_integer(t):
        # uint64 has no wider signed type: values above 2**63-1 make the
        # (safe) cast fail instead of wrapping.
        return {8: pa.int16(), 16: pa.int32(), 32: pa.int64(), 64: pa.int64()}[t.bit_width]
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC" if t.tz else None)
    if pa.types.is_large_string(t) or getattr(pa.types, "is_string_view", lambda _: False)(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return pa.binary()
    if pa.types.is_float16(t):
        return pa.float32()
    if pa.types.is_date64(t):
        return pa.date32()
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        f = t.value_field
        return pa.list_(pa.field("element", _spark_type(f.type), f.nullable))
    if pa.types.is_struct(t):
        return pa.struct([_spark_field(t.field(i)) for i in range(t.num_fields)])
    if pa.types.is_map(t):
        return pa.map_(_spark_type(t.key_type), _spark_field(t.item_field))
    return t


def _spark_field(f: pa.Field) -> pa.Field:
    return pa.field(f.name, _spark_type(f.type), f.nullable)


def spark_arrow_schema(schema: pa.Schema) -> pa.Schema:
    """The engine's Arrow schema as the Arrow schema of the Spark table:
    what each batch is cast to (``safe``: a value that does not fit is an
    error, never a silent change)."""
    return pa.schema([_spark_field(f) for f in schema])


def engine_schema(table: str = "flows", **options) -> pa.Schema:
    """The engine's Arrow schema of ``table`` for these options (the
    dataset's files' schema with ``partition_by="none"``)."""
    if table == "inputs":
        return INPUTS_SCHEMA
    if table not in TABLES:
        raise ValueError(f"table must be one of {', '.join(TABLES)}, not {table!r}")
    opts, _ = _engine_options(options)
    opts.update(_table_switches(table))
    raw = _native.analyze_units("[]", opts)
    return arrow_table(raw[table]).schema


def spark_schema(table: str = "flows", **options):
    """The ``pyspark.sql.types.StructType`` of ``read_captures``."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(spark_arrow_schema(engine_schema(table, **options)))


def _table_switches(table: str) -> dict[str, bool]:
    return {"packets": table == "packets", "dns": table == "dns", "certificates": table == "tls_certificates"}


# --- planning ------------------------------------------------------------

def _is_dataframe(x) -> bool:
    return hasattr(x, "schema") and hasattr(x, "mapInArrow")


def _absolute(p: str) -> str:
    # A URI (s3a://, file:/) stays as given; a local path is made absolute,
    # since executors do not share the driver's working directory.
    return p if "://" in p or p.startswith("file:") else os.path.abspath(p)


def _listing(df) -> list[dict]:
    """Inputs of a ``binaryFile`` DataFrame, as the CLI would name them had
    it been given the files' common directory: sorted by path, ``capture``
    relative to that directory."""
    missing = {"path", "length", "modificationTime", "content"} - set(df.columns)
    if missing:
        raise ValueError(f"a capture DataFrame needs binaryFile's columns; missing {sorted(missing)}")
    rows = df.select("path", "length", "modificationTime").collect()
    paths = sorted({r["path"]: r for r in rows}.items())
    if not paths:
        return []
    common = _common_dir([p for p, _ in paths])
    out = []
    for p, r in paths:
        rel = p[len(common):]
        mtime = int(r["modificationTime"].timestamp()) if r["modificationTime"] is not None else 0
        out.append({"path": p, "rel": rel or p, "known_size_mtime": [int(r["length"]), mtime]})
    return out


def _common_dir(paths: list[str]) -> str:
    """The longest directory prefix (ending in ``/``) of URIs or paths;
    ``os.path.commonpath`` would fold ``s3a://`` into ``s3a:/``."""
    dirs = [p.split("/")[:-1] for p in paths]
    n = 0
    while all(len(d) > n for d in dirs) and len({d[n] for d in dirs}) == 1:
        n += 1
    return "/".join(dirs[0][:n]) + "/" if n else ""


def _plan(paths, opts: dict, output: Optional[str]) -> tuple[dict, Optional[Any]]:
    """The plan (``DatasetPlan`` as a dict) and, for a DataFrame input, the
    DataFrame. Missing paths raise ``FileNotFoundError`` here, before any
    task runs."""
    if _is_dataframe(paths):
        listed = json.dumps(_listing(paths))
        return json.loads(_native.plan_units([], opts, output, listed)), paths
    names = [_absolute(p) for p in _paths(paths)]
    return json.loads(_native.plan_units(names, opts, output)), None


def _cores(spark) -> int:
    """The cluster's cores as Spark schedules them (Spark Connect has no
    SparkContext: its configured default parallelism, else this host's)."""
    try:
        return max(1, spark.sparkContext.defaultParallelism)
    except Exception:  # Spark Connect
        try:
            return max(1, int(spark.conf.get("spark.default.parallelism")))
        except Exception:
            return os.cpu_count() or 1


def _default_threads(spark, units: list[dict], options: dict) -> dict:
    """``threads`` per task unless given: Spark's cores per task, or, when
    the job has fewer units than the cluster has cores, the cores spread
    over them, at most an executor's (a large capture then runs
    packet-parallel in its task instead of on one core)."""
    if options.get("threads") is not None:
        return options
    cores = _cores(spark)
    per_task = int(spark.conf.get("spark.task.cpus", "1") or 1)
    per_executor = int(spark.conf.get("spark.executor.cores", str(cores)) or cores)
    threads = max(per_task, min(per_executor, cores // max(1, len(units))))
    return {**options, "threads": threads}


def _pack(units: list[dict], cores: int) -> list[list[dict]]:
    """Units into at most ``TASKS_PER_CORE`` tasks per core, largest unit
    first onto the least loaded task (so a huge capture gets a task of its
    own), heaviest task first: it starts at once instead of ending the job
    last."""
    n = min(len(units), max(1, cores * TASKS_PER_CORE))
    tasks: list[list[dict]] = [[] for _ in range(n)]
    load = [0] * n
    free = [(0, k) for k in range(n)]  # (load, task): the least loaded on top
    for u in sorted(units, key=lambda u: (-u["bytes"], u["index"])):
        _, k = heapq.heappop(free)
        tasks[k].append(u)
        load[k] += u["bytes"]
        heapq.heappush(free, (load[k], k))
    order = sorted(range(n), key=lambda k: -load[k])
    return [tasks[k] for k in order if tasks[k]]


# --- tasks ---------------------------------------------------------------

def _run_units(spark, paths_df, units: list[dict], stitch: bool, work, schema: pa.Schema,
               resumed: bool = False):
    """A DataFrame whose rows ``work(unit_json, contents)`` yields (Arrow
    batches of ``schema``), computed in Spark tasks: the units packed into
    tasks (``_pack``) for paths, Spark's own file partitions for a
    DataFrame."""
    from pyspark.sql.pandas.types import from_arrow_schema

    spark_types = from_arrow_schema(schema)
    if paths_df is None:
        task_units = [[json.dumps(u) for u in t] for t in _pack(units, _cores(spark))]

        def run(batches: Iterator[pa.RecordBatch]):
            for b in batches:
                for task in b.column(0).to_pylist():
                    for unit in task_units[task]:
                        yield from work(unit, None)

        ids = spark.range(0, len(task_units), numPartitions=max(1, len(task_units)))
        return ids.mapInArrow(run, spark_types)

    by_path = {i["path"]: json.dumps(u) for u in units for i in u["inputs"]}
    df = paths_df.select("path", "content")
    if resumed:
        # only the files still to do are read
        df = df.where(paths_df["path"].isin(list(by_path)))
    if stitch:
        # One series, one unit: its files meet in one task, in order.
        df = df.coalesce(1)

    def run_df(batches: Iterator[pa.RecordBatch]):
        if stitch:
            got: dict[str, pa.Array] = {}
            for b in batches:
                for i, p in enumerate(b.column("path").to_pylist()):
                    got[p] = b.column("content").slice(i, 1)
            if got:
                unit = next(iter(by_path.values()))
                order = [inp["path"] for inp in json.loads(unit)["inputs"]]
                yield from work(unit, pa.concat_arrays([got[p] for p in order]))
            return
        for b in batches:
            content = b.column("content")
            for i, p in enumerate(b.column("path").to_pylist()):
                yield from work(by_path[p], content.slice(i, 1))

    return df.mapInArrow(run_df, spark_types)


def _cast_batches(table: pa.Table, target: pa.Schema) -> Iterator[pa.RecordBatch]:
    # A column already of its target type keeps its buffers (the engine's
    # types are Spark's: no copy); any other is cast, safely.
    yield from table.cast(target, safe=True).to_batches()


def read_captures(spark, paths, table: str = "flows", **options):
    """The ``table`` rows of the captures as a Spark DataFrame, computed
    in Spark tasks; equal row for row to what ``wa1kpcap convert`` writes
    for the same inputs (flow ids included). ``table="inputs"`` gives one
    report row per capture: a damaged capture's rows before the damage are
    in the tables, its ``error`` here."""
    if table not in TABLES:
        raise ValueError(f"table must be one of {', '.join(TABLES)}, not {table!r}")
    opts, _ = _engine_options(options)
    plan, df = _plan(paths, opts, None)
    units = plan["units"]
    opts = _default_threads(spark, units, opts)
    target = spark_arrow_schema(engine_schema(table, **options))
    opts.update(_table_switches(table))

    def work(unit: str, contents) -> Iterator[pa.RecordBatch]:
        # Batches leave the engine as they are built: a task holds a few of
        # them, not its unit's whole table.
        stream = _native.stream_units(unit, opts, "flows" if table == "inputs" else table, contents)
        for part in stream:
            if table != "inputs":
                yield from _cast_batches(arrow_table(part), target)
        report = json.loads(stream.report())
        for r in report["inputs"]:
            if r.get("error"):
                # The executor's log names it; the `inputs` table holds it.
                print(f"wa1kpcap: {r['path']}: {r['error']}", file=sys.stderr)
        if table == "inputs":
            rows = [{k: r.get(k) for k in INPUTS_SCHEMA.names} for r in report["inputs"]]
            yield pa.RecordBatch.from_pylist(rows, schema=INPUTS_SCHEMA)

    return _run_units(spark, df, units, bool(opts.get("stitch")), work, target)


def convert(spark, paths, output: Union[str, Path], partition_by: str = "date", format: str = "parquet",
            tables: Optional[Iterable[str]] = None, overwrite: bool = False, **options) -> dict:
    """Write the dataset ``wa1kpcap convert`` writes for these inputs
    (``tables`` as in ``wa1kpcap.convert``; default: ``tls_certificates``
    beside ``flows``) with Spark tasks doing the work, and return its
    manifest. Damaged captures are listed with their errors in the
    manifest (and warned about); the rest converts. Units already in the
    dataset with the same settings and unchanged inputs are skipped."""
    opts, _ = _engine_options(options)
    chosen = {"tls_certificates"} if tables is None else set(tables)
    unknown = chosen - {"packets", "dns", "tls_certificates", "none"}
    if unknown:
        raise ValueError(f"unknown tables {sorted(unknown)}")
    opts.update(partition_by=partition_by, format=format, packets="packets" in chosen,
                dns="dns" in chosen, certificates="tls_certificates" in chosen)
    out = os.path.abspath(str(output))
    # One conversion at a time on a dataset, as for the CLI (its tasks
    # write this plan's units under the driver's lock).
    with _native.lock_dataset(out):
        return _convert_locked(spark, paths, out, opts, overwrite)


def _convert_locked(spark, paths, out: str, opts: dict, overwrite: bool) -> dict:
    started = time.monotonic()
    plan, df = _plan(paths, {**opts, "overwrite": overwrite}, out)
    units = plan["units"]
    task_opts = _default_threads(spark, units, opts)
    schema = pa.schema([pa.field("result", pa.string(), False)])

    def work(unit: str, contents) -> Iterator[pa.RecordBatch]:
        result = _native.run_unit(unit, out, task_opts, contents)
        yield pa.RecordBatch.from_pylist([{"result": result}], schema=schema)

    results: list[str] = []
    if units:
        rows = _run_units(spark, df, units, bool(opts.get("stitch")), work, schema,
                          resumed=bool(plan["reused"])).collect()
        results = [r["result"] for r in rows]
    manifest = json.loads(_native.finish_units(json.dumps(plan), results, out, time.monotonic() - started))
    for r in manifest["inputs"]:
        if r.get("error"):
            warnings.warn(f"{r['path']}: {r['error']}", stacklevel=3)
    return manifest
