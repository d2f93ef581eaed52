//! DNS messages against TShark 4.0 on the shared corpus: for every frame
//! TShark lists with a DNS message, the id, first question name and type,
//! RCODE (responses), and the A, AAAA and CNAME data of all sections (TShark's
//! `dns.a` / `dns.aaaa` / `dns.cname` fields cover every section, in order).
//! Needs `WA1KPCAP_CORPUS`; without it the test says why and passes.
//!
//! UDP payloads are parsed as they are; IP fragments are reassembled with
//! the library's defragmenter and the datagram is parsed at the frame that
//! completes it (TShark reports it there too). DNS over TCP is rebuilt per
//! direction with the library's parser-side reassembler
//! (`proto::stream::TcpStream`), and each message is attributed to the frame
//! that completed it, as TShark does.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;

use wa1kpcap::capture::Capture;
use wa1kpcap::decode::defrag::{Defragmenter, FragmentOutcome};
use wa1kpcap::decode::{decode, Packet, Transport};
use wa1kpcap::proto::dns::{parse_message, parse_tcp_stream, DnsMessage};
use wa1kpcap::proto::stream::TcpStream;
use wa1kpcap::proto::Parse;

const STREAM_CAP_BYTES: usize = 1024 * 1024;

/// One TShark DNS row.
struct Row {
    frame: u64,
    id: u16,
    qname: String,
    qtype: String,
    rcode: String,
    a: String,
    aaaa: String,
    cname: String,
}

fn tshark_dns(tsv: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for rec in common::tsv_records(tsv) {
        let get = |name: &str| rec.get(name).to_owned();
        let id = get("dns.id");
        let Ok(id) = u16::from_str_radix(id.trim_start_matches("0x"), 16) else {
            continue;
        };
        let Ok(frame) = get("frame.number").parse() else {
            continue;
        };
        let first = |s: String| s.split(',').next().unwrap_or("").to_owned();
        rows.push(Row {
            frame,
            id,
            qname: first(get("dns.qry.name")),
            qtype: first(get("dns.qry.type")),
            rcode: get("dns.flags.rcode"),
            a: get("dns.a"),
            aaaa: get("dns.aaaa"),
            cname: get("dns.cname"),
        });
    }
    rows
}

type Tuple = (IpAddr, u16, IpAddr, u16);

/// What our side saw at one frame.
enum Seen {
    Messages(Vec<DnsMessage>),
    Malformed(&'static str),
    /// A TCP payload that completed no message.
    TcpIncomplete,
}

/// DNS messages per frame number, for the frames in `wanted`.
fn our_messages(path: &Path, wanted: &HashSet<u64>) -> HashMap<u64, Seen> {
    let mut out = HashMap::new();
    let mut defrag = Defragmenter::default();
    let mut streams: HashMap<Tuple, (TcpStream, usize)> = HashMap::new();
    let Ok(mut cap) = Capture::open(path) else {
        return out;
    };
    let _ = cap.for_each_packet(|raw| {
        let p = decode(raw.linktype, raw.data, raw.wire_len);
        let reassembled;
        let p: Packet<'_> = if p.is_fragment() {
            let Some(ip) = p.ip.as_ref() else { return };
            match defrag.push(raw.ts_ns, ip, raw.wire_len) {
                FragmentOutcome::Complete(r) => {
                    reassembled = r.bytes;
                    p.with_reassembled(&reassembled)
                }
                _ => return,
            }
        } else {
            p
        };
        let Some(ip) = p.ip.as_ref() else { return };
        match p.transport {
            Transport::Udp(u) if wanted.contains(&raw.frame) => {
                let seen = match parse_message(u.payload) {
                    Parse::Done(m) => Seen::Messages(vec![m]),
                    Parse::NeedMore => Seen::TcpIncomplete,
                    Parse::Malformed(why) => Seen::Malformed(why),
                };
                out.insert(raw.frame, seen);
            }
            Transport::Tcp(t)
                if t.src_port == 53 || t.dst_port == 53 || wanted.contains(&raw.frame) =>
            {
                let key = (ip.src, t.src_port, ip.dst, t.dst_port);
                let (stream, used) = streams
                    .entry(key)
                    .or_insert_with(|| (TcpStream::new(STREAM_CAP_BYTES), 0));
                if t.flags & 0x02 != 0 {
                    stream.syn(t.seq);
                }
                stream.segment(t.seq, t.payload);
                let mut msgs = Vec::new();
                let mut why = None;
                loop {
                    match parse_tcp_stream(stream.bytes().get(*used..).unwrap_or(&[])) {
                        Parse::Done((m, n)) => {
                            msgs.push(m);
                            *used += n;
                        }
                        Parse::NeedMore => break,
                        Parse::Malformed(w) => {
                            why = Some(w);
                            break;
                        }
                    }
                }
                if wanted.contains(&raw.frame) {
                    let seen = match (msgs.is_empty(), why) {
                        (false, _) => Seen::Messages(msgs),
                        (true, Some(w)) => Seen::Malformed(w),
                        (true, None) => Seen::TcpIncomplete,
                    };
                    out.insert(raw.frame, seen);
                }
            }
            _ => {}
        }
    });
    out
}

/// Our A, AAAA and CNAME data over all sections, comma-joined like TShark.
fn record_list(m: &DnsMessage, rtype: u16) -> String {
    m.answers
        .iter()
        .chain(&m.authorities)
        .chain(&m.additionals)
        .filter(|r| r.rtype == rtype && !r.data.is_empty())
        .map(|r| r.data.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn dns_messages_match_tshark() {
    let Some(corpus) = common::corpus("the DNS oracle test") else {
        return;
    };
    let (mut compared, mut matched) = (0usize, 0usize);
    let (mut with_answers, mut answers_matched) = (0usize, 0usize);
    let mut skipped: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut mismatches = Vec::new();
    for (rel, tsv) in common::tshark_exports(&corpus) {
        let rows = tshark_dns(&tsv);
        if rows.is_empty() {
            continue;
        }
        let name = rel.display().to_string();
        let wanted: HashSet<u64> = rows.iter().map(|r| r.frame).collect();
        let ours = our_messages(&corpus.join(&rel), &wanted);
        for row in &rows {
            let msg = match ours.get(&row.frame) {
                None => {
                    skipped
                        .entry("frame not decoded to UDP/TCP")
                        .or_default()
                        .push(name.clone());
                    continue;
                }
                Some(Seen::TcpIncomplete) => {
                    skipped
                        .entry("TCP message not complete in the stream")
                        .or_default()
                        .push(name.clone());
                    continue;
                }
                Some(Seen::Malformed(why)) => {
                    compared += 1;
                    mismatches.push(format!("{name} frame {}: malformed: {why}", row.frame));
                    continue;
                }
                // TShark lists one row per frame; with several messages
                // in a segment, compare the one with its id.
                Some(Seen::Messages(ms)) => ms.iter().find(|m| m.id == row.id).unwrap_or(&ms[0]),
            };
            compared += 1;
            let qname = msg.questions.first().map_or("", |q| q.name.as_str());
            let qtype = msg
                .questions
                .first()
                .map_or(String::new(), |q| q.qtype.to_string());
            // TShark shows the 4 header bits, and only for responses.
            let rcode = if msg.response {
                (msg.rcode & 0x0f).to_string()
            } else {
                String::new()
            };
            if msg.id == row.id && qname == row.qname && qtype == row.qtype && rcode == row.rcode {
                matched += 1;
            } else {
                mismatches.push(format!(
                    "{name} frame {}: id {:#06x}/{:#06x} qname {qname:?}/{:?} qtype {qtype}/{} rcode {rcode:?}/{:?}",
                    row.frame, msg.id, row.id, row.qname, row.qtype, row.rcode
                ));
            }
            if !(row.a.is_empty() && row.aaaa.is_empty() && row.cname.is_empty()) {
                with_answers += 1;
                let got = (
                    record_list(msg, 1),
                    record_list(msg, 28),
                    record_list(msg, 5),
                );
                if got == (row.a.clone(), row.aaaa.clone(), row.cname.clone()) {
                    answers_matched += 1;
                } else {
                    mismatches.push(format!(
                        "{name} frame {}: answers a {:?}/{:?} aaaa {:?}/{:?} cname {:?}/{:?} ({:?})",
                        row.frame, got.0, row.a, got.1, row.aaaa, got.2, row.cname, msg.anomaly
                    ));
                }
            }
        }
    }
    println!(
        "dns: {matched}/{compared} messages match tshark (id, qname, qtype, rcode); answers {answers_matched}/{with_answers}"
    );
    for (why, captures) in &skipped {
        let mut names = captures.clone();
        names.dedup();
        println!("  skipped {} {why}: {}", captures.len(), names.join(" "));
    }
    for m in &mismatches {
        println!("  mismatch: {m}");
    }
    assert!(compared > 1000, "too few DNS messages compared: {compared}");
    // Every message and answer list TShark reads from a frame we decode to
    // UDP/TCP is equal (the skipped frames are listed above by class).
    assert!(
        mismatches.is_empty(),
        "{matched}/{compared} DNS messages, {answers_matched}/{with_answers} answer lists match"
    );
}

/// The engine's DNS messages (the `dns` table's rows) and flow columns
/// against TShark: every TShark DNS message on a DNS port is an event of
/// the engine at the same frame with the same id and first question, and
/// its flow lists the question name in `dns_queries` (unless the list is
/// full) and, for the flow's first response, its RCODE in `dns_rcode`.
#[test]
fn dns_events_and_flow_columns_match_tshark() {
    let Some(corpus) = common::corpus("the DNS flow oracle test") else {
        return;
    };
    let dns_port = |p: &str| matches!(p, "53" | "5353" | "5355");
    let (mut compared, mut matched, mut in_flows) = (0usize, 0usize, 0usize);
    let mut not_decoded = 0usize;
    let mut mismatches = Vec::new();
    for (rel, tsv) in common::tshark_exports(&corpus) {
        let rows: Vec<_> = common::tsv_records(&tsv)
            .into_iter()
            .filter(|r| !r.get("dns.id").is_empty())
            .filter(|r| {
                let ports = [
                    r.get("udp.srcport"),
                    r.get("udp.dstport"),
                    r.get("tcp.srcport"),
                    r.get("tcp.dstport"),
                ];
                ports
                    .iter()
                    .any(|p| p.split(',').next_back().is_some_and(dns_port))
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        let name = rel.display().to_string();
        let mut engine = wa1kpcap::Analyzer::new().dns_messages(true).engine();
        let mut flows = Vec::new();
        let mut events: HashMap<u64, Vec<wa1kpcap::flow::DnsEvent>> = HashMap::new();
        let Ok(mut cap) = Capture::open(&corpus.join(&rel)) else {
            continue;
        };
        let _ = cap.for_each_packet(|raw| {
            engine.packet(raw, &mut |f| flows.push(f));
            for e in engine.take_dns_events() {
                events.entry(raw.frame).or_default().push(e);
            }
        });
        engine.finish(&mut |f| flows.push(f));
        let by_ord: HashMap<u64, &wa1kpcap::Flow> = flows.iter().map(|f| (f.ord, f)).collect();
        for row in rows {
            let frame: u64 = row.get("frame.number").parse().unwrap_or(0);
            let id = u16::from_str_radix(row.get("dns.id").trim_start_matches("0x"), 16).ok();
            let qname = row.get("dns.qry.name").split(',').next().unwrap_or("");
            let Some(evs) = events.get(&frame) else {
                // The message-level test above accounts for these frames
                // (not decoded to UDP/TCP, or TCP messages not complete).
                not_decoded += 1;
                continue;
            };
            compared += 1;
            let Some(e) = evs.iter().find(|e| {
                Some(e.message.id) == id
                    && e.message.questions.first().map_or("", |q| q.name.as_str()) == qname
            }) else {
                mismatches.push(format!(
                    "{name} frame {frame}: no event with id {id:?} and {qname:?}"
                ));
                continue;
            };
            matched += 1;
            let Some(flow) = by_ord.get(&e.flow_ord) else {
                mismatches.push(format!("{name} frame {frame}: event of an unknown flow"));
                continue;
            };
            let Some(d) = flow.app.as_ref().and_then(|a| a.dns.as_deref()) else {
                mismatches.push(format!("{name} frame {frame}: its flow has no DNS summary"));
                continue;
            };
            let listed = qname.is_empty()
                || d.queries.iter().any(|q| q == qname)
                || d.queries.len() == wa1kpcap::flow::MAX_DNS_NAMES;
            if listed {
                in_flows += 1;
            } else {
                mismatches.push(format!(
                    "{name} frame {frame}: {qname:?} not in dns_queries {:?}",
                    d.queries
                ));
            }
        }
    }
    eprintln!(
        "DNS events vs TShark: {matched}/{compared} messages equal, {in_flows} listed in their \
         flow's dns_queries; {not_decoded} frames without an event (see the message test)"
    );
    assert!(compared > 1000, "only {compared} DNS messages compared");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
