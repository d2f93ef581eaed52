//! `inspect`: what a capture file holds — format, link types, packets,
//! bytes, time span, per-layer packet counts and anomaly counts.
//!
//! Owns: one pass over a capture that decodes every packet and summarises
//! it; decoding counts and defragmentation are the engine's own [`Front`],
//! so `inspect` and `convert` count layers and anomalies alike.

use std::path::Path;

use serde::Serialize;

use crate::capture::{time::iso8601, Capture, CaptureError};
use crate::decode::decode;
use crate::decode::front::Front;

/// The summary of one capture file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub format: Option<&'static str>,
    pub compression: Option<&'static str>,
    pub linktypes: Vec<LinkTypeReport>,
    pub packets: u64,
    /// Captured bytes (Σ caplen).
    pub bytes_captured: u64,
    /// Bytes on the wire (Σ orig_len).
    pub bytes_wire: u64,
    /// Packets captured shorter than on the wire (snaplen).
    pub packets_snapped: u64,
    /// Packets whose decoding hit the end of the captured bytes.
    pub packets_truncated: u64,
    pub first_ts_ns: Option<i64>,
    pub last_ts_ns: Option<i64>,
    /// ISO 8601 UTC at the file's own precision.
    pub first_time: Option<String>,
    pub last_time: Option<String>,
    pub layers: serde_json::Map<String, serde_json::Value>,
    pub fragments: u64,
    pub reassembled: u64,
    pub anomalies: serde_json::Map<String, serde_json::Value>,
    pub error: Option<ErrorReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkTypeReport {
    pub id: u16,
    pub name: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    pub kind: &'static str,
    pub message: String,
    /// Packets before the damage were read and are summarised above.
    pub partial: bool,
}

impl FileReport {
    fn failed(path: &Path, e: &CaptureError) -> FileReport {
        FileReport {
            path: path.display().to_string(),
            format: None,
            compression: None,
            linktypes: Vec::new(),
            packets: 0,
            bytes_captured: 0,
            bytes_wire: 0,
            packets_snapped: 0,
            packets_truncated: 0,
            first_ts_ns: None,
            last_ts_ns: None,
            first_time: None,
            last_time: None,
            layers: serde_json::Map::new(),
            fragments: 0,
            reassembled: 0,
            anomalies: serde_json::Map::new(),
            error: Some(ErrorReport {
                kind: e.kind(),
                message: e.to_string(),
                partial: false,
            }),
        }
    }

    /// True when the whole file was read without a file-level error.
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}

/// Read, decode and summarise one capture file.
pub fn inspect_file(path: &Path) -> FileReport {
    let mut capture = match Capture::open(path) {
        Ok(c) => c,
        Err(e) => return FileReport::failed(path, &e),
    };
    // Fragments are always rebuilt here: a file's layers include what its
    // datagrams carry.
    let mut front = Front::new(true);
    let (mut bytes_captured, mut bytes_wire, mut snapped, mut truncated) = (0u64, 0u64, 0u64, 0u64);
    let mut first_ts = None;
    let mut last_ts = None;
    let outcome = capture.for_each_packet(|raw| {
        bytes_captured += u64::from(raw.cap_len());
        bytes_wire += u64::from(raw.wire_len);
        if raw.is_snapped() {
            snapped += 1;
        }
        first_ts.get_or_insert(raw.ts_ns);
        last_ts = Some(raw.ts_ns);
        let p = decode(raw.linktype, raw.data, raw.wire_len);
        if p.truncated {
            truncated += 1;
        }
        front.feed(raw.ts_ns, raw.wire_len, &p, |_| ());
    });
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return FileReport::failed(path, &e),
    };
    let defrag = front.finish();
    let digits = outcome.ts_digits;
    FileReport {
        path: path.display().to_string(),
        format: Some(outcome.format.name()),
        compression: Some(match outcome.compression {
            crate::capture::Compression::None => "none",
            crate::capture::Compression::Gzip => "gzip",
            crate::capture::Compression::Zstd => "zstd",
        }),
        linktypes: outcome
            .linktypes
            .iter()
            .map(|l| LinkTypeReport {
                id: l.0,
                name: l.name(),
            })
            .collect(),
        packets: outcome.packets,
        bytes_captured,
        bytes_wire,
        packets_snapped: snapped,
        packets_truncated: truncated,
        first_ts_ns: first_ts,
        last_ts_ns: last_ts,
        first_time: first_ts.map(|t| iso8601(t, digits)),
        last_time: last_ts.map(|t| iso8601(t, digits)),
        layers: front
            .layers
            .nonzero()
            .map(|(l, n)| (l.name().to_string(), n.into()))
            .collect(),
        fragments: defrag.fragments,
        reassembled: defrag.reassembled,
        anomalies: front
            .anomalies
            .nonzero()
            .map(|(a, n)| (a.name().to_string(), n.into()))
            .collect(),
        error: outcome.error.map(|e| ErrorReport {
            kind: e.kind(),
            partial: outcome.packets > 0,
            message: e.to_string(),
        }),
    }
}

/// Human-readable rendering, a few lines per file.
pub fn render_text(r: &FileReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let Some(format) = r.format else {
        if let Some(e) = &r.error {
            let _ = writeln!(s, "{}: error: {}", r.path, e.message);
        }
        return s;
    };
    let lts: Vec<String> = r
        .linktypes
        .iter()
        .map(|l| match l.name {
            Some(n) => format!("{n}({})", l.id),
            None => format!("unknown({})", l.id),
        })
        .collect();
    let comp = match r.compression {
        Some("none") | None => String::new(),
        Some(c) => format!(" ({c})"),
    };
    let _ = writeln!(
        s,
        "{}: {format}{comp}, link {}, {} packets, {} bytes captured, {} on the wire",
        r.path,
        if lts.is_empty() {
            "-".to_string()
        } else {
            lts.join(",")
        },
        r.packets,
        r.bytes_captured,
        r.bytes_wire,
    );
    if let (Some(a), Some(b)) = (&r.first_time, &r.last_time) {
        let _ = writeln!(s, "  time: {a} .. {b}");
    }
    if r.packets_snapped > 0 || r.packets_truncated > 0 {
        let _ = writeln!(
            s,
            "  snapped: {} packets, decoding truncated: {}",
            r.packets_snapped, r.packets_truncated
        );
    }
    if !r.layers.is_empty() {
        let _ = writeln!(s, "  layers: {}", join_counts(&r.layers));
    }
    if r.fragments > 0 {
        let _ = writeln!(
            s,
            "  fragments: {}, datagrams reassembled: {}",
            r.fragments, r.reassembled
        );
    }
    if !r.anomalies.is_empty() {
        let _ = writeln!(s, "  anomalies: {}", join_counts(&r.anomalies));
    }
    if let Some(e) = &r.error {
        let _ = writeln!(s, "{}: error: {}", r.path, e.message);
    }
    s
}

fn join_counts(m: &serde_json::Map<String, serde_json::Value>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
