//! [`HttpScanner`]: steps over the messages of a connection's two
//! directions (framing by Content-Length, chunked coding, HEAD and CONNECT,
//! 1xx/204/304) to count them and keep the first request and response.

use super::*;

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
    pub(super) walkers: [Walker; 2],
    pub(super) finished: bool,
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

    pub(super) fn finish_inner(
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
    pub(super) fn walker_of(&self, role: Role) -> Option<&Walker> {
        self.walkers
            .iter()
            .filter(|w| w.role == Some(role))
            .max_by_key(|w| (w.messages, !matches!(w.end, Some(WalkEnd::NotHttp(_)))))
    }

    pub(super) fn walk(
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
pub(super) fn decide_role(stream: &[u8]) -> Option<Role> {
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
pub(super) enum MethodKind {
    Head,
    Connect,
    Other,
}

impl MethodKind {
    pub(super) fn of(method: &[u8]) -> MethodKind {
        match method {
            b"HEAD" => MethodKind::Head,
            b"CONNECT" => MethodKind::Connect,
            _ => MethodKind::Other,
        }
    }
}

/// How a message's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    Empty,
    Length(u64),
    Chunked,
    ToClose,
}

/// A final response's head, read; its framing waits for its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PendingResponse {
    pub(super) status: u16,
    /// The framing its fields give when the request was not HEAD or CONNECT.
    pub(super) framing: Result<Framing, &'static str>,
}

/// RFC 9112 §6.3 for requests: chunked if Transfer-Encoding ends with it
/// (any other coding is an error), else Content-Length, else no body.
pub(super) fn request_framing(f: &Fields<'_>) -> Result<Framing, &'static str> {
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
pub(super) fn response_own_framing(f: &Fields<'_>) -> Result<Framing, &'static str> {
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
pub(super) fn response_framing(p: PendingResponse, kind: MethodKind) -> Result<Framing, WalkEnd> {
    match (kind, p.status) {
        (MethodKind::Head, _) | (_, 204 | 304) => Ok(Framing::Empty),
        (MethodKind::Connect, 200..=299) => Err(WalkEnd::Tunnel),
        _ => p.framing.map_err(WalkEnd::Malformed),
    }
}

/// Progress of the search for a head's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct HeadScan {
    /// Offset from which the search goes on: for the start line's end
    /// until it is checked, then for the empty line.
    pub(super) searched: usize,
    /// The start line was complete and checked.
    pub(super) start_checked: bool,
}

/// One direction's walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
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
pub(super) struct Walker {
    pub(super) role: Option<Role>,
    /// The first head read, by role.
    pub(super) first_request: Option<RequestHead>,
    pub(super) first_response: Option<ResponseHead>,
    /// Status of the first final response.
    pub(super) final_status: Option<u16>,
    /// Requests, by number, whose method changes the response's framing.
    pub(super) special: Vec<(u32, MethodKind)>,
    /// Final responses whose framing was settled (the next answers request
    /// number `finals`).
    pub(super) finals: u32,
    /// Stream offset where the current state's bytes start.
    pub(super) at: usize,
    pub(super) state: State,
    /// Heads read.
    pub(super) messages: u32,
    /// The last request asked to leave HTTP (CONNECT, Upgrade): a next
    /// head that is not HTTP means the tunnel, not a malformed message.
    pub(super) leaving: bool,
    pub(super) end: Option<WalkEnd>,
}

impl Walker {
    /// With `all`, `each` gets every head (copied out); without, only the
    /// first head is copied, to keep it.
    pub(super) fn walk_requests(&mut self, stream: &[u8], each: &mut dyn FnMut(Head), all: bool) {
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
    pub(super) fn walk_responses(
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
    pub(super) fn method_of(&self, number: u32) -> MethodKind {
        match self.special.binary_search_by_key(&number, |(n, _)| *n) {
            Ok(i) => self.special.get(i).map_or(MethodKind::Other, |(_, k)| *k),
            Err(_) => MethodKind::Other,
        }
    }

    pub(super) fn stop(&mut self, end: WalkEnd) {
        self.state = State::Stopped;
        self.end.get_or_insert(end);
    }

    pub(super) fn begin_body(&mut self, framing: Framing) {
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
    pub(super) fn in_message(&self, stream: &[u8]) -> bool {
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
    pub(super) fn next_head<'a>(&mut self, stream: &'a [u8]) -> Option<RawHead<'a>> {
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

    pub(super) fn chunk_line(&mut self, skip: usize) {
        self.at += skip;
        self.state = State::ChunkLine { searched: 0 };
    }
}

/// Content-Length over all its fields (RFC 9112 §6.3 rule 5: a list of
/// equal values is that value, anything else is invalid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum ContentLength {
    #[default]
    Absent,
    Valid(u64),
    Invalid,
}

impl ContentLength {
    pub(super) fn add(&mut self, value: &[u8]) {
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

    pub(super) fn value(self) -> Option<u64> {
        match self {
            ContentLength::Valid(n) => Some(n),
            ContentLength::Absent | ContentLength::Invalid => None,
        }
    }
}
