//! IP reassembly against independent oracles in the corpus: PcapPlusPlus's
//! reassembled outputs (`expected/http_req.pcap` is the datagram that
//! `pcap/frag_http_req.pcap` and `expected/http_req_frag.pcap` carry in
//! fragments; `expected/no-ipv6-frag.pcap` that of `pcap/ipv6-frag.pcap`),
//! and the reassembled packets Suricata's defrag tests expect (base64 in
//! their `test.yaml`).

mod common;

use std::path::Path;

use wa1kpcap::capture::Capture;
use wa1kpcap::decode::decode;
use wa1kpcap::decode::defrag::{Defragmenter, FragmentOutcome};

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
    let Some(dir) = common::corpus("the reassembly oracle test") else {
        return;
    };
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
    let Some(dir) = common::corpus("the reassembly oracle test") else {
        return;
    };
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

/// Standard base64 (RFC 4648 §4), enough for test.yaml values.
fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for v in s.bytes().filter_map(val) {
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[test]
fn suricata_defrag_tests_expected_packets() {
    let Some(dir) = common::corpus("the reassembly oracle test") else {
        return;
    };
    let cases = [
        (
            "bug-6887-defrag-eth-vlan-ipv4-tcp-syn",
            "frag-eth-vlan-ip-tcp-syn.pcap",
        ),
        (
            "bug-6887-defrag-eth-vlan-ipv6-tcp",
            "frag-eth-vlan-ipv6-tcp.pcap",
        ),
        (
            "bug-6887-defrag-ppp-ipv4-tcp-syn",
            "frag-ppp-ip-tcp-syn.pcap",
        ),
    ];
    for (test, pcap) in cases {
        let base = dir.join("suricata-verify/defrag").join(test);
        let yaml = std::fs::read_to_string(base.join("test.yaml")).expect("test.yaml");
        let field = |name: &str| {
            let i = yaml.find(name).expect(name) + name.len();
            yaml[i..]
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"')
                .to_string()
        };
        let packet = base64(&field("packet: "));
        let linktype: u16 = field("packet_info.linktype: ").parse().expect("linktype");
        // the oracle is a whole frame: find its IP packet
        let frame = decode(
            wa1kpcap::capture::LinkType(linktype),
            &packet,
            packet.len() as u32,
        );
        let expected = frame.ip.expect("oracle frame has IP").bytes.to_vec();
        let (got, reassembled) = ip_packets(&base.join(pcap));
        assert_eq!(reassembled, 1, "{test}");
        assert!(
            got.iter().any(|g| same_datagram(g, &expected)),
            "{test}: reassembled datagram differs"
        );
    }
}
