//! The record parser shared by the memory-mapped and streaming readers: it
//! works on a window of bytes and says "packet", "skip", "need more" or
//! "corrupt", so the same code serves a whole-file map and a refilled buffer.

use super::pcap::PcapParser;
use super::pcapng::PcapNgParser;
use super::CaptureError;

/// A link-layer header type (LINKTYPE_* registry value, FCS bits masked off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct LinkType(pub u16);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const PPP: LinkType = LinkType(9);
    pub const RAW_BSD12: LinkType = LinkType(12);
    pub const RAW_BSD14: LinkType = LinkType(14);
    pub const RAW: LinkType = LinkType(101);
    pub const C_HDLC: LinkType = LinkType(104);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const NFLOG: LinkType = LinkType(239);
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// Human name as libpcap spells it, or `None` for types we do not decode.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "NULL",
            1 => "EN10MB",
            9 => "PPP",
            12 | 14 | 101 => "RAW",
            104 => "C_HDLC",
            108 => "LOOP",
            113 => "LINUX_SLL",
            228 => "IPV4",
            229 => "IPV6",
            239 => "NFLOG",
            276 => "LINUX_SLL2",
            _ => return None,
        })
    }
}

/// The container format of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaptureFormat {
    /// Classic pcap, microsecond timestamps.
    Pcap,
    /// Classic pcap, nanosecond timestamps (magic a1b23c4d).
    PcapNs,
    /// Kuznetzov's "modified" pcap (magic a1b2cd34, 24-byte records).
    PcapModified,
    PcapNg,
}

impl CaptureFormat {
    pub fn name(self) -> &'static str {
        match self {
            CaptureFormat::Pcap => "pcap",
            CaptureFormat::PcapNs => "pcap-ns",
            CaptureFormat::PcapModified => "pcap-modified",
            CaptureFormat::PcapNg => "pcapng",
        }
    }
}

/// Outer compression of a capture file, detected by magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// One packet record, borrowing its bytes from the file (or the stream buffer).
#[derive(Debug, Clone, Copy)]
pub struct RawPacket<'a> {
    /// Nanoseconds since the Unix epoch, exact for every resolution up to 1 ns.
    pub ts_ns: i64,
    /// Length of the packet on the wire (pcap `orig_len`).
    pub wire_len: u32,
    /// 1-based frame number within the capture, as Wireshark counts.
    pub frame: u64,
    /// pcapng interface id (0 for classic pcap).
    pub interface: u32,
    pub linktype: LinkType,
    /// The captured bytes (`caplen` of them).
    pub data: &'a [u8],
}

impl RawPacket<'_> {
    pub fn cap_len(&self) -> u32 {
        self.data.len() as u32
    }
    /// Captured fewer bytes than were on the wire (snaplen).
    pub fn is_snapped(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.wire_len)
    }
}

/// What the parser found at the front of a byte window.
pub(crate) enum Step<'a> {
    /// A packet; the record occupied `consumed` bytes.
    Packet(RawPacket<'a>, usize),
    /// A non-packet record (header, interface, statistics …) of this size.
    Skip(usize),
    /// The record is longer than the window: `need` bytes in all.
    NeedMore(usize),
    /// The bytes cannot be a valid record.
    Corrupt(&'static str),
}

/// Largest record we accept; a length field above this is garbage, not a
/// packet (real snaplens are at most 256 KiB; jumbo/TSO captures a few MiB).
pub(crate) const MAX_RECORD_BYTES: usize = 64 << 20;

/// Per-file parser state, chosen by magic.
pub(crate) enum RecordParser {
    Pcap(PcapParser),
    PcapNg(PcapNgParser),
}

impl RecordParser {
    /// Recognise the file by its first bytes. Returns the parser and how many
    /// header bytes it consumed. `window` must hold at least 24 bytes unless
    /// the file is shorter.
    pub(crate) fn start(window: &[u8]) -> Result<(RecordParser, usize), CaptureError> {
        if window.is_empty() {
            return Err(CaptureError::Empty);
        }
        let mut magic = [0u8; 4];
        let n = window.len().min(4);
        magic[..n].copy_from_slice(&window[..n]);
        if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
            return Ok((RecordParser::PcapNg(PcapNgParser::new()), 0));
        }
        if let Some(p) = PcapParser::start(window)? {
            return Ok((RecordParser::Pcap(p), 24));
        }
        if n < 4 {
            return Err(CaptureError::HeaderTruncated { have: n, need: 24 });
        }
        Err(CaptureError::NotACapture { magic })
    }

    pub(crate) fn format(&self) -> CaptureFormat {
        match self {
            RecordParser::Pcap(p) => p.format(),
            RecordParser::PcapNg(_) => CaptureFormat::PcapNg,
        }
    }

    /// Parse the record at the front of `window`. `frame` is the number the
    /// next packet gets.
    #[inline]
    pub(crate) fn next<'a>(&mut self, window: &'a [u8], frame: u64) -> Step<'a> {
        match self {
            RecordParser::Pcap(p) => p.next(window, frame),
            RecordParser::PcapNg(p) => p.next(window, frame),
        }
    }

    /// Decimal digits of timestamp precision (6 for µs, 9 for ns …), the
    /// finest over all interfaces seen so far.
    pub(crate) fn ts_digits(&self) -> u8 {
        match self {
            RecordParser::Pcap(p) => p.ts_digits(),
            RecordParser::PcapNg(p) => p.ts_digits(),
        }
    }

    /// Link types of the interfaces seen so far, in order of appearance.
    pub(crate) fn linktypes(&self) -> Vec<LinkType> {
        match self {
            RecordParser::Pcap(p) => vec![p.linktype()],
            RecordParser::PcapNg(p) => p.linktypes(),
        }
    }
}
