"""The real captures of the shared corpus (``WA1KPCAP_CORPUS``): every
exporter on every flow (certificates of real servers, odd names, empty
sequences), the QUIC/TLS/HTTP/DNS records against the table's columns."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import pytest

import wa1kpcap


@pytest.fixture(scope="module")
def corpus() -> Path:
    c = os.environ.get("WA1KPCAP_CORPUS")
    if not c or not Path(c).is_dir():
        if os.environ.get("CI"):
            pytest.fail("WA1KPCAP_CORPUS is not set in CI")
        print("skipped: WA1KPCAP_CORPUS not set", file=sys.stderr)
        pytest.skip("no corpus")
    return Path(c)


def test_every_capture_reads_and_every_exporter_runs(corpus, tmp_path):
    a = wa1kpcap.Wa1kPcap(default_filter=None)
    flows: list = []
    for pattern in ("**/*.pcap", "**/*.pcapng"):
        for name, fl in a.analyze_directory(corpus, pattern).items():
            flows += fl
    assert len(flows) > 5000
    assert a.stats["files_processed"] > 500
    # damaged corpus files are reported by path, the rest analysed
    assert all(": " in e for e in a.stats["errors"])
    certs = [f for f in flows if f.tls is not None and f.tls.certificate]
    assert len(certs) > 100
    df = wa1kpcap.to_dataframe(flows)
    assert len(df) == len(flows)
    assert df["tls"].notna().sum() == sum(1 for f in flows if f.tls is not None)
    wa1kpcap.to_json(certs + flows[:2000], tmp_path / "f.json")
    wa1kpcap.to_csv(certs, tmp_path / "f.csv")
    wa1kpcap.FlowExporter().save(flows, tmp_path / "f.parquet")


def test_protocol_records_equal_the_columns(corpus):
    live = corpus / "live" / "loopback-tls-http-quic.pcapng"
    flows = wa1kpcap.Wa1kPcap(default_filter=None).analyze_file(live)
    quic = [f for f in flows if f.quic is not None]
    tls = [f for f in flows if f.tls is not None]
    http = [f for f in flows if f.http is not None]
    assert quic and tls and http
    for f in quic:
        q = f.quic
        assert q.sni == f["sni"] and q.sni
        assert (q.version, q.alpn, q.ja4) == (f["quic_version"], f["alpn"], f["ja4"])
    for f in tls:
        assert (f.tls.sni, f.tls.ja3_hash, f.tls.ja3s_hash) == (f["sni"], f["ja3_hash"], f["ja3s_hash"])
    for f in http:
        assert (f.http.host, f.http.status_code) == (f["http_host"], f["http_status"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = wa1kpcap.read_flows(corpus / "live", errors="warn")
    assert t.num_rows >= len(flows)
