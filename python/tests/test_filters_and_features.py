"""Every analyzer argument changes what comes out, as documented; the
reference's filter language and libpcap's both work; custom features run
the seed's incremental protocol."""

from __future__ import annotations

import pytest

from test_certificates_and_names import cert_capture, names_capture  # noqa: F401  (fixtures)

import wa1kpcap
from wa1kpcap.filter import compile_filter


def test_reference_language_compiles_to_libpcap():
    f = compile_filter("tcp and port 443", None)
    assert f.flow is None and f.packet == "((tcp) and (port 443))"
    f = compile_filter(None)  # the default filter alone
    assert "icmp6" in f.packet and "udp port 67" in f.packet and f.flow is None
    f = compile_filter("tls or dns")
    assert f.flow is not None and "not arp" in f.packet.replace("(", "")
    f = compile_filter("tcp port 443 and not net 10.0.0.0/8", None)  # libpcap syntax
    assert f.packet == "(tcp port 443 and not net 10.0.0.0/8)"


def _all(path, **kw):
    return wa1kpcap.Wa1kPcap(default_filter=None, **kw).analyze_file(path)


def test_protocol_filters_select_flows(captures):
    p = captures["sample"]
    every = _all(p)
    protos = {f.key.protocol for f in every}
    assert {6, 17} <= protos
    tcp = _all(p, bpf_filter="tcp")
    assert tcp and all(f.key.protocol == 6 for f in tcp)
    assert len(tcp) == sum(1 for f in every if f.key.protocol == 6)
    tls = _all(p, bpf_filter="tls")
    assert tls and all(f.tls is not None for f in tls)
    assert len(tls) == sum(1 for f in every if f.tls is not None)
    dns = _all(p, bpf_filter="dns")
    assert dns and all(f.dns is not None for f in dns)
    mixed = _all(p, bpf_filter="tls or udp")
    assert len(mixed) == sum(1 for f in every if f.tls is not None or f.key.protocol == 17)
    port = _all(p, bpf_filter="port 53")
    assert port and all(53 in (f.key.src_port, f.key.dst_port) for f in port)


def test_default_filter_drops_icmp(captures):
    every = _all(captures["sample"])
    default = wa1kpcap.Wa1kPcap().analyze_file(captures["sample"])
    icmp = [f for f in every if f.key.protocol in (1, 58)]
    assert icmp, "the sample carries ICMP"
    assert not [f for f in default if f.key.protocol in (1, 58)]
    assert len(default) == len(every) - len(icmp) - sum(
        1 for f in every if f.app_protocol == "dhcp")


def test_min_packets_and_app_layer_parsing(captures):
    p = captures["traffic"]
    every = _all(p)
    big = _all(p, min_packets=3)
    assert big and len(big) == sum(1 for f in every if f.packet_count >= 3) < len(every)
    off = _all(p, app_layer_parsing="none")
    assert len(off) == len(every) and all(f.tls is None and f.dns is None for f in off)
    assert any(f.tls is not None for f in every)


def test_timeouts_and_tcp_filters_change_the_flows(captures):
    p = captures["traffic"]
    base = _all(p)
    acks = _all(p, filter_ack=True)
    assert sum(f.packet_count for f in acks) < sum(f.packet_count for f in base)
    pure_acks = sum(int(((f.features.tcp_flags == 16) & (f.features.app_lengths == 0)).sum())
                    for f in base if f.key.protocol == 6)
    assert sum(f.packet_count for f in base) - sum(f.packet_count for f in acks) <= pure_acks
    for proto, opt in ((17, "udp_timeout"), (6, "tcp_cleanup_timeout")):
        split = _all(p, **{opt: 1e-6})
        n = sum(1 for f in base if f.key.protocol == proto)
        assert sum(1 for f in split if f.key.protocol == proto) > n, opt
        # (a new TCP flow starts its retransmission tracking afresh, so a
        # copy dropped before may count now)
        assert sum(f.packet_count for f in split if f.key.protocol == 17) == sum(
            f.packet_count for f in base if f.key.protocol == 17), opt
    capped = _all(p, max_sequence_len=2)
    assert all(len(f.features.packet_lengths) <= 2 for f in capped)
    assert [f.pkt_mean for f in capped] == [f.pkt_mean for f in base]  # statistics still cover all


def test_verbose_mode_and_raw_bytes(captures):
    p = captures["sample"]
    quiet = wa1kpcap.Wa1kPcap().analyze_file(p)
    assert all(f.packets == [] for f in quiet)
    verbose = wa1kpcap.Wa1kPcap(verbose_mode=True).analyze_file(p)
    assert all(len(f.packets) == f.packet_count for f in verbose)
    assert all(pk.raw_data == b"" for f in verbose for pk in f.packets)
    raw = wa1kpcap.Wa1kPcap(verbose_mode=True, save_raw_bytes=True).analyze_file(p)
    for f in raw:
        for pk in f.packets:
            assert len(pk.raw_data) == pk.caplen


class UpBytes(wa1kpcap.BaseIncrementalFeature):
    def __init__(self):
        super().__init__("up_bytes", wa1kpcap.FeatureType.STATISTICAL)

    def initialize(self, flow):
        self.total = 0

    def update(self, flow, pkt):
        if pkt.is_client_to_server:
            self.total += pkt.wirelen

    def get_value(self, flow):
        return self.total


def test_register_feature_runs_the_incremental_protocol(captures):
    a = wa1kpcap.Wa1kPcap()
    a.register_feature("up_bytes", UpBytes())
    flows = a.analyze_file(captures["traffic"])
    assert flows
    for f in flows:
        assert f.get_features() == {"up_bytes": f.metrics.up_byte_count}
        assert f.feature_values["up_bytes"] == f.metrics.up_byte_count
    with pytest.raises(TypeError):
        a.register_feature("bad", object())


def test_exporters_never_crash_on_certificates_or_empty_sequences(captures, cert_capture, names_capture,  # noqa: F811
                                                                  tmp_path):
    flows = wa1kpcap.Wa1kPcap(default_filter=None).analyze_file(captures["sample"])
    flows += wa1kpcap.Wa1kPcap(default_filter=None).analyze_file(cert_capture)
    flows += wa1kpcap.Wa1kPcap(default_filter=None).analyze_file(names_capture)
    assert any(f.tls is not None and f.tls.certificate for f in flows)
    one = [f for f in flows if f.packet_count == 1]
    for sel in (flows, one, []):
        wa1kpcap.to_dict(sel)
        wa1kpcap.to_list_of_dicts(sel, flatten_features=True)
        wa1kpcap.to_json(sel, tmp_path / "x.json")
        ex = wa1kpcap.FlowExporter(include_features=True)
        ex.save(sel, tmp_path / "x.json")
        if sel:
            wa1kpcap.to_csv(sel, tmp_path / "x.csv")
            ex.save(sel, tmp_path / "x.csv")
            ex.save(sel, tmp_path / "x.parquet")
    with pytest.raises(ValueError):
        wa1kpcap.FlowExporter().save(flows, tmp_path / "x.xlsx")


def test_iterating_a_statistic_is_cheap(captures):
    """Flows are views: the same column list serves every flow."""
    flows = wa1kpcap.Wa1kPcap().analyze_file(captures["traffic"])
    a, b = flows[0], flows[-1]
    assert a._t is b._t
    assert a.pkt_mean == a._t.col("pkt_mean")[0]
    assert a._t._scalars["pkt_mean"] is b._t.col("pkt_mean")
