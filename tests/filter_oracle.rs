//! The packet filter against libpcap itself: for every (capture, expression)
//! pair, the number of packets `PacketFilter` keeps must equal the number of
//! packets `tcpdump -r FILE -nn EXPR` prints (one line each).
//!
//! The captures are plain Ethernet from the shared corpus: no VLAN, MPLS,
//! PPPoE or tunnels (where our filter deliberately sees further than
//! libpcap), no IP fragments, no IPv6 extension headers and no snaplen cuts
//! (see `schemas/filter.md` for those differences). Skipped, with a message,
//! when `WA1KPCAP_CORPUS` is unset or tcpdump is not installed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use wa1kpcap::capture::Capture;
use wa1kpcap::decode::decode;
use wa1kpcap::filter::PacketFilter;

/// Corpus captures (Ethernet, see the module docs), chosen so every
/// expression below matches packets in some of them.
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

/// Expressions tried on every file; `{host}` is replaced by the file's most
/// frequent source address.
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

fn corpus() -> Option<PathBuf> {
    match std::env::var_os("WA1KPCAP_CORPUS") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            eprintln!("WA1KPCAP_CORPUS is not set: filter oracle test skipped");
            None
        }
    }
}

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

/// Packets libpcap keeps: lines `tcpdump -r FILE -nn EXPR` prints.
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
    out.stdout.iter().filter(|&&b| b == b'\n').count() as u64
}

/// The most frequent innermost source address of a capture (ties: the
/// smallest), for a `host` expression that surely matches.
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
    seen.into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(a, _)| a)
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

#[test]
fn filter_counts_equal_tcpdump() {
    let Some(dir) = corpus() else { return };
    if !tcpdump_installed() {
        return;
    }
    let mut pairs = 0usize;
    let mut equal = 0usize;
    let mut mismatches = Vec::new();
    let mut matched_somewhere = vec![false; EXPRS.len()];
    for file in FILES {
        let path = dir.join(file);
        let host = busiest_source(&path).expect("capture has IP packets");
        let exprs: Vec<String> = EXPRS
            .iter()
            .map(|e| e.replace("{host}", &host.to_string()))
            .collect();
        let filters: Vec<PacketFilter> = exprs
            .iter()
            .map(|e| PacketFilter::parse(e).unwrap_or_else(|err| panic!("{e}: {err}")))
            .collect();
        let ours = our_counts(&path, &filters);
        for (i, expr) in exprs.iter().enumerate() {
            let theirs = tcpdump_count(&path, expr);
            pairs += 1;
            if ours[i] == theirs {
                equal += 1;
            } else {
                mismatches.push(format!(
                    "{file} `{expr}`: ours {} tcpdump {theirs}",
                    ours[i]
                ));
            }
            if theirs > 0 {
                matched_somewhere[i] = true;
            }
        }
    }
    println!("filter: {equal}/{pairs} (file, expr) pairs equal tcpdump");
    for m in &mismatches {
        println!("  differs: {m}");
    }
    let never: Vec<&str> = EXPRS
        .iter()
        .zip(&matched_somewhere)
        .filter(|(_, &m)| !m)
        .map(|(e, _)| *e)
        .collect();
    assert!(
        never.is_empty(),
        "expressions matching nothing in any file: {never:?}"
    );
    assert!(
        mismatches.is_empty(),
        "{} pairs differ from tcpdump",
        mismatches.len()
    );
}
