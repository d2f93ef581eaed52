//! Decoder tests over frames built by code (etherparse's PacketBuilder and
//! the sample builders), one per layer and per anomaly class.

use std::net::IpAddr;

use etherparse::PacketBuilder;

use super::*;
use crate::capture::LinkType;
use crate::sample::{ethernet, gre_wrap, ipv4_header};

fn tcp_frame(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(1234, 443, 1000, 512)
        .syn()
        .ack(77);
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

fn ip_of(frame: &[u8]) -> Vec<u8> {
    frame[14..].to_vec()
}

#[test]
fn ethernet_ipv4_tcp() {
    let f = tcp_frame(b"hello");
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert!(p.anomalies.is_empty());
    assert!(!p.truncated);
    let ip = p.ip.unwrap();
    assert_eq!(ip.src, "10.0.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(ip.total_len, 20 + 20 + 5);
    assert_eq!(ip.ttl, 64);
    let Transport::Tcp(t) = p.transport else {
        panic!("not tcp")
    };
    assert_eq!(
        (t.src_port, t.dst_port, t.seq, t.ack, t.window),
        (1234, 443, 1000, 77, 512)
    );
    assert_eq!(t.flags, TcpSegment::SYN | TcpSegment::ACK);
    assert_eq!(t.payload, b"hello");
    for l in [Layer::Ethernet, Layer::Ipv4, Layer::Tcp] {
        assert!(p.layers.contains(l));
    }
}

#[test]
fn tcp_options_are_read() {
    let b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(1, 2, 3, 4)
        .syn()
        .options(&[
            etherparse::TcpOptionElement::MaximumSegmentSize(1460),
            etherparse::TcpOptionElement::WindowScale(7),
            etherparse::TcpOptionElement::SelectiveAcknowledgementPermitted,
            etherparse::TcpOptionElement::Timestamp(11, 22),
        ])
        .unwrap();
    let mut f = Vec::new();
    b.write(&mut f, &[]).unwrap();
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    let Transport::Tcp(t) = p.transport else {
        panic!()
    };
    assert_eq!(t.options.mss, Some(1460));
    assert_eq!(t.options.window_scale, Some(7));
    assert!(t.options.sack_permitted);
    assert_eq!(t.options.timestamp, Some((11, 22)));
    assert!(t.options.present);
}

#[test]
fn unknown_tcp_options_are_skipped_and_bad_lengths_flagged() {
    let mut f = tcp_frame(b"");
    // data offset 10: 20 bytes of options: MD5 (kind 19, len 18), NOP, NOP
    let mut opts = vec![19, 18];
    opts.extend_from_slice(&[0xab; 16]);
    opts.extend_from_slice(&[1, 1]);
    let ip_len = 20 + 20 + opts.len();
    f.splice(14 + 40..14 + 40, opts.iter().copied());
    f[14 + 2..14 + 4].copy_from_slice(&(ip_len as u16).to_be_bytes());
    f[14 + 20 + 12] = 10 << 4;
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
    let Transport::Tcp(t) = p.transport else {
        panic!()
    };
    assert_eq!(t.header_len, 40);
    assert!(t.options.present);
    // an MSS option claiming length 9 is impossible
    f[14 + 40..14 + 42].copy_from_slice(&[2, 9]);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert!(p.anomalies.contains(Anomaly::TcpBadOption));
}

#[test]
fn ethernet_padding_is_excluded_from_payload() {
    // 20 + 8 + 2 bytes of IP in a 60-byte minimum frame.
    let b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([1, 1, 1, 1], [2, 2, 2, 2], 9)
        .udp(5, 6);
    let mut f = Vec::new();
    b.write(&mut f, b"hi").unwrap();
    f.resize(60, 0);
    let p = decode(LinkType::ETHERNET, &f, 60);
    let Transport::Udp(u) = p.transport else {
        panic!()
    };
    assert_eq!(u.payload, b"hi");
    assert_eq!(p.ip.unwrap().bytes.len(), 30);
}

#[test]
fn qinq_8021ad_and_vlan_id_is_the_inner_tag() {
    let ip = ip_of(&tcp_frame(b""));
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x88, 0xa8, 0x00, 0x64]); // 802.1ad S-tag VID 100
    f.extend_from_slice(&[0x81, 0x00, 0x20, 0xc8]); // C-tag PCP 1, VID 200
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&ip);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert_eq!(p.vlan_id, Some(200));
    assert_eq!(p.vlan_depth, 2);
    assert!(matches!(p.transport, Transport::Tcp(_)));
}

#[test]
fn mpls_stack_to_ipv4_and_pseudowire() {
    let ip = ip_of(&tcp_frame(b""));
    let mut payload = vec![0, 0x01, 0x00, 0x40, 0, 0x02, 0x01, 0x40]; // two labels, S on 2nd
    payload.extend_from_slice(&ip);
    let f = ethernet(0x8847, &payload);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert_eq!(p.mpls_depth, 2);
    assert!(matches!(p.transport, Transport::Tcp(_)));

    // control word (first nibble 0) then an Ethernet frame
    let mut pw = vec![0, 0x01, 0x01, 0x40, 0, 0, 0, 0];
    pw.extend_from_slice(&tcp_frame(b"x"));
    let f = ethernet(0x8847, &pw);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert!(matches!(p.transport, Transport::Tcp(_)));
}

#[test]
fn pppoe_session() {
    let ip = ip_of(&tcp_frame(b""));
    let mut s = vec![0x11, 0, 0x12, 0x34];
    s.extend_from_slice(&((ip.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(&[0x00, 0x21]);
    s.extend_from_slice(&ip);
    let f = ethernet(0x8864, &s);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert!(p.layers.contains(Layer::Pppoe));
    assert!(matches!(p.transport, Transport::Tcp(_)));
}

#[test]
fn bsd_null_and_loop_in_both_byte_orders() {
    let ip = ip_of(&tcp_frame(b""));
    for hdr in [[2u8, 0, 0, 0], [0, 0, 0, 2], [30, 0, 0, 0]] {
        let mut f = hdr.to_vec();
        f.extend_from_slice(&ip);
        for lt in [LinkType::NULL, LinkType::LOOP] {
            let p = decode(lt, &f, f.len() as u32);
            if hdr[0] == 30 {
                // AF_INET6 on Darwin in front of IPv4 bytes: version mismatch
                assert!(p.anomalies.contains(Anomaly::Ipv6BadVersion));
            } else {
                assert!(matches!(p.transport, Transport::Tcp(_)), "{hdr:?} {lt:?}");
            }
        }
    }
}

#[test]
fn raw_ip_linktypes() {
    let ip = ip_of(&tcp_frame(b""));
    for lt in [
        LinkType::RAW,
        LinkType::RAW_BSD12,
        LinkType::RAW_BSD14,
        LinkType::IPV4,
    ] {
        let p = decode(lt, &ip, ip.len() as u32);
        assert!(matches!(p.transport, Transport::Tcp(_)), "{lt:?}");
    }
}

#[test]
fn linux_sll_and_sll2() {
    let ip = ip_of(&tcp_frame(b""));
    let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&ip);
    let p = decode(LinkType::LINUX_SLL, &sll, sll.len() as u32);
    assert!(p.layers.contains(Layer::Sll));
    assert!(matches!(p.transport, Transport::Tcp(_)));
    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
    ];
    sll2.extend_from_slice(&ip);
    let p = decode(LinkType::LINUX_SLL2, &sll2, sll2.len() as u32);
    assert!(p.layers.contains(Layer::Sll2));
    assert!(matches!(p.transport, Transport::Tcp(_)));
}

#[test]
fn nflog_walks_tlvs_to_the_payload() {
    let ip = ip_of(&tcp_frame(b"abc"));
    let mut f = vec![2, 0, 0, 0];
    // a prefix TLV (type 10) carrying 4 bytes, then the payload TLV (type 9)
    f.extend_from_slice(&8u16.to_le_bytes());
    f.extend_from_slice(&10u16.to_le_bytes());
    f.extend_from_slice(b"xyzw");
    f.extend_from_slice(&((ip.len() + 4) as u16).to_le_bytes());
    f.extend_from_slice(&9u16.to_le_bytes());
    f.extend_from_slice(&ip);
    let p = decode(LinkType::NFLOG, &f, f.len() as u32);
    assert!(p.layers.contains(Layer::Nflog));
    let Transport::Tcp(t) = p.transport else {
        panic!("{:?}", p.anomalies)
    };
    assert_eq!(t.payload, b"abc");
}

#[test]
fn ipv6_extension_chain_to_udp() {
    let b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv6([0xfe; 16], [0xfd; 16], 33)
        .udp(53, 5353);
    let mut f = Vec::new();
    b.write(&mut f, b"q").unwrap();
    // insert a hop-by-hop (8 bytes) and a destination-options header (8)
    let mut ip = f[14..].to_vec();
    let udp = ip.split_off(40);
    ip[6] = 0;
    let plen = (udp.len() + 16) as u16;
    ip[4..6].copy_from_slice(&plen.to_be_bytes());
    ip.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
    ip.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]);
    ip.extend_from_slice(&udp);
    let f = ethernet(0x86dd, &ip);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    let h = p.ip.unwrap();
    assert_eq!(h.protocol, 17);
    assert_eq!(h.header_len, 56);
    assert_eq!(h.total_len, 40 + u32::from(plen));
    assert_eq!(h.ttl, 33);
    let Transport::Udp(u) = p.transport else {
        panic!()
    };
    assert_eq!((u.src_port, u.dst_port, u.payload), (53, 5353, &b"q"[..]));
}

#[test]
fn ipv4_total_len_below_header_never_gives_negative_payload() {
    let mut f = tcp_frame(b"data");
    f[14 + 2..14 + 4].copy_from_slice(&10u16.to_be_bytes());
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert!(p.anomalies.contains(Anomaly::Ipv4TotalLenBelowHeader));
    assert_eq!(p.ip.unwrap().total_len, 10);
    let Transport::Tcp(t) = p.transport else {
        panic!()
    };
    assert_eq!(t.payload, b"data");
}

#[test]
fn ipv4_total_len_beyond_frame_is_an_anomaly_unless_snapped() {
    let mut f = tcp_frame(b"data");
    f[14 + 2..14 + 4].copy_from_slice(&1500u16.to_be_bytes());
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert!(p.anomalies.contains(Anomaly::Ipv4TotalLenExceedsFrame));
    assert!(!p.truncated);
    let p = decode(LinkType::ETHERNET, &f, 1514);
    assert!(p.anomalies.is_empty());
    assert!(p.truncated);
    assert_eq!(p.ip.unwrap().total_len, 1500);
}

#[test]
fn snapped_tcp_header_keeps_ports() {
    let f = tcp_frame(b"payload");
    let cut = &f[..14 + 20 + 20];
    let p = decode(LinkType::ETHERNET, cut, f.len() as u32);
    assert!(p.truncated);
    assert!(p.anomalies.is_empty());
    let Transport::Tcp(t) = p.transport else {
        panic!()
    };
    assert_eq!((t.src_port, t.dst_port, t.payload.len()), (1234, 443, 0));
    // fewer than the fixed 20 bytes: no TCP at all
    let p = decode(LinkType::ETHERNET, &f[..14 + 20 + 16], f.len() as u32);
    assert!(p.anomalies.contains(Anomaly::TruncatedTcp));
    assert!(matches!(p.transport, Transport::None));
    // options cut: data offset claims more than present
    let b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(1, 2, 3, 4)
        .options(&[etherparse::TcpOptionElement::Timestamp(1, 2)])
        .unwrap();
    let mut f = Vec::new();
    b.write(&mut f, &[]).unwrap();
    let p = decode(LinkType::ETHERNET, &f[..14 + 20 + 22], f.len() as u32);
    assert!(p.anomalies.contains(Anomaly::TruncatedTcp));
    assert!(matches!(p.transport, Transport::Tcp(t) if t.src_port == 1 && t.payload.is_empty()));
}

#[test]
fn every_prefix_of_a_frame_decodes_without_panic() {
    let f = gre_wrap(
        [1, 1, 1, 1],
        [2, 2, 2, 2],
        &ip_of(&tcp_frame(b"0123456789")),
    );
    for n in 0..=f.len() {
        let p = decode(LinkType::ETHERNET, &f[..n], f.len() as u32);
        if n < f.len() && n > 0 {
            assert!(
                p.truncated || p.transport.ports().is_some() || !p.anomalies.is_empty(),
                "prefix {n}"
            );
        }
    }
}

#[test]
fn gre_tunnel_keeps_outer_addresses() {
    let inner = ip_of(&tcp_frame(b""));
    let f = gre_wrap([203, 0, 113, 1], [203, 0, 113, 2], &inner);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    let t = p.tunnel.unwrap();
    assert_eq!(t.kind, TunnelKind::Gre);
    assert_eq!(t.outer_src, "203.0.113.1".parse::<IpAddr>().unwrap());
    assert_eq!(p.ip.unwrap().src, "10.0.0.1".parse::<IpAddr>().unwrap());
    assert!(matches!(p.transport, Transport::Tcp(_)));
}

fn udp_wrap(dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([172, 16, 0, 1], [172, 16, 0, 2], 64)
        .udp(40000, dport);
    let mut f = Vec::new();
    b.write(&mut f, payload).unwrap();
    f
}

#[test]
fn vxlan_geneve_gtpu_and_gre_in_udp() {
    let inner_frame = tcp_frame(b"in");
    let inner_ip = ip_of(&inner_frame);
    // VXLAN, VNI 5000
    let mut vx = vec![0x08, 0, 0, 0, 0x00, 0x13, 0x88, 0];
    vx.extend_from_slice(&inner_frame);
    let f = udp_wrap(4789, &vx);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert_eq!(
        p.tunnel.map(|t| (t.kind, t.id)),
        Some((TunnelKind::Vxlan, 5000))
    );
    assert!(matches!(p.transport, Transport::Tcp(t) if t.dst_port == 443));
    // Geneve with 4 bytes of options, IPv4 protocol
    let mut gv = vec![0x01, 0, 0x08, 0x00, 0, 0, 7, 0, 1, 2, 3, 4];
    gv.extend_from_slice(&inner_ip);
    let f = udp_wrap(6081, &gv);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert_eq!(
        p.tunnel.map(|t| (t.kind, t.id)),
        Some((TunnelKind::Geneve, 7))
    );
    assert!(matches!(p.transport, Transport::Tcp(_)));
    // GTP-U G-PDU, TEID 0x01020304
    let mut gt = vec![0x30, 0xff];
    gt.extend_from_slice(&(inner_ip.len() as u16).to_be_bytes());
    gt.extend_from_slice(&[1, 2, 3, 4]);
    gt.extend_from_slice(&inner_ip);
    let f = udp_wrap(2152, &gt);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert_eq!(
        p.tunnel.map(|t| (t.kind, t.id)),
        Some((TunnelKind::Gtpu, 0x0102_0304))
    );
    assert!(matches!(p.transport, Transport::Tcp(_)));
    // GRE in UDP (RFC 8086)
    let mut gu = vec![0, 0, 0x08, 0x00];
    gu.extend_from_slice(&inner_ip);
    let f = udp_wrap(4754, &gu);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert_eq!(p.tunnel.map(|t| t.kind), Some(TunnelKind::Gre));
    assert!(matches!(p.transport, Transport::Tcp(_)));
    // Not VXLAN (I flag clear): stays UDP
    let f = udp_wrap(4789, &[0; 16]);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert!(p.tunnel.is_none());
    assert!(matches!(p.transport, Transport::Udp(_)));
}

#[test]
fn erspan_types() {
    let inner_frame = tcp_frame(b"");
    // type II: GRE with S flag, protocol 0x88be, 8-byte ERSPAN header, session 0x155
    let mut gre = vec![0x10, 0, 0x88, 0xbe, 0, 0, 0, 1];
    gre.extend_from_slice(&[0x10, 0x00, 0x01, 0x55, 0, 0, 0, 0]);
    gre.extend_from_slice(&inner_frame);
    let mut ip = ipv4_header(
        [1, 1, 1, 1],
        [2, 2, 2, 2],
        47,
        1,
        gre.len() as u16,
        0,
        false,
    );
    ip.extend_from_slice(&gre);
    let f = ethernet(0x0800, &ip);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert_eq!(
        p.tunnel.map(|t| (t.kind, t.id)),
        Some((TunnelKind::Erspan, 0x155))
    );
    assert!(matches!(p.transport, Transport::Tcp(_)));
    // type III with the optional subheader
    let mut gre = vec![0x10, 0, 0x22, 0xeb, 0, 0, 0, 1];
    gre.extend_from_slice(&[0x20, 0, 0x00, 0x07, 0, 0, 0, 0, 0, 0, 0, 0x01]);
    gre.extend_from_slice(&[0; 8]);
    gre.extend_from_slice(&inner_frame);
    let mut ip = ipv4_header(
        [1, 1, 1, 1],
        [2, 2, 2, 2],
        47,
        1,
        gre.len() as u16,
        0,
        false,
    );
    ip.extend_from_slice(&gre);
    let f = ethernet(0x0800, &ip);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert_eq!(
        p.tunnel.map(|t| (t.kind, t.id)),
        Some((TunnelKind::Erspan, 7))
    );
    assert!(matches!(p.transport, Transport::Tcp(_)));
}

#[test]
fn ip_in_ip_and_tunnel_depth_limit() {
    let mut ip = ip_of(&tcp_frame(b""));
    for _ in 0..3 {
        let mut outer = ipv4_header([9, 9, 9, 9], [8, 8, 8, 8], 4, 1, ip.len() as u16, 0, false);
        outer.extend_from_slice(&ip);
        ip = outer;
    }
    let p = decode(LinkType::RAW, &ip, ip.len() as u32);
    assert_eq!(p.tunnel_depth, 3);
    assert_eq!(p.tunnel.unwrap().kind, TunnelKind::IpInIp);
    assert!(matches!(p.transport, Transport::Tcp(_)));
    for _ in 0..10 {
        let mut outer = ipv4_header([9, 9, 9, 9], [8, 8, 8, 8], 4, 1, ip.len() as u16, 0, false);
        outer.extend_from_slice(&ip);
        ip = outer;
    }
    let p = decode(LinkType::RAW, &ip, ip.len() as u32);
    assert!(p.anomalies.contains(Anomaly::TunnelTooDeep));
}

#[test]
fn unknown_linktype_is_counted_not_fatal() {
    let p = decode(LinkType(147), &[1, 2, 3], 3);
    assert!(p.anomalies.contains(Anomaly::UnknownLinktype));
    assert!(p.ip.is_none());
}

#[test]
fn fragments_are_not_transport_decoded() {
    let frames = crate::sample::fragmented_udp([1, 2, 3, 4], [5, 6, 7, 8], 9, 3000, 1480).unwrap();
    assert_eq!(frames.len(), 3);
    for f in &frames {
        let p = decode(LinkType::ETHERNET, f, f.len() as u32);
        assert!(p.is_fragment());
        assert!(p.ip.unwrap().fragment.is_some());
    }
}

#[test]
fn vxlan_gpe_and_geneve_from_its_port() {
    // VXLAN-GPE, I and P flags, next protocol IPv4 (1), VNI 7.
    let inner_ip = ip_of(&tcp_frame(b"in"));
    let mut gpe = vec![0x0c, 0, 0, 1, 0, 0, 7, 0];
    gpe.extend_from_slice(&inner_ip);
    let f = udp_wrap(4790, &gpe);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert_eq!(
        p.tunnel.map(|t| (t.kind, t.id)),
        Some((TunnelKind::Vxlan, 7))
    );
    assert!(matches!(p.transport, Transport::Tcp(t) if t.dst_port == 443));
    // Geneve answered from its port (source 6081, destination 40000).
    let mut gv = vec![0, 0, 0x08, 0x00, 0, 0, 9, 0];
    gv.extend_from_slice(&inner_ip);
    let b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([172, 16, 0, 1], [172, 16, 0, 2], 64)
        .udp(6081, 40000);
    let mut f = Vec::new();
    b.write(&mut f, &gv).unwrap();
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert_eq!(
        p.tunnel.map(|t| (t.kind, t.id)),
        Some((TunnelKind::Geneve, 9))
    );
    // NSH (4) is not decoded: the datagram stays outer UDP.
    let mut nsh = gpe.clone();
    nsh[3] = 4;
    let f = udp_wrap(4790, &nsh);
    let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
    assert!(p.tunnel.is_none());
}
