//! HTTP/1.x heads and message walking against independent tools on the
//! shared corpus: TShark 4.0 (method, Host, URI, User-Agent per request,
//! status per response), the live capture's ground truth, and Zeek's
//! http.log. Needs `WA1KPCAP_CORPUS`; without it the tests say why and
//! pass.
//!
//! Each TCP direction is rebuilt with the library's parser-side
//! reassembler (`proto::stream::TcpStream`, first connection of a 4-tuple
//! only) and walked with `proto::http::HttpScanner` together with its
//! reverse direction (responses to HEAD and CONNECT depend on the
//! request). TShark's messages of a direction are matched to ours in
//! order: its k-th row to our k-th head. A TShark message we have no head
//! for is excluded only for a reason the test checks on the bytes;
//! anything else is a mismatch.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;

use wa1kpcap::decode::Transport;
use wa1kpcap::proto::http::{parse_request_head, parse_response_head, Head, HttpScanner, WalkEnd};
use wa1kpcap::proto::Parse;

use common::{Direction, Tuple};

/// Bytes kept per direction: enough for every message TShark shows.
const STREAM_CAP_BYTES: usize = 8 * 1024 * 1024;

/// One TShark HTTP row (one message).
#[derive(Debug, Clone)]
struct Row {
    frame: u64,
    src: Vec<IpAddr>,
    dst: Vec<IpAddr>,
    sport: u16,
    dport: u16,
    udp: bool,
    method: String,
    host: String,
    uri: String,
    user_agent: String,
    code: String,
}

impl Row {
    fn is_request(&self) -> bool {
        !self.method.is_empty()
    }

    /// Where the message's start line is in `bytes`, searching from `from`:
    /// `METHOD URI` for a request, `HTTP/<version> CODE` for a response.
    fn find_in(&self, bytes: &[u8], from: usize) -> Option<usize> {
        let hay = bytes.get(from..)?;
        let at = match self.is_request() {
            true => find(hay, format!("{} {}", self.method, self.uri).as_bytes()),
            false => {
                let code = format!(" {}", self.code);
                (0..hay.len()).find(|&i| {
                    let h = &hay[i..];
                    let word = h.iter().position(|&b| b == b' ').unwrap_or(h.len());
                    h.starts_with(b"HTTP/") && word <= 12 && h[word..].starts_with(code.as_bytes())
                })
            }
        };
        at.map(|i| from + i)
    }

    fn describe(&self) -> String {
        match self.is_request() {
            true => format!(
                "{} {} host={:?} ua={:?}",
                self.method, self.uri, self.host, self.user_agent
            ),
            false => format!("status {}", self.code),
        }
    }
}

fn tshark_http(tsv: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for rec in common::tsv_records(tsv) {
        let method = rec.get("http.request.method");
        let code = rec.get("http.response.code");
        if method.is_empty() && code.is_empty() {
            continue;
        }
        let udp = rec.get("tcp.srcport").is_empty();
        let port = |tcp: &str, udp: &str| {
            common::tshark_port(rec.get(tcp)).or(common::tshark_port(rec.get(udp)))
        };
        let (Some(sport), Some(dport), Ok(frame)) = (
            port("tcp.srcport", "udp.srcport"),
            port("tcp.dstport", "udp.dstport"),
            rec.get("frame.number").parse(),
        ) else {
            continue;
        };
        rows.push(Row {
            frame,
            src: common::tshark_addrs(&[rec.get("ip.src"), rec.get("ipv6.src")]),
            dst: common::tshark_addrs(&[rec.get("ip.dst"), rec.get("ipv6.dst")]),
            sport,
            dport,
            udp,
            method: method.to_owned(),
            host: rec.get("http.host").to_owned(),
            uri: rec.get("http.request.uri").to_owned(),
            user_agent: rec.get("http.user_agent").to_owned(),
            code: code.to_owned(),
        });
    }
    rows
}

/// Stream offset where a head of ours ends.
fn head_end(h: &Head) -> usize {
    match h {
        Head::Request(r) => r.head_bytes,
        Head::Response(r) => r.head_bytes,
    }
}

/// Our fields of a head in TShark's terms ("" when absent).
fn compare(row: &Row, head: &Head) -> Result<(), String> {
    let got = match head {
        Head::Request(r) if row.is_request() => {
            let host = r.host.clone().unwrap_or_default();
            let ua = r.user_agent.clone().unwrap_or_default();
            if r.method == row.method
                && r.target == row.uri
                && host == row.host
                && ua == row.user_agent
            {
                return Ok(());
            }
            format!("{} {} host={host:?} ua={ua:?}", r.method, r.target)
        }
        Head::Response(r) if !row.is_request() => {
            if r.status.to_string() == row.code {
                return Ok(());
            }
            format!("status {}", r.status)
        }
        Head::Request(r) => format!("a request {} {}", r.method, r.target),
        Head::Response(r) => format!("a response {}", r.status),
    };
    Err(format!("ours {got} / tshark {}", row.describe()))
}

/// The direction of `rows` in our streams: the key whose ports match and
/// whose addresses are among the row's (tunnels list several).
fn find_direction<'a>(
    dirs: &'a HashMap<Tuple, Direction>,
    row: &Row,
) -> Option<(&'a Tuple, &'a Direction)> {
    dirs.iter().find(|((s, sp, d, dp), _)| {
        *sp == row.sport && *dp == row.dport && row.src.contains(s) && row.dst.contains(d)
    })
}

/// The heads of direction `this`, walked with its reverse as the engine
/// would (whole streams, then finish), and why its walk ended.
fn walk(this: &[u8], reverse: &[u8]) -> (Vec<Head>, Option<WalkEnd>) {
    let mut heads = Vec::new();
    let mut s = HttpScanner::new();
    s.finish_with(this, reverse, &mut |dir, h| {
        if dir == 0 {
            heads.push(h)
        }
    });
    (heads, s.walk_end(0))
}

#[derive(Default)]
struct Tally {
    compared: usize,
    matched: usize,
    /// Messages not compared, by verified reason, with the captures.
    excluded: BTreeMap<String, Vec<String>>,
    /// Messages compared under a named rule (a known difference between
    /// the tools), by rule.
    noted: BTreeMap<String, Vec<String>>,
    mismatches: Vec<String>,
}

impl Tally {
    fn exclude(&mut self, why: impl Into<String>, capture: &str) {
        self.excluded
            .entry(why.into())
            .or_default()
            .push(capture.to_owned());
    }

    /// A message compared under a named, verified rule.
    fn noted(&mut self, why: &str, capture: &str) {
        self.noted
            .entry(why.to_owned())
            .or_default()
            .push(capture.to_owned());
    }

    fn check(&mut self, result: Result<(), String>, at: impl FnOnce() -> String) {
        self.compared += 1;
        match result {
            Ok(()) => self.matched += 1,
            Err(e) => self.mismatches.push(format!("{}: {e}", at())),
        }
    }

    fn report(&self, what: &str) {
        println!("{what}: {}/{} match", self.matched, self.compared);
        for (why, captures) in &self.excluded {
            let mut names = captures.clone();
            names.dedup();
            println!("  excluded {}: {why}: {}", captures.len(), names.join(" "));
        }
        for (why, captures) in &self.noted {
            let mut names = captures.clone();
            names.dedup();
            println!(
                "  compared {} under a rule: {why}: {}",
                captures.len(),
                names.join(" ")
            );
        }
        for m in &self.mismatches {
            println!("  mismatch: {m}");
        }
    }
}

/// Skip CR/LF bytes at the front.
fn after_empty_lines(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| matches!(c, b'\r' | b'\n')).count();
    &b[n..]
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Why TShark's message `k` of a direction has no head of ours, checked on
/// the bytes; Err when no reason holds (a mismatch). `ours` are our heads
/// of the direction, `end` why our walk of it ended.
fn exclusion(
    k: usize,
    row: &Row,
    dir: &Direction,
    ours: &[Head],
    end: Option<WalkEnd>,
) -> Result<String, String> {
    let bytes = dir.bytes();
    // Where our last head ended: TShark's message must lie after it.
    let from = ours.last().map_or(0, head_end);
    let in_tail = row.find_in(bytes, from);
    let gap = dir.stream.has_hole() || dir.stream.dropped_segments > 0;
    let state = format!(
        "{} heads, end {end:?}, stream {} bytes, hole {}, dropped {}, closed {}, tshark's text at {in_tail:?}",
        ours.len(),
        bytes.len(),
        dir.stream.has_hole(),
        dir.stream.dropped_segments,
        dir.closed
    );
    if k == 0 || ours.is_empty() {
        if let Some(WalkEnd::NotHttp(why)) = end {
            // Verified: the stream does not start with TShark's first message.
            let start = after_empty_lines(bytes);
            let starts = row.find_in(start, 0) == Some(0);
            if starts {
                return Err(format!(
                    "we refused a stream starting with TShark's message ({why}); {state}"
                ));
            }
            return match (in_tail, dir.syn_seen()) {
                (Some(_), true) => Ok("the direction starts with another protocol (SOCKS) and TShark's message follows it (verified: SYN seen, message found later in the stream)".into()),
                (Some(_), false) => Ok("the capture starts mid-connection (verified: no SYN, stream starts mid-message, TShark's message found later)".into()),
                (None, _) => Err(format!("the direction does not start with HTTP, and TShark's message is not in it; {state}")),
            };
        }
    }
    match (end, in_tail) {
        // Not in our bytes: beyond a hole or far jump of the sequence numbers.
        (_, None) if gap => Ok("beyond a gap in the rebuilt stream (verified: a hole or dropped segments, and TShark's message is not in our bytes)".into()),
        (_, None) if dir.closed => Ok("in a later connection on the same 4-tuple (verified: a SYN after data, and TShark's message is not in our bytes)".into()),
        _ => Err(state),
    }
}

#[test]
fn http_messages_match_tshark() {
    let Some(corpus) = common::corpus("the HTTP oracle test") else {
        return;
    };
    let mut tcp = Tally::default();
    let mut udp = Tally::default();
    let mut extra_ours: BTreeMap<String, usize> = BTreeMap::new();
    // Our heads TShark does not show, in directions with out-of-order
    // segments, by the TShark row that matched a later head of ours.
    let mut skipped_ours: BTreeMap<String, usize> = BTreeMap::new();
    for (rel, tsv) in common::tshark_exports(&corpus) {
        let rows = tshark_http(&tsv);
        if rows.is_empty() {
            continue;
        }
        let name = rel.display().to_string();
        let capture = corpus.join(&rel);
        udp_rows(&capture, &rows, &name, &mut udp);

        // TCP: rows grouped by direction, in frame order.
        let mut groups: Vec<(Row, Vec<Row>)> = Vec::new();
        for row in rows.iter().filter(|r| !r.udp) {
            match groups.iter_mut().find(|(k, _)| {
                k.src == row.src && k.dst == row.dst && k.sport == row.sport && k.dport == row.dport
            }) {
                Some((_, g)) => g.push(row.clone()),
                None => groups.push((row.clone(), vec![row.clone()])),
            }
        }
        if groups.is_empty() {
            continue;
        }
        let ports: HashSet<(u16, u16)> = groups
            .iter()
            .flat_map(|(k, _)| [(k.sport, k.dport), (k.dport, k.sport)])
            .collect();
        let dirs =
            common::tcp_directions(&capture, STREAM_CAP_BYTES, |k| ports.contains(&(k.1, k.3)));
        let undecoded: HashSet<u64> = groups
            .iter()
            .filter(|(k, _)| find_direction(&dirs, k).is_none())
            .flat_map(|(_, g)| g.iter().map(|r| r.frame))
            .collect();
        let decoded_as = decoded_as(&capture, &undecoded);
        for (key_row, group) in &groups {
            let Some((&(s, sp, d, dp), dir)) = find_direction(&dirs, key_row) else {
                // Verified: the library decodes TShark's frame as something
                // else than TCP between these ports (a tunnel it does not open).
                for row in group {
                    let what = decoded_as.get(&row.frame).map_or("nothing", String::as_str);
                    let inner = what.starts_with(&format!("TCP {}>{}", row.sport, row.dport));
                    match inner {
                        false => tcp.exclude(format!("in a tunnel the library does not open (verified: the frame decodes as {what})"), &name),
                        true => {
                            tcp.compared += 1;
                            tcp.mismatches.push(format!("{name} frame {}: decoded but no stream", row.frame));
                        }
                    }
                }
                continue;
            };
            let empty = Direction::empty();
            let reverse = dirs.get(&(d, dp, s, sp)).unwrap_or(&empty);
            let (ours, end) = walk(dir.bytes(), reverse.bytes());
            let mut j = 0;
            let mut previous: Option<&Row> = None;
            for row in group {
                let last = previous.replace(row);
                // TShark shows a retransmitted copy of the message before.
                if dir.repeats.contains(&row.frame)
                    && last.is_some_and(|l| l.describe() == row.describe())
                {
                    tcp.exclude(
                        "a retransmitted copy TShark shows again (verified: the frame's payload was all in the stream already, and repeats TShark's previous message)",
                        &name,
                    );
                    continue;
                }
                let Some(head) = ours.get(j) else {
                    match exclusion(j, row, dir, &ours, end) {
                        Ok(why) => tcp.exclude(why, &name),
                        Err(e) => {
                            tcp.compared += 1;
                            tcp.mismatches.push(format!(
                                "{name} frame {} ({}): {e}",
                                row.frame,
                                row.describe()
                            ));
                        }
                    }
                    continue;
                };
                let result = compare(row, head);
                // TShark's reassembly may drop a message when segments come
                // out of order: this row is then one of our later heads.
                if result.is_err() && dir.early_segments > 0 {
                    if let Some(j2) = (j + 1..ours.len()).find(|&x| compare(row, &ours[x]).is_ok())
                    {
                        *skipped_ours
                            .entry(format!("{name} frame {}", row.frame))
                            .or_default() += j2 - j;
                        j = j2;
                    }
                }
                tcp.check(compare(row, &ours[j]), || {
                    format!("{name} frame {}", row.frame)
                });
                j += 1;
            }
            // Heads of ours after TShark's last message: TShark reports a
            // message once its body is complete; verified that the body
            // runs past the bytes the capture holds.
            for h in ours.get(j..).unwrap_or_default() {
                let (end, length, chunked) = match h {
                    Head::Request(r) => (
                        r.head_bytes,
                        r.content_length,
                        r.transfer_encoding.is_some(),
                    ),
                    Head::Response(r) => (
                        r.head_bytes,
                        r.content_length,
                        r.transfer_encoding.is_some(),
                    ),
                };
                let cut =
                    chunked || length.is_none_or(|n| end as u64 + n > dir.bytes().len() as u64);
                match cut {
                    true => *extra_ours.entry(name.clone()).or_default() += 1,
                    false => {
                        tcp.compared += 1;
                        tcp.mismatches.push(format!(
                            "{name}: our head {h:?} after TShark's last message of the direction"
                        ));
                    }
                }
            }
        }
    }
    tcp.report("http over tcp vs tshark (method, host, uri, user-agent; status)");
    udp.report("http over udp vs tshark (SSDP and the like, one head per datagram)");
    println!("heads of ours after TShark's last of a direction, body past the capture's bytes (TShark waits for it): {extra_ours:?}");
    println!(
        "heads of ours TShark skipped (out-of-order segments in the direction): {skipped_ours:?}"
    );
    assert!(
        tcp.compared > 1000,
        "too few TCP messages compared: {}",
        tcp.compared
    );
    assert!(
        udp.compared > 100,
        "too few UDP messages compared: {}",
        udp.compared
    );
    assert_eq!(tcp.matched, tcp.compared, "TCP mismatches");
    assert_eq!(udp.matched, udp.compared, "UDP mismatches");
}

/// What the library decodes each of `frames` as: transport and ports.
fn decoded_as(capture: &Path, frames: &HashSet<u64>) -> HashMap<u64, String> {
    let mut out = HashMap::new();
    if frames.is_empty() {
        return out;
    }
    common::for_each_packet(capture, |frame, p| {
        if !frames.contains(&frame) {
            return;
        }
        let what = match &p.transport {
            Transport::Tcp(t) => format!("TCP {}>{}", t.src_port, t.dst_port),
            Transport::Udp(u) => format!("UDP {}>{}", u.src_port, u.dst_port),
            Transport::Other(n) => format!("IP protocol {n}"),
            Transport::None if p.ip.is_none() => "no IP".to_owned(),
            other => format!("{other:?}").chars().take(20).collect(),
        };
        out.insert(frame, what);
    });
    out
}

/// HTTP heads in UDP datagrams (SSDP, one message per datagram).
fn udp_rows(capture: &Path, rows: &[Row], name: &str, tally: &mut Tally) {
    let wanted: HashMap<u64, &Row> = rows
        .iter()
        .filter(|r| r.udp)
        .map(|r| (r.frame, r))
        .collect();
    if wanted.is_empty() {
        return;
    }
    let mut seen = HashSet::new();
    common::for_each_packet(capture, |frame, p| {
        let (Some(row), Transport::Udp(u)) = (wanted.get(&frame), &p.transport) else {
            return;
        };
        seen.insert(frame);
        let got = match row.is_request() {
            true => match parse_request_head(u.payload) {
                Parse::Done(r) => Head::Request(r),
                other => {
                    tally.check(Err(format!("{other:?}")), || {
                        format!("{name} frame {frame}")
                    });
                    return;
                }
            },
            false => match parse_response_head(u.payload) {
                Parse::Done(r) => Head::Response(r),
                other => {
                    tally.check(Err(format!("{other:?}")), || {
                        format!("{name} frame {frame}")
                    });
                    return;
                }
            },
        };
        tally.check(compare(row, &got), || format!("{name} frame {frame}"));
    });
    for frame in wanted.keys().filter(|f| !seen.contains(f)) {
        tally
            .mismatches
            .push(format!("{name} frame {frame}: datagram not decoded"));
        tally.compared += 1;
    }
}

/// One connection walked by the scanner.
struct Conn {
    key: Tuple,
    info: wa1kpcap::proto::http::HttpInfo,
    /// The client→server bytes.
    up: Vec<u8>,
}

/// The connections of `capture` whose client→server 4-tuple `server`
/// selects, each walked as the engine would (updates, then finish).
fn connections(capture: &Path, server: impl Fn(&Tuple) -> bool) -> Vec<Conn> {
    let dirs = common::tcp_directions(capture, STREAM_CAP_BYTES, |k| {
        server(k) || server(&(k.2, k.3, k.0, k.1))
    });
    let empty = Direction::empty();
    let mut out = Vec::new();
    for (&(s, sp, d, dp), up) in dirs.iter().filter(|(k, _)| server(k)) {
        let down = dirs.get(&(d, dp, s, sp)).unwrap_or(&empty);
        let mut scanner = HttpScanner::new();
        scanner.update(0, up.bytes());
        scanner.update(1, down.bytes());
        scanner.finish(up.bytes(), down.bytes());
        out.push(Conn {
            key: (s, sp, d, dp),
            info: scanner.into_info(),
            up: up.bytes().to_vec(),
        });
    }
    out
}

/// Address pairs of every TCP packet the library decodes in `capture`.
fn tcp_address_pairs(capture: &Path) -> HashSet<(IpAddr, IpAddr)> {
    let mut out = HashSet::new();
    common::for_each_packet(capture, |_, p| {
        if let (Some(ip), Transport::Tcp(_)) = (p.ip.as_ref(), &p.transport) {
            out.insert((ip.src, ip.dst));
        }
    });
    out
}

/// The live capture's ground truth: every HTTP request the generator sent
/// (Host, URI, User-Agent), as a multiset over its connections.
#[test]
fn live_capture_requests_match_ground_truth() {
    let Some(corpus) = common::corpus("the live HTTP ground-truth test") else {
        return;
    };
    let capture = corpus.join("live/loopback-tls-http-quic.pcapng");
    let Ok(truth) =
        std::fs::read_to_string(corpus.join("live/loopback-tls-http-quic.pcapng.expected.tsv"))
    else {
        panic!("live ground truth missing from the corpus");
    };
    let mut want: Vec<(u16, String, String, String)> = common::tsv_records(&truth)
        .iter()
        .filter(|r| r.get("kind") == "http")
        .filter_map(|r| {
            let port = r.get("server_port").parse().ok()?;
            let f = |n: &str| r.get(n).to_owned();
            Some((port, f("sni_or_host"), f("uri"), f("user_agent")))
        })
        .collect();
    let ports: HashSet<u16> = want.iter().map(|w| w.0).collect();
    let mut got: Vec<(u16, String, String, String)> =
        connections(&capture, |k| ports.contains(&k.3))
            .into_iter()
            .filter_map(|c| {
                let r = c.info.request?;
                Some((
                    c.key.3,
                    r.host.unwrap_or_default(),
                    r.target,
                    r.user_agent.unwrap_or_default(),
                ))
            })
            .collect();
    want.sort();
    got.sort();
    let matched = want.iter().filter(|w| got.contains(w)).count();
    println!(
        "live http: {matched}/{} ground-truth requests found (ours: {} connections with a request)",
        want.len(),
        got.len()
    );
    assert!(
        want.len() >= 10,
        "too few live HTTP requests: {}",
        want.len()
    );
    assert_eq!(want, got);
}

/// One Zeek http.log row: the first transaction of a connection.
struct ZeekHttp {
    key: Tuple,
    method: String,
    host: String,
    uri: String,
    user_agent: String,
    status: String,
}

fn zeek_http(log: &str) -> Vec<ZeekHttp> {
    let mut names: Vec<&str> = Vec::new();
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for line in log.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            names = f.split('\t').collect();
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let cells: HashMap<&str, &str> = names.iter().copied().zip(line.split('\t')).collect();
        let get = |n: &str| cells.get(n).copied().unwrap_or("-");
        let (Ok(oh), Ok(op), Ok(rh), Ok(rp)) = (
            get("id.orig_h").parse(),
            get("id.orig_p").parse(),
            get("id.resp_h").parse(),
            get("id.resp_p").parse(),
        ) else {
            continue;
        };
        // the first transaction of each connection
        if get("trans_depth") != "1" || !seen.insert(get("uid").to_owned()) {
            continue;
        }
        rows.push(ZeekHttp {
            key: (oh, op, rh, rp),
            method: common::zeek_value(get("method")),
            host: common::zeek_value(get("host")),
            uri: common::zeek_value(get("uri")),
            user_agent: common::zeek_value(get("user_agent")),
            status: common::zeek_value(get("status_code")),
        });
    }
    rows
}

/// Zeek's first transaction per connection (method, host, uri, user agent,
/// final status) against our first request and first final response.
#[test]
fn first_transactions_match_zeek() {
    let Some(corpus) = common::corpus("the Zeek HTTP oracle test") else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(corpus.join("zeek/expected")) else {
        panic!("no zeek/expected in the corpus");
    };
    let mut traces: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    traces.sort();
    let mut tally = Tally::default();
    for dir in traces {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        // The first test directory with an http.log (some traces have two).
        let Some(log) = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|t| t.path().join("http.log"))
            .filter(|p| p.is_file())
            .min()
        else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(&log) else {
            continue;
        };
        let rows = zeek_http(&text);
        let trace = common::zeek_trace(&corpus, &name);
        let keys: HashSet<Tuple> = rows.iter().map(|r| r.key).collect();
        let conns: HashMap<Tuple, Conn> = connections(&trace, |k| keys.contains(k))
            .into_iter()
            .map(|c| (c.key, c))
            .collect();
        let mut pairs = None;
        for z in &rows {
            let at = format!("{name} {:?}", z.key);
            let Some(conn) = conns.get(&z.key) else {
                // Verified: no TCP packet between these addresses decodes.
                let pairs = pairs.get_or_insert_with(|| tcp_address_pairs(&trace));
                match pairs.contains(&(z.key.0, z.key.2)) {
                    false => tally.exclude("inside a tunnel the library does not open (verified: no decoded TCP packet between the addresses)", &name),
                    true => tally.check(Err("connection decoded but not found".into()), || at.clone()),
                }
                continue;
            };
            match zeek_compare(z, conn) {
                Ok((result, note)) => {
                    if let Some(note) = note {
                        tally.noted(note, &name);
                    }
                    tally.check(result, || at.clone());
                }
                Err(why) => tally.exclude(why, &name),
            }
        }
    }
    tally.report("http first transactions vs zeek (method, host, uri, user-agent, status)");
    assert!(
        tally.compared >= 30,
        "too few Zeek transactions compared: {}",
        tally.compared
    );
    assert_eq!(tally.matched, tally.compared, "Zeek mismatches");
}

/// Our first transaction against Zeek's. Known differences are compared
/// in the form each tool gives, each checked on our reading, and named.
/// Err: not compared, for the reason given.
type ZeekOutcome = Result<(Result<(), String>, Option<&'static str>), &'static str>;

fn zeek_compare(z: &ZeekHttp, conn: &Conn) -> ZeekOutcome {
    let info = &conn.info;
    let r = info.request.clone().unwrap_or_default();
    let mut ours = [
        r.method.clone(),
        r.host.clone().unwrap_or_default(),
        r.target.clone(),
        r.user_agent.clone().unwrap_or_default(),
        info.final_status.map(|s| s.to_string()).unwrap_or_default(),
    ];
    let theirs = [
        z.method.clone(),
        z.host.clone(),
        z.uri.clone(),
        z.user_agent.clone(),
        z.status.clone(),
    ];
    let mut note = None;
    let no_version = info.request.as_ref().is_some_and(|r| r.version.is_none());
    if info.request.is_none() && info.request_end == Some(WalkEnd::Cut) {
        // HTTP/0.9 "GET /x\n" and no empty line after it: TShark and we
        // wait for the head's end, Zeek logs the request.
        let one_line =
            conn.up.iter().filter(|&&b| b == b'\n').count() == 1 && conn.up.ends_with(b"\n");
        if one_line && matches!(parse_request_head(&conn.up), Parse::NeedMore) {
            return Err("HTTP/0.9 request line with no empty line after it: no head to us or TShark (verified: one line, head incomplete)");
        }
    }
    if let Some(WalkEnd::NotHttp(_)) = info.request_end {
        if conn.up.starts_with(b"SSH-") && conn.key.3 == 22 {
            return Err("an SSH connection a Zeek Spicy test feeds to a custom analyzer: not HTTP on the wire (verified: SSH banner, ours NotHttp)");
        }
    }
    if info.request.is_none() && z.method.is_empty() {
        // Both refuse the request line ("GET/ HTTP/1.1"): its fields are
        // empty on both sides, the response's status still counts.
        note = Some("request line neither Zeek nor we read: status compared (verified: no request of ours, no method in Zeek)");
    } else if no_version && z.method.is_empty() && r.target.is_empty() {
        // "OPTIONS" alone: TShark and we read the method, Zeek nothing.
        note = Some("method-only request line, read by TShark and us, not by Zeek: status compared (verified: no version, empty target)");
        ours[..4].iter_mut().for_each(|f| f.clear());
    } else if no_version && r.target.starts_with("HTTP/") && z.uri.is_empty() {
        // "OPTIONS HTTP/1.1": TShark and we take the word for the URI, Zeek
        // for the version.
        note = Some("one word after the method: TShark and we read a URI, Zeek a version (verified: our target is HTTP/x, no version)");
        ours[2].clear();
    }
    if no_version && z.status == "0" {
        // Zeek reads a version-less request as HTTP/0.9 and its answer as a
        // bare body (status 0); TShark and we read a status line if any.
        note = Some("version-less request line: Zeek takes the reply for an HTTP/0.9 body (status 0) (verified: no version)");
        ours[4] = "0".into();
    }
    // Zeek logs URIs percent-decoded.
    if ours[2] != theirs[2] && percent_decode(&ours[2]) == theirs[2] {
        ours[2] = theirs[2].clone();
        note = note.or(Some(
            "URI compared percent-decoded, as Zeek logs it (verified: equal once decoded)",
        ));
    }
    let result = match ours == theirs {
        true => Ok(()),
        false => Err(format!("ours {ours:?} / zeek {theirs:?}")),
    };
    Ok((result, note))
}

/// `%XX` escapes decoded (other bytes kept).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
