//! The one per-packet engine: decode → filter → [`Front`] (counts,
//! defragmentation) → flow table. The library's [`super::Analyzer`],
//! `convert`'s workers and the Python bindings all run it; `inspect` shares
//! its front.
//!
//! Owns: [`Engine`], the run's [`RunSummary`] and the packets table's
//! [`PacketRecord`].

use std::sync::Arc;

use crate::capture::RawPacket;
use crate::decode::defrag::DefragStats;
use crate::decode::front::{Fed, Front, PacketIn};
use crate::decode::{decode, AnomalyCounts, LayerCounts, Packet, Transport};
use crate::filter::PacketFilter;
use crate::flow::{Counted, Flow, FlowTable, FlowTableStats};

/// What one run saw besides its flows.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct RunSummary {
    pub packets_read: u64,
    /// Packets without an IP layer (ARP, LLDP, unknown link types …).
    pub packets_non_ip: u64,
    /// Packets the `--filter` expression rejected (not analysed further).
    pub packets_filtered_expr: u64,
    /// IP fragments held for reassembly (not counted as packets themselves).
    pub fragments: u64,
    /// Flows handed out (equals `table.flows_created`: none is lost).
    pub flows: u64,
    /// Of those, flows that ended before the input did.
    pub flows_emitted_early: u64,
    #[serde(skip)]
    pub anomalies: AnomalyCounts,
    #[serde(skip)]
    pub layers: LayerCounts,
    pub table: FlowTableStats,
    pub defrag: DefragStats,
    /// The file ended in a damaged record (packets before it were used).
    #[serde(skip)]
    pub capture_error: Option<String>,
}

impl RunSummary {
    /// Fold another worker's summary into this one.
    pub fn merge(&mut self, o: &RunSummary) {
        self.packets_read += o.packets_read;
        self.packets_non_ip += o.packets_non_ip;
        self.packets_filtered_expr += o.packets_filtered_expr;
        self.fragments += o.fragments;
        self.flows += o.flows;
        self.flows_emitted_early += o.flows_emitted_early;
        self.anomalies += &o.anomalies;
        self.layers += &o.layers;
        self.table += &o.table;
        self.defrag.fragments += o.defrag.fragments;
        self.defrag.reassembled += o.defrag.reassembled;
        if self.capture_error.is_none() {
            self.capture_error.clone_from(&o.capture_error);
        }
    }
}

/// A counted packet as the packets table records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketRecord {
    pub ts_ns: i64,
    /// The flow's creation ordinal in its engine ([`Flow::ord`]).
    pub flow_ord: u64,
    pub up: bool,
    pub wire_len: u32,
    pub ip_len: u32,
    /// TCP header + payload, or the UDP length field; 0 otherwise.
    pub trans_len: u32,
    pub app_len: u32,
    /// Flags, window, sequence and acknowledgement numbers of a TCP packet.
    pub tcp: Option<(u8, u16, u32, u32)>,
    /// TTL or hop limit of the (innermost) IP header.
    pub ttl: u8,
    /// Rebuilt from IP fragments.
    pub reassembled: bool,
}

/// Decode → filter → defragment → flow table, one packet at a time.
pub struct Engine {
    front: Front,
    table: FlowTable,
    summary: RunSummary,
    filter: Option<Arc<PacketFilter>>,
}

impl Engine {
    pub(crate) fn new(reassembly: bool, table: FlowTable) -> Engine {
        Engine {
            front: Front::new(reassembly),
            table,
            summary: RunSummary::default(),
            filter: None,
        }
    }

    /// Only packets `filter` accepts are analysed (it sees each packet as
    /// decoded, fragments before reassembly).
    pub fn with_filter(mut self, filter: Option<Arc<PacketFilter>>) -> Engine {
        self.filter = filter;
        self
    }

    #[inline]
    pub fn packet(&mut self, raw: &RawPacket<'_>, on_flow: &mut dyn FnMut(Flow)) {
        self.packet_with(raw, on_flow, false);
    }

    /// As [`Engine::packet`]; with `want_record`, a counted packet's record
    /// (the packets table's row) is returned.
    #[inline]
    pub fn packet_with(
        &mut self,
        raw: &RawPacket<'_>,
        on_flow: &mut dyn FnMut(Flow),
        want_record: bool,
    ) -> Option<PacketRecord> {
        let p = decode(raw.linktype, raw.data, raw.wire_len);
        self.packet_decoded(raw, &p, on_flow, want_record)
    }

    /// The rest of [`Engine::packet_with`] once the packet is decoded.
    #[inline]
    fn packet_decoded(
        &mut self,
        raw: &RawPacket<'_>,
        p: &Packet<'_>,
        on_flow: &mut dyn FnMut(Flow),
        want_record: bool,
    ) -> Option<PacketRecord> {
        self.summary.packets_read += 1;
        if let Some(f) = &self.filter {
            if !f.matches(p, raw.wire_len) {
                self.summary.packets_filtered_expr += 1;
                return None;
            }
        }
        let table = &mut self.table;
        let early = &mut self.summary.flows_emitted_early;
        let fed = self.front.feed(raw.ts_ns, raw.wire_len, p, |input| {
            let counted = table.process(input, &mut |f| {
                *early += 1;
                on_flow(f)
            });
            match counted {
                Some(c) if want_record => Some(record(input, c)),
                _ => None,
            }
        });
        match fed {
            Fed::Done(r) => r,
            Fed::NonIp => {
                self.summary.packets_non_ip += 1;
                None
            }
            Fed::Held => None,
        }
    }

    /// Flows created so far: the ordinal the next new flow gets.
    pub fn flows_started(&self) -> u64 {
        self.table.stats.flows_created
    }

    /// Anomalies counted so far (the reassembler's are added at the end).
    pub fn anomalies_total(&self) -> u64 {
        self.front.anomalies.total() + self.table.app_anomalies.total()
    }

    /// DNS messages parsed since the last call (with
    /// `FlowConfig::dns_messages`), in packet order.
    pub fn take_dns_events(&mut self) -> std::vec::Drain<'_, crate::flow::DnsEvent> {
        self.table.take_dns_events()
    }

    /// End of input: flush the table and the reassembler.
    pub fn finish(mut self, on_flow: &mut dyn FnMut(Flow)) -> RunSummary {
        let mut flows = 0u64;
        self.table.finish_all(&mut |f| {
            flows += 1;
            on_flow(f)
        });
        let mut s = self.summary;
        s.defrag = self.front.finish();
        s.fragments = self.front.fragments;
        s.layers = std::mem::take(&mut self.front.layers);
        s.anomalies = std::mem::take(&mut self.front.anomalies);
        s.anomalies += &self.table.app_anomalies;
        s.table = self.table.stats.clone();
        // Only finish_all's flows were counted here; the rest were handed
        // out while packets were processed.
        s.flows = flows + s.flows_emitted_early;
        s
    }
}

fn record(p: &PacketIn<'_, '_>, c: Counted) -> PacketRecord {
    let (trans_len, app_len) = p.lengths();
    let tcp = match &p.packet.transport {
        Transport::Tcp(t) => Some((t.flags, t.window, t.seq, t.ack)),
        _ => None,
    };
    PacketRecord {
        ts_ns: p.ts_ns,
        flow_ord: c.flow_ord,
        up: c.up,
        wire_len: p.wire_len,
        ip_len: p.ip.total_len,
        trans_len,
        app_len,
        tcp,
        ttl: p.ip.ttl,
        reassembled: p.reassembled,
    }
}
