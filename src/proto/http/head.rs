//! Reading one head: the start line (request or status), the header
//! fields with the tolerated oddities, and the small byte helpers the
//! scanner shares.

use std::borrow::Cow;

use super::*;

/// The fields a head is read for.
#[derive(Debug, Clone, Default)]
pub(super) struct Fields<'a> {
    pub(super) host: Option<Cow<'a, [u8]>>,
    pub(super) user_agent: Option<Cow<'a, [u8]>>,
    pub(super) content_type: Option<Cow<'a, [u8]>>,
    pub(super) server: Option<Cow<'a, [u8]>>,
    pub(super) transfer_encoding: Option<Cow<'a, [u8]>>,
    /// The last transfer coding of the last Transfer-Encoding field is
    /// chunked (RFC 9112 §6.3 rule 4).
    pub(super) chunked: bool,
    pub(super) content_length: ContentLength,
    pub(super) upgrade: bool,
    /// An Upgrade field names the WebSocket protocol (RFC 6455 §4.1).
    pub(super) websocket: bool,
}

impl<'a> Fields<'a> {
    pub(super) fn add(&mut self, name: &[u8], value: Cow<'a, [u8]>) {
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
            self.websocket |= value
                .split(|&b| b == b',')
                .any(|p| trim(p).eq_ignore_ascii_case(b"websocket"));
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum StartLine<'a> {
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
pub(super) struct RawHead<'a> {
    /// Bytes from the start line to the end of the empty line.
    pub(super) len: usize,
    pub(super) start: StartLine<'a>,
    pub(super) fields: Fields<'a>,
    pub(super) anomaly: Option<&'static str>,
}

impl RawHead<'_> {
    pub(super) fn request_head(&self, lead: usize) -> RequestHead {
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
            websocket: f.websocket,
        }
    }

    pub(super) fn response_head(&self, lead: usize) -> ResponseHead {
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
pub(super) fn read_head<'a>(
    bytes: &'a [u8],
    side: Role,
    scan: &mut HeadScan,
) -> Parse<RawHead<'a>> {
    let window = bytes.get(..MAX_HEAD_BYTES).unwrap_or(bytes);
    let too_long = || Parse::Malformed(super::HEAD_TOO_LONG);
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
pub(super) fn parse_head(head: &[u8], side: Role) -> Parse<RawHead<'_>> {
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
pub(super) fn check_start_prefix(bytes: &[u8], side: Role) -> Result<(), &'static str> {
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
pub(super) type Start<'a> = (StartLine<'a>, Option<&'static str>);

pub(super) fn start_line(line: &[u8], side: Role) -> Result<Start<'_>, &'static str> {
    match side {
        Role::Requests => request_line(line),
        Role::Responses => status_line(line),
    }
}

/// `method SP request-target SP HTTP-version` (RFC 9112 §3). Like TShark,
/// the version is the last space-separated word when it starts with
/// `HTTP/` and a target precedes it; a line without one, or with a
/// malformed one (`HTTP/1.`), is accepted for registered methods only.
pub(super) fn request_line(line: &[u8]) -> Result<Start<'_>, &'static str> {
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
            if other_protocol_version(word) {
                return Err("another protocol's request line (RTSP, SIP)");
            }
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
pub(super) fn status_line(line: &[u8]) -> Result<Start<'_>, &'static str> {
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

pub(super) const MALFORMED_VERSION: &str = "malformed HTTP version";

/// `HTTP/` DIGIT+ `.` DIGIT+ (RFC 9112 §2.3 has one digit each; more are
/// read, saturating).
pub(super) fn version(word: &[u8]) -> Result<Version, &'static str> {
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
pub(super) enum Scan {
    /// The head ends just before this offset.
    End(usize),
    /// Not found; resume at this offset.
    More(usize),
}

/// Find the empty line after the line end at or after `from`: a `\n`
/// followed by `\n` or `\r\n`.
pub(super) fn find_empty_line(bytes: &[u8], from: usize) -> Scan {
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
pub(super) fn trailer_end(bytes: &[u8], searched: usize) -> Result<Scan, &'static str> {
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

pub(super) enum ChunkLine {
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
pub(super) fn chunk_size_line(bytes: &[u8], searched: usize) -> Result<ChunkLine, &'static str> {
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

pub(super) fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// Length of the empty lines (CRLF or LF) at the front; None when the bytes
/// end in a lone CR that may begin one.
pub(super) fn skip_empty_lines(bytes: &[u8]) -> Option<usize> {
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
pub(super) fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
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
pub(super) fn unfold(raw: &[u8]) -> Cow<'_, [u8]> {
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

pub(super) fn is_ows(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

pub(super) fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !is_ows(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_ows(c)).map_or(start, |e| e + 1);
    b.get(start..end).unwrap_or_default()
}

pub(super) fn trim_end(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|c| !is_ows(c)).map_or(0, |e| e + 1);
    b.get(..end).unwrap_or_default()
}

/// tchar (RFC 9110 §5.6.2).
pub(super) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Wire text as a String: UTF-8 as is, anything else escaped as `\xNN`.
pub(super) fn text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => b.escape_ascii().to_string(),
    }
}

/// `RTSP/1.0`, `SIP/2.0` and the like: an upper-case protocol name other
/// than HTTP, a slash, a digit, a dot, a digit. Their request lines share
/// HTTP's syntax (and some of its methods); they are not HTTP.
fn other_protocol_version(word: &[u8]) -> bool {
    let Some(slash) = word.iter().position(|&b| b == b'/') else {
        return false;
    };
    let (name, v) = (&word[..slash], &word[slash + 1..]);
    name != b"HTTP"
        && (2..=8).contains(&name.len())
        && name.iter().all(u8::is_ascii_uppercase)
        && matches!(v, [a, b'.', c] if a.is_ascii_digit() && c.is_ascii_digit())
}
