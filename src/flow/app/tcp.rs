//! Reading a TCP direction: which parser reads its bytes (by content),
//! the SOCKS/PROXY preamble, the TLS hello scan, and handing over from one
//! parser to the next.

use super::*;

/// The bytes of a direction the content detectors are offered (they are
/// tried again as the direction grows, until it holds this many).
const IDENT_BYTES: usize = 1024;

/// What a TCP direction is being read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
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
pub(super) enum Side {
    Reading(Reader),
    Done,
}

/// One TCP direction still read.
#[derive(Debug)]
pub(super) struct Reader {
    pub(super) stream: TcpStream,
    pub(super) mode: Mode,
    /// Bytes of a SOCKS or PROXY preamble: the parsers read what follows
    /// (less than the stream's bound).
    pub(super) skip: u32,
    /// The first bytes were tried as a preamble.
    pub(super) preamble_checked: bool,
    /// The content detectors saw the whole head (`IDENT_BYTES`): the head
    /// no longer changes, they are not run again.
    pub(super) ident_done: bool,
}

impl Reader {
    /// A side still to be read.
    pub(super) fn side() -> Side {
        Side::Reading(Reader {
            stream: TcpStream::new(STREAM_BYTES),
            mode: Mode::Detect,
            skip: 0,
            preamble_checked: false,
            ident_done: false,
        })
    }

    /// The stream past the preamble.
    pub(super) fn bytes(&self) -> &[u8] {
        self.stream
            .bytes()
            .get(self.skip as usize..)
            .unwrap_or_default()
    }
}

impl AppTracker {
    /// Run side `dir`'s parsers over its stream as it now stands, going on
    /// as long as one hands over to the next (ServerHello → Certificate in
    /// the same segment).
    pub(super) fn step(&mut self, dir: usize, sink: &mut AppSink<'_>) {
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
        let mut ident_done = r.ident_done;
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
                        Parse::Done((kind, n)) => {
                            skip += n as u32;
                            checked = true;
                            self.info.proxy.get_or_insert(Proxy::Preamble(kind));
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
            Some(Mode::Scan(from)) => {
                // Not TLS, DNS or HTTP at its start: a detector may name it
                // (an SSH banner, an SMB header …) while the scan goes on.
                let head = &bytes[..bytes.len().min(IDENT_BYTES)];
                if self.info.ident.is_none() && !r.ident_done {
                    self.info.ident = crate::proto::ident::identify_name(head, true);
                    ident_done = head.len() == IDENT_BYTES;
                }
                read_fields(&mut self.info, &mut self.fields_done, dir, head);
                scan_for_hello(bytes, from, full, &self.info)
            }
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
                Parse::NeedMore => {
                    self.info.too_long(sink.anomalies, "tls");
                    None
                }
                Parse::Malformed(_) if at > 0 => not_hello(at),
                Parse::Malformed(why) => {
                    self.info.refuse(sink.anomalies, Anomaly::TlsMalformed, why);
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
                Parse::NeedMore => {
                    self.info.too_long(sink.anomalies, "tls");
                    None
                }
                Parse::Malformed(_) if at > 0 => not_hello(at),
                Parse::Malformed(why) => {
                    self.info.refuse(sink.anomalies, Anomaly::TlsMalformed, why);
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
                    self.info.refuse(sink.anomalies, Anomaly::TlsMalformed, why);
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
                        self.info.refuse(sink.anomalies, Anomaly::DnsMalformed, why);
                        break None;
                    }
                }
            },
            Some(Mode::Http) => {
                let scanner = self.http.get_or_insert_with(Default::default);
                scanner.update(dir, bytes);
                match scanner.walk_end(dir) {
                    None if !full => Some(Mode::Http),
                    // A first head past the bound: said, not dropped.
                    Some(WalkEnd::NotHttp(why) | WalkEnd::Malformed(why))
                        if why == crate::proto::http::HEAD_TOO_LONG =>
                    {
                        self.info.too_long(sink.anomalies, "http");
                        None
                    }
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
                r.ident_done = ident_done;
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
