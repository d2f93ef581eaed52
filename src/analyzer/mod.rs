//! The analyzer: the library's front door, in the spirit of the seed's
//! `Wa1kPcap`. Reads a capture, decodes, reassembles fragments, tracks flows
//! and hands out finished [`Flow`]s — all at once, or streamed as they end.
//!
//! Owns: the builder (flow settings, custom features) and the file-level
//! entry points; the per-packet work is [`Engine`]'s, shared with `convert`.

mod engine;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use engine::{Engine, PacketRecord, RunSummary};

use crate::capture::{Capture, CaptureError};
use crate::features::FeatureProcessor;
use crate::flow::{Flow, FlowConfig, FlowTable};

/// One file's flows, or why it could not be read.
pub type FileFlows = (PathBuf, Result<Vec<Flow>, CaptureError>);

/// Builder-style analyzer; the defaults are the reference's.
#[derive(Clone, Default)]
pub struct Analyzer {
    config: FlowConfig,
    features: Vec<Arc<dyn FeatureProcessor>>,
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
        Engine::new(
            self.config.enable_reassembly,
            FlowTable::new(self.config.clone(), features),
        )
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
