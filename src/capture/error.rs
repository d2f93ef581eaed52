//! File-level capture errors. Per-packet problems are anomalies, not errors.

/// Why a capture file could not be read (completely).
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot open: {0}")]
    Io(#[from] std::io::Error),
    #[error("empty file")]
    Empty,
    #[error("not a capture file (magic {magic:02x?}, expected pcap, pcapng, gzip or zstd)")]
    NotACapture { magic: [u8; 4] },
    #[error("file header cut short: {have} of {need} bytes")]
    HeaderTruncated { have: usize, need: usize },
    #[error("pcapng section header invalid at offset {offset}")]
    BadSectionHeader { offset: u64 },
    #[error("cut short in the middle of a record at offset {offset} (after {packets} packets; record needs {need} bytes, {have} left)")]
    RecordTruncated {
        offset: u64,
        packets: u64,
        need: u64,
        have: u64,
    },
    #[error("corrupt record at offset {offset} (after {packets} packets): {reason}")]
    BadRecord {
        offset: u64,
        packets: u64,
        reason: &'static str,
    },
    /// The file was truncated, grew or was rewritten while it was read:
    /// packets up to `offset` (all inside what the file still holds) were
    /// delivered; none past it.
    #[error("changed while read: {was} bytes when opened, {now} now; read up to offset {offset} ({packets} packets)")]
    Changed {
        offset: u64,
        packets: u64,
        was: u64,
        now: u64,
    },
    #[error("decompression failed after {packets} packets: {source}")]
    Decompress {
        packets: u64,
        #[source]
        source: std::io::Error,
    },
}

impl CaptureError {
    /// True when packets before the problem were delivered (a damaged tail),
    /// as opposed to a file that could not be read at all.
    pub fn is_partial(&self) -> bool {
        match self {
            CaptureError::RecordTruncated { packets, .. }
            | CaptureError::BadRecord { packets, .. }
            | CaptureError::Changed { packets, .. }
            | CaptureError::Decompress { packets, .. } => *packets > 0,
            _ => false,
        }
    }

    /// Short stable name, for counters and JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            CaptureError::Io(_) => "io",
            CaptureError::Empty => "empty",
            CaptureError::NotACapture { .. } => "not_a_capture",
            CaptureError::HeaderTruncated { .. } => "header_truncated",
            CaptureError::BadSectionHeader { .. } => "bad_section_header",
            CaptureError::RecordTruncated { .. } => "record_truncated",
            CaptureError::BadRecord { .. } => "bad_record",
            CaptureError::Changed { .. } => "changed_while_read",
            CaptureError::Decompress { .. } => "decompress",
        }
    }
}
