"""Side by side with the reference wa1kpcap 0.2.0 itself, run in its own
interpreter (its import name is ours): on the generated captures, every
flow both have agrees on the key, counters, sequences, statistics and TLS
fields, except the reference's known defects (``tests/parity.rs``'s
classes: fragments it does not reassemble, UDP ``payload_bytes`` it leaves
0, no skew/kurtosis/CV). Set ``WA1KPCAP_REFERENCE_PYTHON`` to an
interpreter with ``wa1kpcap==0.2.0`` (``.ci/run`` makes one)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

import wa1kpcap
from test_certificates_and_names import CERT_DER, cert_capture  # noqa: F401  (fixture)

DUMP = r"""
import hashlib, json, sys
from wa1kpcap import Wa1kPcap
out = []
for f in Wa1kPcap().analyze_file(sys.argv[1]):
    k = f.key
    d = {"key": [k.src_ip, k.dst_ip, k.src_port, k.dst_port, k.protocol, k.vlan_id],
         "metrics": {n: getattr(f.metrics, n) for n in ("packet_count", "byte_count", "up_packet_count",
                     "up_byte_count", "down_packet_count", "down_byte_count", "syn_count", "fin_count",
                     "rst_count", "ack_count", "psh_count", "urg_count", "retrans_count", "max_window")},
         "start_time": f.start_time, "end_time": f.end_time, "ext": f.ext_protocol}
    for s in ("packet_lengths", "ip_lengths", "trans_lengths", "app_lengths", "timestamps", "iats",
              "tcp_flags", "tcp_window_sizes", "payload_bytes"):
        d[s] = [float(x) for x in getattr(f.features, s).tolist()]
    d["stats"] = {n: getattr(f, n) for n in ("pkt_mean", "pkt_std", "pkt_var", "pkt_min", "pkt_max",
                  "pkt_median", "pkt_up_mean", "pkt_down_mean", "pkt_up_count", "iat_mean", "iat_max",
                  "app_mean", "ip_mean", "trans_max")}
    t = f.tls
    if t is not None:
        d["tls"] = {"sni": t.sni, "alpn": t.alpn, "cipher_suites": t.cipher_suites,
                    "cipher_suite": t.cipher_suite,
                    "cert_sha256": [hashlib.sha256(c).hexdigest() for c in (t.certificates or [])]}
    q = f.dns
    if q is not None:
        d["dns"] = list(q.queries)
    out.append(d)
print(json.dumps(out))
"""


def reference(path) -> list[dict]:
    py = os.environ.get("WA1KPCAP_REFERENCE_PYTHON")
    if not py:
        if os.environ.get("CI"):
            pytest.fail("WA1KPCAP_REFERENCE_PYTHON is not set in CI")
        print("skipped: WA1KPCAP_REFERENCE_PYTHON not set", file=sys.stderr)
        pytest.skip("no reference interpreter")
    # the reference's own wa1kpcap, whatever PYTHONPATH says ours is
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([py, "-c", DUMP, str(path)], check=True, capture_output=True, text=True, env=env)
    return json.loads(r.stdout)


def _fragment_flow(f) -> bool:
    """IP fragments: the reference counts the first fragment alone and makes
    port-0 flows of the others (class IpFragments)."""
    return f["reassembled_packets"] > 0


@pytest.mark.parametrize("name", ["sample", "traffic"])
def test_flows_equal_the_references(captures, name):
    ref = {tuple(d["key"]): d for d in reference(captures[name])}
    ours = wa1kpcap.Wa1kPcap().analyze_file(captures[name])
    compared = skipped = 0
    for f in ours:
        k = f.key
        key = (k.src_ip, k.dst_ip, k.src_port, k.dst_port, k.protocol, k.vlan_id)
        if _fragment_flow(f):
            skipped += 1
            continue
        assert key in ref, f"flow {k} missing in the reference"
        r = ref[key]
        for n, v in r["metrics"].items():
            assert getattr(f.metrics, n) == v, (str(k), n)
        assert f.start_time == pytest.approx(r["start_time"], abs=1e-6)
        # plain HTTP: 0.2.0 never parses it
        assert [p for p in f.ext_protocol if p != "HTTP"] == r["ext"], str(k)
        for s in ("packet_lengths", "ip_lengths", "trans_lengths", "app_lengths", "tcp_flags",
                  "tcp_window_sizes"):
            assert [float(x) for x in getattr(f.features, s)] == r[s], (str(k), s)
        if k.protocol != 17:  # the reference's UDP payload_bytes are 0
            assert [float(x) for x in f.features.payload_bytes] == r["payload_bytes"]
        assert [round(x, 6) for x in f.features.iats] == [round(x, 6) for x in r["iats"]]
        for n, v in r["stats"].items():
            assert getattr(f, n) == pytest.approx(v, rel=1e-9, abs=1e-9), (str(k), n)
        if "tls" in r:
            t = f.tls
            assert t is not None
            assert [t.sni] == r["tls"]["sni"] and t.alpn == r["tls"]["alpn"]
            assert t.cipher_suites == r["tls"]["cipher_suites"] and t.cipher_suite == r["tls"]["cipher_suite"]
        if "dns" in r:
            assert f.dns.queries == r["dns"]
        compared += 1
    assert compared == len(ours) - skipped and skipped <= compared // 3


def test_certificates_equal_the_references(cert_capture):  # noqa: F811
    (r,) = reference(cert_capture)
    (f,) = wa1kpcap.Wa1kPcap().analyze_file(cert_capture)
    assert r["tls"]["cert_sha256"] == [hashlib.sha256(CERT_DER).hexdigest()] == [f.tls.certificate["sha256"]]
