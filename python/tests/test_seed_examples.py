"""Every code example of the seed README (wa1kpcap 0.2.0's), verbatim, on a
capture the tests generate, with what it prints checked against the Rust
engine's dataset of the same capture (the CLI run with the reference's
default filter, which the examples get by default)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

import wa1kpcap
from conftest import cli_flows

# The examples as the seed README has them (checked against the README
# itself below when ../shared is there).
QUICK_START = '''from wa1kpcap import Wa1kPcap

# Create analyzer
analyzer = Wa1kPcap(verbose_mode=True, compute_statistics=True)

# Analyze a PCAP file
flows = analyzer.analyze_file('traffic.pcap')

# Iterate through flows
for flow in flows:
    print(f"Flow: {flow.key}")
    print(f"  Packets: {flow.packet_count}")
    print(f"  Duration: {flow.duration:.3f}s")
'''
PACKET_LENGTHS = '''from wa1kpcap import Wa1kPcap

analyzer = Wa1kPcap(verbose_mode=True, compute_statistics=True)
flows = analyzer.analyze_file('traffic.pcap')

for flow in flows:
    if flow.features:
        # Packet lengths (positive=up, negative=down)
        lengths = flow.features.packet_lengths
        print(f"Packet lengths: {lengths.tolist()}")

        # IATs
        iats = flow.features.iats
        print(f"IATs: {iats.tolist()}")
'''
STATISTICS = '''from wa1kpcap import Wa1kPcap

analyzer = Wa1kPcap(verbose_mode=True, compute_statistics=True)
flows = analyzer.analyze_file('traffic.pcap')

for flow in flows:
    # Access pre-computed statistics via properties
    print(f"Mean packet length: {flow.pkt_mean:.1f}")
    print(f"Std packet length: {flow.pkt_std:.1f}")

    # Directional statistics
    print(f"Up packet count: {flow.pkt_up_count}")
    print(f"Down packet count: {flow.pkt_down_count}")
    print(f"Up mean: {flow.pkt_up_mean:.1f}")
    print(f"Down mean: {flow.pkt_down_mean:.1f}")

    # IAT statistics
    print(f"IAT mean: {flow.iat_mean:.6f}")
    print(f"IAT max: {flow.iat_max:.6f}")

    # Or access all stats via dictionary
    stats = flow.stats
    print(f"Total packets: {stats['packet_count']}")
'''
TLS_SNI = '''from wa1kpcap import Wa1kPcap

analyzer = Wa1kPcap(verbose_mode=True)
flows = analyzer.analyze_file('traffic.pcap')

for flow in flows:
    if flow.tls:
        print(f"TLS version: {flow.tls.version}")
        if flow.tls.sni:
            print(f"  SNI: {flow.tls.sni}")
        if flow.tls.alpn:
            print(f"  ALPN: {flow.tls.alpn}")
        if flow.tls.certificate:
            cert = flow.tls.certificate
            print(f"  Cert subject: {cert.get('subject')}")
            print(f"  Cert issuer: {cert.get('issuer')}")
'''
DATAFRAME = '''from wa1kpcap import Wa1kPcap, to_dataframe

analyzer = Wa1kPcap(verbose_mode=True, compute_statistics=True)
flows = analyzer.analyze_file('traffic.pcap')

df = to_dataframe(flows)
print(df[['src_ip', 'dst_ip', 'packet_count', 'feature.packet_lengths.mean']].head())
'''
CSV_JSON = '''from wa1kpcap import Wa1kPcap, to_csv, to_json

analyzer = Wa1kPcap(verbose_mode=True, compute_statistics=True)
flows = analyzer.analyze_file('traffic.pcap')

to_csv(flows, 'output.csv')
to_json(flows, 'output.json', indent=2)
'''
METRICS = '''from wa1kpcap import Wa1kPcap

analyzer = Wa1kPcap(verbose_mode=True)
flows = analyzer.analyze_file('traffic.pcap')

for flow in flows:
    # Basic metrics
    print(f"Total packets: {flow.metrics.packet_count}")
    print(f"Up packets: {flow.metrics.up_packet_count}")
    print(f"Down packets: {flow.metrics.down_packet_count}")
    print(f"Up bytes: {flow.metrics.up_byte_count}")
    print(f"Down bytes: {flow.metrics.down_byte_count}")
'''
EXPORTERS = '''from wa1kpcap import to_dataframe, to_dict, to_csv, to_json, FlowExporter

# Export to pandas DataFrame
df = to_dataframe(flows)

# Export to dictionary
flow_dicts = to_dict(flows, include_features=True)

# Export to files
to_csv(flows, 'output.csv')
to_json(flows, 'output.json', indent=2)

# Using FlowExporter class
exporter = FlowExporter(include_features=True)
exporter.to_csv(flows, 'output.csv')
exporter.to_json(flows, 'output.json')
exporter.save(flows, 'output.csv')  # Auto-detect format
'''
ACCESSORS = '''flow.key.src_ip      # Source IP address
flow.key.dst_ip      # Destination IP address
flow.key.src_port    # Source port
flow.key.dst_port    # Destination port
flow.key.protocol    # Protocol (6=TCP, 17=UDP, etc.)
'''
CONSTRUCTOR = '''Wa1kPcap(
    udp_timeout: float = 0,               # UDP flow timeout (0=no timeout)
    tcp_cleanup_timeout: float = 300.0,  # TCP cleanup timeout (seconds)
    filter_ack: bool = False,             # Filter pure ACK packets
    filter_rst: bool = False,             # Filter RST packets
    filter_retrans: bool = True,          # Filter TCP retransmissions
    verbose_mode: bool = False,           # Store packet-level data
    save_raw_bytes: bool = False,         # Save raw packet bytes
    compute_statistics: bool = True,      # Compute statistical features
    enable_reassembly: bool = True,       # Enable IP/TCP/TLS reassembly
)
'''
ALL = [QUICK_START, PACKET_LENGTHS, STATISTICS, TLS_SNI, DATAFRAME, CSV_JSON, METRICS, EXPORTERS, ACCESSORS]
REFERENCE_FILTER = ("not arp and not icmp and not icmp6 and not (udp port 67 or udp port 68) "
                    "and not (udp port 546 or udp port 547)")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, captures):
    d = tmp_path_factory.mktemp("seed")
    (d / "traffic.pcap").write_bytes(Path(captures["sample"]).read_bytes())
    return d


@pytest.fixture(scope="module")
def want(workdir, tmp_path_factory):
    t = cli_flows(workdir / "traffic.pcap", tmp_path_factory.mktemp("seed-cli"), "--filter", REFERENCE_FILTER)
    return t.sort_by([("start_time", "ascending"), ("flow_id", "ascending")]).to_pylist()


def run(code: str, workdir: Path, env: dict | None = None) -> str:
    out = io.StringIO()
    old = os.getcwd()
    os.chdir(workdir)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<seed example>", "exec"), dict(env or {}))
    finally:
        os.chdir(old)
    return out.getvalue()


def test_examples_are_the_seed_readmes():
    readme = Path(__file__).resolve().parents[3] / "shared" / "docs" / "seed-README.md"
    if not readme.is_file():
        readme = Path(__file__).resolve().parents[2] / ".." / "shared" / "docs" / "seed-README.md"
    if not readme.is_file():
        import sys
        print("skipped: ../shared/docs/seed-README.md not found", file=sys.stderr)
        pytest.skip("no seed README beside the checkout")
    text = readme.read_text()
    for code in ALL + [CONSTRUCTOR]:
        assert code.strip() in text


def test_quick_start(workdir, want):
    out = run(QUICK_START, workdir)
    assert re.findall(r"^Flow: (.*)$", out, re.M) == [
        f"{w['src_ip']}:{w['src_port']} -> {w['dst_ip']}:{w['dst_port']} "
        f"({ {6: 'TCP', 17: 'UDP', 1: 'ICMP', 58: 'ICMPv6'}.get(w['protocol'], 'PROTO(%d)' % w['protocol'])})"
        for w in want]
    assert [int(x) for x in re.findall(r"Packets: (\d+)", out)] == [w["packet_count"] for w in want]
    assert re.findall(r"Duration: (\S+)s", out) == [f"{w['duration']:.3f}" for w in want]


def test_packet_lengths(workdir, want):
    out = run(PACKET_LENGTHS, workdir)
    assert re.findall(r"^Packet lengths: (.*)$", out, re.M) == [str(w["packet_lengths"]) for w in want]
    assert re.findall(r"^IATs: (.*)$", out, re.M) == [str(w["iats"]) for w in want]


def test_statistics(workdir, want):
    out = run(STATISTICS, workdir)
    assert re.findall(r"Mean packet length: (\S+)", out) == [f"{w['pkt_mean']:.1f}" for w in want]
    assert [int(x) for x in re.findall(r"Up packet count: (\d+)", out)] == [w["pkt_up_count"] for w in want]
    assert [int(x) for x in re.findall(r"Down packet count: (\d+)", out)] == [w["pkt_down_count"] for w in want]
    assert re.findall(r"IAT max: (\S+)", out) == [f"{w['iat_max']:.6f}" for w in want]
    assert [int(x) for x in re.findall(r"Total packets: (\d+)", out)] == [w["packet_count"] for w in want]


def test_tls_sni(workdir, want):
    out = run(TLS_SNI, workdir)
    tls = [w for w in want if w["app_protocol"] == "tls"]
    assert tls, "the sample carries TLS"
    assert re.findall(r"^TLS version: (.*)$", out, re.M) == [str(w["tls_version"]) for w in tls]
    assert re.findall(r"SNI: (.*)$", out, re.M) == [w["sni"] for w in tls if w["sni"]]
    assert re.findall(r"ALPN: (.*)$", out, re.M) == [str(w["alpn"]) for w in tls if w["alpn"]]
    assert re.findall(r"Cert subject: (.*)$", out, re.M) == [w["cert_subject"] for w in tls if w["cert_subject"]]


def test_dataframe(workdir, want):
    out = run(DATAFRAME, workdir)
    lines = out.strip().splitlines()
    assert lines[0].split() == ["src_ip", "dst_ip", "packet_count", "feature.packet_lengths.mean"]
    for line, w in zip(lines[1:], want[:5]):
        cells = line.split()
        assert cells[1:4] == [w["src_ip"], w["dst_ip"], str(w["packet_count"])]
        assert float(cells[4]) == pytest.approx(w["pkt_mean"], rel=1e-5)
    assert len(lines) == 1 + min(5, len(want))


def test_csv_json(workdir, want):
    run(CSV_JSON, workdir)
    df = pd.read_csv(workdir / "output.csv")
    assert len(df) == len(want)
    assert df["packet_count"].tolist() == [w["packet_count"] for w in want]
    assert df["feature.packet_lengths.mean"].tolist() == pytest.approx([w["pkt_mean"] for w in want])
    data = json.loads((workdir / "output.json").read_text())
    assert [d["packet_count"] for d in data] == [w["packet_count"] for w in want]
    assert [d["features"]["packet_lengths"] for d in data] == [w["packet_lengths"] for w in want]
    assert [d["features"]["statistics"]["packet_lengths"]["mean"] for d in data] == [w["pkt_mean"] for w in want]


def test_metrics(workdir, want):
    out = run(METRICS, workdir)
    for label, col in (("Total packets", "packet_count"), ("Up packets", "up_packet_count"),
                       ("Down packets", "down_packet_count"), ("Up bytes", "up_byte_count"),
                       ("Down bytes", "down_byte_count")):
        assert [int(x) for x in re.findall(rf"^{label}: (\d+)$", out, re.M)] == [w[col] for w in want], label


def test_exporters_and_accessors(workdir, want):
    flows = wa1kpcap.Wa1kPcap().analyze_file(workdir / "traffic.pcap")
    run(EXPORTERS, workdir, {"flows": flows})
    assert len(pd.read_csv(workdir / "output.csv")) == len(want)
    data = json.loads((workdir / "output.json").read_text())
    assert [d["key"] for d in data] == [str(f.key) for f in flows]
    for flow, w in zip(flows, want):
        run(ACCESSORS, workdir, {"flow": flow})
        assert (flow.key.src_ip, flow.key.dst_port, flow.key.protocol) == (w["src_ip"], w["dst_port"], w["protocol"])


def test_constructor_signature_is_the_seeds():
    ns: dict = {}
    exec(compile("from wa1kpcap import Wa1kPcap\nimport inspect\nsig = inspect.signature(Wa1kPcap)", "<t>", "exec"), ns)
    params = ns["sig"].parameters
    for line in CONSTRUCTOR.splitlines()[1:-1]:
        name, rest = line.strip().split(":", 1)
        default = rest.split("=", 1)[1].split("#")[0].strip().rstrip(",")
        assert name in params
        assert params[name].default == eval(default), name
