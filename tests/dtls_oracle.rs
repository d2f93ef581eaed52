//! DTLS hellos against nDPI's per-flow results (`ndpi/result/*.out`): every
//! flow nDPI labels DTLS with a JA3C or JA3S has a flow of ours, of the
//! same UDP 5-tuple, with `app_protocol` `dtls` and the same hashes.

mod common;

use wa1kpcap::Analyzer;

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
            let Some((17, a, b)) = common::ndpi_endpoints(line) else {
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
            // A hash may be followed by a note (`… (WEAK)`).
            let hash = |k| common::ndpi_field(line, k).and_then(|v| v.split(' ').next());
            let want = (Some("dtls"), hash("JA3C"), hash("JA3S"));
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
