//! The analyzer: the library's front door, in the spirit of the seed's
//! `Wa1kPcap`. Reads a capture, decodes, reassembles fragments, tracks flows
//! and hands out finished [`Flow`]s — all at once, or streamed as they end.
//!
//! Owns: wiring capture → decode → defrag → flow table for one file, and the
//! run summary. Parallel and multi-file pipelines build on [`Analyzer::stream`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::capture::{Capture, CaptureError, RawPacket};
use crate::decode::defrag::{DefragStats, Defragmenter, FragmentOutcome};
use crate::decode::Transport;
use crate::decode::{decode, AnomalyCounts, LayerCounts, Packet};
use crate::features::FeatureProcessor;
use crate::filter::PacketFilter;
use crate::flow::{Flow, FlowConfig, FlowTable, FlowTableStats, PacketIn};

/// One file's flows, or why it could not be read.
pub type FileFlows = (PathBuf, Result<Vec<Flow>, CaptureError>);

/// Builder-style analyzer; the defaults are the reference's.
#[derive(Clone, Default)]
pub struct Analyzer {
    config: FlowConfig,
    features: Vec<Arc<dyn FeatureProcessor>>,
}

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

/// Flows and summary of one capture.
#[derive(Debug)]
pub struct Analysis {
    pub flows: Vec<Flow>,
    pub summary: RunSummary,
}

impl Analyzer {
    pub fn new() -> Analyzer {
        Analyzer::default()
    }

    pub fn with_config(config: FlowConfig) -> Analyzer {
        Analyzer {
            config,
            features: Vec::new(),
        }
    }

    pub fn config(&self) -> &FlowConfig {
        &self.config
    }

    pub fn udp_timeout(mut self, seconds: f64) -> Self {
        self.config.udp_timeout_s = seconds;
        self
    }
    pub fn tcp_cleanup_timeout(mut self, seconds: f64) -> Self {
        self.config.tcp_cleanup_timeout_s = seconds;
        self
    }
    pub fn filter_ack(mut self, on: bool) -> Self {
        self.config.filter_ack = on;
        self
    }
    pub fn filter_rst(mut self, on: bool) -> Self {
        self.config.filter_rst = on;
        self
    }
    pub fn filter_retrans(mut self, on: bool) -> Self {
        self.config.filter_retrans = on;
        self
    }
    pub fn compute_statistics(mut self, on: bool) -> Self {
        self.config.compute_statistics = on;
        self
    }
    pub fn enable_reassembly(mut self, on: bool) -> Self {
        self.config.enable_reassembly = on;
        self
    }
    pub fn max_sequence_len(mut self, n: Option<usize>) -> Self {
        self.config.max_sequence_len = n;
        self
    }
    /// Parse application protocols (TLS, DNS, …); on by default.
    pub fn protocols(mut self, on: bool) -> Self {
        self.config.protocols = on;
        self
    }
    /// Keep every DNS message for [`Engine::take_dns_events`] (the `dns`
    /// table); off by default.
    pub fn dns_messages(mut self, on: bool) -> Self {
        self.config.dns_messages = on;
        self
    }

    pub fn max_flows(mut self, n: usize) -> Self {
        self.config.max_flows = n;
        self
    }

    /// Bound the estimated memory of the flows held at once (bytes; `None`:
    /// no bound): beyond it the least recently active flows end early.
    pub fn max_flow_memory(mut self, bytes: Option<u64>) -> Self {
        self.config.max_flow_bytes = bytes;
        self
    }

    /// Add a custom per-flow feature (the seed's `register_feature`).
    pub fn register_feature(mut self, processor: impl FeatureProcessor + 'static) -> Self {
        self.features.push(Arc::new(processor));
        self
    }

    /// All flows of a capture, sorted by (start time, key). A damaged tail
    /// keeps the flows before it; see [`Analyzer::analyze`] for the summary.
    pub fn analyze_file(&self, path: impl AsRef<Path>) -> Result<Vec<Flow>, CaptureError> {
        Ok(self.analyze(path)?.flows)
    }

    /// Flows and the run summary (packets, anomalies, filters, errors).
    pub fn analyze(&self, path: impl AsRef<Path>) -> Result<Analysis, CaptureError> {
        let mut flows = Vec::new();
        let summary = self.stream(path, |f| flows.push(f))?;
        flows.sort_by_key(|f| (f.start_ns, f.key));
        Ok(Analysis { flows, summary })
    }

    /// Every file in `dir` whose name matches `pattern` (`*` and `?`
    /// wildcards), in name order; a bad file gives its error, the others go on.
    pub fn analyze_directory(
        &self,
        dir: impl AsRef<Path>,
        pattern: &str,
    ) -> std::io::Result<Vec<FileFlows>> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| wildcard(pattern, n))
            })
            .collect();
        paths.sort();
        Ok(paths
            .into_iter()
            .map(|p| {
                let r = self.analyze_file(&p);
                (p, r)
            })
            .collect())
    }

    /// Stream the flows of a capture to `on_flow` as they end (memory stays
    /// bounded by the table, not the file).
    pub fn stream(
        &self,
        path: impl AsRef<Path>,
        on_flow: impl FnMut(Flow),
    ) -> Result<RunSummary, CaptureError> {
        let mut capture = Capture::open(path.as_ref())?;
        self.stream_capture(&mut capture, on_flow)
    }

    /// As [`Analyzer::stream`], over an opened capture.
    pub fn stream_capture(
        &self,
        capture: &mut Capture,
        mut on_flow: impl FnMut(Flow),
    ) -> Result<RunSummary, CaptureError> {
        let mut engine = self.engine();
        let outcome = capture.for_each_packet(|raw| engine.packet(raw, &mut on_flow))?;
        let mut summary = engine.finish(&mut on_flow);
        summary.capture_error = outcome.error.map(|e| e.to_string());
        Ok(summary)
    }

    /// A packet-at-a-time engine, for pipelines that feed packets themselves
    /// (several files stitched, one worker per core).
    pub fn engine(&self) -> Engine {
        let features: Arc<[Arc<dyn FeatureProcessor>]> = self.features.clone().into();
        Engine {
            reassembly: self.config.enable_reassembly,
            table: FlowTable::new(self.config.clone(), features),
            defrag: Defragmenter::default(),
            summary: RunSummary::default(),
            filter: None,
        }
    }
}

/// Decode → defragment → flow table, one packet at a time.
pub struct Engine {
    reassembly: bool,
    table: FlowTable,
    defrag: Defragmenter,
    summary: RunSummary,
    filter: Option<Arc<PacketFilter>>,
}

impl Engine {
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
        self.summary.layers.add_set(p.layers);
        self.summary.anomalies.add_set(p.anomalies);
        let Some(ip) = p.ip else {
            self.summary.packets_non_ip += 1;
            return None;
        };
        if self.reassembly && p.is_fragment() {
            self.summary.fragments += 1;
            let FragmentOutcome::Complete(r) = self.defrag.push(raw.ts_ns, &ip, raw.wire_len)
            else {
                return None;
            };
            let whole = p.with_reassembled(&r.bytes);
            let wip = whole.ip?;
            self.summary.anomalies.add_set(whole.anomalies);
            let input = PacketIn {
                ts_ns: raw.ts_ns,
                wire_len: u32::try_from(r.wire_len_sum).unwrap_or(u32::MAX),
                packet: &whole,
                ip: &wip,
                reassembled: true,
            };
            return self.process(&input, on_flow, want_record);
        }
        let input = PacketIn {
            ts_ns: raw.ts_ns,
            wire_len: raw.wire_len,
            packet: p,
            ip: &ip,
            reassembled: false,
        };
        self.process(&input, on_flow, want_record)
    }

    #[inline]
    fn process(
        &mut self,
        input: &PacketIn<'_, '_>,
        on_flow: &mut dyn FnMut(Flow),
        want_record: bool,
    ) -> Option<PacketRecord> {
        let early = &mut self.summary.flows_emitted_early;
        let counted = self.table.process(input, &mut |f| {
            *early += 1;
            on_flow(f)
        });
        match counted {
            Some(c) if want_record => Some(record(input, c)),
            _ => None,
        }
    }

    /// Flows created so far: the ordinal the next new flow gets.
    pub fn flows_started(&self) -> u64 {
        self.table.stats.flows_created
    }

    /// Anomalies counted so far.
    pub fn anomalies_total(&self) -> u64 {
        self.summary.anomalies.total() + self.table.app_anomalies.total()
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
        self.defrag.finish();
        self.summary.anomalies += &self.defrag.anomalies;
        self.summary.anomalies += &self.table.app_anomalies;
        self.summary.defrag = self.defrag.stats.clone();
        self.summary.table = self.table.stats.clone();
        // Only finish_all's flows were counted here; the rest were handed
        // out while packets were processed.
        self.summary.flows = flows + self.summary.flows_emitted_early;
        self.summary
    }
}

fn record(p: &PacketIn<'_, '_>, c: crate::flow::Counted) -> PacketRecord {
    let (trans_len, app_len, tcp) = match &p.packet.transport {
        Transport::Tcp(t) => (
            u32::from(t.header_len) + t.payload.len() as u32,
            t.payload.len() as u32,
            Some((t.flags, t.window, t.seq, t.ack)),
        ),
        Transport::Udp(u) => (u32::from(u.length), u.payload.len() as u32, None),
        _ => (0, 0, None),
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

/// Shell-style match of `*` and `?` against a whole file name.
pub(crate) fn wildcard(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut i, mut j) = (0usize, 0usize);
    let (mut star, mut mark) = (None, 0usize);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    while i < p.len() && p[i] == '*' {
        i += 1;
    }
    i == p.len()
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards() {
        assert!(wildcard("*.pcap", "a.pcap"));
        assert!(!wildcard("*.pcap", "a.pcapng"));
        assert!(wildcard("*.pcap*", "a.pcapng"));
        assert!(wildcard("t?st*", "test.gz"));
        assert!(!wildcard("t?st", "toast"));
        assert!(wildcard("*", ""));
    }
}
