//! DHCPv4 and DHCPv6 messages against independent tools on the shared
//! corpus: Zeek's dhcp.log (per transaction), tcpdump's verbose decode
//! (per message), Arkime's sessions, and a sweep of every capture in which
//! TShark saw DHCP. Needs `WA1KPCAP_CORPUS`; without it the tests say why
//! and pass.
//!
//! Messages are UDP payloads on the DHCP ports (67/68, 546/547), IP
//! fragments reassembled by the library's defragmenter, parsed with
//! `proto::dhcp::parse_dhcp`. A message not compared is excluded only for
//! a reason the test checks; anything else is a mismatch.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use wa1kpcap::decode::Transport;
use wa1kpcap::proto::dhcp::{parse_dhcp, DhcpMessage, DhcpVersion};
use wa1kpcap::proto::Parse;

/// One DHCP datagram of a capture and what we read from it.
struct Seen {
    frame: u64,
    ts_ns: i64,
    parsed: Parse<DhcpMessage>,
}

/// Every UDP datagram on a DHCP port in `capture`, parsed.
fn dhcp_datagrams(capture: &Path) -> Vec<Seen> {
    let mut out = Vec::new();
    common::for_each_packet_at(capture, |frame, ts_ns, p| {
        let Transport::Udp(u) = &p.transport else {
            return;
        };
        if let Some(parsed) = parse_dhcp(u.src_port, u.dst_port, u.payload) {
            out.push(Seen {
                frame,
                ts_ns,
                parsed,
            });
        }
    });
    out
}

/// The messages we read, in capture order.
fn messages(seen: &[Seen]) -> Vec<(u64, &DhcpMessage)> {
    seen.iter()
        .filter_map(|s| match &s.parsed {
            Parse::Done(m) => Some((s.frame, m)),
            _ => None,
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    compared: usize,
    matched: usize,
    excluded: BTreeMap<String, Vec<String>>,
    mismatches: Vec<String>,
}

impl Tally {
    fn exclude(&mut self, why: impl Into<String>, capture: &str) {
        self.excluded
            .entry(why.into())
            .or_default()
            .push(capture.to_owned());
    }

    fn check(&mut self, ours: String, theirs: String, at: impl FnOnce() -> String) {
        self.compared += 1;
        if ours == theirs {
            self.matched += 1;
        } else {
            self.mismatches
                .push(format!("{}: ours {ours} / theirs {theirs}", at()));
        }
    }

    fn report(&self, what: &str) {
        println!("{what}: {}/{} match", self.matched, self.compared);
        for (why, captures) in &self.excluded {
            let mut names = captures.clone();
            names.dedup();
            println!("  excluded {}: {why}: {}", captures.len(), names.join(" "));
        }
        for m in &self.mismatches {
            println!("  mismatch: {m}");
        }
    }

    fn assert_all(&self, at_least: usize, what: &str) {
        assert!(
            self.compared >= at_least,
            "too few {what} compared: {}",
            self.compared
        );
        assert_eq!(self.matched, self.compared, "{what}: mismatches");
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

/// A transaction as Zeek logs it, from our messages with one xid: the
/// message types in order; MAC, host name, FQDN and requested address from
/// the last message carrying them (Zeek overwrites); the address and lease
/// time of the last ACK.
fn our_transaction(msgs: &[&DhcpMessage]) -> [String; 7] {
    let last = |f: fn(&DhcpMessage) -> Option<String>| {
        msgs.iter().rev().find_map(|m| f(m)).unwrap_or_default()
    };
    let ack = msgs.iter().rev().find(|m| m.message_type_name() == "ACK");
    [
        msgs.iter()
            .map(|m| m.message_type_name())
            .collect::<Vec<_>>()
            .join(","),
        last(|m| m.client_mac.clone()),
        last(|m| m.hostname.clone()),
        last(|m| m.fqdn.clone()),
        last(|m| m.requested_addr.map(|a| a.to_string())),
        ack.and_then(|m| m.assigned_addr)
            .map(|a| a.to_string())
            .unwrap_or_default(),
        ack.and_then(|m| m.lease_time_s)
            .map(|s| format!("{s}.000000"))
            .unwrap_or_default(),
    ]
}

const ZEEK_FIELDS: [&str; 7] = [
    "msg_types",
    "mac",
    "host_name",
    "client_fqdn",
    "requested_addr",
    "assigned_addr",
    "lease_time",
];

/// Zeek aggregates messages per transaction (xid): its rows, in order,
/// against ours grouped the same way.
#[test]
fn transactions_match_zeek() {
    let Some(corpus) = common::corpus("the Zeek DHCP oracle test") else {
        return;
    };
    let mut tally = Tally::default();
    let expected = corpus.join("zeek/expected");
    let Ok(entries) = std::fs::read_dir(&expected) else {
        panic!("no zeek/expected in the corpus");
    };
    let mut dirs: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let Some(trace) = name.strip_prefix("dhcp__") else {
            continue;
        };
        let capture = corpus.join("zeek/traces/dhcp").join(trace);
        let seen = dhcp_datagrams(&capture);
        let msgs = messages(&seen);
        for test in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let test = test.path();
            if let Ok(log) = std::fs::read_to_string(test.join("dhcp.log")) {
                // Transactions by xid, in the order of their first message.
                let mut order: Vec<u32> = Vec::new();
                let mut by_xid: HashMap<u32, Vec<&DhcpMessage>> = HashMap::new();
                for (_, m) in &msgs {
                    if !by_xid.contains_key(&m.transaction_id) {
                        order.push(m.transaction_id);
                    }
                    by_xid.entry(m.transaction_id).or_default().push(m);
                }
                let rows = common::zeek_rows(&log);
                if rows.len() != order.len() {
                    tally.compared += 1;
                    tally.mismatches.push(format!(
                        "{name}: {} transactions of ours, {} zeek rows",
                        order.len(),
                        rows.len()
                    ));
                }
                for (row, xid) in rows.iter().zip(&order) {
                    let ours = our_transaction(by_xid.get(xid).map_or(&[][..], |v| v));
                    for (field, ours) in ZEEK_FIELDS.iter().zip(ours) {
                        let theirs = row.get(*field).cloned().unwrap_or_default();
                        tally.check(ours, theirs, || format!("{name} xid {xid:#x} {field}"));
                    }
                }
            }
            // The hw-type0 test prints the client-id option (61) of a
            // message whose hardware type is 0: `[hwtype=0, hwaddr=…]`.
            if let Ok(out) = std::fs::read_to_string(test.join("out")) {
                for line in out
                    .lines()
                    .filter(|l| l.starts_with("dhcp client_id option"))
                {
                    let theirs = line
                        .split_once('[')
                        .map(|(_, r)| r.trim_end_matches(']').to_owned())
                        .unwrap_or_default();
                    let ours = msgs
                        .iter()
                        .find_map(|(_, m)| m.client_id.clone())
                        .map(|hex| {
                            let bytes = unhex(&hex);
                            let (t, rest) = bytes.split_first().unwrap_or((&0, &[]));
                            format!("hwtype={t}, hwaddr={}", String::from_utf8_lossy(rest))
                        })
                        .unwrap_or_default();
                    tally.check(ours, theirs, || format!("{name} client_id"));
                }
            }
        }
    }
    tally.report("dhcp transactions vs zeek (msg_types, mac, host_name, client_fqdn, requested_addr, assigned_addr, lease_time)");
    tally.assert_all(20, "Zeek DHCP fields");
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// One message as tcpdump -v prints it: field name → value.
type Printed = BTreeMap<&'static str, String>;

/// tcpdump's DHCPv6 message names as ours.
fn tcpdump_v6_name(t: &str) -> String {
    match t {
        "inf-req" => "INFORMATION-REQUEST".into(),
        "relay-fwd" => "RELAY-FORW".into(),
        "relay-reply" => "RELAY-REPL".into(),
        "lq-reply" => "LEASEQUERY-REPLY".into(),
        t => t.to_uppercase(),
    }
}

/// Per packet number, the fields tcpdump prints for DHCP (`-v`).
fn tcpdump_messages(out: &str) -> BTreeMap<u64, Printed> {
    let mut all: BTreeMap<u64, Printed> = BTreeMap::new();
    let mut current: Option<u64> = None;
    for line in out.lines() {
        let t = line.trim_start();
        // a packet starts with its number and a date
        let mut words = t.split_whitespace();
        if let (Some(n), Some(date)) = (words.next(), words.next()) {
            if let (Ok(n), true) = (n.parse::<u64>(), date.len() == 10 && date.contains('-')) {
                current = Some(n);
            }
        }
        let Some(n) = current else { continue };
        let m = all.entry(n).or_default();
        // DHCPv6: one line; the innermost message is the last `dhcp6 x (xid=`.
        if let Some(i) = t.rfind("dhcp6 ") {
            let rest = &t[i + 6..];
            let kind = rest.split([' ', ')']).next().unwrap_or("");
            m.insert("type", tcpdump_v6_name(kind));
            if let Some(x) = rest.split_once("(xid=") {
                let xid = x.1.split([' ', ')']).next().unwrap_or("");
                m.insert(
                    "xid",
                    u32::from_str_radix(xid, 16)
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                );
            }
            // client-ID hwaddr[/time] type 1 [time N] HEX
            if let Some((_, c)) = rest.split_once("(client-ID hwaddr") {
                let id: Vec<&str> = c
                    .split(')')
                    .next()
                    .unwrap_or("")
                    .split_whitespace()
                    .collect();
                if let Some(hexmac) = id.last() {
                    let bytes = unhex(hexmac);
                    m.insert(
                        "mac",
                        bytes
                            .iter()
                            .map(|b| format!("{b:02x}"))
                            .collect::<Vec<_>>()
                            .join(":"),
                    );
                }
            }
            let addrs: Vec<&str> = rest
                .split("(IA_ADDR ")
                .skip(1)
                .filter_map(|a| a.split_whitespace().next())
                .collect();
            m.insert("addresses", addrs.join(","));
            continue;
        }
        // DHCPv4 (-v): a header line and one line per field
        if let Some((_, r)) = t.split_once("BOOTP/DHCP, ") {
            m.insert(
                "op",
                if r.starts_with("Request") { "1" } else { "2" }.into(),
            );
            if let Some((_, x)) = r.split_once("xid 0x") {
                let xid = x.split([',', ' ']).next().unwrap_or("");
                m.insert(
                    "xid",
                    u32::from_str_radix(xid, 16)
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                );
            }
        }
        let field = |prefix: &str| t.strip_prefix(prefix).map(|v| v.trim().to_owned());
        for (key, prefix) in [
            ("ciaddr", "Client-IP "),
            ("yiaddr", "Your-IP "),
            ("mac", "Client-Ethernet-Address "),
        ] {
            if let Some(v) = field(prefix) {
                m.insert(key, v);
            }
        }
        // `Name (code), length N: value`
        if let Some((name, value)) = t.split_once(": ") {
            let key = match name.split(" (").next().unwrap_or("") {
                "DHCP-Message" => "type",
                "Requested-IP" => "requested",
                "Server-ID" => "server_id",
                "Lease-Time" => "lease",
                "Hostname" => "hostname",
                "Vendor-Class" => "vendor_class",
                _ => continue,
            };
            let v = value.trim().trim_matches('"').to_owned();
            let v = match key {
                "type" if v == "NACK" => "NAK".into(),
                "type" => v.to_uppercase(),
                _ => v,
            };
            m.insert(key, v);
        }
        if let Some(len) = t.strip_prefix("Parameter-Request (55), length ") {
            m.insert("parameters", len.trim_end_matches(':').trim().to_owned());
        }
    }
    all.retain(|_, m| m.contains_key("type"));
    all
}

/// Our message in tcpdump's terms, for the fields it printed.
fn ours_printed(m: &DhcpMessage, theirs: &Printed) -> Printed {
    let mut p = Printed::new();
    for key in theirs.keys() {
        let v = match *key {
            "type" => m.message_type_name().to_owned(),
            "xid" => m.transaction_id.to_string(),
            "op" => opt(&m.op),
            "mac" => opt(&m.client_mac),
            "ciaddr" => opt(&m.client_addr),
            "yiaddr" => opt(&m.assigned_addr),
            "requested" => opt(&m.requested_addr),
            "server_id" => opt(&m.server_id),
            "lease" => opt(&m.lease_time_s),
            "hostname" => opt(&m.hostname),
            "vendor_class" => opt(&m.vendor_class),
            "parameters" => m.parameter_requests.len().to_string(),
            "addresses" => m
                .addresses
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(","),
            _ => continue,
        };
        p.insert(key, v);
    }
    p
}

/// tcpdump's verbose decode of its DHCP test captures, message by message.
#[test]
fn messages_match_tcpdump() {
    let Some(corpus) = common::corpus("the tcpdump DHCP oracle test") else {
        return;
    };
    let mut tally = Tally::default();
    for (pcap, out) in [
        ("dhcp-rfc3004.pcap", "dhcp-rfc3004-v.out"),
        ("dhcpv6-ia-na.pcap", "dhcpv6-ia-na.out"),
        ("dhcpv6-domain-list.pcap", "dhcpv6-domain-list.out"),
        (
            "dhcpv4v6-rfc5970-rfc8572.pcap",
            "dhcpv4v6-rfc5970-rfc8572.out",
        ),
    ] {
        let Ok(text) = std::fs::read_to_string(corpus.join("tcpdump/expected").join(out)) else {
            panic!("tcpdump/expected/{out} missing from the corpus");
        };
        let seen = dhcp_datagrams(&corpus.join("tcpdump/pcap").join(pcap));
        let ours: HashMap<u64, &Seen> = seen.iter().map(|s| (s.frame, s)).collect();
        for (n, theirs) in tcpdump_messages(&text) {
            let at = || format!("{pcap} packet {n}");
            match ours.get(&n).map(|s| &s.parsed) {
                Some(Parse::Done(m)) => tally.check(
                    format!("{:?}", ours_printed(m, &theirs)),
                    format!("{theirs:?}"),
                    at,
                ),
                other => {
                    tally.compared += 1;
                    tally.mismatches.push(format!(
                        "{}: ours {:?}",
                        at(),
                        other.map(|p| p.is_malformed())
                    ));
                }
            }
        }
    }
    tally.report("dhcp messages vs tcpdump -v (type, xid, op, MAC, addresses, options 50/51/54/55/60/12; v6 IA addresses)");
    tally.assert_all(15, "tcpdump DHCP messages");
}

/// Arkime's DHCP sessions (arkime_synthetic): message types, transaction
/// ids, MAC, host name and vendor class per session (UDP 4-tuple).
#[test]
fn sessions_match_arkime() {
    let Some(corpus) = common::corpus("the Arkime DHCP oracle test") else {
        return;
    };
    let mut tally = Tally::default();
    let Ok(dir) = std::fs::read_dir(corpus.join("arkime/expected")) else {
        panic!("no arkime/expected in the corpus");
    };
    let mut tests: Vec<_> = dir.flatten().map(|e| e.path()).collect();
    tests.sort();
    for test in tests {
        let Ok(json) = std::fs::read_to_string(&test)
            .map_err(|_| ())
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).map_err(|_| ()))
        else {
            continue;
        };
        let sessions: Vec<&serde_json::Value> = json["sessions3"]
            .as_array()
            .map(|a| a.iter().filter(|s| s["body"]["dhcp"].is_object()).collect())
            .unwrap_or_default();
        if sessions.is_empty() {
            continue;
        }
        let stem = test
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let seen = dhcp_datagrams(&corpus.join("arkime/pcap").join(format!("{stem}.pcap")));
        for s in sessions {
            let b = &s["body"];
            // Arkime keys DHCP sessions by transaction, not by 4-tuple: the
            // session's messages are those of its version within its time
            // span (ms).
            let (Some(first_ms), Some(last_ms), Some(port)) = (
                b["firstPacket"].as_i64(),
                b["lastPacket"].as_i64(),
                b["source"]["port"].as_u64(),
            ) else {
                continue;
            };
            let v6 = port == 546 || port == 547;
            let msgs: Vec<&DhcpMessage> = seen
                .iter()
                .filter(|x| (first_ms..=last_ms).contains(&(x.ts_ns / 1_000_000)))
                .filter_map(|x| match &x.parsed {
                    Parse::Done(m) if (m.version == DhcpVersion::V6) == v6 => Some(m),
                    _ => None,
                })
                .collect();
            let list = |v: &serde_json::Value| -> String {
                v.as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default()
            };
            let d = &b["dhcp"];
            let at = || format!("{stem} session at {first_ms}");
            // Arkime names a relay message by its wrapper; we read what it
            // carries. Verified: our message was unwrapped (hops > 0).
            let relayed = msgs
                .iter()
                .any(|m| m.version == DhcpVersion::V6 && m.hops > 0);
            let theirs_types = list(&d["type"]);
            if relayed && theirs_types.split(',').all(|t| t.starts_with("RELAY_")) {
                tally.exclude("a DHCPv6 relay session: Arkime names the wrapper, we the relayed message (verified: unwrapped, hops > 0)", &stem);
                continue;
            }
            let uniq = |v: Vec<String>| {
                let mut out: Vec<String> = Vec::new();
                for x in v.into_iter().filter(|x| !x.is_empty()) {
                    if !out.contains(&x) {
                        out.push(x);
                    }
                }
                out.join(",")
            };
            let ours_types = uniq(
                msgs.iter()
                    .map(|m| m.message_type_name().replace('-', "_"))
                    .collect(),
            );
            tally.check(
                ours_types,
                uniq(theirs_types.split(',').map(str::to_owned).collect()),
                || format!("{} type", at()),
            );
            let ids = uniq(
                msgs.iter()
                    .map(|m| match m.version {
                        DhcpVersion::V4 => format!("{:08x}", m.transaction_id),
                        DhcpVersion::V6 => format!("{:06x}", m.transaction_id),
                    })
                    .collect(),
            );
            if d["id"].is_array() {
                tally.check(ids, list(&d["id"]), || format!("{} id", at()));
            }
            for (field, ours) in [
                (
                    "mac",
                    uniq(msgs.iter().map(|m| opt(&m.client_mac)).collect()),
                ),
                (
                    "host",
                    uniq(msgs.iter().map(|m| opt(&m.hostname)).collect()),
                ),
                (
                    "classId",
                    uniq(msgs.iter().map(|m| opt(&m.vendor_class)).collect()),
                ),
            ] {
                if d[field].is_array() {
                    tally.check(ours, list(&d[field]), || format!("{} {field}", at()));
                }
            }
        }
    }
    tally.report("dhcp sessions vs arkime (type, id, mac, host, classId)");
    tally.assert_all(8, "Arkime DHCP fields");
}

/// Every capture in which TShark saw DHCP (MANIFEST protocols): each UDP
/// datagram on a DHCP port is read as DHCP (none is excluded: a refusal is
/// a mismatch).
#[test]
fn every_dhcp_datagram_in_the_corpus_parses() {
    let Some(corpus) = common::corpus("the DHCP corpus sweep") else {
        return;
    };
    let Ok(manifest) = std::fs::read_to_string(corpus.join("MANIFEST.tsv")) else {
        panic!("MANIFEST.tsv missing from the corpus");
    };
    let mut tally = Tally::default();
    let mut versions: BTreeMap<&str, usize> = BTreeMap::new();
    let mut anomalies: BTreeMap<&str, usize> = BTreeMap::new();
    for rec in common::tsv_records(&manifest) {
        let protocols: HashSet<&str> = rec.get("protocols").split(',').collect();
        if !protocols.contains("dhcp") && !protocols.contains("dhcpv6") {
            continue;
        }
        let path = rec.get("path");
        for s in dhcp_datagrams(&corpus.join(path)) {
            let at = || format!("{path} frame {}", s.frame);
            match &s.parsed {
                Parse::Done(m) => {
                    tally.compared += 1;
                    tally.matched += 1;
                    *versions
                        .entry(match m.version {
                            DhcpVersion::V4 => "v4",
                            DhcpVersion::V6 => "v6",
                        })
                        .or_default() += 1;
                    if let Some(a) = m.anomaly {
                        *anomalies.entry(a).or_default() += 1;
                    }
                }
                Parse::Malformed(why) => {
                    tally.compared += 1;
                    tally.mismatches.push(format!("{}: {why}", at()));
                }
                Parse::NeedMore => {
                    tally.compared += 1;
                    tally
                        .mismatches
                        .push(format!("{}: NeedMore for a datagram", at()));
                }
            }
        }
    }
    tally.report("dhcp datagrams on DHCP ports in captures where TShark saw DHCP: read");
    println!("  by version: {versions:?}; anomalies noted: {anomalies:?}");
    tally.assert_all(50, "DHCP datagrams");
}
