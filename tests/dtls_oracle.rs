//! DTLS hellos against nDPI's per-flow results (`ndpi/result/*.out`): every
//! flow nDPI labels DTLS with a JA3C or JA3S has a flow of ours, of the
//! same UDP 5-tuple, with `app_protocol` `dtls` and the same hashes.

mod common;

use std::net::IpAddr;

use wa1kpcap::Analyzer;

/// "UDP a:p <-> b:q" (or `->`), IPv6 in brackets.
fn endpoints(line: &str) -> Option<((IpAddr, u16), (IpAddr, u16))> {
    let rest = line.split("UDP ").nth(1)?;
    let mut words = rest.split_whitespace();
    let a = words.next()?;
    words.next()?;
    let b = words.next()?;
    let parse = |s: &str| -> Option<(IpAddr, u16)> {
        let (ip, port) = s.rsplit_once(':')?;
        let ip = ip.trim_start_matches('[').trim_end_matches(']');
        Some((ip.parse().ok()?, port.parse().ok()?))
    };
    Some((parse(a)?, parse(b)?))
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let at = line.find(&format!("[{name}: "))? + name.len() + 3;
    line[at..].split([']', ' ']).next()
}

#[test]
fn dtls_hellos_match_ndpi() {
    let Some(corpus) = common::corpus("the DTLS oracle test") else {
        return;
    };
    let (mut compared, mut matched) = (0, 0);
    let mut mismatches = Vec::new();
    let results = common::ndpi_lines(&corpus, |l| {
        l.contains("/DTLS") && (l.contains("[JA3C: ") || l.contains("[JA3S: "))
    });
    for (name, lines) in &results {
        let flows = Analyzer::new()
            .analyze_file(corpus.join("ndpi/pcap").join(name))
            .unwrap();
        for line in lines {
            let Some((a, b)) = endpoints(line) else {
                continue;
            };
            compared += 1;
            let flow = flows.iter().find(|f| {
                let (x, y) = (
                    (f.key.src_ip, f.key.src_port),
                    (f.key.dst_ip, f.key.dst_port),
                );
                f.key.protocol == 17 && ((x, y) == (a, b) || (x, y) == (b, a))
            });
            let tls = flow
                .and_then(|f| f.app.as_ref())
                .and_then(|a| a.tls.as_deref());
            let ours = (
                flow.and_then(|f| f.app.as_ref()?.protocol()),
                tls.filter(|t| t.client.is_some())
                    .map(|t| t.fingerprints.ja3_hash.as_str()),
                tls.filter(|t| t.server.is_some())
                    .map(|t| t.fingerprints.ja3s_hash.as_str()),
            );
            let want = (Some("dtls"), field(line, "JA3C"), field(line, "JA3S"));
            if ours == want {
                matched += 1;
            } else {
                mismatches.push(format!("{name} {a:?} {b:?}: ours {ours:?}, nDPI {want:?}"));
            }
        }
    }
    println!("dtls vs ndpi (app_protocol, JA3C, JA3S): {matched}/{compared} match");
    for m in &mismatches {
        println!("  mismatch: {m}");
    }
    assert!(compared >= 8, "too few DTLS flows compared");
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}
