//! Filter tests: parsing, printing, evaluation, refusals.

use etherparse::PacketBuilder;

use super::*;
use crate::capture::LinkType;
use crate::decode::decode;
use crate::decode::Transport;
use crate::sample::{ethernet, fragmented_udp, gre_wrap};
use std::net::Ipv6Addr;

fn ipv4_tcp(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16) -> Vec<u8> {
    let b = PacketBuilder::ipv4(src, dst, 64).tcp(sp, dp, 1, 1000);
    let mut v = Vec::new();
    b.write(&mut v, b"payload").unwrap();
    v
}

fn ipv4_udp(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16) -> Vec<u8> {
    let b = PacketBuilder::ipv4(src, dst, 64).udp(sp, dp);
    let mut v = Vec::new();
    b.write(&mut v, b"payload").unwrap();
    v
}

fn ipv6_tcp(src: [u8; 16], dst: [u8; 16], sp: u16, dp: u16) -> Vec<u8> {
    let b = PacketBuilder::ipv6(src, dst, 64).tcp(sp, dp, 1, 1000);
    let mut v = Vec::new();
    b.write(&mut v, b"payload").unwrap();
    v
}

fn eth_ip(ip: &[u8]) -> Vec<u8> {
    let ty = if ip[0] >> 4 == 6 { 0x86dd } else { 0x0800 };
    ethernet(ty, ip)
}

fn v6(s: &str) -> [u8; 16] {
    s.parse::<Ipv6Addr>().unwrap().octets()
}

/// Does `expr` match the Ethernet frame `frame`?
fn hits(expr: &str, frame: &[u8]) -> bool {
    let f = PacketFilter::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    let p = decode(LinkType::ETHERNET, frame, frame.len() as u32);
    f.matches(&p, frame.len() as u32)
}

fn err(expr: &str) -> FilterError {
    match PacketFilter::parse(expr) {
        Ok(_) => panic!("{expr} parsed"),
        Err(e) => e,
    }
}

fn tcp_80() -> Vec<u8> {
    eth_ip(&ipv4_tcp([10, 0, 0, 1], [192, 168, 1, 9], 40000, 80))
}

fn udp_53() -> Vec<u8> {
    eth_ip(&ipv4_udp([10, 0, 0, 1], [8, 8, 8, 8], 5353, 53))
}

fn arp() -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 1];
    a.extend_from_slice(&[2, 0, 0, 0, 0, 1, 10, 0, 0, 1]);
    a.extend_from_slice(&[0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
    ethernet(0x0806, &a)
}

#[test]
fn protocol_primitives() {
    let tcp = tcp_80();
    let udp = udp_53();
    let tcp6 = eth_ip(&ipv6_tcp(v6("2001:db8::1"), v6("2001:db8::2"), 1, 443));
    let icmp = {
        let b = PacketBuilder::ipv4([1, 1, 1, 1], [2, 2, 2, 2], 9).icmpv4_echo_request(1, 1);
        let mut v = Vec::new();
        b.write(&mut v, b"x").unwrap();
        eth_ip(&v)
    };
    let icmp6 = {
        let b = PacketBuilder::ipv6(v6("::1"), v6("::2"), 9).icmpv6_echo_request(1, 1);
        let mut v = Vec::new();
        b.write(&mut v, b"x").unwrap();
        eth_ip(&v)
    };
    let arp = arp();
    // Frames: tcp, udp, tcp6, icmp, icmp6, arp.
    let cases: [(&str, [u8; 6]); 12] = [
        ("tcp", [1, 0, 1, 0, 0, 0]),
        ("udp", [0, 1, 0, 0, 0, 0]),
        ("ip", [1, 1, 0, 1, 0, 0]),
        ("ip6", [0, 0, 1, 0, 1, 0]),
        ("icmp", [0, 0, 0, 1, 0, 0]),
        ("icmp6", [0, 0, 0, 0, 1, 0]),
        ("arp", [0, 0, 0, 0, 0, 1]),
        ("not tcp", [0, 1, 0, 1, 1, 1]),
        ("ip proto 6", [1, 0, 0, 0, 0, 0]),
        ("ip6 proto \\tcp", [0, 0, 1, 0, 0, 0]),
        ("proto 6 or 17", [1, 1, 1, 0, 0, 0]),
        ("ip and not udp", [1, 0, 0, 1, 0, 0]),
    ];
    let frames = [&tcp, &udp, &tcp6, &icmp, &icmp6, &arp];
    for (expr, want) in cases {
        for (i, f) in frames.iter().enumerate() {
            assert_eq!(hits(expr, f), want[i] == 1, "{expr} on frame {i}");
        }
    }
}

#[test]
fn host_net_and_direction() {
    let f = tcp_80(); // 10.0.0.1:40000 -> 192.168.1.9:80
    for (expr, want) in [
        ("host 10.0.0.1", true),
        ("src host 10.0.0.1", true),
        ("dst host 10.0.0.1", false),
        ("dst 192.168.1.9", true),
        ("src or dst 192.168.1.9", true),
        ("src and dst net 10.0.0.0/8", false),
        ("src and dst net 0.0.0.0/0", true),
        ("net 10", true),
        ("net 192.168", true),
        ("net 192.168.2", false),
        ("net 10.0.0.0 mask 255.0.0.0", true),
        ("ip net 192.168.0.0/16", true),
        ("host 10.0.0.2", false),
        ("ip host 10.0.0.1", true),
        ("host 10.0", true), // libpcap: short dotted host = network
        ("host 2001:db8::1", false),
    ] {
        assert_eq!(hits(expr, &f), want, "{expr}");
    }
    let f6 = eth_ip(&ipv6_tcp(v6("2001:db8::1"), v6("fe80::2"), 1, 443));
    for (expr, want) in [
        ("host 2001:db8::1", true),
        ("ip6 net 2001:db8::/32", true),
        ("dst net 2001:db8::/32", false),
        ("dst net fe80::/10", true),
        ("net ::/0", true),
        ("host 10.0.0.1", false),
    ] {
        assert_eq!(hits(expr, &f6), want, "{expr}");
    }
}

#[test]
fn ports_and_ranges() {
    let tcp = tcp_80();
    let udp = udp_53();
    for (expr, want_tcp, want_udp) in [
        ("port 80", true, false),
        ("tcp port 80", true, false),
        ("udp port 80", false, false),
        ("dst port 80", true, false),
        ("src port 80", false, false),
        ("port 53", false, true),
        ("udp port domain", false, true),
        ("port http", true, false),
        ("port domain", false, true),
        ("portrange 50-100", true, true),
        ("portrange 100-50", true, true),
        ("src portrange 5000-6000", false, true),
        ("tcp portrange 1-1024", true, false),
        ("src and dst portrange 53-6000", false, true),
        ("sctp port 80", false, false),
        ("port 0x50", true, false),
        ("portrange http-https", true, false),
        ("portrange domain-http", true, true),
    ] {
        assert_eq!(hits(expr, &tcp), want_tcp, "{expr} on tcp");
        assert_eq!(hits(expr, &udp), want_udp, "{expr} on udp");
    }
}

#[test]
fn and_or_have_equal_precedence_left_to_right() {
    let tcp = tcp_80();
    // C precedence would read `tcp or (udp and port 53)`: true.
    assert!(!hits("tcp or udp and port 53", &tcp));
    assert!(hits("udp and port 53 or tcp", &tcp));
    assert!(hits("tcp or (udp and port 53)", &tcp));
    // `not` binds tighter than both.
    assert!(!hits("not tcp and port 80", &tcp));
    assert!(hits("not udp and port 80", &tcp));
    assert!(hits("! udp && port 80 || icmp", &tcp));
    assert!(hits("not (udp or icmp)", &tcp));
    assert!(!hits("not not udp", &tcp));
}

#[test]
fn qualifiers_repeat_onto_bare_identifiers() {
    let tcp_8080 = eth_ip(&ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 9], 1234, 8080));
    let udp_8080 = eth_ip(&ipv4_udp([10, 0, 0, 1], [10, 0, 0, 9], 1234, 8080));
    assert!(hits("tcp port 80 or 8080", &tcp_8080));
    assert!(!hits("tcp port 80 or 8080", &udp_8080));
    assert!(hits("port 80 or 443 or 8080", &udp_8080));
    assert!(hits("host 1.2.3.4 or 10.0.0.9", &tcp_8080));
    assert!(hits("dst host 1.2.3.4 or 10.0.0.9", &tcp_8080));
    assert!(!hits("src host 1.2.3.4 or 10.0.0.9", &tcp_8080));
    assert!(hits("host (1.2.3.4 or 10.0.0.9)", &tcp_8080));
    assert!(!hits("host (10.0.0.1 and not 10.0.0.9)", &tcp_8080));
    // `not host a and b` is `not host a and host b` (pcap-filter(7)).
    assert!(!hits("not host 10.0.0.1 and 10.0.0.9", &tcp_8080));
    assert!(hits("not host 10.0.0.7 and 10.0.0.9", &tcp_8080));
    // port 1234 and not port 8080
    assert!(!hits("port 1234 and not 8080", &tcp_8080));
    // After a parenthesised term the qualifiers from before it apply.
    assert!(hits(
        "host 1.1.1.1 or (host 2.2.2.2) or 10.0.0.9",
        &tcp_8080
    ));
    assert!(hits("ip proto 6 or 17", &udp_8080));
    // A protocol primitive has no qualifiers to repeat.
    assert!(matches!(
        err("tcp or 80"),
        FilterError::Expected { column: 8, .. }
    ));
    assert!(matches!(
        err("host 1.2.3.4 and tcp or 5.6.7.8"),
        FilterError::Expected { .. }
    ));
}

#[test]
fn sees_through_vlan_mpls_and_tunnels() {
    let ip = ipv4_tcp([10, 1, 1, 1], [10, 2, 2, 2], 5555, 443);
    let mut tagged = vec![0x00, 0x07, 0x08, 0x00]; // VID 7, then IPv4
    tagged.extend_from_slice(&ip);
    let vlan = ethernet(0x8100, &tagged);
    let mut labelled = vec![0x00, 0x01, 0x01, 0x40]; // label 16, bottom of stack
    labelled.extend_from_slice(&ip);
    let mpls = ethernet(0x8847, &labelled);
    let gre = gre_wrap([172, 16, 0, 1], [172, 16, 0, 2], &ip);
    for f in [&vlan, &mpls, &gre] {
        assert!(hits("tcp port 443", f));
        assert!(hits("host 10.2.2.2", f));
        assert!(hits("ip", f));
    }
    assert!(hits("vlan", &vlan));
    assert!(hits("vlan 7", &vlan));
    assert!(!hits("vlan 8", &vlan));
    assert!(!hits("vlan", &mpls));
    assert!(hits("mpls and tcp", &mpls));
    assert!(!hits("mpls", &gre));
    // The outer tunnel addresses are not the packet's addresses.
    assert!(!hits("host 172.16.0.1", &gre));
    assert!(!hits("ip proto 47", &gre));
}

#[test]
fn no_ip_no_host_net_or_port() {
    let a = arp(); // mentions 10.0.0.1 and 10.0.0.2
    for expr in [
        "host 10.0.0.1",
        "net 10.0.0.0/8",
        "port 1",
        "portrange 0-65535",
        "ip",
        "tcp",
    ] {
        assert!(!hits(expr, &a), "{expr}");
    }
    assert!(hits("not host 10.0.0.1", &a));
}

#[test]
fn fragments_follow_libpcap() {
    let frames = fragmented_udp([10, 0, 0, 1], [10, 0, 0, 2], 7, 3000, 1480).unwrap();
    assert!(frames.len() >= 2);
    let (first, later) = (&frames[0], &frames[1]);
    // Every fragment carries the protocol number …
    assert!(hits("udp", first) && hits("udp", later));
    // … but only the first has ports (4000 -> 4001).
    assert!(hits("udp port 4000", first));
    assert!(hits("dst port 4001", first));
    assert!(!hits("port 4000", later));
    assert!(hits("not port 4000", later));
    assert!(hits("host 10.0.0.2", later));
}

#[test]
fn cut_short_transport_header_still_has_ports() {
    // Snapped 4 bytes into the TCP header: the decoder has no segment,
    // but the ports were captured (libpcap reads them too).
    let f = tcp_80();
    let cut = &f[..14 + 20 + 4];
    let p = decode(LinkType::ETHERNET, cut, f.len() as u32);
    assert!(matches!(p.transport, Transport::None));
    let m = |e: &str| PacketFilter::parse(e).unwrap().matches(&p, f.len() as u32);
    assert!(m("tcp port 80"));
    assert!(m("src port 40000"));
    assert!(!m("udp port 80"));
    let cut = &f[..14 + 20 + 3];
    let p = decode(LinkType::ETHERNET, cut, f.len() as u32);
    assert!(!PacketFilter::parse("port 80")
        .unwrap()
        .matches(&p, f.len() as u32));
}

#[test]
fn lengths() {
    let f = tcp_80();
    let n = f.len() as u32;
    let filter = |e: &str| PacketFilter::parse(e).unwrap();
    let p = decode(LinkType::ETHERNET, &f, n);
    assert!(filter(&format!("less {n}")).matches(&p, n));
    assert!(!filter(&format!("less {}", n - 1)).matches(&p, n));
    assert!(filter(&format!("greater {n}")).matches(&p, n));
    assert!(!filter(&format!("greater {}", n + 1)).matches(&p, n));
    // The wire length counts, not the captured bytes.
    assert!(filter("greater 1000").matches(&p, 1500));
    for (expr, want) in [
        ("len > 100", true),
        ("len <= 100", false),
        ("len = 1500", true),
        ("len != 1500", false),
        ("len == 1500", true),
        ("len >= 1500", true),
        ("len < 1500", false),
    ] {
        assert_eq!(filter(expr).matches(&p, 1500), want, "{expr}");
    }
}

#[test]
fn empty_matches_everything_and_api() {
    let f: PacketFilter = "  ".parse().unwrap();
    let a = arp();
    let p = decode(LinkType::ETHERNET, &a, a.len() as u32);
    assert!(f.matches(&p, 42));
    let f: PacketFilter = "tcp port 80".parse().unwrap();
    assert_eq!(f.expr(), "tcp port 80");
    assert_eq!(f.to_string(), "tcp port 80");
}

#[test]
fn errors_say_where_and_what() {
    let e = err("tcp and foo");
    assert!(
        matches!(e, FilterError::Expected { column: 9, .. }),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("column 9") && msg.contains("expected") && msg.contains("`foo`"),
        "{msg}"
    );
    assert!(
        matches!(err("host"), FilterError::Expected { column: 5, ref found, .. } if found == "end of expression")
    );
    assert!(matches!(err("tcp port"), FilterError::Expected { .. }));
    assert!(matches!(
        err("host 1.2.3.4 and"),
        FilterError::Expected { .. }
    ));
    assert!(matches!(err("(tcp"), FilterError::Expected { .. }));
    assert!(matches!(
        err("tcp)"),
        FilterError::Expected { column: 4, .. }
    ));
    assert!(matches!(
        err("host 1.2.3.4 5.6.7.8"),
        FilterError::Expected { column: 14, .. }
    ));
    assert!(matches!(
        err("1.2.3.4"),
        FilterError::Expected { column: 1, .. }
    ));
    assert!(matches!(err("10.0.0.0/8"), FilterError::Expected { .. }));
    assert!(matches!(err("ip proto tcp"), FilterError::Expected { .. }));
    assert!(matches!(err("Tcp"), FilterError::Expected { .. }));
    assert!(matches!(
        err("tcp port 80 é"),
        FilterError::Expected { column: 13, .. }
    ));
    // Out of range and contradictions, as libpcap refuses them.
    for bad in [
        "port 99999",
        "port 080",
        "port foo",
        "port 80-90",
        "portrange http",
        "net 10.0.0.1/8",
        "host 10.0.0.0/8",
        "net 10.0.0.0/33",
        "net 2001:db8::1/32",
        "host 2001:db8::/32",
        "host 256.1.1.1",
        "host 1:2:3",
        "tcp host 1.2.3.4",
        "ip port 80",
        "icmp port 80",
        "udp port http",
        "ip host ::1",
        "ip6 host 1.2.3.4",
        "ip proto 256",
        "ip proto \\nosuch",
        "tcp proto 6",
        "vlan 4096",
        "net 10/8",
        "less 4294967296",
    ] {
        assert!(
            matches!(err(bad), FilterError::Invalid { .. }),
            "{bad}: {:?}",
            err(bad)
        );
    }
    // libpcap primitives we do not implement are named as such.
    for bad in [
        "ether host 1:2:3:4:5:6",
        "tcp[13] & 2 != 0",
        "len - 14 > 10",
        "host example.com",
        "arp host 1.2.3.4",
        "mpls 100",
        "gateway x",
        "ip broadcast",
    ] {
        assert!(
            matches!(err(bad), FilterError::Unsupported { .. }),
            "{bad}: {:?}",
            err(bad)
        );
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}tcp{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(matches!(err(&deep), FilterError::Invalid { .. }));
    let nots = format!("{}tcp", "not ".repeat(10_000));
    assert!(matches!(err(&nots), FilterError::Invalid { .. }));
    let host_parens = format!("host {}1.2.3.4{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(matches!(err(&host_parens), FilterError::Invalid { .. }));
    // Long and/or chains do not recurse.
    let long = vec!["tcp"; 100_000].join(" or ");
    assert!(hits(&long, &tcp_80()));
    let ok = format!("{}tcp{}", "(".repeat(30), ")".repeat(30));
    assert!(hits(&ok, &tcp_80()));
}

#[test]
fn never_panics_on_odd_input() {
    for s in [
        "(",
        ")",
        "!",
        "&&",
        "||",
        "\\",
        "\\tcp",
        "host \\",
        "net 1.2.3.4 mask",
        "net 1.2.3.4 mask ::1",
        "net ::1 mask 255.0.0.0",
        "port 0x",
        "portrange -",
        "portrange 1-",
        "len",
        "len >",
        "len > x",
        "vlan and",
        "src or",
        "src or dst",
        "dst and src port",
        "host 1.2.3.4 or (",
        "host (1.2.3.4",
        "host (1.2.3.4 tcp)",
        "less",
        "ip6 net ::/",
        "==",
        "<<",
        "tcp port 80 or not",
        "::",
        ":::",
        "host 1.2.3.4.5",
        "net 1...",
        "port 65535",
        "port 0",
        "vlan 0",
        "not(tcp)or(udp)",
    ] {
        let _ = PacketFilter::parse(s);
    }
    assert!(PacketFilter::parse("vlan and tcp").is_ok());
    assert!(PacketFilter::parse("not(tcp)or(udp)").is_ok());
    assert!(PacketFilter::parse("dst and src port 53").is_ok());
}
