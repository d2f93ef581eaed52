//! What a flow's application bytes say: the per-flow driver of the pure
//! parsers in [`crate::proto`]. Owns which parser reads which bytes of a
//! flow (by content, ports only as hints), the bounded per-direction TCP
//! streams they read, and the per-flow summary ([`AppInfo`]) the `flows`
//! columns are made of. The parsers themselves own the formats.
//!
//! Bounds: each TCP direction keeps at most [`STREAM_BYTES`] bytes and
//! stops being read once its parser is done, proved the bytes are not its
//! protocol, or the bound was reached; the stream is freed then. Per-flow
//! lists are capped ([`MAX_DNS_NAMES`], [`MAX_DNS_ANSWERS`]). Cost per
//! packet after that: one branch.

use std::net::IpAddr;

use crate::decode::{Anomaly, TcpSegment};
use crate::proto::cert::{decode_certificate, server_certificates, Certificate};
use crate::proto::dhcp::parse_dhcp;
pub use crate::proto::dhcp::{DhcpInfo, MAX_DHCP_TYPES};
use crate::proto::dns::{
    is_plausible_message, is_plausible_tcp, parse_message, parse_tcp_stream, DnsMessage,
};
pub use crate::proto::dns::{DnsInfo, MAX_DNS_ANSWERS, MAX_DNS_NAMES};
use crate::proto::dtls::{starts_like_dtls, DtlsTracker};
use crate::proto::http::{
    is_http_datagram, parse_request_head, parse_response_head, HttpInfo, HttpScanner, WalkEnd,
};
use crate::proto::preamble::preamble;
use crate::proto::quic::{starts_like_quic, QuicInfo, QuicTracker};
use crate::proto::stream::TcpStream;
use crate::proto::tls::{
    parse_client_hello, parse_server_hello, parse_sslv2_client_hello, ClientHello, ServerHello,
};
pub use crate::proto::tls::{Fingerprints, TlsInfo};
use crate::proto::Parse;

/// Bytes of each direction kept for the parsers: a ClientHello is at most
/// a few KiB (16 KiB covers post-quantum key shares), and a server's first
/// flight with its certificate chain fits in 16 KiB but for rare chains.
pub const STREAM_BYTES: usize = 16 * 1024;

/// How far into a TCP direction a TLS hello is sought when the stream does
/// not start with one (STARTTLS dialogues, proxy and database preambles,
/// RDP's X.224 exchange: a few hundred bytes, rarely a few KiB).
pub const TLS_SCAN_BYTES: usize = 4 * 1024;

/// Ports that hint at DNS: DNS, mDNS, LLMNR.
const DNS_PORTS: [u16; 3] = [53, 5353, 5355];
/// DHCPv4 and DHCPv6 ports.
const DHCP_PORTS: [u16; 4] = [67, 68, 546, 547];
/// Distinct malformed-message reasons kept per flow (`app_errors`).
pub const MAX_APP_ERRORS: usize = 8;

/// What a flow's application bytes said. Each part is `None` when its
/// protocol was not seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppInfo {
    /// The TLS handshake (over TCP, or the ClientHello a QUIC Initial
    /// carried: then `quic` is set too).
    pub tls: Option<Box<TlsInfo>>,
    pub dns: Option<Box<DnsInfo>>,
    /// QUIC long-header facts (version, connection IDs), when the flow
    /// opened like QUIC; its ClientHello is in `tls`.
    pub quic: Option<Box<QuicInfo>>,
    /// HTTP/1.x: first request and response, counts (when a head was read).
    pub http: Option<Box<HttpInfo>>,
    pub dhcp: Option<Box<DhcpInfo>>,
    /// Why messages of the flow were malformed: (protocol, the parser's
    /// reason), distinct, at most [`MAX_APP_ERRORS`]. Each also counts its
    /// `*_malformed` anomaly.
    pub errors: Vec<(&'static str, &'static str)>,
}

impl AppInfo {
    /// Note why a message of `proto` was malformed.
    fn error(&mut self, proto: &'static str, reason: &'static str) {
        if self.errors.len() < MAX_APP_ERRORS && !self.errors.contains(&(proto, reason)) {
            self.errors.push((proto, reason));
        }
    }

    /// The flow's application protocol: the most specific one seen.
    pub fn protocol(&self) -> Option<&'static str> {
        if self.quic.is_some() {
            Some("quic")
        } else if self.tls.as_ref().is_some_and(|t| t.dtls) {
            Some("dtls")
        } else if self.tls.is_some() {
            Some("tls")
        } else if self.http.is_some() {
            Some("http")
        } else if self.dns.is_some() {
            Some("dns")
        } else if self.dhcp.is_some() {
            Some("dhcp")
        } else {
            None
        }
    }
}

/// One DNS message of a flow, for the `dns` table.
#[derive(Debug, Clone)]
pub struct DnsEvent {
    /// The flow's creation ordinal (its `flow_id` in a dataset).
    pub flow_ord: u64,
    pub ts_ns: i64,
    /// Sent by the flow's up side.
    pub up: bool,
    /// Carried over TCP (length-prefixed) rather than UDP.
    pub tcp: bool,
    /// Sender and receiver (address, port) of the packet that completed it.
    pub src: (IpAddr, u16),
    pub dst: (IpAddr, u16),
    pub message: DnsMessage,
}

/// Certificates already decoded by this worker, by their DER: servers send
/// the same chain on every connection, and decoding (X.509 parse, SHA-1,
/// SHA-256) is most of the cost of a TLS ≤ 1.2 flow. Bounded by two
/// generations of [`CertCache::GENERATION`] entries: when the current one
/// fills, it becomes the previous one (whose hits move back), so a busy
/// server's chain survives while one-off certificates age out — never a
/// wholesale clear. Keys are hashed with FxHash (a DER is a kilobyte or two;
/// SipHash over it was 1 % of a TLS-heavy profile); equal keys are compared
/// in full, so a collision costs time, never a wrong certificate.
#[derive(Debug, Default)]
pub(crate) struct CertCache {
    current: CertMap,
    previous: CertMap,
}

type CertMap = std::collections::HashMap<
    Vec<u8>,
    (Certificate, Option<&'static str>),
    rustc_hash::FxBuildHasher,
>;

impl CertCache {
    pub(crate) const GENERATION: usize = 512;

    /// The certificate, and why its DER could not be read, if so.
    fn decode(&mut self, der: &[u8]) -> (Certificate, Option<&'static str>) {
        if let Some(hit) = self.current.get(der) {
            return hit.clone();
        }
        let (key, value) = self.previous.remove_entry(der).unwrap_or_else(|| {
            let (c, error) = decode_certificate(der);
            (der.to_vec(), (c, error))
        });
        if self.current.len() >= Self::GENERATION {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(key, value.clone());
        value
    }
}

/// Where a flow's parser output goes besides its summary.
pub(crate) struct AppSink<'a> {
    pub flow_ord: u64,
    pub ts_ns: i64,
    /// The packet's sender and receiver.
    pub src: (IpAddr, u16),
    pub dst: (IpAddr, u16),
    /// DNS messages for the `dns` table, if it is wanted.
    pub dns: Option<&'a mut Vec<DnsEvent>>,
    /// Anomalies found (each also goes into the flow's set).
    pub anomalies: &'a mut Vec<Anomaly>,
}

impl AppSink<'_> {
    /// Keep `m` for the `dns` table, if it is wanted.
    fn dns(&mut self, up: bool, tcp: bool, m: DnsMessage) {
        if let Some(events) = self.dns.as_deref_mut() {
            events.push(DnsEvent {
                flow_ord: self.flow_ord,
                ts_ns: self.ts_ns,
                up,
                tcp,
                src: self.src,
                dst: self.dst,
                message: m,
            });
        }
    }
}

/// What a TCP direction is being read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Not known yet: the first bytes decide.
    Detect,
    /// A TLS ClientHello record starts at this offset.
    ClientHello(usize),
    ServerHello(usize),
    /// After the ServerHello: the Certificate message, in the records
    /// from this offset on.
    Certificates(usize),
    /// Seeking a TLS hello record after a plaintext preamble, from this
    /// offset on (see [`TLS_SCAN_BYTES`]).
    Scan(usize),
    /// An SSLv2-compatible ClientHello at byte 0 (no anomaly if it is not
    /// one: the bytes are scanned on).
    SslV2Hello,
    /// DNS over TCP; the offset of the next length prefix.
    Dns(usize),
    /// HTTP/1.x (the flow's scanner reads both directions).
    Http,
}

#[derive(Debug)]
enum Side {
    Reading(Reader),
    Done,
}

/// One TCP direction still read.
#[derive(Debug)]
struct Reader {
    stream: TcpStream,
    mode: Mode,
    /// Bytes of a SOCKS or PROXY preamble: the parsers read what follows
    /// (less than the stream's bound).
    skip: u32,
    /// The first bytes were tried as a preamble.
    preamble_checked: bool,
}

impl Reader {
    /// A side still to be read.
    fn side() -> Side {
        Side::Reading(Reader {
            stream: TcpStream::new(STREAM_BYTES),
            mode: Mode::Detect,
            skip: 0,
            preamble_checked: false,
        })
    }

    /// The stream past the preamble.
    fn bytes(&self) -> &[u8] {
        self.stream
            .bytes()
            .get(self.skip as usize..)
            .unwrap_or_default()
    }
}

/// The handshake trackers of UDP protocols: one per flow, chosen by the
/// datagram that opened like it.
#[derive(Debug)]
enum Handshake {
    Quic(QuicTracker),
    Dtls(DtlsTracker),
}

/// Per-flow parser state, allocated at a UDP flow's first packet, or a TCP
/// flow's first segment with payload.
#[derive(Debug)]
pub(crate) struct AppTracker {
    sides: [Side; 2],
    /// A port of the flow is a DNS port.
    dns_port: bool,
    /// UDP off the DNS ports: a datagram that is a whole plausible DNS
    /// message was seen, so such datagrams are read as DNS.
    dns_content: bool,
    /// UDP datagrams carrying HTTP heads (SSDP, and the like) were seen.
    udp_http: bool,
    /// The handshake a UDP flow's datagrams carry, once one opened like it.
    handshake: Option<Box<Handshake>>,
    /// Created when a direction starts like HTTP.
    http: Option<Box<HttpScanner>>,
    /// The flow's ports (up side first), for DHCP's port rule.
    ports: (u16, u16),
    info: AppInfo,
    /// DER certificates, decoded when the flow ends.
    ders: Vec<Vec<u8>>,
}

impl AppTracker {
    /// A tracker for a TCP flow.
    pub(crate) fn tcp(ports: (u16, u16)) -> AppTracker {
        let reading = Reader::side;
        AppTracker {
            sides: [reading(), reading()],
            dns_port: is_dns_port(ports),
            dns_content: false,
            udp_http: false,
            handshake: None,
            http: None,
            ports,
            info: AppInfo::default(),
            ders: Vec::new(),
        }
    }

    /// A tracker for a UDP flow, when its ports or first payload hint at
    /// a protocol parsed here; `None` otherwise (most UDP flows).
    pub(crate) fn udp(ports: (u16, u16), first_payload: &[u8]) -> Option<AppTracker> {
        let dns_port = is_dns_port(ports);
        let dhcp = DHCP_PORTS.contains(&ports.0) || DHCP_PORTS.contains(&ports.1);
        let quic =
            starts_like_quic(first_payload).then(|| Box::new(Handshake::Quic(QuicTracker::new())));
        if quic.is_none() && !dns_port && !dhcp {
            return AppTracker::udp_by_content(ports, first_payload);
        }
        Some(AppTracker {
            sides: [Side::Done, Side::Done],
            dns_port,
            dns_content: false,
            udp_http: is_http_datagram(first_payload),
            handshake: quic,
            http: None,
            ports,
            info: AppInfo::default(),
            ders: Vec::new(),
        })
    }

    /// A tracker for a UDP flow whose datagram `payload` is by its content
    /// DNS or an HTTP head (any ports); `None` otherwise. Tried on a flow's
    /// first few datagrams (the first may be another protocol's, as
    /// DNSCrypt's encrypted queries beside its plain certificate queries).
    /// An HTTP head must also parse (the check here is its first line).
    pub(crate) fn udp_by_content(ports: (u16, u16), payload: &[u8]) -> Option<AppTracker> {
        let dtls = starts_like_dtls(payload).then(|| Box::new(Handshake::Dtls(DtlsTracker::new())));
        let udp_http = dtls.is_none() && is_http_datagram(payload);
        let dns_content = dtls.is_none() && !udp_http && is_plausible_message(payload);
        (dtls.is_some() || udp_http || dns_content).then(|| AppTracker {
            sides: [Side::Done, Side::Done],
            dns_port: false,
            dns_content,
            udp_http,
            handshake: dtls,
            http: None,
            ports,
            info: AppInfo::default(),
            ders: Vec::new(),
        })
    }

    /// A UDP datagram sent by side `dir` (0 up, 1 down).
    pub(crate) fn datagram(&mut self, dir: usize, payload: &[u8], sink: &mut AppSink<'_>) {
        match self.handshake.as_deref_mut() {
            Some(Handshake::Quic(q)) => {
                if !q.is_finished() {
                    q.datagram(payload, dir == 0);
                }
                return;
            }
            Some(Handshake::Dtls(d)) => {
                d.datagram(payload);
                return;
            }
            None => {}
        }
        // The up side sent the flow's first packet: ports as it used them.
        let (sport, dport) = if dir == 0 {
            self.ports
        } else {
            (self.ports.1, self.ports.0)
        };
        match parse_dhcp(sport, dport, payload) {
            Some(Parse::Done(m)) => {
                self.info.dhcp.get_or_insert_with(Box::default).add(m);
                return;
            }
            Some(Parse::NeedMore) if !self.dns_port => {
                sink.anomalies.push(Anomaly::DhcpMalformed);
                self.info.error("dhcp", "message cut short");
                return;
            }
            Some(Parse::Malformed(why)) if !self.dns_port => {
                sink.anomalies.push(Anomaly::DhcpMalformed);
                self.info.error("dhcp", why);
                return;
            }
            _ => {}
        }
        if self.udp_http && self.http_datagram(payload) {
            return;
        }
        // By content, only whole plausible messages count; a datagram that
        // is not one is another protocol's, not a malformed DNS message.
        if self.dns_port || (self.dns_content && is_plausible_message(payload)) {
            match parse_message(payload) {
                Parse::Done(m) => {
                    self.info.dns.get_or_insert_with(Box::default).add(&m);
                    sink.dns(dir == 0, false, m);
                }
                Parse::NeedMore => {
                    sink.anomalies.push(Anomaly::DnsMalformed);
                    self.info.error("dns", "message cut short");
                }
                Parse::Malformed(why) => {
                    sink.anomalies.push(Anomaly::DnsMalformed);
                    self.info.error("dns", why);
                }
            }
        }
    }

    /// An HTTP head filling a datagram (SSDP's M-SEARCH and NOTIFY, their
    /// responses): counted like a TCP connection's heads, the first request
    /// and response kept. Whether it was one.
    fn http_datagram(&mut self, payload: &[u8]) -> bool {
        if let Parse::Done(head) = parse_request_head(payload) {
            let http = self.info.http.get_or_insert_with(Box::default);
            http.requests += 1;
            http.request.get_or_insert(head);
            return true;
        }
        if let Parse::Done(head) = parse_response_head(payload) {
            let http = self.info.http.get_or_insert_with(Box::default);
            http.responses += 1;
            if head.status >= 200 {
                http.final_status.get_or_insert(head.status);
            }
            http.response.get_or_insert(head);
            return true;
        }
        false
    }

    /// Heap bytes held (an estimate: the tracker, its streams, parser
    /// state and what was parsed), for memory budgets.
    pub(crate) fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let streams: usize = self
            .sides
            .iter()
            .map(|s| match s {
                Side::Reading(r) => r.stream.heap_bytes(),
                Side::Done => 0,
            })
            .sum();
        let i = &self.info;
        size_of::<AppTracker>()
            + streams
            + self.handshake.as_ref().map_or(0, |h| match **h {
                Handshake::Quic(_) => size_of::<Handshake>(),
                Handshake::Dtls(_) => size_of::<Handshake>() + 2048,
            })
            + self.http.as_ref().map_or(0, |_| size_of::<HttpScanner>())
            + self.ders.iter().map(|d| d.capacity() + 24).sum::<usize>()
            + i.tls.as_ref().map_or(0, |_| size_of::<TlsInfo>() + 1024)
            + i.dns.as_ref().map_or(0, |_| size_of::<DnsInfo>() + 256)
            + i.dhcp.as_ref().map_or(0, |_| size_of::<DhcpInfo>() + 256)
            + i.http.as_ref().map_or(0, |_| size_of::<HttpInfo>() + 256)
    }

    /// Side `dir` sent a SYN with sequence number `seq` (before the
    /// tracker existed).
    pub(crate) fn syn(&mut self, dir: usize, seq: u32) {
        if let Some(Side::Reading(r)) = self.sides.get_mut(dir) {
            r.stream.syn(seq);
        }
    }

    /// A TCP segment sent by side `dir` (0 up, 1 down).
    #[inline]
    pub(crate) fn segment(&mut self, dir: usize, t: &TcpSegment<'_>, sink: &mut AppSink<'_>) {
        let Some(Side::Reading(r)) = self.sides.get_mut(dir) else {
            return;
        };
        if t.flags & TcpSegment::SYN != 0 {
            r.stream.syn(t.seq);
        }
        if r.stream.segment(t.seq, t.payload) {
            self.step(dir, sink);
        }
    }

    /// Run side `dir`'s parsers over its stream as it now stands, going on
    /// as long as one hands over to the next (ServerHello → Certificate in
    /// the same segment).
    fn step(&mut self, dir: usize, sink: &mut AppSink<'_>) {
        while self.step_once(dir, sink) {}
    }

    /// One parser over the stream; whether another should read it now.
    fn step_once(&mut self, dir: usize, sink: &mut AppSink<'_>) -> bool {
        let Side::Reading(r) = &self.sides[dir] else {
            return false;
        };
        let bytes = r.bytes();
        let full = r.stream.is_full();
        let (mut skip, mut checked) = (r.skip, r.preamble_checked);
        // Each arm: the next mode, or None when this side is finished.
        let next = match r.mode {
            Mode::Detect => match bytes {
                [] => Some(Mode::Detect),
                // Which hello by content, not by side: the flow's up side is
                // its first packet's sender, which is the server when the
                // capture starts after the SYN.
                [0x16, 3, _, _, _, 1, ..] if self.info.tls_client().is_none() => {
                    Some(Mode::ClientHello(0))
                }
                [0x16, 3, _, _, _, 2, ..] if self.info.tls_server().is_none() => {
                    Some(Mode::ServerHello(0))
                }
                [0x16, 3, ..] if bytes.len() < 6 && !full => Some(Mode::Detect),
                [b0, _, 1, 3, 0..=4, ..] if b0 & 0x80 != 0 && self.info.tls_client().is_none() => {
                    Some(Mode::SslV2Hello)
                }
                _ if self.dns_port => Some(Mode::Dns(0)),
                // A SOCKS or PROXY preamble: what follows is read as if
                // the connection started there (once per direction).
                [first, ..]
                    if !(checked || *first == 0 && is_plausible_tcp(bytes) == Some(true)) =>
                {
                    match preamble(bytes) {
                        Parse::NeedMore if !full => {}
                        Parse::Done((_, n)) => {
                            skip += n as u32;
                            checked = true;
                        }
                        _ => checked = true,
                    }
                    Some(Mode::Detect)
                }
                // A method token or `HTTP/`; the scanner tells the rest.
                [b, ..] if b.is_ascii_alphabetic() => Some(Mode::Http),
                // DNS over TCP off its ports: a length prefix, then a whole
                // plausible message.
                [0, ..] => match is_plausible_tcp(bytes) {
                    Some(true) => Some(Mode::Dns(0)),
                    None if !full && bytes.len() < TLS_SCAN_BYTES => Some(Mode::Detect),
                    _ => Some(Mode::Scan(0)),
                },
                _ => Some(Mode::Scan(0)),
            },
            m => Some(m),
        };
        let next = match next {
            Some(Mode::Scan(from)) => scan_for_hello(bytes, from, full, &self.info),
            Some(Mode::SslV2Hello) => match parse_sslv2_client_hello(bytes) {
                Parse::Done(ch) => {
                    self.info.tls.get_or_insert_with(Box::default).client = Some(ch);
                    None
                }
                Parse::NeedMore if !full => Some(Mode::SslV2Hello),
                _ => Some(Mode::Scan(0)),
            },
            other => other,
        };
        let attempted = next;
        // A hello found by the scan that does not parse was a look-alike:
        // the scan goes on after it, and no anomaly is counted.
        let not_hello = |at: usize| (at > 0).then_some(Mode::Scan(at + 1));
        let next = match next {
            Some(Mode::ClientHello(at)) => match parse_client_hello(&bytes[at..]) {
                Parse::Done(ch) => {
                    self.info.tls.get_or_insert_with(Box::default).client = Some(ch);
                    None
                }
                Parse::NeedMore if !full => Some(Mode::ClientHello(at)),
                Parse::NeedMore => None,
                Parse::Malformed(_) if at > 0 => not_hello(at),
                Parse::Malformed(why) => {
                    sink.anomalies.push(Anomaly::TlsMalformed);
                    self.info.error("tls", why);
                    None
                }
            },
            Some(Mode::ServerHello(at)) => match parse_server_hello(&bytes[at..]) {
                Parse::Done(sh) => {
                    // TLS 1.3 sends its certificates encrypted.
                    let clear_certs = sh.negotiated_version() < 0x0304;
                    self.info.tls.get_or_insert_with(Box::default).server = Some(sh);
                    clear_certs.then_some(Mode::Certificates(at))
                }
                Parse::NeedMore if !full => Some(Mode::ServerHello(at)),
                Parse::NeedMore => None,
                Parse::Malformed(_) if at > 0 => not_hello(at),
                Parse::Malformed(why) => {
                    sink.anomalies.push(Anomaly::TlsMalformed);
                    self.info.error("tls", why);
                    None
                }
            },
            // The flight is re-read only when the bytes end where a record
            // does (a record cut by the segment end cannot complete the
            // message yet), or a record that is not a handshake one began
            // (the clear flight is over): no quadratic re-joining segment
            // by segment, and no reading on through application data.
            Some(Mode::Certificates(at)) if !full && !flight_decidable(&bytes[at..]) => {
                Some(Mode::Certificates(at))
            }
            Some(Mode::Certificates(at)) => match server_certificates(&bytes[at..], full) {
                Parse::Done(chain) => {
                    if let Some(tls) = self.info.tls.as_mut() {
                        tls.chain_truncated = chain.truncated;
                    }
                    self.ders = chain.ders;
                    None
                }
                Parse::NeedMore => Some(Mode::Certificates(at)),
                Parse::Malformed(why) => {
                    sink.anomalies.push(Anomaly::TlsMalformed);
                    self.info.error("tls", why);
                    None
                }
            },
            Some(Mode::Dns(mut at)) => loop {
                match parse_tcp_stream(bytes.get(at..).unwrap_or(&[])) {
                    Parse::Done((m, used)) => {
                        self.info.dns.get_or_insert_with(Box::default).add(&m);
                        sink.dns(dir == 0, true, m);
                        at += used;
                    }
                    Parse::NeedMore if !full => break Some(Mode::Dns(at)),
                    Parse::NeedMore => break None,
                    Parse::Malformed(why) => {
                        sink.anomalies.push(Anomaly::DnsMalformed);
                        self.info.error("dns", why);
                        break None;
                    }
                }
            },
            Some(Mode::Http) => {
                let scanner = self.http.get_or_insert_with(Default::default);
                scanner.update(dir, bytes);
                match scanner.walk_end(dir) {
                    None if !full => Some(Mode::Http),
                    // Not HTTP after all (an SMTP or IMAP client's
                    // commands), or a CONNECT/Upgrade tunnel: TLS may
                    // follow.
                    Some(WalkEnd::NotHttp(_) | WalkEnd::Tunnel) if !full => Some(Mode::Scan(0)),
                    // Freed once its walk ended or the bound cut it.
                    _ => None,
                }
            }
            other => other,
        };
        let moved = match &mut self.sides[dir] {
            Side::Reading(r) => {
                let moved = (r.skip, r.preamble_checked) != (skip, checked);
                r.skip = skip;
                r.preamble_checked = checked;
                moved
            }
            Side::Done => false,
        };
        match next {
            Some(m) => {
                if let Side::Reading(r) = &mut self.sides[dir] {
                    r.mode = m;
                }
            }
            None => self.sides[dir] = Side::Done,
        }
        next.is_some() && (next != attempted || moved)
    }

    /// What was found, if anything; anomalies of the end go to `anomalies`.
    pub(crate) fn finish(
        mut self,
        anomalies: &mut Vec<Anomaly>,
        certs: &mut CertCache,
    ) -> Option<Box<AppInfo>> {
        // A server flight cut by the capture's end: take what is there.
        for side in &self.sides {
            let Side::Reading(r) = side else {
                continue;
            };
            let Mode::Certificates(at) = r.mode else {
                continue;
            };
            let bytes = r.bytes().get(at..).unwrap_or_default();
            if let Parse::Done(chain) = server_certificates(bytes, true) {
                if let Some(tls) = self.info.tls.as_mut() {
                    tls.chain_truncated = chain.truncated;
                }
                self.ders = chain.ders;
            }
        }
        if let Some(mut scanner) = self.http.take() {
            fn bytes(s: &Side) -> &[u8] {
                match s {
                    Side::Reading(r) => r.bytes(),
                    Side::Done => &[],
                }
            }
            scanner.finish(bytes(&self.sides[0]), bytes(&self.sides[1]));
            let info = scanner.into_info();
            if info.request.is_some() || info.response.is_some() {
                let mut malformed = false;
                for end in [info.request_end, info.response_end] {
                    if let Some(WalkEnd::Malformed(why)) = end {
                        malformed = true;
                        self.info.error("http", why);
                    }
                }
                if malformed {
                    anomalies.push(Anomaly::HttpMalformed);
                }
                self.info.http = Some(Box::new(info));
            }
        }
        let mut quic_hello = false;
        let (quic, dtls) = match self.handshake.take().map(|h| *h) {
            Some(Handshake::Quic(q)) => (Some(q), None),
            Some(Handshake::Dtls(d)) => (None, Some(d)),
            None => (None, None),
        };
        if let Some(q) = quic {
            if q.anomalies().next().is_some() {
                anomalies.push(Anomaly::QuicMalformed);
            }
            for a in q.anomalies() {
                self.info.error("quic", a.name());
            }
            let mut info = q.into_info();
            let server = info.server_hello.take();
            if let Some(ch) = info.client_hello.take() {
                quic_hello = true;
                self.info.tls = Some(Box::new(TlsInfo {
                    client: Some(ch),
                    server,
                    ..TlsInfo::default()
                }));
            }
            // A flow that opened like QUIC but showed no version is not.
            if info.version != 0 || quic_hello {
                self.info.quic = Some(Box::new(info));
            }
        }
        if let Some(d) = dtls {
            let info = d.into_info();
            if let Some(why) = info.malformed {
                anomalies.push(Anomaly::TlsMalformed);
                self.info.error("dtls", why);
            }
            if info.client_hello.is_some() || info.server_hello.is_some() {
                self.info.tls = Some(Box::new(TlsInfo {
                    client: info.client_hello,
                    server: info.server_hello,
                    dtls: true,
                    ..TlsInfo::default()
                }));
                self.ders = info.ders;
            }
        }
        if let Some(tls) = self.info.tls.as_mut() {
            for der in &self.ders {
                let (c, malformed) = certs.decode(der);
                if let Some(why) = malformed {
                    anomalies.push(Anomaly::CertMalformed);
                    if tls.errors.len() < MAX_APP_ERRORS {
                        tls.errors.push(why);
                    }
                }
                tls.certificates.push(c);
            }
            if let Some(c) = &tls.client {
                let ja3 = c.ja3_string();
                // No JA3 for an SSLv2 hello (an empty string), as TShark.
                tls.fingerprints.ja3_hash = if ja3.is_empty() {
                    String::new()
                } else {
                    crate::proto::tls::md5_hex(&ja3)
                };
                tls.fingerprints.ja3 = ja3;
                tls.fingerprints.ja4 = c.ja4_for(match (quic_hello, tls.dtls) {
                    (true, _) => 'q',
                    (_, true) => 'd',
                    _ => 't',
                });
            }
            if let Some(s) = &tls.server {
                let ja3s = s.ja3s_string();
                tls.fingerprints.ja3s_hash = crate::proto::tls::md5_hex(&ja3s);
                tls.fingerprints.ja3s = ja3s;
            }
        }
        if let Some(tls) = self.info.tls.as_mut() {
            for why in std::mem::take(&mut tls.errors) {
                self.info.error("x509", why);
            }
        }
        // A flow whose only messages were malformed keeps its reasons.
        (self.info.protocol().is_some() || !self.info.errors.is_empty())
            .then(|| Box::new(self.info))
    }
}

impl AppInfo {
    pub fn tls_client(&self) -> Option<&ClientHello> {
        self.tls.as_ref()?.client.as_ref()
    }

    pub fn tls_server(&self) -> Option<&ServerHello> {
        self.tls.as_ref()?.server.as_ref()
    }
}

/// The bytes are whole TLS records (the last one not cut), or reach the
/// header of a record that is not a handshake record.
fn flight_decidable(bytes: &[u8]) -> bool {
    let mut at = 0usize;
    while let Some(h) = bytes.get(at..at + 5) {
        if h[0] != 0x16 {
            return true;
        }
        at += 5 + usize::from(u16::from_be_bytes([h[3], h[4]]));
    }
    at == bytes.len()
}

/// The next step of a scan for a TLS hello from `from` on: the hello's
/// mode when a record header that may start one is found (a ClientHello
/// or ServerHello the flow still lacks, with a TLS version), the scan's
/// new resume point while bytes may still bring one, `None` past
/// [`TLS_SCAN_BYTES`] or the stream's bound.
fn scan_for_hello(bytes: &[u8], mut from: usize, full: bool, info: &AppInfo) -> Option<Mode> {
    let limit = bytes.len().min(TLS_SCAN_BYTES);
    while let Some(i) = memchr::memchr(0x16, bytes.get(from..limit)?) {
        let at = from + i;
        match bytes.get(at..at + 11) {
            // A record header cut by the end of the bytes: wait for them.
            None if !full => return Some(Mode::Scan(at)),
            None => return None,
            Some(&[_, 3, minor, _, _, kind, _, _, _, 3, hello_minor])
                if minor <= 4 && hello_minor <= 4 =>
            {
                if kind == 1 && info.tls_client().is_none() {
                    return Some(Mode::ClientHello(at));
                }
                if kind == 2 && info.tls_server().is_none() {
                    return Some(Mode::ServerHello(at));
                }
            }
            Some(_) => {}
        }
        from = at + 1;
    }
    (bytes.len() < TLS_SCAN_BYTES && !full).then_some(Mode::Scan(limit.max(from)))
}

fn is_dns_port((a, b): (u16, u16)) -> bool {
    DNS_PORTS.contains(&a) || DNS_PORTS.contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_cache_answers_as_decoding_does_and_stays_bounded() {
        let mut cache = CertCache::default();
        // Distinct DER-looking blobs (most will not parse: the cache must
        // keep the "could not be read" flag too).
        let der = |i: usize| {
            let mut d = vec![0x30, 0x82, 0x01, 0x00];
            d.extend((0..300).map(|k| (i * 31 + k) as u8));
            d.extend_from_slice(&i.to_be_bytes());
            d
        };
        let hot = der(0);
        for i in 0..5 * CertCache::GENERATION {
            let d = der(i + 1);
            let want = decode_certificate(&d);
            assert_eq!(cache.decode(&d), want);
            // A chain seen on every connection stays cached and correct.
            let want = decode_certificate(&hot);
            assert_eq!(cache.decode(&hot), want);
            assert!(cache.current.len() + cache.previous.len() <= 2 * CertCache::GENERATION);
        }
        assert!(cache.current.contains_key(&hot) || cache.previous.contains_key(&hot));
    }
}
