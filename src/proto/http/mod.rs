//! HTTP/1.x message heads (RFC 9112), and a scanner that steps over the
//! messages of a TCP connection's two directions to count them.
//!
//! Owns: reading a request head (request line and header fields) or a
//! response head (status line and header fields) from the front of a byte
//! stream; finding where each message's body ends (RFC 9112 §6.3:
//! Content-Length, chunked transfer coding, no body for HEAD responses and
//! 1xx/204/304, to the close otherwise) so that pipelined and persistent
//! messages are counted; deciding by content which direction carries the
//! requests. Does not own: TCP reassembly (the caller hands over each
//! direction's in-order stream from its first byte), body content, HTTP/2,
//! or output columns.
//!
//! Detection is by content, never by port: a request head starts with a
//! method token followed by a space (the first byte that is not a token
//! character rejects the stream, so TLS and other binary streams fail at
//! once), a response head with `HTTP/`. A request line without a version
//! (`GET /path`, `OPTIONS`) or with a malformed one (`HTTP/1.`) is read as
//! TShark reads it, header fields included, but only for registered
//! methods: `SSH-2.0-x y` or `220 mail ESMTP` are not requests.
//!
//! Tolerated as real captures need (RFC 9112 §2.2, §5.2): bare LF line
//! ends, empty lines before a head, obsolete line folding (joined with one
//! space), whitespace before a field's colon, lines without a colon. Each of
//! these but the first two is noted as the head's `anomaly`. Text that is
//! not UTF-8 is written with `\xNN` escapes.
//!
//! `httparse` was evaluated (2026-12-04, release build, one core) and not
//! used: it parses a typical request head in 119 ns against our 688 ns
//! (ours copies Host, User-Agent and the framing fields out; heads are
//! ≈ 1 % of a convert profile), and handles partial input as we do, but
//! it refuses what captures carry and TShark reads — request lines
//! without a version (`GET /path`), folded header lines in requests, a
//! space before a field's colon, versions other than 1.0/1.1, more header
//! fields than its fixed slot array — which the oracle tests require.
//!
//! Bounds: a head is at most [`MAX_HEAD_BYTES`] (a longer one is
//! malformed), a chunk-size line at most [`MAX_CHUNK_LINE_BYTES`]. The
//! scanner remembers where it stopped in each direction (down to the
//! position within an unfinished head), so feeding it a growing stream
//! costs work linear in the stream's length in total; it allocates only
//! for the first request and first response it keeps and a list of the
//! HEAD and CONNECT requests' numbers, and no input can make these
//! functions panic.

mod head;
mod scanner;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;

pub use scanner::HttpScanner;

use super::Parse;
use head::*;
use scanner::{ContentLength, HeadScan};

/// Longest head accepted, leading empty lines excluded: servers' defaults
/// are 8 KiB (Apache, per line) to 32 KiB (nginx, in total); big cookies
/// need more than 8.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Why a head was not read: it runs past [`MAX_HEAD_BYTES`] (a first head
/// so long ends the walk as not HTTP; the caller counts it as too long).
pub const HEAD_TOO_LONG: &str = "head longer than 16 KiB";
/// Longest method token: the longest registered method has 17 bytes.
pub const MAX_METHOD_BYTES: usize = 32;
/// Longest chunk-size line, extensions included (RFC 9112 §7.1.1).
pub const MAX_CHUNK_LINE_BYTES: usize = 1024;
/// A chunk size of more hex digits than a u64 holds is garbage.
const MAX_CHUNK_SIZE_DIGITS: usize = 16;
/// A Content-Length of more digits than a u64 holds is garbage.
const MAX_LENGTH_DIGITS: usize = 19;

/// Methods a request line without a version may carry: IANA "HTTP Method
/// Registry", plus the SSDP/GENA, WebDAV-era, Exchange and Cisco methods
/// TShark knows. Sorted (binary search).
const KNOWN_METHODS: &[&[u8]] = &[
    b"ACL",
    b"BASELINE-CONTROL",
    b"BCOPY",
    b"BDELETE",
    b"BIND",
    b"BMOVE",
    b"BPROPFIND",
    b"BPROPPATCH",
    b"CCM_POST",
    b"CHECKIN",
    b"CHECKOUT",
    b"CONNECT",
    b"COPY",
    b"DELETE",
    b"GET",
    b"HEAD",
    b"LABEL",
    b"LINK",
    b"LOCK",
    b"M-SEARCH",
    b"MERGE",
    b"MKACTIVITY",
    b"MKCALENDAR",
    b"MKCOL",
    b"MKREDIRECTREF",
    b"MKWORKSPACE",
    b"MOVE",
    b"NOTIFY",
    b"OPTIONS",
    b"ORDERPATCH",
    b"PATCH",
    b"POLL",
    b"POST",
    b"PRI",
    b"PROPFIND",
    b"PROPPATCH",
    b"PUT",
    b"QUERY",
    b"REBIND",
    b"REPORT",
    b"RPC_CONNECT",
    b"RPC_IN_DATA",
    b"RPC_OUT_DATA",
    b"SEARCH",
    b"SUBSCRIBE",
    b"TRACE",
    b"UNBIND",
    b"UNCHECKOUT",
    b"UNLINK",
    b"UNLOCK",
    b"UNSUBSCRIBE",
    b"UPDATE",
    b"UPDATEREDIRECTREF",
    b"VERSION-CONTROL",
];

/// An HTTP version as written in a start line (`HTTP/1.1` is 1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP/{}.{}", self.major, self.minor)
    }
}

/// A request head.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestHead {
    pub method: String,
    /// The request-target as sent (origin form `/path?q`, absolute form for
    /// proxies, authority form for CONNECT, `*` for OPTIONS).
    pub target: String,
    /// None when the request line has no version (only registered methods
    /// are read so).
    pub version: Option<Version>,
    /// The first Host field.
    pub host: Option<String>,
    /// The first User-Agent field.
    pub user_agent: Option<String>,
    /// Content-Length when all its fields and list items agree.
    pub content_length: Option<u64>,
    /// The first Transfer-Encoding field as sent.
    pub transfer_encoding: Option<String>,
    /// Bytes from the stream's first byte to the end of the head's empty
    /// line (the body starts here).
    pub head_bytes: usize,
    /// The first tolerated oddity of the head, if any.
    pub anomaly: Option<&'static str>,
    /// An Upgrade field asks for WebSocket.
    pub websocket: bool,
}

/// A response head.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResponseHead {
    /// None when malformed after `HTTP/<digit>` (tolerated, see `anomaly`).
    pub version: Option<Version>,
    pub status: u16,
    /// The reason phrase (may be empty).
    pub reason: String,
    pub content_type: Option<String>,
    pub server: Option<String>,
    /// Content-Length when all its fields and list items agree.
    pub content_length: Option<u64>,
    /// The first Transfer-Encoding field as sent.
    pub transfer_encoding: Option<String>,
    /// Bytes from the stream's first byte to the end of the head's empty line.
    pub head_bytes: usize,
    /// The first tolerated oddity of the head, if any.
    pub anomaly: Option<&'static str>,
}

/// The first request head at the front of `stream` (a client→server
/// direction from its first byte).
pub fn parse_request_head(stream: &[u8]) -> Parse<RequestHead> {
    match parse_first(stream, Role::Requests) {
        Parse::Done((lead, raw)) => Parse::Done(raw.request_head(lead)),
        Parse::NeedMore => Parse::NeedMore,
        Parse::Malformed(why) => Parse::Malformed(why),
    }
}

/// The first response head at the front of `stream` (a server→client
/// direction from its first byte).
pub fn parse_response_head(stream: &[u8]) -> Parse<ResponseHead> {
    match parse_first(stream, Role::Responses) {
        Parse::Done((lead, raw)) => Parse::Done(raw.response_head(lead)),
        Parse::NeedMore => Parse::NeedMore,
        Parse::Malformed(why) => Parse::Malformed(why),
    }
}

/// Whether a UDP payload looks like one whole HTTP/1.x head (SSDP's
/// `M-SEARCH` and `NOTIFY`, their responses): a first line that is a
/// request line ending in ` HTTP/1.x` or a status line starting with
/// `HTTP/1.x `, and the head's empty line inside the datagram. Cheap (no
/// parse, no allocation): the caller parses the head once it is chosen.
pub fn is_http_datagram(payload: &[u8]) -> bool {
    let Some(eol) = payload.iter().position(|&b| b == b'\n') else {
        return false;
    };
    let line = payload[..eol]
        .strip_suffix(b"\r")
        .unwrap_or(&payload[..eol]);
    let version = |v: &[u8]| matches!(v, [b'H', b'T', b'T', b'P', b'/', b'1', b'.', b'0' | b'1']);
    let first_ok = match line {
        [b'H', b'T', b'T', b'P', b'/', ..] => {
            line.len() >= 12 && version(&line[..8]) && line[8] == b' '
        }
        [b, ..] if b.is_ascii_uppercase() => {
            line.len() >= 10
                && version(&line[line.len() - 8..])
                && line[line.len() - 9] == b' '
                && line
                    .iter()
                    .take_while(|&&c| c != b' ')
                    .all(|&c| is_tchar(c))
        }
        _ => false,
    };
    first_ok
        && payload
            .windows(2)
            .skip(eol)
            .any(|w| w == b"\n\n" || w == b"\n\r")
}

fn parse_first(stream: &[u8], side: Role) -> Parse<(usize, RawHead<'_>)> {
    let lead = match skip_empty_lines(stream) {
        Some(n) => n,
        None => return Parse::NeedMore,
    };
    let rest = stream.get(lead..).unwrap_or_default();
    match read_head(rest, side, &mut HeadScan::default()) {
        Parse::Done(raw) => Parse::Done((lead, raw)),
        Parse::NeedMore => Parse::NeedMore,
        Parse::Malformed(why) => Parse::Malformed(why),
    }
}

/// The header fields of a complete head (`head` as from the stream, start
/// line included), in order: name as sent, value with surrounding
/// whitespace trimmed and folded lines joined by one space. Lines that are
/// not fields are skipped. Names compare case-insensitively with
/// [`name_is`].
pub fn headers(head: &[u8]) -> Headers<'_> {
    let lead = skip_empty_lines(head).unwrap_or(head.len());
    let rest = head.get(lead..).unwrap_or_default();
    let (_, after) = split_line(rest);
    Headers {
        rest: after,
        anomaly: None,
    }
}

/// The first value of header field `name` (any case) in a complete head.
pub fn header_value<'a>(head: &'a [u8], name: &str) -> Option<Cow<'a, [u8]>> {
    headers(head)
        .find(|(n, _)| name_is(n, name))
        .map(|(_, v)| v)
}

/// A field name equals `name`, ASCII case ignored (RFC 9110 §5.1).
pub fn name_is(field: &[u8], name: &str) -> bool {
    field.eq_ignore_ascii_case(name.as_bytes())
}

/// Iterator over a head's header fields; see [`headers`].
#[derive(Debug, Clone)]
pub struct Headers<'a> {
    /// From the next field line on.
    rest: &'a [u8],
    anomaly: Option<&'static str>,
}

impl<'a> Headers<'a> {
    /// The first oddity met so far (a fold, a line without a name).
    pub fn anomaly(&self) -> Option<&'static str> {
        self.anomaly
    }

    fn note(&mut self, why: &'static str) {
        self.anomaly.get_or_insert(why);
    }
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a [u8], Cow<'a, [u8]>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let rest = self.rest;
            let (line, mut after) = split_line(rest);
            if line.is_empty() {
                // the empty line ending the head (or the end of the bytes)
                self.rest = &[];
                return None;
            }
            if matches!(line.first(), Some(b' ' | b'\t')) {
                // RFC 9112 §2.2: a first field line starting with
                // whitespace is not part of any field.
                self.note("header line starts with whitespace");
                self.rest = after;
                continue;
            }
            // Obsolete line folding (RFC 9112 §5.2): continuation lines
            // start with SP or HTAB and belong to this field's value.
            let mut end = line.len();
            while matches!(after.first(), Some(b' ' | b'\t')) {
                let (cont, next) = split_line(after);
                end = rest.len() - after.len() + cont.len();
                after = next;
                self.note("obsolete line folding");
            }
            self.rest = after;
            let field = rest.get(..end).unwrap_or_default();
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                self.note("header line without a colon");
                continue;
            };
            let name = line.get(..colon).unwrap_or_default();
            let trimmed = trim_end(name);
            if trimmed.len() != name.len() {
                self.note("whitespace before a header colon");
            }
            if trimmed.is_empty() || !trimmed.iter().all(|&b| is_tchar(b)) {
                self.note("header name is not a token");
                continue;
            }
            let raw = field.get(colon + 1..).unwrap_or_default();
            return Some((trimmed, unfold(raw)));
        }
    }
}

/// A head as the scanner read it; `head_bytes` is then the stream offset
/// where the head ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    Request(RequestHead),
    Response(ResponseHead),
}

/// Which messages a direction carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Client to server: request heads.
    Requests,
    /// Server to client: response heads (the stream starts with `HTTP/`).
    Responses,
}

/// Why a direction's walk ended before the end of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkEnd {
    /// The direction's first bytes are not an HTTP head; the reason names
    /// the failed check. Nothing was counted.
    NotHttp(&'static str),
    /// A head, chunk line or length after the first message is unreadable
    /// (an anomaly: the messages before it are counted).
    Malformed(&'static str),
    /// CONNECT succeeded or the protocol was switched (101, or an Upgrade
    /// request followed by bytes that are not HTTP): the rest is another
    /// protocol.
    Tunnel,
    /// A response body delimited by the connection's close (no length, not
    /// chunked): it runs to the end, no message follows.
    BodyToClose,
    /// Set by [`HttpScanner::finish`]: the bytes ended inside a message (its
    /// head or body was cut by the stream bound or the capture).
    Cut,
}

/// What an HTTP connection's two directions showed, within the bytes the
/// scanner was given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpInfo {
    /// The first request head.
    pub request: Option<RequestHead>,
    /// The first response head (possibly an interim 1xx).
    pub response: Option<ResponseHead>,
    /// Status of the first final (non-1xx) response.
    pub final_status: Option<u16>,
    /// Request heads read.
    pub requests: u32,
    /// Response heads read, interim 1xx responses included.
    pub responses: u32,
    /// Why the request direction's walk ended early, if it did.
    pub request_end: Option<WalkEnd>,
    /// Why the response direction's walk ended early, if it did.
    pub response_end: Option<WalkEnd>,
}
