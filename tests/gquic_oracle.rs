//! Google QUIC CHLOs (Q043, Q046, Q050) against nDPI's per-flow results:
//! every flow nDPI gives a Q0xx version and a server name has a flow of
//! ours, of the same UDP ports, with that version and name.

mod common;

use wa1kpcap::Analyzer;

#[test]
fn chlos_match_ndpi() {
    let Some(corpus) = common::corpus("the Google QUIC oracle test") else {
        return;
    };
    let results = common::ndpi_lines(&corpus, |l| {
        l.contains("[QUIC ver: Q0") && l.contains("[Hostname/SNI: ")
    });
    let (mut compared, mut mismatches) = (0, Vec::new());
    for (name, lines) in &results {
        let flows = Analyzer::new()
            .analyze_file(corpus.join("ndpi/pcap").join(name))
            .unwrap();
        for line in lines {
            let (Some((17, (_, a), (_, b))), Some(sni), Some(ver)) = (
                common::ndpi_endpoints(line),
                common::ndpi_field(line, "Hostname/SNI"),
                common::ndpi_field(line, "QUIC ver"),
            ) else {
                continue;
            };
            compared += 1;
            let ours = flows
                .iter()
                .find(|f| {
                    let p = (f.key.src_port, f.key.dst_port);
                    p == (a, b) || p == (b, a)
                })
                .and_then(|f| f.app.as_ref()?.quic.as_deref())
                .map(|q| {
                    let v = String::from_utf8_lossy(&q.version.to_be_bytes()).into_owned();
                    (v, q.chlo.as_ref().and_then(|c| c.sni.clone()))
                });
            if ours != Some((ver.to_string(), Some(sni.to_string()))) {
                mismatches.push(format!("{name} {a}/{b}: ours {ours:?}, nDPI {ver} {sni}"));
            }
        }
    }
    println!(
        "gquic vs ndpi (version, SNI): {}/{compared} match",
        compared - mismatches.len()
    );
    assert!(compared >= 3, "too few Google QUIC flows compared");
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}
