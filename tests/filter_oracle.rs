//! The packet filter against libpcap itself: for every (capture, expression)
//! pair, the number of packets `PacketFilter` keeps must equal the number of
//! packets `tcpdump -r FILE -nn EXPR` prints (one line each).
//!
//! The captures are plain Ethernet from the shared corpus: no VLAN, MPLS,
//! PPPoE or tunnels (where our filter deliberately sees further than
//! libpcap), no IP fragments, no IPv6 extension headers and no snaplen cuts
//! (see `schemas/filter.md` for those differences). Skipped, with a message,
//! when `WA1KPCAP_CORPUS` is unset or tcpdump is not installed.

mod common;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Stdio};

use wa1kpcap::capture::Capture;
use wa1kpcap::decode::decode;
use wa1kpcap::filter::PacketFilter;

/// Plain Ethernet corpus captures (see the module docs), chosen so every
/// expression of [`EXPRS`] matches packets in some of them.
const FILES: &[&str] = &[
    "zeek/traces/wikipedia.pcap",
    "arkime/pcap/v6.pcap",
    "arkime/pcap/ospf.pcap",
    "arkime/pcap/nbns.pcap",
    "ndpi/pcap/tls_certificate_too_long.pcap",
    "ndpi/pcap/viber.pcap",
    "ndpi/pcap/zoom_p2p.pcapng",
    "ndpi/pcap/wa_voice.pcap",
    "ndpi/pcap/instagram.pcap",
    "ndpi/pcap/1kxun.pcap",
    "ndpi/pcap/sites.pcapng",
    "ndpi/pcap/stun_wa_call.pcapng",
    "ndpi/pcap/signal.pcap",
    "ndpi/pcap/googledns_android10.pcap",
    "suricata-verify/ja4-tls-quic/input.pcap",
];

/// Expressions tried on every file of [`FILES`]; `{host}` becomes the
/// file's busiest source address.
const EXPRS: &[&str] = &[
    "",
    "tcp",
    "udp",
    "ip6",
    "icmp",
    "icmp6",
    "arp",
    "not tcp",
    "tcp port 443",
    "udp port 53",
    "tcp and not port 80",
    "net 10.0.0.0/8",
    "src port 53 or dst port 80",
    "portrange 1000-2000",
    "greater 1000",
    "less 100 and ip",
    "port 80 or 443 or 53",
    "tcp or udp and port 53",
    "host {host}",
    "src {host} and not (tcp port 443 or udp)",
];

/// Captures with IPv4 fragments, for libpcap's fragment rules: every
/// fragment has the protocol (`tcp`, `udp`), only the first has ports.
const FRAGMENT_FILES: &[&str] = &[
    "arkime/pcap/socks5-http-302-frag.pcap",
    "zeek/traces/ipv4/fragmented-2.pcap",
    "zeek/traces/ipv4/fragmented-4.pcap",
    "ndpi/pcap/dns_fragmented.pcap",
];

const FRAGMENT_EXPRS: &[&str] = &[
    "tcp",
    "udp",
    "port 53",
    "not port 53",
    "udp and not port 53",
    "tcp port 80 or 1080",
    "portrange 1-1024",
    "greater 1000",
    "host {host}",
];

fn tcpdump_installed() -> bool {
    let ok = Command::new("tcpdump")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("tcpdump is not installed: filter oracle test skipped");
    }
    ok
}

/// Packets libpcap keeps: the lines `tcpdump -r FILE -nn EXPR` prints,
/// less continuation lines (some printers, e.g. OpenFlow or LISP, indent a
/// second line under the packet's timestamped one).
fn tcpdump_count(path: &Path, expr: &str) -> u64 {
    let mut cmd = Command::new("tcpdump");
    cmd.arg("-r").arg(path).arg("-nn");
    if !expr.is_empty() {
        cmd.arg(expr);
    }
    let out = cmd.stderr(Stdio::null()).output().expect("run tcpdump");
    assert!(
        out.status.success(),
        "tcpdump refused {expr:?} on {}",
        path.display()
    );
    out.stdout
        .split(|&b| b == b'\n')
        .filter(|line| line.first().is_some_and(|b| !b.is_ascii_whitespace()))
        .count() as u64
}

/// The busiest innermost source address of a capture that no ARP packet
/// mentions (libpcap's `host` also tests ARP sender/target addresses, which
/// our decoder does not keep: a documented difference).
fn busiest_source(path: &Path) -> Option<IpAddr> {
    let mut seen: HashMap<IpAddr, u64> = HashMap::new();
    Capture::open(path)
        .expect("open")
        .for_each_packet(|raw| {
            if let Some(ip) = decode(raw.linktype, raw.data, raw.wire_len).ip {
                *seen.entry(ip.src).or_default() += 1;
            }
        })
        .expect("read");
    let mut by_count: Vec<(IpAddr, u64)> = seen.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    by_count
        .into_iter()
        .map(|(a, _)| a)
        .find(|a| a.is_ipv6() || tcpdump_count(path, &format!("arp and host {a}")) == 0)
}

/// Packets each filter keeps, in one pass over the capture.
fn our_counts(path: &Path, filters: &[PacketFilter]) -> Vec<u64> {
    let mut counts = vec![0u64; filters.len()];
    let outcome = Capture::open(path)
        .expect("open")
        .for_each_packet(|raw| {
            let p = decode(raw.linktype, raw.data, raw.wire_len);
            for (n, f) in counts.iter_mut().zip(filters) {
                *n += u64::from(f.matches(&p, raw.wire_len));
            }
        })
        .expect("read");
    assert!(
        outcome.error.is_none(),
        "{}: {:?}",
        path.display(),
        outcome.error
    );
    counts
}

/// Pairs compared and the differences found.
#[derive(Default)]
struct Tally {
    pairs: usize,
    equal: usize,
    mismatches: Vec<String>,
    /// Expressions that matched nothing in any file of their group.
    never_matched: Vec<String>,
}

impl Tally {
    fn compare(&mut self, dir: &Path, files: &[&str], exprs: &[&str]) {
        let mut matched = vec![false; exprs.len()];
        for file in files {
            let path = dir.join(file);
            let host = busiest_source(&path).expect("an address no ARP packet mentions");
            let exprs: Vec<String> = exprs
                .iter()
                .map(|e| e.replace("{host}", &host.to_string()))
                .collect();
            let filters: Vec<PacketFilter> = exprs
                .iter()
                .map(|e| PacketFilter::parse(e).unwrap_or_else(|err| panic!("{e}: {err}")))
                .collect();
            let ours = our_counts(&path, &filters);
            for ((expr, ours), matched) in exprs.iter().zip(ours).zip(matched.iter_mut()) {
                let theirs = tcpdump_count(&path, expr);
                self.pairs += 1;
                if ours == theirs {
                    self.equal += 1;
                } else {
                    self.mismatches
                        .push(format!("{file} `{expr}`: ours {ours}, tcpdump {theirs}"));
                }
                *matched |= theirs > 0;
            }
        }
        for (e, m) in exprs.iter().zip(matched) {
            if !m {
                self.never_matched.push((*e).to_owned());
            }
        }
    }
}

#[test]
fn filter_counts_equal_tcpdump() {
    let Some(dir) = common::corpus("the filter oracle test") else {
        return;
    };
    if !tcpdump_installed() {
        return;
    }
    let mut t = Tally::default();
    t.compare(&dir, FILES, EXPRS);
    t.compare(&dir, FRAGMENT_FILES, FRAGMENT_EXPRS);
    println!(
        "filter: {}/{} (file, expr) pairs equal tcpdump",
        t.equal, t.pairs
    );
    for m in &t.mismatches {
        println!("  differs: {m}");
    }
    assert!(
        t.never_matched.is_empty(),
        "expressions matching nothing in any file: {:?}",
        t.never_matched
    );
    assert!(
        t.mismatches.is_empty(),
        "{} pairs differ from tcpdump",
        t.mismatches.len()
    );
}
