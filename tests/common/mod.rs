//! Helpers the corpus oracle tests share: where the corpus is, and TShark's
//! field exports (`expected-tshark/<capture path>.tsv`).
// Each test crate uses a part of this module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The shared corpus (`WA1KPCAP_CORPUS`); without it, say what is skipped.
pub fn corpus(what: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("WA1KPCAP_CORPUS").map(PathBuf::from);
    if dir.is_none() {
        eprintln!("WA1KPCAP_CORPUS is not set: {what} skipped");
    }
    dir
}

/// Every TShark export of the corpus, sorted: the capture's path relative
/// to the corpus, and the TSV text.
pub fn tshark_exports(corpus: &Path) -> Vec<(PathBuf, String)> {
    let root = corpus.join("expected-tshark");
    files_under(&root, |p| p.extension().is_some_and(|e| e == "tsv"))
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let rel = p.strip_prefix(&root).unwrap_or(&p).with_extension("");
            Some((rel, text))
        })
        .collect()
}

/// Files under `dir` (recursively) that `keep` accepts, sorted.
pub fn files_under(dir: &Path, keep: impl Fn(&Path) -> bool + Copy) -> Vec<PathBuf> {
    fn walk(dir: &Path, keep: impl Fn(&Path) -> bool + Copy, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, keep, out);
            } else if keep(&p) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, keep, &mut out);
    out
}

/// One TSV row, by column name ("" for a missing column or cell).
pub struct Record<'a>(HashMap<&'a str, &'a str>);

impl<'a> Record<'a> {
    pub fn get(&self, name: &str) -> &'a str {
        self.0.get(name).copied().unwrap_or("")
    }
}

/// The rows of a TSV with a header line.
pub fn tsv_records(tsv: &str) -> Vec<Record<'_>> {
    let mut lines = tsv.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let names: Vec<&str> = header.split('\t').collect();
    lines
        .map(|l| Record(names.iter().copied().zip(l.split('\t')).collect()))
        .collect()
}

/// A TCP or UDP 4-tuple: (source address, source port, destination
/// address, destination port).
pub type Tuple = (std::net::IpAddr, u16, std::net::IpAddr, u16);

/// Every decoded packet of a capture with its frame number (from 1). IP
/// fragments go through the library's defragmenter and the datagram is
/// handed over at the fragment that completes it (where TShark reports
/// it). False if the capture cannot be opened.
pub fn for_each_packet(path: &Path, mut f: impl FnMut(u64, &wa1kpcap::decode::Packet<'_>)) -> bool {
    for_each_packet_at(path, |frame, _, p| f(frame, p))
}

/// [`for_each_packet`] with each packet's capture time (ns since the epoch).
pub fn for_each_packet_at(
    path: &Path,
    mut f: impl FnMut(u64, i64, &wa1kpcap::decode::Packet<'_>),
) -> bool {
    use wa1kpcap::decode::defrag::{Defragmenter, FragmentOutcome};
    let Ok(mut cap) = wa1kpcap::capture::Capture::open(path) else {
        return false;
    };
    let mut defrag = Defragmenter::default();
    let _ = cap.for_each_packet(|raw| {
        let p = wa1kpcap::decode::decode(raw.linktype, raw.data, raw.wire_len);
        if !p.is_fragment() {
            f(raw.frame, raw.ts_ns, &p);
            return;
        }
        let Some(ip) = p.ip.as_ref() else { return };
        if let FragmentOutcome::Complete(r) = defrag.push(raw.ts_ns, ip, raw.wire_len) {
            f(raw.frame, raw.ts_ns, &p.with_reassembled(&r.bytes));
        }
    });
    true
}

/// One TCP direction rebuilt by the library's parser-side reassembler
/// (`proto::stream::TcpStream`). Only the first connection of a 4-tuple
/// is kept: a SYN with another sequence number after data starts no new
/// stream (a retransmitted SYN, same number, changes nothing).
pub struct Direction {
    pub stream: wa1kpcap::proto::stream::TcpStream,
    /// A new connection began: later segments are not read.
    pub closed: bool,
    /// Frames that carried payload for this direction.
    pub frames: u32,
    /// Frames whose payload was all already in the stream (retransmissions
    /// and duplicates).
    pub repeats: std::collections::HashSet<u64>,
    /// Segments that arrived ahead of a hole (out of order).
    pub early_segments: u32,
    isn: Option<u32>,
}

impl Direction {
    fn new(cap_bytes: usize) -> Direction {
        Direction {
            stream: wa1kpcap::proto::stream::TcpStream::new(cap_bytes),
            closed: false,
            frames: 0,
            repeats: Default::default(),
            early_segments: 0,
            isn: None,
        }
    }

    /// A direction that carried nothing.
    pub fn empty() -> Direction {
        Direction::new(0)
    }

    fn segment(&mut self, frame: u64, seq: u32, syn: bool, payload: &[u8]) {
        if self.closed {
            return;
        }
        if syn && self.isn != Some(seq) {
            if !self.stream.bytes().is_empty() || self.stream.has_hole() {
                self.closed = true;
                return;
            }
            self.isn = Some(seq);
            self.stream.syn(seq);
        }
        if payload.is_empty() {
            return;
        }
        self.frames += 1;
        let overlap = self.stream.overlap_bytes;
        let grew = self.stream.segment(seq, payload);
        if self.stream.overlap_bytes - overlap == payload.len() as u64 {
            self.repeats.insert(frame);
        } else if !grew && self.stream.has_hole() {
            self.early_segments += 1;
        }
    }

    pub fn bytes(&self) -> &[u8] {
        self.stream.bytes()
    }

    /// The direction's SYN was seen: its stream starts at the first byte.
    pub fn syn_seen(&self) -> bool {
        self.isn.is_some()
    }
}

/// The TCP directions of a capture that `wanted` selects, each keeping
/// its first `cap_bytes` bytes.
pub fn tcp_directions(
    path: &Path,
    cap_bytes: usize,
    wanted: impl Fn(&Tuple) -> bool,
) -> HashMap<Tuple, Direction> {
    use wa1kpcap::decode::Transport;
    let mut dirs: HashMap<Tuple, Direction> = HashMap::new();
    for_each_packet(path, |frame, p| {
        let (Some(ip), Transport::Tcp(t)) = (p.ip.as_ref(), &p.transport) else {
            return;
        };
        let key = (ip.src, t.src_port, ip.dst, t.dst_port);
        if wanted(&key) {
            dirs.entry(key)
                .or_insert_with(|| Direction::new(cap_bytes))
                .segment(frame, t.seq, t.flags & 0x02 != 0, t.payload);
        }
    });
    dirs
}

/// Every address in TShark address cells (tunnels list several,
/// comma-joined, the innermost last).
pub fn tshark_addrs(cells: &[&str]) -> Vec<std::net::IpAddr> {
    cells
        .iter()
        .flat_map(|c| c.split(','))
        .filter_map(|a| a.parse().ok())
        .collect()
}

/// The innermost port of a TShark port cell.
pub fn tshark_port(cell: &str) -> Option<u16> {
    cell.split(',').next_back()?.parse().ok()
}

/// nDPI's per-flow result lines (`ndpi/result/*.out`) that `keep` accepts,
/// by capture name (the file under `ndpi/pcap`), in name order; captures
/// without such a line are left out.
pub fn ndpi_lines(corpus: &Path, keep: impl Fn(&str) -> bool) -> Vec<(String, Vec<String>)> {
    let results = corpus.join("ndpi/result");
    files_under(&results, |p| p.extension().is_some_and(|e| e == "out"))
        .into_iter()
        .filter_map(|out| {
            let text = std::fs::read_to_string(&out).ok()?;
            let lines: Vec<String> = text.lines().filter(|l| keep(l)).map(String::from).collect();
            let name = out.file_name()?.to_string_lossy().replace(".out", "");
            (!lines.is_empty()).then_some((name, lines))
        })
        .collect()
}

/// The value of `[key: value]` in an nDPI result line.
pub fn ndpi_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(&format!("[{key}: "))? + key.len() + 3;
    let rest = &line[at..];
    Some(&rest[..rest.find(']')?])
}

/// One end of a connection: address and port.
pub type End = (std::net::IpAddr, u16);

/// The IP protocol (6, 17) and the two ends of an nDPI result line
/// (`TCP a:p <-> b:q`, or `->`; IPv6 addresses in brackets).
pub fn ndpi_endpoints(line: &str) -> Option<(u8, End, End)> {
    let (proto, rest) = match line.split_once("\tTCP ") {
        Some((_, r)) => (6, r),
        None => (17, line.split_once("\tUDP ")?.1),
    };
    let mut w = rest.split_whitespace();
    let parse = |s: &str| -> Option<End> {
        let (ip, port) = s.rsplit_once(':')?;
        let ip = ip.trim_start_matches('[').trim_end_matches(']');
        Some((ip.parse().ok()?, port.parse().ok()?))
    };
    let a = parse(w.next()?)?;
    w.next()?;
    Some((proto, a, parse(w.next()?)?))
}

/// Zeek's empty and unset markers (`-`, `(empty)`) as an empty string.
pub fn zeek_value(v: &str) -> String {
    match v {
        "-" | "(empty)" => String::new(),
        v => v.to_owned(),
    }
}

/// A Zeek log's rows as (field name → value) maps, empty and unset
/// values as empty strings.
pub fn zeek_rows(log: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut names: Vec<&str> = Vec::new();
    let mut rows = Vec::new();
    for line in log.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            names = f.split('\t').collect();
        } else if !line.starts_with('#') && !names.is_empty() {
            rows.push(
                names
                    .iter()
                    .zip(line.split('\t'))
                    .map(|(n, v)| (n.to_string(), zeek_value(v)))
                    .collect(),
            );
        }
    }
    rows
}

/// Zeek's trace for an expected-output directory name: `<dir>__<file>`
/// is `traces/<dir>/<file>` (nested dirs joined the same way).
pub fn zeek_trace(corpus: &Path, expected_dir: &str) -> PathBuf {
    corpus
        .join("zeek/traces")
        .join(expected_dir.replace("__", "/"))
}

/// The flow between two ends over IP protocol `proto`, either way; an
/// oracle keeps one flow per 5-tuple where we start a new one after a
/// close (a port reused after an RST): the longest is the one compared.
pub fn flow_between(
    flows: &[wa1kpcap::Flow],
    proto: u8,
    a: End,
    b: End,
) -> Option<&wa1kpcap::Flow> {
    flows
        .iter()
        .filter(|f| {
            let (x, y) = (
                (f.key.src_ip, f.key.src_port),
                (f.key.dst_ip, f.key.dst_port),
            );
            f.key.protocol == proto && ((x, y) == (a, b) || (x, y) == (b, a))
        })
        .max_by_key(|f| f.metrics.packet_count)
}
