"""Flows as light views of one Arrow table.

The flows of one call live in one ``pyarrow.Table`` (the ``flows`` table of
a dataset, ``schemas/flows.md``). A :class:`Flow` is a (table, row) pair:
it holds no arrays of its own, so a list of a million flows costs a million
small objects, not nine million numpy arrays. A column is turned into a
Python list (scalars) or into one numpy array plus offsets (sequences) the
first time any flow asks for it, shared by every flow of the table; after
that ``flow.pkt_mean`` is a list index.

Names follow wa1kpcap 0.2.0 (``flow.key``, ``flow.metrics``,
``flow.features``, ``flow.pkt_mean`` …), with its defects fixed:
skew/kurtosis/CV are real, ``payload_bytes`` counts UDP payload too,
``flow.http`` is filled, DNS answers are kept, ``tls.sni`` is a string.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._arrow import list_parts, numpy, parsed_app
from .stats import sequence_stats

# The nine per-packet sequences, as named by the reference and the table.
SEQUENCES = (
    "packet_lengths",
    "ip_lengths",
    "trans_lengths",
    "app_lengths",
    "payload_bytes",
    "timestamps",
    "iats",
    "tcp_flags",
    "tcp_window_sizes",
)
# The reference's statistics dict names → the table's statistic families.
STAT_FAMILIES = {
    "packet_lengths": "pkt",
    "ip_lengths": "ip",
    "trans_lengths": "trans",
    "app_lengths": "app",
    "iats": "iat",
    # payload_bytes equals app_lengths here (UDP payloads counted too).
    "payload_bytes": "app",
}
# The reference's 21 keys per sequence, then the three it promised but
# never computed.
STAT_KEYS = (
    "mean", "std", "var", "min", "max", "range", "median", "sum",
    "up_mean", "up_std", "up_min", "up_max", "up_sum", "up_count",
    "down_mean", "down_std", "down_min", "down_max", "down_sum", "down_count",
    "count",
)
EXTRA_STAT_KEYS = ("skew", "kurt", "cv")
PROTOCOL_NAMES = {1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6", 132: "SCTP"}
RCODES = {"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "REFUSED": 5,
          "YXDOMAIN": 6, "YXRRSET": 7, "NXRRSET": 8, "NOTAUTH": 9, "NOTZONE": 10}


class FlowTable:
    """The shared columns of one call's flows (and packets, if kept)."""

    __slots__ = ("table", "packets", "_scalars", "_lists", "_packet_index", "_packet_cols", "custom", "n")

    def __init__(self, table: pa.Table, packets: Optional[pa.Table] = None):
        self.table = table
        self.packets = packets
        self.n = table.num_rows
        self._scalars: dict[str, list] = {}
        self._lists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._packet_index: Optional[dict[int, np.ndarray]] = None
        self._packet_cols = None
        # name → per-row values of registered custom features
        self.custom: dict[str, list] = {}

    def col(self, name: str) -> list:
        """Column ``name`` as a Python list (timestamps as float seconds)."""
        try:
            return self._scalars[name]
        except KeyError:
            pass
        c = parsed_app(self.table) if name == "app_protocol_dpi" else self.table.column(name)
        t = c.type
        if pa.types.is_timestamp(t):
            us = pc.cast(c, pa.int64())
            values = [None if v is None else v / 1e6 for v in us.to_pylist()] if c.null_count else (
                numpy(us) / 1e6).tolist()
        elif c.null_count == 0 and (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)):
            values = numpy(c).tolist()
        else:
            values = c.to_pylist()
        self._scalars[name] = values
        return values

    def seq(self, name: str, i: int) -> np.ndarray:
        """Row ``i`` of list column ``name`` as a numpy view (no copy)."""
        try:
            values, offsets = self._lists[name]
        except KeyError:
            values, offsets = self._load_list(name)
        return values[offsets[i]:offsets[i + 1]]

    def _load_list(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        values, offsets = list_parts(self.table.column(name))
        if values.dtype.kind == "i" and values.dtype != np.int64:
            values = values.astype(np.int64)
        self._lists[name] = (values, offsets)
        return values, offsets

    def packet_rows(self, flow_id: int) -> np.ndarray:
        """Row numbers in ``packets`` of one flow's packets, in capture order."""
        if self.packets is None:
            return np.empty(0, np.int64)
        if self._packet_index is None:
            ids = numpy(self.packets.column("flow_id"))
            order = np.argsort(ids, kind="stable")
            sorted_ids = ids[order]
            starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]]) if len(ids) else []
            bounds = list(starts) + [len(ids)]
            self._packet_index = {
                int(sorted_ids[s]): order[s:e] for s, e in zip(bounds[:-1], bounds[1:])
            }
        return self._packet_index.get(flow_id, np.empty(0, np.int64))

    def flows(self) -> list["Flow"]:
        return [Flow(self, i) for i in range(self.n)]


class FlowKey:
    """The flow's 5-tuple and VLAN, oriented as its first packet was."""

    __slots__ = ("src_ip", "dst_ip", "src_port", "dst_port", "protocol", "vlan_id")

    def __init__(self, src_ip: str, dst_ip: str, src_port: int, dst_port: int, protocol: int, vlan_id: int = 0):
        self.src_ip, self.dst_ip = src_ip, dst_ip
        self.src_port, self.dst_port = src_port, dst_port
        self.protocol, self.vlan_id = protocol, vlan_id

    @property
    def protocol_name(self) -> str:
        return PROTOCOL_NAMES.get(self.protocol, f"PROTO({self.protocol})")

    def _tuple(self):
        return (self.src_ip, self.dst_ip, self.src_port, self.dst_port, self.protocol, self.vlan_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FlowKey) and self._tuple() == other._tuple()

    def __hash__(self) -> int:
        return hash(self._tuple())

    def __str__(self) -> str:
        return f"{self.src_ip}:{self.src_port} -> {self.dst_ip}:{self.dst_port} ({self.protocol_name})"

    def __repr__(self) -> str:
        return (f"FlowKey(src_ip={self.src_ip!r}, dst_ip={self.dst_ip!r}, src_port={self.src_port}, "
                f"dst_port={self.dst_port}, protocol={self.protocol}, vlan_id={self.vlan_id})")


class FlowMetrics:
    """The reference's 17 counters. ``sum_window`` is summed over the
    ``tcp_window_sizes`` sequence (so it covers ``max_sequence_len``
    packets when that is set); ``out_of_order_count`` is 0 (the engine
    counts late segments as retransmissions, as the reference does)."""

    FIELDS = ("packet_count", "byte_count", "up_packet_count", "up_byte_count", "down_packet_count",
              "down_byte_count", "syn_count", "fin_count", "rst_count", "ack_count", "psh_count",
              "urg_count", "retrans_count", "out_of_order_count", "min_window", "max_window", "sum_window")
    __slots__ = FIELDS

    def __init__(self, flow: "Flow"):
        t, i = flow._t, flow._i
        for f in self.FIELDS[:13]:
            setattr(self, f, t.col(f)[i])
        self.out_of_order_count = 0
        self.min_window = t.col("min_window")[i]
        self.max_window = t.col("max_window")[i]
        self.sum_window = int(t.seq("tcp_window_sizes", i).sum())

    def to_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.FIELDS}

    def __repr__(self) -> str:
        return "FlowMetrics(" + ", ".join(f"{f}={getattr(self, f)}" for f in self.FIELDS) + ")"


class _Info:
    """Base of the protocol records: attribute access, ``get``, ``to_dict``."""

    __slots__ = ()
    FIELDS: tuple = ()
    # attribute → flows column, read by the default constructor
    _MAP: dict = {}

    def __init__(self, flow: "Flow"):
        _fill(self, flow, self._MAP)

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name, default)

    def to_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.FIELDS}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in self.FIELDS) + ")"


def _fill(obj: _Info, flow: "Flow", mapping: dict[str, str]) -> None:
    t, i = flow._t, flow._i
    for attr, column in mapping.items():
        setattr(obj, attr, t.col(column)[i])


class TLSInfo(_Info):
    """The TLS handshake of a flow. ``version`` is the negotiated version
    (the ServerHello's; the reference gave the first record's layer
    version), ``sni`` the server name (a string; the reference gave a
    one-element list), ``certificate`` the leaf certificate as a dict."""

    FIELDS = ("version", "sni", "alpn", "alpn_selected", "cipher_suites", "cipher_suite", "extensions",
              "supported_groups", "signature_algorithms", "ja3", "ja3_hash", "ja3s", "ja3s_hash", "ja4",
              "certificate")
    __slots__ = FIELDS
    _MAP = {"version": "tls_version", "sni": "sni", "alpn": "alpn", "alpn_selected": "alpn_selected",
            "cipher_suites": "tls_cipher_suites", "cipher_suite": "tls_cipher", "extensions": "tls_extensions",
            "supported_groups": "tls_supported_groups", "signature_algorithms": "tls_signature_algorithms",
            "ja3": "ja3", "ja3_hash": "ja3_hash", "ja3s": "ja3s", "ja3s_hash": "ja3s_hash", "ja4": "ja4"}

    def __init__(self, flow: "Flow"):
        _fill(self, flow, self._MAP)
        t, i = flow._t, flow._i
        subject = t.col("cert_subject")[i]
        self.certificate = None if subject is None else {
            "subject": subject,
            "issuer": t.col("cert_issuer")[i],
            "serial": t.col("cert_serial")[i],
            "not_before": t.col("cert_not_before")[i],
            "not_after": t.col("cert_not_after")[i],
            "san": t.col("cert_san")[i],
            "sha256": t.col("cert_sha256")[i],
            "chain_length": t.col("cert_chain_len")[i],
        }

    @property
    def version_name(self) -> Optional[str]:
        return self.version


class QUICInfo(_Info):
    """The client Initial of a QUIC flow (decrypted: its ClientHello)."""

    FIELDS = ("version", "sni", "alpn", "cipher_suites", "extensions", "supported_groups", "ja3", "ja3_hash", "ja4")
    __slots__ = FIELDS
    _MAP = {"version": "quic_version", "sni": "sni", "alpn": "alpn", "cipher_suites": "tls_cipher_suites",
            "extensions": "tls_extensions", "supported_groups": "tls_supported_groups", "ja3": "ja3",
            "ja3_hash": "ja3_hash", "ja4": "ja4"}


class HTTPInfo(_Info):
    """The first HTTP/1.x request and response of a flow (0.2.0 never
    filled this)."""

    FIELDS = ("method", "host", "path", "user_agent", "status_code", "content_type", "server",
              "requests", "responses")
    __slots__ = FIELDS
    _MAP = {"method": "http_method", "host": "http_host", "path": "http_uri", "user_agent": "http_user_agent",
            "status_code": "http_status", "content_type": "http_content_type", "server": "http_server",
            "requests": "http_requests", "responses": "http_responses"}

    @property
    def uri(self) -> Optional[str]:
        return self.path


class DNSInfo(_Info):
    """DNS of a flow: every distinct question name and answer (0.2.0 had
    no answers), the first question's type and the first response's
    code."""

    FIELDS = ("queries", "answers", "query", "qtype", "rcode", "response_code")
    __slots__ = FIELDS

    def __init__(self, flow: "Flow"):
        _fill(self, flow, {"queries": "dns_queries", "answers": "dns_answers", "query": "dns_query",
                           "qtype": "dns_qtype", "rcode": "dns_rcode"})
        self.queries = self.queries or []
        self.answers = self.answers or []
        r = self.rcode
        self.response_code = None if r is None else RCODES.get(r, int(r[5:]) if r.startswith("RCODE") else None)


class FlowFeatures:
    """The nine sequences of a flow as numpy arrays (views of the table)."""

    __slots__ = ("_flow",)

    def __init__(self, flow: "Flow"):
        self._flow = flow

    def __getattr__(self, name: str) -> np.ndarray:
        if name in SEQUENCES:
            f = self._flow
            return f._t.seq(name, f._i)
        raise AttributeError(name)

    def __bool__(self) -> bool:
        return True

    @property
    def statistics(self) -> dict:
        return self._flow.stats

    def to_dict(self) -> dict:
        d: dict[str, Any] = {s: getattr(self, s).tolist() for s in SEQUENCES[:7]}
        if self._flow.key.protocol == 6:
            d["tcp_flags"] = self.tcp_flags.tolist()
            d["tcp_window_sizes"] = self.tcp_window_sizes.tolist()
        d["statistics"] = self._flow.stats
        return d


class Flow:
    """One bidirectional flow: a row of its call's flows table."""

    __slots__ = ("_t", "_i")

    def __init__(self, table: FlowTable, row: int):
        self._t = table
        self._i = row

    # -- identity and time
    @property
    def key(self) -> FlowKey:
        t, i = self._t, self._i
        return FlowKey(t.col("src_ip")[i], t.col("dst_ip")[i], t.col("src_port")[i], t.col("dst_port")[i],
                       t.col("protocol")[i], t.col("vlan_id")[i])

    @property
    def flow_id(self) -> int:
        return self._t.col("flow_id")[self._i]

    def __getitem__(self, column: str) -> Any:
        """Any column of the flows table by its name (``flow['ja4']``)."""
        if column in SEQUENCES:
            return self._t.seq(column, self._i)
        if column not in self._t.table.column_names:
            raise KeyError(column)
        return self._t.col(column)[self._i]

    src_ip = property(lambda self: self._t.col("src_ip")[self._i])
    dst_ip = property(lambda self: self._t.col("dst_ip")[self._i])
    src_port = sport = property(lambda self: self._t.col("src_port")[self._i])
    dst_port = dport = property(lambda self: self._t.col("dst_port")[self._i])
    protocol = proto = property(lambda self: self._t.col("protocol")[self._i])
    start_time = property(lambda self: self._t.col("start_time")[self._i])
    end_time = property(lambda self: self._t.col("end_time")[self._i])
    duration = property(lambda self: self._t.col("duration")[self._i])
    packet_count = num_packets = property(lambda self: self._t.col("packet_count")[self._i])
    byte_count = property(lambda self: self._t.col("byte_count")[self._i])
    end_reason = property(lambda self: self._t.col("end_reason")[self._i])
    app_protocol = property(lambda self: self._t.col("app_protocol")[self._i])

    @property
    def is_closed(self) -> bool:
        return self.end_reason in ("fin", "rst")

    @property
    def metrics(self) -> FlowMetrics:
        return FlowMetrics(self)

    @property
    def features(self) -> FlowFeatures:
        return FlowFeatures(self)

    # -- protocol records (None when the flow carries no such protocol)
    @property
    def tls(self) -> Optional[TLSInfo]:
        return TLSInfo(self) if self._t.col("app_protocol_dpi")[self._i] == "tls" else None

    @property
    def quic(self) -> Optional[QUICInfo]:
        return QUICInfo(self) if self._t.col("app_protocol_dpi")[self._i] == "quic" else None

    @property
    def http(self) -> Optional[HTTPInfo]:
        t, i = self._t, self._i
        return HTTPInfo(self) if t.col("http_method")[i] is not None or t.col("http_status")[i] is not None else None

    @property
    def dns(self) -> Optional[DNSInfo]:
        t, i = self._t, self._i
        return DNSInfo(self) if t.col("dns_query")[i] is not None or t.col("dns_rcode")[i] is not None else None

    @property
    def ext_protocol(self) -> list[str]:
        """The protocol stack, as the reference names it: IPv4/IPv6, the
        transport, then TLS (+HTTPS when ALPN offers HTTP), DNS, QUIC."""
        t, i = self._t, self._i
        out = ["IPv6" if ":" in t.col("src_ip")[i] else "IPv4"]
        p = t.col("protocol")[i]
        if p in PROTOCOL_NAMES:
            out.append(PROTOCOL_NAMES[p])
        app = t.col("app_protocol_dpi")[i]
        if app == "tls":
            out.append("TLS")
            alpn = t.col("alpn")[i] or []
            if any(a.lower() in ("h2", "http") or a.lower().startswith("http/") for a in alpn):
                out.append("HTTPS")
        if app == "dns" or t.col("dns_query")[i] is not None:
            out.append("DNS")
        if app == "quic":
            out.append("QUIC")
        if app == "http":
            out.append("HTTP")
        return out

    # -- statistics
    @property
    def stats(self) -> dict:
        """The reference's statistics dict, with skew/kurt/cv added."""
        t, i = self._t, self._i
        n = t.col("packet_count")[i]
        out: dict[str, Any] = {}
        for name, fam in STAT_FAMILIES.items():
            if name == "iats" and n < 2:
                continue
            if n == 0:
                continue
            d = {k: t.col(f"{fam}_{k}")[i] for k in STAT_KEYS}
            for k in EXTRA_STAT_KEYS:
                d[k] = t.col(f"{fam}_{k}")[i]
            out[name] = d
        if t.col("protocol")[i] == 6:
            out["tcp_flags"] = sequence_stats(t.seq("tcp_flags", i))
            out["tcp_window"] = sequence_stats(t.seq("tcp_window_sizes", i))
        out["packet_count"] = n
        out["total_bytes"] = int(t.col("byte_count")[i])
        up, down = t.col("pkt_up_count")[i], t.col("pkt_down_count")[i]
        out["up_down_pkt_ratio"] = up / down if down else 0.0
        us, ds = t.col("pkt_up_sum")[i], t.col("pkt_down_sum")[i]
        out["up_down_byte_ratio"] = us / ds if ds else 0.0
        out["duration"] = t.col("iat_sum")[i] if n >= 2 else t.col("duration")[i]
        return out

    # -- packets (verbose_mode) and custom features
    @property
    def packets(self) -> list:
        from .packet import PacketColumns, ParsedPacket

        t = self._t
        if t.packets is None:
            return []
        if t._packet_cols is None:
            t._packet_cols = PacketColumns(t.packets)
        return [ParsedPacket(t._packet_cols, r, self._i) for r in t.packet_rows(self.flow_id).tolist()]

    def packets_forward(self) -> list:
        return [p for p in self.packets if p.is_client_to_server]

    def packets_reverse(self) -> list:
        return [p for p in self.packets if not p.is_client_to_server]

    def get_features(self) -> dict:
        """Values of the features registered with ``register_feature``."""
        return {name: vals[self._i] for name, vals in self._t.custom.items() if vals[self._i] is not None}

    @property
    def feature_values(self) -> dict:
        return self.get_features()

    def to_dict(self) -> dict:
        """The reference's ``Flow.to_dict`` (plus ``http`` when present)."""
        k = self.key
        d: dict[str, Any] = {
            "key": str(k), "protocol": k.protocol_name, "src_ip": k.src_ip, "dst_ip": k.dst_ip,
            "src_port": k.src_port, "dst_port": k.dst_port, "start_time": self.start_time,
            "end_time": self.end_time, "duration": self.duration,
        }
        t, i = self._t, self._i
        for c in ("packet_count", "byte_count", "up_packet_count", "up_byte_count", "down_packet_count",
                  "down_byte_count"):
            d[c] = t.col(c)[i]
        d["ext_protocol"] = self.ext_protocol
        tls = self.tls
        if tls is not None:
            d["tls"] = {"version": tls.version}
            if tls.sni:
                d["tls"]["sni"] = tls.sni
            if tls.certificate:
                d["tls"]["cert_subject"] = tls.certificate["subject"]
                d["tls"]["cert_issuer"] = tls.certificate["issuer"]
        http = self.http
        if http is not None:
            d["http"] = {"host": http.host, "user_agent": http.user_agent}
        dns = self.dns
        if dns is not None:
            d["dns"] = {"queries": dns.queries}
        return d

    def __repr__(self) -> str:
        return f"<Flow {self.key} packets={self.packet_count} bytes={self.byte_count}>"


def _stat_property(column: str):
    def get(self):
        v = self._t.col(column)[self._i]
        return 0.0 if v is None else v
    get.__name__ = column
    return property(get)


# flow.pkt_mean … flow.iat_cv and the up/down variants: one property per
# statistic column (the seed README lists a subset; all are here).
for _fam in ("pkt", "ip", "trans", "app", "iat"):
    for _side in ("", "up_", "down_"):
        for _stat in ("count", "sum", "mean", "std", "var", "min", "max", "range", "median", "skew", "kurt", "cv"):
            _name = f"{_fam}_{_side}{_stat}"
            if not hasattr(Flow, _name):
                setattr(Flow, _name, _stat_property(_name))
