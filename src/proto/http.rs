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
//! Bounds: a head is at most [`MAX_HEAD_BYTES`] (a longer one is
//! malformed), a chunk-size line at most [`MAX_CHUNK_LINE_BYTES`]. The
//! scanner remembers where it stopped in each direction (down to the
//! position within an unfinished head), so feeding it a growing stream
//! costs work linear in the stream's length in total; it allocates only
//! for the first request and first response it keeps and a list of the
//! HEAD and CONNECT requests' numbers, and no input can make these
//! functions panic.

use std::borrow::Cow;
use std::fmt;

use super::Parse;

/// Longest head accepted, leading empty lines excluded: servers' defaults
/// are 8 KiB (Apache, per line) to 32 KiB (nginx, in total); big cookies
/// need more than 8.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
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

/// Steps over the HTTP messages of a TCP connection's two directions as
/// their streams grow.
///
/// Drive it with [`update`](HttpScanner::update) whenever one direction's
/// in-order stream grew (the same bytes from the stream's first byte, now
/// longer), and once with [`finish`](HttpScanner::finish) when neither will
/// grow again (flow end, or both bounds reached); then take
/// [`into_info`](HttpScanner::into_info). Which direction carries requests
/// is decided by content (`HTTP/` starts responses), so `dir` is only the
/// caller's index (0 or 1) for its two directions. Each direction resumes
/// where it stopped: the total work is linear in the bytes, and a call for
/// a stream that did not grow costs a few branches.
///
/// Counting: a message counts when its whole head is within the bytes. Its
/// body is then skipped by its framing; when a body runs past the bytes, the
/// direction waits there, so with bounded streams the counts are "messages
/// whose head lies within the first N bytes of the direction, behind
/// complete messages". A final response's body length depends on the
/// request it answers (HEAD, CONNECT): the response side waits for that
/// request to be read, and at [`finish`](HttpScanner::finish) a request
/// never seen is taken as one with ordinary framing. The result does not
/// depend on how the bytes were split into updates.
#[derive(Debug, Clone, Default)]
pub struct HttpScanner {
    walkers: [Walker; 2],
    finished: bool,
}

impl HttpScanner {
    pub fn new() -> HttpScanner {
        HttpScanner::default()
    }

    /// Direction `dir` (0 or 1; others are ignored) now holds `stream`:
    /// read what is new.
    pub fn update(&mut self, dir: usize, stream: &[u8]) {
        if !self.finished && dir < 2 {
            self.walk(dir, stream, false, &mut |_, _| {}, false);
        }
    }

    /// [`update`](HttpScanner::update), handing each head read to `each`
    /// with its direction (this copies the head's text out).
    pub fn update_with(&mut self, dir: usize, stream: &[u8], each: &mut dyn FnMut(usize, Head)) {
        if !self.finished && dir < 2 {
            self.walk(dir, stream, false, each, true);
        }
    }

    /// Neither direction will grow: read what is left, settle responses
    /// still waiting for their request, and note directions cut inside a
    /// message. Further calls change nothing.
    pub fn finish(&mut self, dir0: &[u8], dir1: &[u8]) {
        self.finish_inner(dir0, dir1, &mut |_, _| {}, false);
    }

    /// [`finish`](HttpScanner::finish), handing each head read to `each`.
    pub fn finish_with(&mut self, dir0: &[u8], dir1: &[u8], each: &mut dyn FnMut(usize, Head)) {
        self.finish_inner(dir0, dir1, each, true);
    }

    fn finish_inner(
        &mut self,
        dir0: &[u8],
        dir1: &[u8],
        each: &mut dyn FnMut(usize, Head),
        all: bool,
    ) {
        if self.finished {
            return;
        }
        let streams = [dir0, dir1];
        // Requests first, so that responses find them.
        for (dir, stream) in streams.into_iter().enumerate() {
            if decide_role(stream) != Some(Role::Responses) {
                self.walk(dir, stream, true, each, all);
            }
        }
        for (dir, stream) in streams.into_iter().enumerate() {
            self.walk(dir, stream, true, each, all);
            let w = &mut self.walkers[dir];
            if w.end.is_none() && w.in_message(stream) {
                w.end = Some(WalkEnd::Cut);
            }
        }
        self.finished = true;
    }

    /// What was seen so far.
    pub fn info(&self) -> HttpInfo {
        let req = self.walker_of(Role::Requests);
        let resp = self.walker_of(Role::Responses);
        HttpInfo {
            request: req.and_then(|w| w.first_request.clone()),
            response: resp.and_then(|w| w.first_response.clone()),
            final_status: resp.and_then(|w| w.final_status),
            requests: req.map_or(0, |w| w.messages),
            responses: resp.map_or(0, |w| w.messages),
            request_end: req.and_then(|w| w.end),
            response_end: resp.and_then(|w| w.end),
        }
    }

    pub fn into_info(self) -> HttpInfo {
        self.info()
    }

    /// Why direction `dir`'s walk ended, if it did.
    pub fn walk_end(&self, dir: usize) -> Option<WalkEnd> {
        self.walkers.get(dir).and_then(|w| w.end)
    }

    /// Heads read in direction `dir`.
    pub fn heads(&self, dir: usize) -> u32 {
        self.walkers.get(dir).map_or(0, |w| w.messages)
    }

    /// What direction `dir` carries, once its first bytes decided it.
    pub fn role(&self, dir: usize) -> Option<Role> {
        self.walkers.get(dir).and_then(|w| w.role)
    }

    /// Neither direction can add anything (both walks ended): the caller
    /// may stop keeping the streams.
    pub fn is_settled(&self) -> bool {
        self.finished || self.walkers.iter().all(|w| w.end.is_some())
    }

    /// The direction carrying `role`; when both started alike (one of them
    /// is then not HTTP), the one that read more heads, else the one not
    /// proved to be something else, else the second.
    fn walker_of(&self, role: Role) -> Option<&Walker> {
        self.walkers
            .iter()
            .filter(|w| w.role == Some(role))
            .max_by_key(|w| (w.messages, !matches!(w.end, Some(WalkEnd::NotHttp(_)))))
    }

    fn walk(
        &mut self,
        dir: usize,
        stream: &[u8],
        finishing: bool,
        each: &mut dyn FnMut(usize, Head),
        all: bool,
    ) {
        let each = &mut |head: Head| each(dir, head);
        let [a, b] = &mut self.walkers;
        let (w, other) = if dir == 0 { (a, b) } else { (b, a) };
        if w.role.is_none() {
            w.role = decide_role(stream);
        }
        match w.role {
            Some(Role::Requests) => w.walk_requests(stream, each, all),
            Some(Role::Responses) => {
                let requests = (other.role == Some(Role::Requests)).then_some(&*other);
                w.walk_responses(stream, requests, finishing, each, all);
            }
            None => {}
        }
    }
}

/// A direction's role from its first bytes, once they decide it.
fn decide_role(stream: &[u8]) -> Option<Role> {
    let lead = skip_empty_lines(stream)?;
    let rest = stream.get(lead..).unwrap_or_default();
    let n = rest.len().min(5);
    if rest.get(..n) != b"HTTP/".get(..n) {
        return Some(Role::Requests);
    }
    (n == 5).then_some(Role::Responses)
}

/// Methods whose response framing differs (RFC 9112 §6.3 rules 1 and 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MethodKind {
    Head,
    Connect,
    Other,
}

impl MethodKind {
    fn of(method: &[u8]) -> MethodKind {
        match method {
            b"HEAD" => MethodKind::Head,
            b"CONNECT" => MethodKind::Connect,
            _ => MethodKind::Other,
        }
    }
}

/// How a message's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    ToClose,
}

/// A final response's head, read; its framing waits for its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PendingResponse {
    status: u16,
    /// The framing its fields give when the request was not HEAD or CONNECT.
    framing: Result<Framing, &'static str>,
}

/// RFC 9112 §6.3 for requests: chunked if Transfer-Encoding ends with it
/// (any other coding is an error), else Content-Length, else no body.
fn request_framing(f: &Fields<'_>) -> Result<Framing, &'static str> {
    if f.transfer_encoding.is_some() {
        return match f.chunked {
            true => Ok(Framing::Chunked),
            false => Err("request Transfer-Encoding does not end in chunked"),
        };
    }
    match f.content_length {
        ContentLength::Absent => Ok(Framing::Empty),
        ContentLength::Valid(n) => Ok(Framing::Length(n)),
        ContentLength::Invalid => Err("invalid Content-Length"),
    }
}

/// RFC 9112 §6.3 for responses, the request's method aside.
fn response_own_framing(f: &Fields<'_>) -> Result<Framing, &'static str> {
    if f.transfer_encoding.is_some() {
        return Ok(match f.chunked {
            true => Framing::Chunked,
            false => Framing::ToClose,
        });
    }
    match f.content_length {
        ContentLength::Absent => Ok(Framing::ToClose),
        ContentLength::Valid(n) => Ok(Framing::Length(n)),
        ContentLength::Invalid => Err("invalid Content-Length"),
    }
}

/// A final response's framing given its request's method.
fn response_framing(p: PendingResponse, kind: MethodKind) -> Result<Framing, WalkEnd> {
    match (kind, p.status) {
        (MethodKind::Head, _) | (_, 204 | 304) => Ok(Framing::Empty),
        (MethodKind::Connect, 200..=299) => Err(WalkEnd::Tunnel),
        _ => p.framing.map_err(WalkEnd::Malformed),
    }
}

/// Progress of the search for a head's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct HeadScan {
    /// Offset from which the search goes on: for the start line's end
    /// until it is checked, then for the empty line.
    searched: usize,
    /// The start line was complete and checked.
    start_checked: bool,
}

/// One direction's walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a message (empty lines before it are skipped).
    Head(HeadScan),
    /// Body bytes up to this stream offset.
    Body {
        end: u64,
    },
    ChunkLine {
        searched: usize,
    },
    ChunkData {
        end: u64,
    },
    /// The line end after a chunk's data.
    ChunkEnd,
    Trailers {
        searched: usize,
    },
    AwaitRequest(PendingResponse),
    Stopped,
}

impl Default for State {
    fn default() -> State {
        State::Head(HeadScan::default())
    }
}

#[derive(Debug, Clone, Default)]
struct Walker {
    role: Option<Role>,
    /// The first head read, by role.
    first_request: Option<RequestHead>,
    first_response: Option<ResponseHead>,
    /// Status of the first final response.
    final_status: Option<u16>,
    /// Requests, by number, whose method changes the response's framing.
    special: Vec<(u32, MethodKind)>,
    /// Final responses whose framing was settled (the next answers request
    /// number `finals`).
    finals: u32,
    /// Stream offset where the current state's bytes start.
    at: usize,
    state: State,
    /// Heads read.
    messages: u32,
    /// The last request asked to leave HTTP (CONNECT, Upgrade): a next
    /// head that is not HTTP means the tunnel, not a malformed message.
    leaving: bool,
    end: Option<WalkEnd>,
}

impl Walker {
    /// With `all`, `each` gets every head (copied out); without, only the
    /// first head is copied, to keep it.
    fn walk_requests(&mut self, stream: &[u8], each: &mut dyn FnMut(Head), all: bool) {
        while let Some(raw) = self.next_head(stream) {
            let number = self.messages - 1;
            let StartLine::Request { method, .. } = raw.start else {
                break;
            };
            let kind = MethodKind::of(method);
            if kind != MethodKind::Other {
                self.special.push((number, kind));
            }
            if self.first_request.is_none() || all {
                let head = raw.request_head(self.at - raw.len);
                if all {
                    each(Head::Request(head.clone()));
                }
                self.first_request.get_or_insert(head);
            }
            self.leaving = kind == MethodKind::Connect || raw.fields.upgrade;
            match request_framing(&raw.fields) {
                Ok(framing) => self.begin_body(framing),
                Err(why) => self.stop(WalkEnd::Malformed(why)),
            }
        }
    }

    /// `requests`: the other direction, when it carries the requests.
    fn walk_responses(
        &mut self,
        stream: &[u8],
        requests: Option<&Walker>,
        finishing: bool,
        each: &mut dyn FnMut(Head),
        all: bool,
    ) {
        loop {
            if let State::AwaitRequest(pending) = self.state {
                let number = self.finals;
                // Wait for the request unless it cannot come any more.
                let kind = match requests {
                    Some(r) if number < r.messages => r.method_of(number),
                    Some(r) if r.end.is_some() => MethodKind::Other,
                    _ if finishing => MethodKind::Other,
                    _ => break,
                };
                self.finals += 1;
                match response_framing(pending, kind) {
                    Ok(framing) => self.begin_body(framing),
                    Err(end) => self.stop(end),
                }
            }
            let Some(raw) = self.next_head(stream) else {
                break;
            };
            let StartLine::Response { status, .. } = raw.start else {
                break;
            };
            if self.first_response.is_none() || all {
                let head = raw.response_head(self.at - raw.len);
                if all {
                    each(Head::Response(head.clone()));
                }
                self.first_response.get_or_insert(head);
            }
            if status >= 200 && self.final_status.is_none() {
                self.final_status = Some(status);
            }
            match status {
                // Switching Protocols: the next byte is the new protocol's.
                101 => self.stop(WalkEnd::Tunnel),
                // Interim: no body, the final response follows.
                100..=199 => self.begin_body(Framing::Empty),
                _ => {
                    self.state = State::AwaitRequest(PendingResponse {
                        status,
                        framing: response_own_framing(&raw.fields),
                    })
                }
            }
        }
    }

    /// Method kind of request number `number` (already read).
    fn method_of(&self, number: u32) -> MethodKind {
        match self.special.binary_search_by_key(&number, |(n, _)| *n) {
            Ok(i) => self.special.get(i).map_or(MethodKind::Other, |(_, k)| *k),
            Err(_) => MethodKind::Other,
        }
    }

    fn stop(&mut self, end: WalkEnd) {
        self.state = State::Stopped;
        self.end.get_or_insert(end);
    }

    fn begin_body(&mut self, framing: Framing) {
        let at = self.at as u64;
        self.state = match framing {
            Framing::Empty | Framing::Length(0) => State::Head(HeadScan::default()),
            Framing::Length(n) => State::Body {
                end: at.saturating_add(n),
            },
            Framing::Chunked => State::ChunkLine { searched: 0 },
            Framing::ToClose => {
                self.stop(WalkEnd::BodyToClose);
                State::Stopped
            }
        };
    }

    /// Bytes are pending inside a message (not at a message boundary).
    fn in_message(&self, stream: &[u8]) -> bool {
        match self.state {
            State::Stopped => false,
            State::Head(_) => {
                let rest = stream.get(self.at..).unwrap_or_default();
                skip_empty_lines(rest) != Some(rest.len())
            }
            _ => true,
        }
    }

    /// Skip bodies up to the next complete head and read it; None when more
    /// bytes are needed or the walk ended.
    fn next_head<'a>(&mut self, stream: &'a [u8]) -> Option<RawHead<'a>> {
        loop {
            let rest = stream.get(self.at..).unwrap_or_default();
            let len = stream.len() as u64;
            match self.state {
                State::Stopped | State::AwaitRequest(_) => return None,
                State::Body { end } | State::ChunkData { end } => {
                    if end > len {
                        return None;
                    }
                    self.at = end as usize;
                    self.state = match self.state {
                        State::Body { .. } => State::Head(HeadScan::default()),
                        _ => State::ChunkEnd,
                    };
                }
                State::ChunkEnd => match rest {
                    [b'\n', ..] => self.chunk_line(1),
                    [b'\r', b'\n', ..] => self.chunk_line(2),
                    [] | [b'\r'] => return None,
                    _ => self.stop(WalkEnd::Malformed("chunk data not followed by a line end")),
                },
                State::ChunkLine { searched } => match chunk_size_line(rest, searched) {
                    Ok(ChunkLine::Size { line_bytes, size }) => {
                        self.at += line_bytes;
                        self.state = match size {
                            0 => State::Trailers { searched: 0 },
                            n => State::ChunkData {
                                end: (self.at as u64).saturating_add(n),
                            },
                        };
                    }
                    Ok(ChunkLine::More { searched }) => {
                        self.state = State::ChunkLine { searched };
                        return None;
                    }
                    Err(why) => self.stop(WalkEnd::Malformed(why)),
                },
                State::Trailers { searched } => match trailer_end(rest, searched) {
                    Ok(Scan::End(n)) => {
                        self.at += n;
                        self.state = State::Head(HeadScan::default());
                    }
                    Ok(Scan::More(searched)) => {
                        self.state = State::Trailers { searched };
                        return None;
                    }
                    Err(why) => self.stop(WalkEnd::Malformed(why)),
                },
                State::Head(mut scan) => {
                    if !scan.start_checked && scan.searched == 0 {
                        // empty lines between messages (RFC 9112 §2.2)
                        self.at += skip_empty_lines(rest)?;
                    }
                    let rest = stream.get(self.at..).unwrap_or_default();
                    if rest.is_empty() {
                        return None;
                    }
                    let role = self.role?;
                    match read_head(rest, role, &mut scan) {
                        Parse::Done(raw) => {
                            self.at += raw.len;
                            self.messages = self.messages.saturating_add(1);
                            self.state = State::Head(HeadScan::default());
                            return Some(raw);
                        }
                        Parse::NeedMore => {
                            self.state = State::Head(scan);
                            return None;
                        }
                        Parse::Malformed(why) => self.stop(if self.messages == 0 {
                            WalkEnd::NotHttp(why)
                        } else if self.leaving {
                            WalkEnd::Tunnel
                        } else {
                            WalkEnd::Malformed(why)
                        }),
                    }
                }
            }
        }
    }

    fn chunk_line(&mut self, skip: usize) {
        self.at += skip;
        self.state = State::ChunkLine { searched: 0 };
    }
}

/// Content-Length over all its fields (RFC 9112 §6.3 rule 5: a list of
/// equal values is that value, anything else is invalid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum ContentLength {
    #[default]
    Absent,
    Valid(u64),
    Invalid,
}

impl ContentLength {
    fn add(&mut self, value: &[u8]) {
        let mut items = value.split(|&b| b == b',').map(trim).peekable();
        if items.peek().is_none() {
            *self = ContentLength::Invalid;
        }
        for item in items {
            let n = match item {
                d if !d.is_empty()
                    && d.len() <= MAX_LENGTH_DIGITS
                    && d.iter().all(u8::is_ascii_digit) =>
                {
                    d.iter().fold(0u64, |n, b| n * 10 + u64::from(b - b'0'))
                }
                _ => {
                    *self = ContentLength::Invalid;
                    return;
                }
            };
            *self = match *self {
                ContentLength::Absent => ContentLength::Valid(n),
                ContentLength::Valid(m) if m == n => ContentLength::Valid(n),
                _ => ContentLength::Invalid,
            };
        }
    }

    fn value(self) -> Option<u64> {
        match self {
            ContentLength::Valid(n) => Some(n),
            ContentLength::Absent | ContentLength::Invalid => None,
        }
    }
}

/// The fields a head is read for.
#[derive(Debug, Clone, Default)]
struct Fields<'a> {
    host: Option<Cow<'a, [u8]>>,
    user_agent: Option<Cow<'a, [u8]>>,
    content_type: Option<Cow<'a, [u8]>>,
    server: Option<Cow<'a, [u8]>>,
    transfer_encoding: Option<Cow<'a, [u8]>>,
    /// The last transfer coding of the last Transfer-Encoding field is
    /// chunked (RFC 9112 §6.3 rule 4).
    chunked: bool,
    content_length: ContentLength,
    upgrade: bool,
}

impl<'a> Fields<'a> {
    fn add(&mut self, name: &[u8], value: Cow<'a, [u8]>) {
        let first = |slot: &mut Option<Cow<'a, [u8]>>, v: Cow<'a, [u8]>| {
            slot.get_or_insert(v);
        };
        if name_is(name, "host") {
            first(&mut self.host, value);
        } else if name_is(name, "user-agent") {
            first(&mut self.user_agent, value);
        } else if name_is(name, "content-type") {
            first(&mut self.content_type, value);
        } else if name_is(name, "server") {
            first(&mut self.server, value);
        } else if name_is(name, "content-length") {
            self.content_length.add(&value);
        } else if name_is(name, "transfer-encoding") {
            if let Some(last) = value
                .split(|&b| b == b',')
                .map(trim)
                .rfind(|c| !c.is_empty())
            {
                self.chunked = last.eq_ignore_ascii_case(b"chunked");
            }
            first(&mut self.transfer_encoding, value);
        } else if name_is(name, "upgrade") {
            self.upgrade = true;
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum StartLine<'a> {
    Request {
        method: &'a [u8],
        target: &'a [u8],
        version: Option<Version>,
    },
    Response {
        version: Option<Version>,
        status: u16,
        reason: &'a [u8],
    },
}

/// A head read in place.
#[derive(Debug, Clone)]
struct RawHead<'a> {
    /// Bytes from the start line to the end of the empty line.
    len: usize,
    start: StartLine<'a>,
    fields: Fields<'a>,
    anomaly: Option<&'static str>,
}

impl RawHead<'_> {
    fn request_head(&self, lead: usize) -> RequestHead {
        let (method, target, version) = match self.start {
            StartLine::Request {
                method,
                target,
                version,
            } => (text(method), text(target), version),
            StartLine::Response { .. } => Default::default(),
        };
        let f = &self.fields;
        RequestHead {
            method,
            target,
            version,
            host: f.host.as_deref().map(text),
            user_agent: f.user_agent.as_deref().map(text),
            content_length: f.content_length.value(),
            transfer_encoding: f.transfer_encoding.as_deref().map(text),
            head_bytes: lead + self.len,
            anomaly: self.anomaly,
        }
    }

    fn response_head(&self, lead: usize) -> ResponseHead {
        let (version, status, reason) = match self.start {
            StartLine::Response {
                version,
                status,
                reason,
            } => (version, status, text(reason)),
            StartLine::Request { .. } => Default::default(),
        };
        let f = &self.fields;
        ResponseHead {
            version,
            status,
            reason,
            content_type: f.content_type.as_deref().map(text),
            server: f.server.as_deref().map(text),
            content_length: f.content_length.value(),
            transfer_encoding: f.transfer_encoding.as_deref().map(text),
            head_bytes: lead + self.len,
            anomaly: self.anomaly,
        }
    }
}

/// Read the head at the front of `bytes` (its first byte is the start
/// line's), resuming the search for its end where `scan` left it.
fn read_head<'a>(bytes: &'a [u8], side: Role, scan: &mut HeadScan) -> Parse<RawHead<'a>> {
    let window = bytes.get(..MAX_HEAD_BYTES).unwrap_or(bytes);
    let too_long = || Parse::Malformed("head longer than 16 KiB");
    if !scan.start_checked {
        // The first bytes decide: reject as soon as they cannot start a head.
        if let Err(why) = check_start_prefix(window, side) {
            return Parse::Malformed(why);
        }
        // (resuming where the last call stopped looking for the line end)
        let from = scan.searched.min(window.len());
        let found = window
            .get(from..)
            .and_then(|r| r.iter().position(|&b| b == b'\n'));
        let Some(line_end) = found.map(|p| from + p) else {
            if bytes.len() >= MAX_HEAD_BYTES {
                return too_long();
            }
            scan.searched = window.len();
            return Parse::NeedMore;
        };
        let (line, _) = split_line(window);
        if let Err(why) = start_line(line, side) {
            return Parse::Malformed(why);
        }
        *scan = HeadScan {
            searched: line_end,
            start_checked: true,
        };
    }
    match find_empty_line(window, scan.searched) {
        Scan::End(end) => parse_head(window.get(..end).unwrap_or_default(), side),
        Scan::More(_) if bytes.len() >= MAX_HEAD_BYTES => too_long(),
        Scan::More(searched) => {
            scan.searched = searched;
            Parse::NeedMore
        }
    }
}

/// Parse a complete head (start line through the empty line).
fn parse_head(head: &[u8], side: Role) -> Parse<RawHead<'_>> {
    let (line, after) = split_line(head);
    let (start, start_anomaly) = match start_line(line, side) {
        Ok(s) => s,
        Err(why) => return Parse::Malformed(why),
    };
    let mut fields = Fields::default();
    let mut iter = Headers {
        rest: after,
        anomaly: None,
    };
    for (name, value) in iter.by_ref() {
        fields.add(name, value);
    }
    Parse::Done(RawHead {
        len: head.len(),
        start,
        fields,
        anomaly: start_anomaly.or(iter.anomaly()),
    })
}

/// Reject bytes that cannot begin a head of `side`, before its first line
/// is complete.
fn check_start_prefix(bytes: &[u8], side: Role) -> Result<(), &'static str> {
    match side {
        Role::Requests => {
            for (i, &b) in bytes.iter().enumerate() {
                if i > MAX_METHOD_BYTES {
                    return Err("method longer than 32 bytes");
                }
                match b {
                    b' ' | b'\r' | b'\n' if i > 0 => return Ok(()),
                    b if is_tchar(b) => {}
                    _ => return Err("method is not a token"),
                }
            }
            Ok(())
        }
        Role::Responses => {
            let n = bytes.len().min(6);
            let want = b"HTTP/";
            let ok = bytes
                .iter()
                .take(n)
                .enumerate()
                .all(|(i, &b)| match want.get(i) {
                    Some(&w) => b == w,
                    None => b.is_ascii_digit(),
                });
            ok.then_some(())
                .ok_or("status line does not start with HTTP/<digit>")
        }
    }
}

/// The start line (without its line end), and its tolerated oddity.
type Start<'a> = (StartLine<'a>, Option<&'static str>);

fn start_line(line: &[u8], side: Role) -> Result<Start<'_>, &'static str> {
    match side {
        Role::Requests => request_line(line),
        Role::Responses => status_line(line),
    }
}

/// `method SP request-target SP HTTP-version` (RFC 9112 §3). Like TShark,
/// the version is the last space-separated word when it starts with
/// `HTTP/` and a target precedes it; a line without one, or with a
/// malformed one (`HTTP/1.`), is accepted for registered methods only.
fn request_line(line: &[u8]) -> Result<Start<'_>, &'static str> {
    let (method, rest) = match line.iter().position(|&b| b == b' ') {
        Some(i) => (
            line.get(..i).unwrap_or_default(),
            line.get(i + 1..).unwrap_or_default(),
        ),
        None => (line, &[][..]),
    };
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err("method is not a token");
    }
    if method.len() > MAX_METHOD_BYTES {
        return Err("method longer than 32 bytes");
    }
    let rest = trim(rest);
    // The target ends at the first space; the rest is the version (TShark
    // and Zeek split `GET /a b HTTP/1.0` so: target `/a`, version
    // `b HTTP/1.0`, which is malformed).
    let mut anomaly = None;
    let (target, version) = match rest.iter().position(|&b| b == b' ') {
        None => (rest, None),
        Some(i) => {
            let word = trim(rest.get(i + 1..).unwrap_or_default());
            let v = if word.starts_with(b"HTTP/") {
                version(word).ok()
            } else {
                None
            };
            if v.is_none() {
                anomaly = Some(MALFORMED_VERSION);
            }
            (rest.get(..i).unwrap_or_default(), v)
        }
    };
    if version.is_none() && KNOWN_METHODS.binary_search(&method).is_err() {
        return Err("request line without an HTTP version");
    }
    if method == b"PRI" && version.is_some_and(|v| v.major == 2) {
        // RFC 9113 §3.4: HTTP/2 with prior knowledge, not an HTTP/1 request.
        return Err("HTTP/2 connection preface");
    }
    let start = StartLine::Request {
        method,
        target,
        version,
    };
    Ok((start, anomaly))
}

/// `HTTP-version SP status-code SP [reason-phrase]` (RFC 9112 §4). A
/// malformed version after `HTTP/<digit>` (`HTTP/1..`) is tolerated, as
/// TShark does.
fn status_line(line: &[u8]) -> Result<Start<'_>, &'static str> {
    let mut parts = line.splitn(2, |&b| b == b' ');
    let word = parts.next().unwrap_or_default();
    if !word.starts_with(b"HTTP/") {
        return Err("status line does not start with HTTP/<digit>");
    }
    let version = version(word).ok();
    let anomaly = version.is_none().then_some(MALFORMED_VERSION);
    let rest = parts.next().unwrap_or_default();
    let rest = trim(rest);
    let code = rest.get(..3).unwrap_or_default();
    let reason = rest.get(3..).unwrap_or_default();
    if code.len() != 3
        || !code.iter().all(u8::is_ascii_digit)
        || !matches!(reason.first(), None | Some(b' ' | b'\t'))
    {
        return Err("status code is not 3 digits");
    }
    let status = code.iter().fold(0u16, |n, b| n * 10 + u16::from(b - b'0'));
    if status < 100 {
        return Err("status code below 100");
    }
    let start = StartLine::Response {
        version,
        status,
        reason: trim(reason),
    };
    Ok((start, anomaly))
}

const MALFORMED_VERSION: &str = "malformed HTTP version";

/// `HTTP/` DIGIT+ `.` DIGIT+ (RFC 9112 §2.3 has one digit each; more are
/// read, saturating).
fn version(word: &[u8]) -> Result<Version, &'static str> {
    const BAD: &str = "HTTP version is not HTTP/<digit>.<digit>";
    let digits = word.strip_prefix(b"HTTP/").ok_or(BAD)?;
    let mut parts = digits.splitn(2, |&b| b == b'.');
    let mut number = || -> Result<u8, &'static str> {
        let d = parts.next().unwrap_or_default();
        if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
            return Err(BAD);
        }
        Ok(d.iter()
            .fold(0u8, |n, b| n.saturating_mul(10).saturating_add(b - b'0')))
    };
    Ok(Version {
        major: number()?,
        minor: number()?,
    })
}

/// Where the search for a head's end stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// The head ends just before this offset.
    End(usize),
    /// Not found; resume at this offset.
    More(usize),
}

/// Find the empty line after the line end at or after `from`: a `\n`
/// followed by `\n` or `\r\n`.
fn find_empty_line(bytes: &[u8], from: usize) -> Scan {
    let mut i = from;
    loop {
        let Some(p) = bytes
            .get(i..)
            .and_then(|r| r.iter().position(|&b| b == b'\n'))
        else {
            return Scan::More(bytes.len().max(from));
        };
        let nl = i + p;
        match (bytes.get(nl + 1), bytes.get(nl + 2)) {
            (Some(b'\n'), _) => return Scan::End(nl + 2),
            (Some(b'\r'), Some(b'\n')) => return Scan::End(nl + 3),
            (None, _) | (Some(b'\r'), None) => return Scan::More(nl),
            _ => i = nl + 1,
        }
    }
}

/// The end of a chunked body's trailer section (RFC 9112 §7.1.2): an empty
/// line at once, or field lines and then one.
fn trailer_end(bytes: &[u8], searched: usize) -> Result<Scan, &'static str> {
    match bytes {
        [] | [b'\r'] => return Ok(Scan::More(0)),
        [b'\n', ..] => return Ok(Scan::End(1)),
        [b'\r', b'\n', ..] => return Ok(Scan::End(2)),
        _ => {}
    }
    let window = bytes.get(..MAX_HEAD_BYTES).unwrap_or(bytes);
    match find_empty_line(window, searched) {
        Scan::More(_) if bytes.len() >= MAX_HEAD_BYTES => Err("trailer section longer than 16 KiB"),
        s => Ok(s),
    }
}

enum ChunkLine {
    /// A chunk-size line of `line_bytes` bytes (line end included).
    Size {
        line_bytes: usize,
        size: u64,
    },
    More {
        searched: usize,
    },
}

/// `chunk-size [chunk-ext] CRLF` (RFC 9112 §7.1).
fn chunk_size_line(bytes: &[u8], searched: usize) -> Result<ChunkLine, &'static str> {
    const NOT_HEX: &str = "chunk size is not hex";
    match bytes.first() {
        None => return Ok(ChunkLine::More { searched: 0 }),
        Some(b) if !b.is_ascii_hexdigit() => return Err(NOT_HEX),
        Some(_) => {}
    }
    let window = bytes.get(..MAX_CHUNK_LINE_BYTES).unwrap_or(bytes);
    let from = searched.min(window.len());
    let Some(nl) = window
        .get(from..)
        .and_then(|r| r.iter().position(|&b| b == b'\n'))
        .map(|p| from + p)
    else {
        return match bytes.len() >= MAX_CHUNK_LINE_BYTES {
            true => Err("chunk-size line longer than 1 KiB"),
            false => Ok(ChunkLine::More {
                searched: window.len(),
            }),
        };
    };
    let line = window.get(..nl).unwrap_or_default();
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits > MAX_CHUNK_SIZE_DIGITS {
        return Err("chunk size larger than 64 bits");
    }
    let after = trim(line.get(digits..).unwrap_or_default());
    if !after.is_empty() && after.first() != Some(&b';') {
        return Err(NOT_HEX);
    }
    let size = line
        .get(..digits)
        .unwrap_or_default()
        .iter()
        .fold(0u64, |n, &b| (n << 4) | u64::from(hex_value(b)));
    Ok(ChunkLine::Size {
        line_bytes: nl + 1,
        size,
    })
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// Length of the empty lines (CRLF or LF) at the front; None when the bytes
/// end in a lone CR that may begin one.
fn skip_empty_lines(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        match bytes.get(i..).unwrap_or_default() {
            [b'\n', ..] => i += 1,
            [b'\r', b'\n', ..] => i += 2,
            [b'\r'] => return None,
            _ => return Some(i),
        }
    }
}

/// The first line (without CR LF or LF) and the bytes after its line end.
fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(nl) => {
            let line = bytes.get(..nl).unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            (line, bytes.get(nl + 1..).unwrap_or_default())
        }
        None => (bytes, &[]),
    }
}

/// A field value without surrounding whitespace, folded lines joined by
/// one space (RFC 9112 §5.2).
fn unfold(raw: &[u8]) -> Cow<'_, [u8]> {
    let raw = trim(raw);
    if !raw.contains(&b'\n') {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    for piece in raw
        .split(|&b| b == b'\n')
        .map(trim)
        .filter(|p| !p.is_empty())
    {
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(piece);
    }
    Cow::Owned(out)
}

fn is_ows(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !is_ows(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_ows(c)).map_or(start, |e| e + 1);
    b.get(start..end).unwrap_or_default()
}

fn trim_end(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|c| !is_ows(c)).map_or(0, |e| e + 1);
    b.get(..end).unwrap_or_default()
}

/// tchar (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Wire text as a String: UTF-8 as is, anything else escaped as `\xNN`.
fn text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => b.escape_ascii().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: &[u8] = b"GET /index.html?i=1 HTTP/1.1\r\nHost: web-1.test.local\r\nUser-Agent: corpus-agent/1\r\nAccept: */*\r\n\r\n";

    /// The scanner fed `up` and `down` whole, then finished.
    fn scan(up: &[u8], down: &[u8]) -> HttpInfo {
        let mut s = HttpScanner::new();
        s.update(0, up);
        s.update(1, down);
        s.finish(up, down);
        s.into_info()
    }

    #[test]
    fn request_head_fields() {
        let r = parse_request_head(GET).done().expect("parses");
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, "/index.html?i=1");
        assert_eq!(r.version, Some(Version { major: 1, minor: 1 }));
        assert_eq!(r.host.as_deref(), Some("web-1.test.local"));
        assert_eq!(r.user_agent.as_deref(), Some("corpus-agent/1"));
        assert_eq!(r.head_bytes, GET.len());
        assert_eq!(r.anomaly, None);
        // any field, any case
        let accept = header_value(GET, "ACCEPT").expect("accept");
        assert_eq!(&*accept, b"*/*");
        assert_eq!(headers(GET).count(), 3);
    }

    #[test]
    fn response_head_fields() {
        let head = b"HTTP/1.0 404 Not Found\nServer: GFE/2.0\nContent-Type: text/html; charset=UTF-8\nContent-Length:  12 \n\n";
        let r = parse_response_head(head).done().expect("parses");
        assert_eq!(
            (r.version.map(|v| v.to_string()).as_deref(), r.status),
            (Some("HTTP/1.0"), 404)
        );
        assert_eq!(r.reason, "Not Found");
        assert_eq!(r.server.as_deref(), Some("GFE/2.0"));
        assert_eq!(r.content_type.as_deref(), Some("text/html; charset=UTF-8"));
        assert_eq!(r.content_length, Some(12));
        // a status line without a reason
        let r = parse_response_head(b"HTTP/1.1 204\r\n\r\n")
            .done()
            .expect("parses");
        assert_eq!((r.status, r.reason.as_str()), (204, ""));
    }

    #[test]
    fn split_heads_need_more() {
        for cut in 0..GET.len() {
            assert_eq!(
                parse_request_head(&GET[..cut]),
                Parse::NeedMore,
                "cut at {cut}"
            );
        }
        assert_eq!(parse_response_head(b"HTTP/1.1 200 OK\r\n"), Parse::NeedMore);
        assert_eq!(parse_response_head(b"HT"), Parse::NeedMore);
    }

    #[test]
    fn garbage_is_malformed_at_once() {
        // TLS, SSH, SMTP, binary: the first bytes decide
        for bytes in [
            &b"\x16\x03\x01\x02\x00\x01"[..],
            b"SSH-2.0-OpenSSH_9.6\r\n",
            b"220 mail.example ESMTP\r\n",
            b"GET/ HTTP/1.1\r\n\r\n",
            b"OPTIONSHTTP/1.1\r\nHost: x\r\n\r\n",
            b"\x00\x00",
            b" GET / HTTP/1.1\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        ] {
            assert!(
                parse_request_head(bytes).is_malformed(),
                "{:?}",
                bytes.escape_ascii().to_string()
            );
        }
        assert!(parse_response_head(b"\x16\x03").is_malformed());
        assert!(parse_response_head(b"HTTP/x").is_malformed());
        assert!(parse_response_head(b"HTTPS/1.1 200 OK\r\n\r\n").is_malformed());
        assert!(parse_response_head(b"HTTP/1.1 20 OK\r\n\r\n").is_malformed());
        assert!(parse_response_head(b"ICY 200 OK\r\n\r\n").is_malformed());
        // a method too long to be one
        let long = [b'A'; 40];
        assert!(parse_request_head(&long).is_malformed());
    }

    #[test]
    fn head_bound() {
        let mut big = b"GET / HTTP/1.1\r\nCookie: ".to_vec();
        big.resize(MAX_HEAD_BYTES + 10, b'a');
        assert_eq!(
            parse_request_head(&big),
            Parse::Malformed("head longer than 16 KiB")
        );
        // the same head whole, with its end past the bound: the same answer
        big.extend_from_slice(b"\r\n\r\n");
        assert!(parse_request_head(&big).is_malformed());
    }

    #[test]
    fn tolerated_oddities() {
        // folding, bare LF, leading empty lines, space before colon, junk line
        let head = b"\r\n\nPOST /f HTTP/1.0\nHost : a.example\nUser-Agent: one\n  two\njunk\n\n";
        let r = parse_request_head(head).done().expect("parses");
        assert_eq!(r.host.as_deref(), Some("a.example"));
        assert_eq!(r.user_agent.as_deref(), Some("one two"));
        assert_eq!(r.head_bytes, head.len());
        assert_eq!(r.anomaly, Some("whitespace before a header colon"));
        // non-UTF-8 escaped
        let r = parse_request_head(b"GET /\xff HTTP/1.1\r\nHost: \xc3\xa9t\xe9\r\n\r\n")
            .done()
            .expect("parses");
        assert_eq!(r.target, "/\\xff");
        assert_eq!(r.host.as_deref(), Some("\\xc3\\xa9t\\xe9"));
    }

    #[test]
    fn request_lines_without_version_as_tshark_reads_them() {
        let r = parse_request_head(b"OPTIONS HTTP/1.1\nHost: www.google.com\n\n")
            .done()
            .expect("parses");
        assert_eq!((r.target.as_str(), r.version), ("HTTP/1.1", None));
        let r = parse_request_head(b"OPTIONS\nHost: www.google.com\n\n")
            .done()
            .expect("parses");
        assert_eq!((r.method.as_str(), r.target.as_str()), ("OPTIONS", ""));
        let r = parse_request_head(b"GET /HTTP/1.1\nHost: h\n\n")
            .done()
            .expect("parses");
        assert_eq!(r.target, "/HTTP/1.1");
        // an HTTP/0.9 request has no empty line: it never completes
        assert_eq!(parse_request_head(b"GET /zeek.html\n"), Parse::NeedMore);
        assert!(parse_request_head(b"FOO /x\r\n\r\n").is_malformed());
        // a malformed version is tolerated for registered methods (as TShark)
        let r = parse_request_head(b"CCM_POST / HTTP/1.\nHost: h\n\n")
            .done()
            .expect("parses");
        assert_eq!(
            (r.target.as_str(), r.version, r.anomaly),
            ("/", None, Some("malformed HTTP version"))
        );
        assert!(parse_request_head(b"FOO / HTTP/1.\n\n").is_malformed());
        // no version word: the target is the first word (arkime
        // gre-erspan-vxlan frame 4, `GET /Hello Arkime`, as TShark reads it)
        let r = parse_request_head(b"GET /Hello Arkime HTTP/1.0\r\n\r\n")
            .done()
            .expect("parses");
        assert_eq!(
            (r.target.as_str(), r.anomaly),
            ("/Hello", Some("malformed HTTP version"))
        );
        let r = parse_response_head(b"HTTP/1.. 200 OK\n\n")
            .done()
            .expect("parses");
        assert_eq!((r.version, r.status), (None, 200));
    }

    #[test]
    fn pipelined_requests_are_counted() {
        let mut up = Vec::new();
        for i in 0..3 {
            up.extend_from_slice(format!("GET /{i} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes());
        }
        up.extend_from_slice(b"POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
        up.extend_from_slice(b"\r\nGET /after HTTP/1.1\r\n\r\n");
        let info = scan(&up, b"");
        assert_eq!(info.requests, 5);
        assert_eq!(info.request.map(|r| r.target), Some("/0".to_owned()));
        assert_eq!(info.request_end, None);
    }

    #[test]
    fn chunked_bodies_are_skipped() {
        let down = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n\
            5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\n\
            HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        let up = b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n";
        let info = scan(up, down);
        assert_eq!((info.requests, info.responses), (3, 3));
        assert_eq!(info.response_end, None);
        let r = info.response.expect("first response");
        assert_eq!(r.transfer_encoding.as_deref(), Some("gzip, chunked"));
        // a bad chunk line is an anomaly after the first message
        let bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        let info = scan(b"GET / HTTP/1.1\r\n\r\n", bad);
        assert_eq!(
            info.response_end,
            Some(WalkEnd::Malformed("chunk size is not hex"))
        );
        assert_eq!(info.responses, 1);
    }

    #[test]
    fn head_responses_and_interim_responses_have_no_body() {
        let up = b"HEAD / HTTP/1.1\r\n\r\nPOST /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n";
        let down = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n\
            HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n\
            HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n";
        let info = scan(up, down);
        assert_eq!((info.requests, info.responses), (3, 4));
        assert_eq!(info.final_status, Some(200));
        assert_eq!(info.response_end, None);
        // the first response may be interim
        let info = scan(
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        );
        assert_eq!(info.response.map(|r| r.status), Some(100));
        assert_eq!((info.final_status, info.responses), (Some(200), 2));
    }

    #[test]
    fn responses_wait_for_their_request() {
        // The HEAD request arrives after the response's head (as a capture
        // can order them): the response side waits instead of guessing.
        let up = b"HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n";
        let down = b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        let mut s = HttpScanner::new();
        s.update(1, down);
        assert_eq!(s.info().responses, 1);
        s.update(0, up);
        s.update(1, down);
        assert_eq!((s.info().requests, s.info().responses), (2, 2));
        // the server side starting first is found by content
        assert_eq!(s.role(1), Some(Role::Responses));
        assert_eq!(s.role(0), Some(Role::Requests));
    }

    #[test]
    fn ends_of_the_walk() {
        // CONNECT then TLS
        let info = scan(
            b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n\x16\x03\x01\x00\x05hello",
            b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03\x00\x01x",
        );
        assert_eq!((info.requests, info.responses), (1, 1));
        assert_eq!(info.request_end, Some(WalkEnd::Tunnel));
        assert_eq!(info.response_end, Some(WalkEnd::Tunnel));
        // a body to the close, a cut body, not HTTP
        let info = scan(b"GET / HTTP/1.0\r\n\r\n", b"HTTP/1.0 200 OK\r\n\r\n<html>");
        assert_eq!(info.response_end, Some(WalkEnd::BodyToClose));
        let info = scan(b"POST / HTTP/1.1\r\nContent-Length: 9999\r\n\r\nabc", b"");
        assert_eq!(info.request_end, Some(WalkEnd::Cut));
        let info = scan(b"\x16\x03\x01", b"\x16\x03\x03");
        assert_eq!(
            info.request_end,
            Some(WalkEnd::NotHttp("method is not a token"))
        );
        assert_eq!(info.requests, 0);
        // websocket after 101
        let info = scan(
            b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x85abcd",
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi",
        );
        assert_eq!(
            (info.request_end, info.response_end),
            (Some(WalkEnd::Tunnel), Some(WalkEnd::Tunnel))
        );
        // an invalid Content-Length stops the walk
        let info = scan(b"POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\nabcd", b"");
        assert_eq!(
            info.request_end,
            Some(WalkEnd::Malformed("invalid Content-Length"))
        );
    }

    #[test]
    fn a_version_less_request_without_empty_line_is_cut() {
        // HTTP/0.9: the server answers with a bare body; the request side is
        // the one reported, its head never ended.
        let info = scan(b"GET /zeek.html\n", b"<html>hi</html>\n");
        assert_eq!((info.requests, info.request_end), (0, Some(WalkEnd::Cut)));
    }

    #[test]
    fn byte_by_byte_equals_whole() {
        let up = b"\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\n\r\n";
        let down = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
        let mut s = HttpScanner::new();
        for n in 0..=up.len().max(down.len()) {
            s.update(0, &up[..n.min(up.len())]);
            s.update(1, &down[..n.min(down.len())]);
        }
        s.finish(up, down);
        let info = s.into_info();
        assert_eq!(info, scan(up, down));
        assert_eq!(
            (info.requests, info.responses, info.response_end),
            (2, 2, None)
        );
    }

    #[test]
    fn content_length_lists() {
        let mut cl = ContentLength::Absent;
        cl.add(b"5, 5");
        cl.add(b"5");
        assert_eq!(cl, ContentLength::Valid(5));
        cl.add(b"6");
        assert_eq!(cl, ContentLength::Invalid);
        let mut cl = ContentLength::Absent;
        cl.add(b"99999999999999999999");
        assert_eq!(cl, ContentLength::Invalid);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// Bytes that look like HTTP often enough to reach the walk.
        fn httpish() -> impl Strategy<Value = Vec<u8>> {
            let pieces = prop_oneof![
                Just(&b"GET / HTTP/1.1\r\n"[..]),
                Just(&b"HEAD /x HTTP/1.0\n"[..]),
                Just(&b"HTTP/1.1 200 OK\r\n"[..]),
                Just(&b"HTTP/1.1 100 Continue\r\n"[..]),
                Just(&b"Content-Length: 3\r\n"[..]),
                Just(&b"Transfer-Encoding: chunked\r\n"[..]),
                Just(&b"Host: h\r\n  folded\r\n"[..]),
                Just(&b"\r\n"[..]),
                Just(&b"\n"[..]),
                Just(&b"3\r\nabc\r\n0\r\n"[..]),
                Just(&b"abc"[..]),
                Just(&b"\x16\x03"[..]),
            ];
            proptest::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
        }

        fn bytes() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![proptest::collection::vec(any::<u8>(), 0..400), httpish()]
        }

        proptest! {
            #[test]
            fn heads_never_panic_and_are_prefix_stable(b in bytes(), extra in bytes()) {
                let mut longer = b.clone();
                longer.extend_from_slice(&extra);
                if let Parse::Done(r) = parse_request_head(&b) {
                    prop_assert!(r.head_bytes <= b.len());
                    prop_assert_eq!(parse_request_head(&longer), Parse::Done(r));
                }
                if let Parse::Done(r) = parse_response_head(&b) {
                    prop_assert!(r.head_bytes <= b.len());
                    prop_assert_eq!(parse_response_head(&longer), Parse::Done(r));
                }
                let _ = headers(&b).count();
            }

            /// Feeding the streams piece by piece gives what feeding them
            /// whole gives: the scanner's state carries over correctly.
            #[test]
            fn incremental_equals_whole(
                up in bytes(),
                down in bytes(),
                cuts in proptest::collection::vec((any::<bool>(), 0usize..400), 0..12),
            ) {
                let mut whole_heads: [Vec<Head>; 2] = Default::default();
                let mut w = HttpScanner::new();
                w.finish_with(&up, &down, &mut |dir, h| whole_heads[dir].push(h));
                let whole = w.into_info();
                prop_assert_eq!(&whole, &scan(&up, &down));
                let mut heads: [Vec<Head>; 2] = Default::default();
                let mut s = HttpScanner::new();
                let (mut u, mut d) = (0, 0);
                for (dir_down, n) in cuts {
                    if dir_down {
                        d = (d + n).min(down.len());
                        s.update_with(1, &down[..d], &mut |dir, h| heads[dir].push(h));
                    } else {
                        u = (u + n).min(up.len());
                        s.update_with(0, &up[..u], &mut |dir, h| heads[dir].push(h));
                    }
                }
                s.finish_with(&up, &down, &mut |dir, h| heads[dir].push(h));
                prop_assert_eq!(s.into_info(), whole.clone());
                prop_assert_eq!(&heads, &whole_heads);
                // the counts are the heads handed over
                let by_role = |want: fn(&Head) -> bool| heads.iter().flatten().filter(|h| want(h)).count();
                prop_assert!(by_role(|h| matches!(h, Head::Request(_))) >= whole.requests as usize);
                prop_assert!(by_role(|h| matches!(h, Head::Response(_))) >= whole.responses as usize);
                // every counted head needs at least a line end of bytes
                let counted = (whole.requests + whole.responses) as usize;
                prop_assert!(counted <= up.len() + down.len());
            }
        }
    }
}
