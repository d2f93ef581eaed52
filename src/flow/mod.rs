//! Bidirectional flows: keys, the per-worker flow table with timeouts and a
//! memory bound, TCP state, and the finished [`Flow`] records.
//!
//! Owns: which counted packet belongs to which flow, when a flow ends, and
//! the per-flow counters. Does not own: what the sequences and statistics
//! mean ([`crate::features`]) or how packets were decoded.
//! The contract is written in `schemas/flow.md`.

mod app;
mod key;
mod table;
mod tcp;

use std::net::IpAddr;

use serde::Serialize;

pub use app::{
    AppFields, AppInfo, DhcpInfo, DnsEvent, DnsInfo, Fingerprints, TlsInfo, MAX_DHCP_TYPES,
    MAX_DNS_ANSWERS, MAX_DNS_NAMES,
};
pub use key::{CanonicalKey, FlowKey};
pub use table::{Counted, FlowTable, FlowTableStats, PacketIn};
pub use tcp::TcpTracker;

use crate::decode::{AnomalySet, LayerSet, TunnelInfo};
use crate::features::{FeatureValue, FlowStats, Sequences};

/// The analyzer knobs of the reference's constructor, each doing what it
/// says, plus the bounds a streaming engine needs.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowConfig {
    /// UDP flows idle longer than this (strictly) end; 0 disables.
    pub udp_timeout_s: f64,
    /// TCP flows idle longer than this (strictly) end.
    pub tcp_cleanup_timeout_s: f64,
    /// A closed TCP flow (FIN both ways or RST) ends this long after its last
    /// packet; a SYN ends it at once (Zeek's `tcp_close_delay`).
    pub tcp_close_delay_s: f64,
    /// Drop TCP packets with only ACK set and no payload.
    pub filter_ack: bool,
    /// Drop TCP packets with RST set.
    pub filter_rst: bool,
    /// Drop TCP retransmissions (they still count in `retrans_count`).
    pub filter_retrans: bool,
    /// Compute statistics (sequences are always kept).
    pub compute_statistics: bool,
    /// Reassemble IP fragments (and, for protocol parsers, TCP streams).
    pub enable_reassembly: bool,
    /// Keep at most this many packets' values in each sequence (statistics
    /// still cover all packets); `None` keeps all.
    pub max_sequence_len: Option<usize>,
    /// Most flows held at once; beyond it the least recently active flow
    /// ends early (`end_reason = evicted`).
    pub max_flows: usize,
    /// Most bytes of flow state held at once, as the table estimates them
    /// (slot, sequence rows, parser streams and results); beyond it the
    /// least recently active flows end early (`end_reason = evicted`).
    /// `None`: no bound.
    pub max_flow_bytes: Option<u64>,
    /// Parse application protocols (TLS, DNS, …) from the flows' bytes
    /// (`schemas/tls.md`, `schemas/dns.md`).
    pub protocols: bool,
    /// Keep every DNS message for the `dns` table
    /// ([`FlowTable::take_dns_events`]); with `protocols` only.
    pub dns_messages: bool,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            udp_timeout_s: 0.0,
            tcp_cleanup_timeout_s: 300.0,
            tcp_close_delay_s: 5.0,
            filter_ack: false,
            filter_rst: false,
            filter_retrans: true,
            compute_statistics: true,
            enable_reassembly: true,
            max_sequence_len: None,
            max_flows: 1_000_000,
            max_flow_bytes: None,
            protocols: true,
            dns_messages: false,
        }
    }
}

/// Why a flow ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// TCP: FIN seen in both directions.
    Fin,
    /// TCP: reset.
    Rst,
    /// Idle longer than its protocol's timeout.
    Idle,
    /// Ended early because the table held `max_flows` flows.
    Evicted,
    /// Still open when the input ended.
    EndOfCapture,
}

impl EndReason {
    pub fn name(self) -> &'static str {
        match self {
            EndReason::Fin => "fin",
            EndReason::Rst => "rst",
            EndReason::Idle => "idle",
            EndReason::Evicted => "evicted",
            EndReason::EndOfCapture => "end_of_capture",
        }
    }
}

/// Per-flow counters (over counted packets; `retrans_count` over all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FlowMetrics {
    pub packet_count: u64,
    /// Σ wire length.
    pub byte_count: u64,
    pub up_packet_count: u64,
    pub up_byte_count: u64,
    pub down_packet_count: u64,
    pub down_byte_count: u64,
    pub syn_count: u64,
    pub fin_count: u64,
    pub rst_count: u64,
    pub ack_count: u64,
    pub psh_count: u64,
    pub urg_count: u64,
    /// TCP retransmissions seen, dropped or not.
    pub retrans_count: u64,
    /// Smallest and largest raw TCP window (0 for non-TCP flows).
    pub min_window: u16,
    pub max_window: u16,
    pub sum_window: u64,
}

/// A finished flow.
#[derive(Debug, Clone, Serialize)]
pub struct Flow {
    pub key: FlowKey,
    /// Creation ordinal in the table that tracked it (0, 1, …): unique per
    /// engine, so ids built from it are known while packets still arrive.
    pub ord: u64,
    /// First counted packet, ns since the epoch.
    pub start_ns: i64,
    /// Latest counted packet timestamp (the maximum, as timestamps may go
    /// backwards in a capture).
    pub end_ns: i64,
    pub metrics: FlowMetrics,
    pub seq: Sequences,
    /// Boxed: a finished flow is handed on several times, and this is its
    /// largest part.
    pub stats: Box<FlowStats>,
    pub end_reason: EndReason,
    /// TCP three-way handshake seen (SYN, SYN+ACK, ACK).
    pub tcp_handshake: bool,
    /// Counted packets whose decoding ran past the captured bytes.
    pub truncated_packets: u64,
    /// Anomalies seen in the flow's packets.
    #[serde(skip)]
    pub anomalies: AnomalySet,
    /// Every protocol layer seen in the flow's counted packets.
    #[serde(skip)]
    pub layers: LayerSet,
    /// The outermost tunnel of the flow's first packet, if tunnelled.
    #[serde(skip)]
    pub tunnel: Option<TunnelInfo>,
    /// ICMP/ICMPv6 type and code of the first packet.
    pub icmp: Option<(u8, u8)>,
    /// Datagrams of this flow rebuilt from IP fragments.
    pub reassembled_packets: u64,
    /// Values of custom features, by name.
    pub features: Vec<(String, FeatureValue)>,
    /// What the flow's application bytes said (TLS, DNS, …), if anything.
    #[serde(skip)]
    pub app: Option<Box<AppInfo>>,
}

impl Flow {
    /// The flow's application protocol (`app_protocol`) and how it was
    /// found (`app_confidence`): by content, `dpi` (a protocol IP carries
    /// directly by its header's protocol number, as nDPI names ICMP or
    /// ESP), else by a well-known TCP/UDP port, `port`.
    pub fn app_protocol(&self) -> Option<(&'static str, &'static str)> {
        use crate::proto::ident::{by_ip_protocol, by_port};
        if let Some(p) = self.app.as_ref().and_then(|a| a.protocol()) {
            return Some((p, "dpi"));
        }
        if let Some(p) = by_ip_protocol(self.key.protocol) {
            return Some((p, "dpi"));
        }
        let (k, tcp) = (&self.key, self.key.protocol == 6);
        matches!(k.protocol, 6 | 17)
            .then(|| by_port(k.src_port, k.dst_port, tcp))
            .flatten()
            .map(|p| (p, "port"))
    }

    /// Start time in seconds since the epoch.
    pub fn start_time(&self) -> f64 {
        ns_to_s(self.start_ns)
    }
    pub fn end_time(&self) -> f64 {
        ns_to_s(self.end_ns)
    }
    /// `end − start` in seconds, exact to the nanosecond.
    pub fn duration(&self) -> f64 {
        (self.end_ns - self.start_ns) as f64 / 1e9
    }
    pub fn packet_count(&self) -> u64 {
        self.metrics.packet_count
    }
    pub fn byte_count(&self) -> u64 {
        self.metrics.byte_count
    }
    pub fn src_ip(&self) -> IpAddr {
        self.key.src_ip
    }
    pub fn dst_ip(&self) -> IpAddr {
        self.key.dst_ip
    }
    /// A statistic by its column name (`pkt_mean`, `pkt_up_count`, `iat_max`, …).
    pub fn stat(&self, name: &str) -> Option<f64> {
        self.stats.get(name)
    }
    /// A custom feature's value.
    pub fn feature(&self, name: &str) -> Option<&FeatureValue> {
        self.features
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// Seconds as f64 the way capture tools print them: whole seconds plus the
/// fraction, so a µs timestamp gives the same double as `sec + usec·1e-6`.
#[inline]
pub fn ns_to_s(ts_ns: i64) -> f64 {
    ts_ns.div_euclid(1_000_000_000) as f64 + ts_ns.rem_euclid(1_000_000_000) as f64 * 1e-9
}
