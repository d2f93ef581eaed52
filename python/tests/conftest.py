"""Fixtures: captures the tests generate themselves (the engine's sample
and generated TLS/DNS traffic), and the Rust CLI's dataset of the same
captures, the oracle the Python values are checked against."""

from __future__ import annotations

import base64
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

# One dispatch key for every dataset these tests write (the CLI's and
# Spark's alike), so that datasets of large or stitched captures compare
# file for file, as a user fixes it with PYTHONHASHSEED-style
# WA1KPCAP_HASH_SEED; without it each dataset draws its own secret key.
os.environ.setdefault("WA1KPCAP_HASH_SEED", "5eed")


# A self-signed P-256 certificate made for these tests (openssl req -x509,
# CN=cert.example, O=Wa1k Test, C=DE, SAN cert.example, www.cert.example).
CERT_DER = base64.b64decode(
    "MIIB8TCCAZagAwIBAgIUBS98lqJYnq7XoaEksomct1TNSBgwCgYIKoZIzj0EAwIwODEVMBMGA1UEAwwMY2VydC5leGFtcGxlMRIwEAYDVQQKDAlXYTFrIFRlc3QxCzAJBgNVBAYTAkRFMB4XDTI2MTIwMjAyNDE0NFoXDTM2MTEyOTAyNDE0NFowODEVMBMGA1UEAwwMY2VydC5leGFtcGxlMRIwEAYDVQQKDAlXYTFrIFRlc3QxCzAJBgNVBAYTAkRFMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEop3puz2C6j9C5PkqLK66srDJWRGlX3vgP01viALzYUdyRCMgQzDmVENcWQd0qGCQtjSJYJ5GrMk0F5RnjV0wGqN+MHwwHQYDVR0OBBYEFAKS/tfguGjXqF/ICe/diYMRbZ4oMB8GA1UdIwQYMBaAFAKS/tfguGjXqF/ICe/diYMRbZ4oMA8GA1UdEwEB/wQFMAMBAf8wKQYDVR0RBCIwIIIMY2VydC5leGFtcGxlghB3d3cuY2VydC5leGFtcGxlMAoGCCqGSM49BAMCA0kAMEYCIQClYSyRuepdMwsXlhY1WzOq8OTaboDXHb/RD0syLxu14AIhAPVo0g9ZlAKaMlySYycCEai1O5o/S2ZWxYxYbU35fFjq")


def cli_binary() -> str | None:
    """The `wa1kpcap` CLI (WA1KPCAP_BIN, else on PATH)."""
    b = os.environ.get("WA1KPCAP_BIN") or shutil.which("wa1kpcap")
    return b if b and Path(b).is_file() else None


@pytest.fixture(scope="session")
def captures(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("captures")
    return {
        "sample": wa1kpcap.write_sample(d / "sample.pcap"),
        "traffic": wa1kpcap.write_sample(d / "traffic.pcap", "traffic", sessions=300),
    }


def cli_flows(capture: Path, out: Path, *args: str) -> pa.Table:
    """The flows table `wa1kpcap convert` writes for one capture."""
    b = cli_binary()
    if b is None:
        if os.environ.get("CI"):
            pytest.fail("WA1KPCAP_BIN is not set in CI: the Rust oracle must run")
        print("skipped: no wa1kpcap CLI (set WA1KPCAP_BIN)", file=sys.stderr)
        pytest.skip("no wa1kpcap CLI")
    subprocess.run([b, "convert", "-q", "--overwrite", "--tables", "none", "-o", str(out), *args, str(capture)],
                   check=True)
    files = sorted((out / "flows").rglob("*.parquet"))
    return pa.concat_tables([pq.read_table(f) for f in files]) if files else None


@pytest.fixture(scope="session")
def oracle(captures, tmp_path_factory) -> dict[str, pa.Table]:
    """CLI flows tables, sorted as analyze_file sorts."""
    out = {}
    for name, path in captures.items():
        t = cli_flows(path, tmp_path_factory.mktemp(f"cli-{name}"))
        out[name] = t.sort_by([("start_time", "ascending"), ("flow_id", "ascending")])
    return out


def manifest(dataset: Path) -> dict:
    return json.loads((dataset / "manifest.json").read_text())
