//! IP reassembly against independent oracles in the corpus: PcapPlusPlus's
//! reassembled outputs (`expected/http_req.pcap` is the datagram that
//! `pcap/frag_http_req.pcap` and `expected/http_req_frag.pcap` carry in
//! fragments; `expected/no-ipv6-frag.pcap` that of `pcap/ipv6-frag.pcap`).

use std::path::{Path, PathBuf};

use wa1kpcap::capture::Capture;
use wa1kpcap::decode::decode;
use wa1kpcap::decode::defrag::{Defragmenter, FragmentOutcome};

fn corpus() -> Option<PathBuf> {
    match std::env::var_os("WA1KPCAP_CORPUS") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            eprintln!("WA1KPCAP_CORPUS is not set: reassembly oracle test skipped");
            None
        }
    }
}

/// IP packets of a capture: unfragmented ones as they are, fragments
/// reassembled.
fn ip_packets(path: &Path) -> (Vec<Vec<u8>>, u64) {
    let mut c = Capture::open(path).expect("open");
    let mut d = Defragmenter::default();
    let mut out = Vec::new();
    c.for_each_packet(|raw| {
        let p = decode(raw.linktype, raw.data, raw.wire_len);
        let Some(ip) = p.ip else { return };
        if p.is_fragment() {
            if let FragmentOutcome::Complete(r) = d.push(raw.ts_ns, &ip, raw.wire_len) {
                out.push(r.bytes);
            }
        } else {
            out.push(ip.bytes.to_vec());
        }
    })
    .expect("read");
    (out, d.stats.reassembled)
}

/// Compare everything but the fields reassemblers legitimately rewrite
/// (IPv4 flags/offset and checksum).
fn same_datagram(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    if a[0] >> 4 == 4 {
        let mask = |v: &[u8]| {
            let mut v = v.to_vec();
            v[6] &= 0x40;
            v[7] = 0;
            v[10] = 0;
            v[11] = 0;
            v
        };
        mask(a) == mask(b)
    } else {
        a == b
    }
}

#[test]
fn pcapplusplus_ipv4_reassembly_matches_its_expected_output() {
    let Some(dir) = corpus() else { return };
    let ppp = dir.join("pcapplusplus");
    let (expected, _) = ip_packets(&ppp.join("expected/http_req.pcap"));
    assert_eq!(expected.len(), 1);
    for input in ["pcap/frag_http_req.pcap", "expected/http_req_frag.pcap"] {
        let (got, reassembled) = ip_packets(&ppp.join(input));
        assert_eq!(reassembled, 1, "{input}");
        assert_eq!(got.len(), 1, "{input}");
        assert!(
            same_datagram(&got[0], &expected[0]),
            "{input}: reassembled datagram differs"
        );
    }
}

#[test]
fn pcapplusplus_ipv6_reassembly_matches_its_expected_output() {
    let Some(dir) = corpus() else { return };
    let ppp = dir.join("pcapplusplus");
    let (expected, _) = ip_packets(&ppp.join("expected/no-ipv6-frag.pcap"));
    let (got, reassembled) = ip_packets(&ppp.join("pcap/ipv6-frag.pcap"));
    assert_eq!(reassembled, 1);
    // PcapPlusPlus writes only the reassembled datagram.
    assert_eq!(expected.len(), 1);
    assert!(
        got.iter().any(|g| same_datagram(g, &expected[0])),
        "reassembled IPv6 datagram differs"
    );
}
