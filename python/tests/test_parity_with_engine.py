"""The Python values equal the Rust engine's (the CLI's Parquet dataset of
the same capture), flow by flow: every counter, the nine sequences, every
statistic, the protocol fields — through ``read_flows`` (the table itself)
and through the ``Flow`` views and ``to_dataframe``."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

import wa1kpcap
from wa1kpcap.exporters import segment_stats
from wa1kpcap.flow import SEQUENCES, STAT_KEYS, sequence_stats


def _rows(t: pa.Table) -> list[dict]:
    return t.to_pylist()


@pytest.mark.parametrize("name", ["sample", "traffic"])
def test_read_flows_equals_cli_dataset(captures, oracle, name):
    got = wa1kpcap.read_flows(captures[name]).sort_by([("start_time", "ascending"), ("flow_id", "ascending")])
    want = oracle[name]
    assert got.num_rows == want.num_rows > 0
    assert got.schema.remove_metadata() == want.schema.remove_metadata()
    for col in want.column_names:
        assert got.column(col).to_pylist() == want.column(col).to_pylist(), col


@pytest.mark.parametrize("name", ["sample", "traffic"])
def test_flow_views_equal_cli_rows(captures, oracle, name):
    flows = wa1kpcap.Wa1kPcap(default_filter=None, verbose_mode=True).analyze_file(captures[name])
    want = _rows(oracle[name])
    assert len(flows) == len(want)
    for f, w in zip(flows, want):
        k = f.key
        assert (k.src_ip, k.dst_ip, k.src_port, k.dst_port, k.protocol, k.vlan_id) == (
            w["src_ip"], w["dst_ip"], w["src_port"], w["dst_port"], w["protocol"], w["vlan_id"])
        assert f.flow_id == w["flow_id"]
        assert f.start_time == pytest.approx(w["start_time"].timestamp(), abs=1e-6)
        assert f.end_time == pytest.approx(w["end_time"].timestamp(), abs=1e-6)
        assert f.duration == w["duration"]
        m = f.metrics
        for c in ("packet_count", "byte_count", "up_packet_count", "up_byte_count", "down_packet_count",
                  "down_byte_count", "syn_count", "fin_count", "rst_count", "ack_count", "psh_count",
                  "urg_count", "retrans_count", "min_window", "max_window"):
            assert getattr(m, c) == w[c], c
        assert m.sum_window == sum(w["tcp_window_sizes"])
        for s in SEQUENCES:
            arr = getattr(f.features, s)
            assert isinstance(arr, np.ndarray)
            assert arr.tolist() == w[s], s
        for fam in ("pkt", "ip", "trans", "app", "iat"):
            for side in ("", "up_", "down_"):
                for stat in ("count", "sum", "mean", "std", "var", "min", "max", "range", "median", "skew",
                             "kurt", "cv"):
                    c = f"{fam}_{side}{stat}"
                    assert getattr(f, c) == w[c], c
        tls = f.tls
        if w["app_protocol"] == "tls":
            assert tls.sni == w["sni"] and tls.alpn == w["alpn"] and tls.ja3 == w["ja3"]
            assert tls.ja4 == w["ja4"] and tls.cipher_suites == w["tls_cipher_suites"]
            assert tls.version == w["tls_version"] and tls.cipher_suite == w["tls_cipher"]
            if w["cert_subject"] is not None:
                assert tls.certificate["subject"] == w["cert_subject"]
                assert tls.certificate["issuer"] == w["cert_issuer"]
        else:
            assert tls is None
        if w["dns_query"] is not None:
            assert f.dns.queries == w["dns_queries"] and f.dns.rcode == w["dns_rcode"]
            assert f.dns.answers == (w["dns_answers"] or [])
        if w["http_method"] is not None:
            assert (f.http.method, f.http.host, f.http.path) == (w["http_method"], w["http_host"], w["http_uri"])
        assert len(f.packets) == w["packet_count"]
        assert [p.wirelen * (1 if p.is_client_to_server else -1) for p in f.packets] == w["packet_lengths"]


def test_stats_dict_and_vectorised_statistics_agree_with_engine(oracle):
    """``sequence_stats`` and ``segment_stats`` (the Python statistics for
    the sequences the table has no columns of) reproduce the engine's
    statistic columns where it has them."""
    t = oracle["traffic"]
    for seq, fam in (("packet_lengths", "pkt"), ("app_lengths", "app"), ("iats", "iat")):
        col = t.column(seq).combine_chunks()
        got = segment_stats(col.values.to_numpy(), np.asarray(col.offsets))
        for stat in STAT_KEYS + ("skew", "kurt", "cv"):
            want = t.column(f"{fam}_{stat}").to_numpy()
            np.testing.assert_allclose(got[stat], want, rtol=1e-9, atol=1e-9, err_msg=f"{seq}.{stat}")
        for i, values in enumerate(col.to_pylist()[:50]):
            s = sequence_stats(np.array(values))
            for stat in STAT_KEYS:
                assert s.get(stat, 0) == pytest.approx(t.column(f"{fam}_{stat}")[i].as_py(), rel=1e-9, abs=1e-9)


def test_to_dataframe_columns_are_the_references_and_values_the_engines(captures, oracle):
    flows = wa1kpcap.Wa1kPcap(default_filter=None).analyze_file(captures["traffic"])
    df = wa1kpcap.to_dataframe(flows)
    want = oracle["traffic"]
    assert len(df) == want.num_rows
    base = ["key", "protocol", "src_ip", "dst_ip", "src_port", "dst_port", "start_time", "end_time", "duration",
            "packet_count", "byte_count", "up_packet_count", "up_byte_count", "down_packet_count",
            "down_byte_count", "ext_protocol"]
    assert list(df.columns[:16]) == base
    for seq in ("packet_lengths", "ip_lengths", "trans_lengths", "app_lengths", "iats", "payload_bytes",
                "tcp_flags", "tcp_window"):
        for stat in STAT_KEYS:
            assert f"feature.{seq}.{stat}" in df.columns
    assert df["feature.packet_lengths.mean"].tolist() == want.column("pkt_mean").to_pylist()
    assert df["feature.iats.max"].fillna(-1).tolist() == [
        v if n >= 2 else -1 for v, n in zip(want.column("iat_max").to_pylist(), want.column("packet_count").to_pylist())]
    assert df["key"].tolist() == [str(f.key) for f in flows]
    # the vectorised columns equal the per-flow ones
    assert df["ext_protocol"].tolist() == [f.ext_protocol for f in flows]
    for name in ("tls", "http", "dns"):
        if name in df.columns:
            assert [x if isinstance(x, dict) else None for x in df[name]] == [f.to_dict().get(name) for f in flows]
    assert [a.tolist() for a in df["feature.packet_lengths"]] == want.column("packet_lengths").to_pylist()
    # tcp_window statistics from the sequences, as the reference computes them
    for i, w in enumerate(want.column("tcp_window_sizes").to_pylist()):
        if want.column("protocol")[i].as_py() == 6 and w:
            assert df["feature.tcp_window.mean"][i] == pytest.approx(np.mean(w))
            assert df["feature.tcp_window.median"][i] == pytest.approx(np.median(w))
            assert df["feature.tcp_window.up_count"][i] == sum(1 for x in w if x > 0)
        else:
            assert math.isnan(df["feature.tcp_window.mean"][i])
    tls = df["tls"].dropna()
    assert len(tls) == sum(1 for a in want.column("app_protocol").to_pylist() if a == "tls") > 0
    assert {d["sni"] for d in tls} == {s for s, a in zip(want.column("sni").to_pylist(),
                                                        want.column("app_protocol").to_pylist()) if a == "tls"}
