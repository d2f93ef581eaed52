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
//!
//! Layout: here the per-flow state ([`AppTracker`]) and summary
//! ([`AppInfo`]); `tcp.rs` what reads a TCP direction (content detection,
//! preambles, the TLS hello scan); `udp.rs` what reads a UDP flow's
//! datagrams (QUIC and DTLS handshakes, DHCP, HTTP heads, DNS); `finish.rs`
//! the flow's end; `certs.rs` the worker's certificate cache. Each
//! protocol's wire format and per-flow summary live under `src/proto/`.

mod certs;
mod finish;
mod tcp;
mod udp;

use std::net::IpAddr;

pub(crate) use certs::CertCache;
use tcp::{Mode, Reader, Side};
use udp::Handshake;

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
pub use crate::proto::ident::fields::AppFields;
use crate::proto::preamble::preamble;
pub use crate::proto::preamble::Preamble;
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
    // A thin pointer (8 bytes, where a Vec takes 24): rare, and the
    // per-flow state is counted in bytes.
    #[allow(clippy::box_collection)]
    errors: Option<Box<Vec<(&'static str, &'static str)>>>,
    /// A protocol named by a content detector of `proto::ident` (not parsed
    /// further), when none of the above was seen.
    pub ident: Option<crate::proto::ident::AppName>,
    /// The name of a parsed protocol in its role, set at the flow's end:
    /// `mdns`/`llmnr` for DNS on their ports, `dnscrypt` for its
    /// certificate queries or responses, `ssdp` for HTTP over UDP, `dot`
    /// for TLS on port 853.
    pub role: Option<crate::proto::ident::AppName>,
    /// The proxy the flow went through, when its bytes show one (a SOCKS
    /// or PROXY preamble, an HTTP CONNECT or absolute-form request).
    pub proxy: Option<Proxy>,
    /// Fields an identified protocol offered (banners, names).
    pub fields: Option<Box<AppFields>>,
}

/// How a flow was proxied (`app_proxy`): the protocol it names is the
/// one carried (TLS after a CONNECT is `tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proxy {
    /// SOCKS 4/5, PROXY protocol v1/v2.
    Preamble(Preamble),
    /// An HTTP CONNECT tunnel.
    HttpConnect,
    /// Requests in absolute form (`GET http://host/…`) to a forward proxy.
    HttpForward,
}

impl Proxy {
    pub fn name(self) -> &'static str {
        match self {
            Proxy::Preamble(p) => p.name(),
            Proxy::HttpConnect => "http_connect",
            Proxy::HttpForward => "http",
        }
    }
}

impl AppInfo {
    /// A message refused: its `*_malformed` anomaly counted, the parser's
    /// reason kept under the protocol the anomaly names.
    fn refuse(&mut self, anomalies: &mut Vec<Anomaly>, a: Anomaly, why: &'static str) {
        anomalies.push(a);
        let proto = match a {
            Anomaly::TlsMalformed => "tls",
            Anomaly::DnsMalformed => "dns",
            Anomaly::DhcpMalformed => "dhcp",
            _ => a.name(),
        };
        self.error(proto, why);
    }

    /// A message of `proto` longer than the parser reads: counted and
    /// named, never silently dropped (hostile shapes, `reliability.md`).
    fn too_long(&mut self, anomalies: &mut Vec<Anomaly>, proto: &'static str) {
        anomalies.push(Anomaly::AppMessageTooLong);
        self.error(proto, "message longer than the 16 KiB read of a direction");
    }

    /// Note why a message of `proto` was malformed.
    fn error(&mut self, proto: &'static str, reason: &'static str) {
        // Rare: boxed, the per-flow state stays small.
        let v = self.errors.get_or_insert_with(Default::default);
        if v.len() < MAX_APP_ERRORS && !v.contains(&(proto, reason)) {
            v.push((proto, reason));
        }
    }

    /// Why messages of the flow were malformed: (protocol, the parser's
    /// reason), distinct, at most [`MAX_APP_ERRORS`]. Each also counted
    /// its `*_malformed` anomaly.
    pub fn errors(&self) -> &[(&'static str, &'static str)] {
        self.errors.as_deref().map_or(&[], |v| v.as_slice())
    }

    /// The flow's application protocol: the most specific one seen. TLS
    /// started inside a protocol named by its plaintext (STARTTLS in SMTP,
    /// IMAP, POP3, FTP, LDAP, PostgreSQL; RDP's X.224 exchange; OpenVPN's
    /// framing) is that protocol; TLS behind a proxy is `tls`.
    pub fn protocol(&self) -> Option<&'static str> {
        let carrier = self.ident.filter(|n| n.as_str() != "tls");
        if let Some(role) = self.role {
            Some(role.as_str())
        } else if self.quic.is_some() {
            Some("quic")
        } else if self.tls.as_ref().is_some_and(|t| t.dtls) {
            Some("dtls")
        } else if self.tls.is_some() {
            Some(carrier.map_or("tls", |n| n.as_str()))
        } else if let Some(http) = self.http.as_deref() {
            let websocket = http.request.as_ref().is_some_and(|r| r.websocket)
                && http.response.as_ref().is_none_or(|r| r.status == 101);
            Some(if websocket { "websocket" } else { "http" })
        } else if self.dns.is_some() {
            Some("dns")
        } else if self.dhcp.is_some() {
            Some("dhcp")
        } else {
            self.ident.map(|n| n.as_str())
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
    /// Bit `dir` set: that side gave the fields its identified protocol
    /// offers (a byte, where two bools would grow the tracker).
    fields_done: u8,
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
            fields_done: 0,
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
            fields_done: 0,
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
        let ident = (dtls.is_none() && !udp_http && !dns_content)
            .then(|| crate::proto::ident::identify_name(payload, false))
            .flatten();
        (dtls.is_some() || udp_http || dns_content || ident.is_some()).then(|| AppTracker {
            sides: [Side::Done, Side::Done],
            dns_port: false,
            dns_content,
            udp_http,
            handshake: dtls,
            http: None,
            ports,
            info: AppInfo {
                ident,
                ..AppInfo::default()
            },
            ders: Vec::new(),
            fields_done: 0,
        })
    }

    /// A UDP flow the flow glue named `name` from several datagrams (RTP).
    pub(crate) fn udp_named(ports: (u16, u16), name: crate::proto::ident::AppName) -> AppTracker {
        AppTracker {
            sides: [Side::Done, Side::Done],
            dns_port: false,
            dns_content: false,
            udp_http: false,
            handshake: None,
            http: None,
            ports,
            info: AppInfo {
                ident: Some(name),
                ..AppInfo::default()
            },
            ders: Vec::new(),
            fields_done: 0b11,
        }
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
            + i.fields
                .as_ref()
                .map_or(0, |_| size_of::<AppFields>() + 128)
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
        // A bare ACK whose few payload bytes are all zero is link padding
        // counted into the IP length by a faulty sender, not data: fed to
        // the stream it would win the bytes the real segment carries.
        if t.flags == TcpSegment::ACK && t.payload.len() <= 6 && t.payload.iter().all(|&b| b == 0) {
            return;
        }
        if r.stream.segment(t.seq, t.payload) {
            self.step(dir, sink);
        }
    }
}

/// Read the fields side `dir`'s first bytes offer (side 0 opened the flow) for the flow's
/// identified protocol, until the side is `done`.
fn read_fields(info: &mut AppInfo, done: &mut u8, dir: usize, bytes: &[u8]) {
    let bit = 1 << dir;
    let Some(name) = info.ident.filter(|_| *done & bit == 0) else {
        return;
    };
    let read =
        |f: &mut AppFields| crate::proto::ident::fields::read(name.as_str(), dir == 0, bytes, f);
    // Read in place once boxed; boxed only when something was found.
    let finished = match info.fields.as_deref_mut() {
        Some(f) => read(f),
        None => {
            let mut f = AppFields::default();
            let finished = read(&mut f);
            if !f.is_empty() {
                info.fields = Some(Box::new(f));
            }
            finished
        }
    };
    if finished {
        *done |= bit;
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

fn is_dns_port((a, b): (u16, u16)) -> bool {
    DNS_PORTS.contains(&a) || DNS_PORTS.contains(&b)
}
