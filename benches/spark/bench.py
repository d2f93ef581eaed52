"""Spark's overhead against the CLI on one machine: `wa1kpcap convert
--threads 2` and `wa1kpcap.spark.convert` on `local[2]`, over the same
inputs, wall time and peak memory (the CLI's max RSS; Spark's per Python
worker — a task's engine — and the JVM's, sampled every 100 ms).

    python benches/spark/bench.py CLI OUT_DIR INPUT [INPUT ...]

Run it for the 16 files of `editcap -c` and for the whole capture."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time


def rss_by_kind(root_pid: int) -> dict[str, int]:
    """Resident bytes of the process tree under `root_pid`, by kind."""
    out = {"python_worker_max": 0, "jvm": 0}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            rss = int(open(f"/proc/{pid}/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
        if any(b"pyspark.daemon" in c or b"pyspark/daemon" in c or b"pyspark.worker" in c for c in cmd):
            out["python_worker_max"] = max(out["python_worker_max"], rss)
        elif cmd and cmd[0].endswith(b"java"):
            out["jvm"] = max(out["jvm"], rss)
    return out


def main():
    cli, out, inputs = sys.argv[1], sys.argv[2], sys.argv[3:]
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    t = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", cli, "convert", "-q", "--threads", "2", "--overwrite",
                        "--partition-by", "date", "-o", f"{out}/cli", *inputs], capture_output=True, text=True)
    cli_s = time.monotonic() - t
    cli_rss = int(r.stderr.strip().splitlines()[-1]) * 1024
    m = json.load(open(f"{out}/cli/manifest.json"))

    from pyspark.sql import SparkSession
    from wa1kpcap import spark as ws

    t = time.monotonic()
    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    start_s = time.monotonic() - t
    peak = {"python_worker_max": 0, "jvm": 0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            for k, v in rss_by_kind(os.getpid()).items():
                peak[k] = max(peak[k], v)
            time.sleep(0.1)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    # The application's first job pays for the JVM's and the Python
    # workers' start (≈ 7 s here), once per application: timed apart.
    t = time.monotonic()
    ws.convert(spark, inputs, f"{out}/spark", partition_by="date", overwrite=True)
    cold_s = time.monotonic() - t
    t = time.monotonic()
    sm = ws.convert(spark, inputs, f"{out}/spark", partition_by="date", overwrite=True)
    spark_s = time.monotonic() - t
    convert_peak = dict(peak)
    peak.update(python_worker_max=0)
    t = time.monotonic()
    n = ws.read_captures(spark, inputs).count()
    read_s = time.monotonic() - t
    done.set()
    th.join()
    spark.stop()
    mib = 1 << 20
    print(json.dumps({
        "inputs": len(inputs), "bytes": m["bytes"], "packets": m["packets"], "flows": m["flows"],
        "cli_s": round(cli_s, 2), "cli_max_rss_mib": round(cli_rss / mib),
        "spark_session_start_s": round(start_s, 2), "spark_first_convert_s": round(cold_s, 2),
        "spark_convert_s": round(spark_s, 2),
        "spark_flows": sm["flows"], "overhead": round(spark_s / cli_s, 2),
        "overhead_first_job": round(cold_s / cli_s, 2),
        "spark_read_captures_count_s": round(read_s, 2), "read_captures_rows": n,
        "spark_convert_task_peak_rss_mib": round(convert_peak["python_worker_max"] / mib),
        "spark_read_captures_task_peak_rss_mib": round(peak["python_worker_max"] / mib),
        "spark_jvm_peak_rss_mib": round(peak["jvm"] / mib),
        "per_core_mib_s": round(m["bytes"] / mib / spark_s / 2, 1),
        "per_core_packets_s": round(m["packets"] / spark_s / 2),
    }, indent=1))


if __name__ == "__main__":
    main()
