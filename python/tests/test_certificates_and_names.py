"""Flows with a server certificate and with names that are not UTF-8:
the records 0.2.0's exporters crashed on."""

from __future__ import annotations

import json
import struct

import pytest

import wa1kpcap
from conftest import CERT_DER

@pytest.fixture(scope="session")
def cert_capture(tmp_path_factory):
    return wa1kpcap.write_sample(tmp_path_factory.mktemp("cert") / "cert.pcap", "tls_cert", ders=[CERT_DER])


def _pcap(frames: list[bytes]) -> bytes:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i, f in enumerate(frames):
        out += struct.pack("<IIII", 1714564800 + i, 0, len(f), len(f)) + f
    return out


def _udp_frame(src: bytes, dst: bytes, sport: int, dport: int, payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, src, dst)
    s = sum(struct.unpack("!10H", ip))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    ip = ip[:10] + struct.pack("!H", ~s & 0xFFFF) + ip[12:]
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip + udp


def _dns_query(qid: int, labels: list[bytes]) -> bytes:
    name = b"".join(bytes([len(l)]) + l for l in labels) + b"\x00"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1)


@pytest.fixture(scope="session")
def names_capture(tmp_path_factory):
    """A DNS query whose name holds bytes that are not UTF-8."""
    q = _dns_query(7, [b"caf\xe9", b"\xff\xfe", b"example"])
    frames = [_udp_frame(bytes([10, 0, 0, 1]), bytes([10, 0, 0, 53]), 40000, 53, q)]
    p = tmp_path_factory.mktemp("names") / "names.pcap"
    p.write_bytes(_pcap(frames))
    return p


def test_certificate_fields(cert_capture):
    flows = wa1kpcap.Wa1kPcap().analyze_file(cert_capture)
    assert len(flows) == 1
    tls = flows[0].tls
    assert tls.sni == "cert.example"
    cert = tls.certificate
    assert "CN=cert.example" in cert.get("subject") and "O=Wa1k Test" in cert.get("subject")
    assert cert["issuer"] == cert["subject"]  # self-signed
    assert set(cert["san"]) >= {"cert.example", "www.cert.example"} or any("cert.example" in s for s in cert["san"])
    import hashlib
    assert cert["sha256"] == hashlib.sha256(CERT_DER).hexdigest()
    assert cert["chain_length"] == 1
    t = wa1kpcap.read_tables(cert_capture, ("flows", "tls_certificates"))["tls_certificates"]
    assert t.num_rows == 1


def test_exporters_on_certificates(cert_capture, tmp_path):
    flows = wa1kpcap.Wa1kPcap().analyze_file(cert_capture)
    d = wa1kpcap.to_dict(flows)
    assert d[0]["tls"]["cert_subject"] == flows[0].tls.certificate["subject"]
    df = wa1kpcap.to_dataframe(flows)
    assert df["tls"][0]["cert_issuer"] == flows[0].tls.certificate["issuer"]
    wa1kpcap.to_json(flows, tmp_path / "c.json")
    assert json.loads((tmp_path / "c.json").read_text())[0]["tls"]["sni"] == "cert.example"
    wa1kpcap.to_csv(flows, tmp_path / "c.csv")
    assert "cert.example" in (tmp_path / "c.csv").read_text()


def test_names_that_are_not_utf8(names_capture, tmp_path):
    flows = wa1kpcap.Wa1kPcap().analyze_file(names_capture)
    assert len(flows) == 1
    q = flows[0].dns.queries
    assert len(q) == 1 and q[0].endswith("example") and isinstance(q[0], str)
    wa1kpcap.to_json(flows, tmp_path / "n.json")
    assert json.loads((tmp_path / "n.json").read_text())[0]["dns"]["queries"] == q
    wa1kpcap.to_csv(flows, tmp_path / "n.csv")
    assert len(wa1kpcap.to_dataframe(flows)) == 1
