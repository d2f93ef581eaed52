//! Property tests: packets built from random fields decode back to those
//! fields, at any snap length, behind any VLAN stack and tunnel; any order
//! of fragments reassembles to the original datagram.

use std::net::IpAddr;

use etherparse::PacketBuilder;
use proptest::prelude::*;
use wa1kpcap::capture::LinkType;
use wa1kpcap::decode::defrag::{Defragmenter, FragmentOutcome};
use wa1kpcap::decode::{decode, decode_ip, Transport};
use wa1kpcap::sample::{ethernet, fragmented_udp, gre_wrap};

#[derive(Debug, Clone)]
struct Spec {
    v6: bool,
    src: [u8; 16],
    dst: [u8; 16],
    tcp: bool,
    sport: u16,
    dport: u16,
    seq: u32,
    window: u16,
    payload: Vec<u8>,
    vlans: Vec<u16>,
    gre: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        any::<bool>(),
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        any::<bool>(),
        any::<u16>(),
        any::<u16>(),
        any::<u32>(),
        any::<u16>(),
        proptest::collection::vec(any::<u8>(), 0..300),
        proptest::collection::vec(0u16..4096, 0..3),
        any::<bool>(),
    )
        .prop_map(
            |(v6, src, dst, tcp, sport, dport, seq, window, payload, vlans, gre)| Spec {
                v6,
                src,
                dst,
                tcp,
                // keep clear of tunnel ports, which are decapsulated by design
                sport: if [4789, 8472, 6081, 2152, 4754].contains(&sport) {
                    1
                } else {
                    sport
                },
                dport: if [4789, 8472, 6081, 2152, 4754].contains(&dport) {
                    1
                } else {
                    dport
                },
                seq,
                window,
                payload,
                vlans,
                gre: gre && !v6,
            },
        )
}

fn ip_packet(s: &Spec) -> Vec<u8> {
    let mut out = Vec::new();
    let src4 = [s.src[0], s.src[1], s.src[2], s.src[3]];
    let dst4 = [s.dst[0], s.dst[1], s.dst[2], s.dst[3]];
    match (s.v6, s.tcp) {
        (false, true) => PacketBuilder::ipv4(src4, dst4, 64)
            .tcp(s.sport, s.dport, s.seq, s.window)
            .write(&mut out, &s.payload),
        (false, false) => PacketBuilder::ipv4(src4, dst4, 64)
            .udp(s.sport, s.dport)
            .write(&mut out, &s.payload),
        (true, true) => PacketBuilder::ipv6(s.src, s.dst, 64)
            .tcp(s.sport, s.dport, s.seq, s.window)
            .write(&mut out, &s.payload),
        (true, false) => PacketBuilder::ipv6(s.src, s.dst, 64)
            .udp(s.sport, s.dport)
            .write(&mut out, &s.payload),
    }
    .unwrap();
    out
}

fn frame(s: &Spec) -> Vec<u8> {
    let ip = ip_packet(s);
    if s.gre {
        return gre_wrap([198, 51, 100, 1], [198, 51, 100, 2], &ip);
    }
    let mut l2 = Vec::new();
    for v in &s.vlans {
        l2.extend_from_slice(&v.to_be_bytes());
        l2.extend_from_slice(&[0, 0]); // next EtherType, patched below
    }
    let et: u16 = if s.v6 { 0x86dd } else { 0x0800 };
    let n = s.vlans.len();
    for i in 0..n {
        let next = if i + 1 < n { 0x8100u16 } else { et };
        l2[i * 4 + 2..i * 4 + 4].copy_from_slice(&next.to_be_bytes());
    }
    l2.extend_from_slice(&ip);
    ethernet(if n > 0 { 0x8100 } else { et }, &l2)
}

proptest! {
    #[test]
    fn built_packets_decode_to_their_fields(s in spec()) {
        let f = frame(&s);
        let p = decode(LinkType::ETHERNET, &f, f.len() as u32);
        prop_assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        prop_assert!(!p.truncated);
        let ip = p.ip.expect("ip");
        let (src, dst): (IpAddr, IpAddr) = if s.v6 {
            (s.src.into(), s.dst.into())
        } else {
            ([s.src[0], s.src[1], s.src[2], s.src[3]].into(), [s.dst[0], s.dst[1], s.dst[2], s.dst[3]].into())
        };
        prop_assert_eq!((ip.src, ip.dst), (src, dst));
        prop_assert_eq!(p.vlan_id, if s.gre { None } else { s.vlans.last().copied() });
        prop_assert_eq!(p.tunnel.is_some(), s.gre);
        match p.transport {
            Transport::Tcp(t) => {
                prop_assert!(s.tcp);
                prop_assert_eq!((t.src_port, t.dst_port, t.seq, t.window), (s.sport, s.dport, s.seq, s.window));
                prop_assert_eq!(t.payload, &s.payload[..]);
            }
            Transport::Udp(u) => {
                prop_assert!(!s.tcp);
                prop_assert_eq!((u.src_port, u.dst_port), (s.sport, s.dport));
                prop_assert_eq!(usize::from(u.length), 8 + s.payload.len());
                prop_assert_eq!(u.payload, &s.payload[..]);
            }
            other => prop_assert!(false, "unexpected transport {:?}", other),
        }
    }

    #[test]
    fn any_snap_length_keeps_a_prefix_of_the_truth(s in spec(), cut in 0usize..400) {
        let f = frame(&s);
        let cut = cut.min(f.len());
        let p = decode(LinkType::ETHERNET, &f[..cut], f.len() as u32);
        let full = decode(LinkType::ETHERNET, &f, f.len() as u32);
        // whatever decoded agrees with the full decode
        // whatever IP header decoded is the full packet's inner one, or,
        // when the capture ends inside the tunnel, its outer one
        if let (Some(a), Some(b)) = (p.ip, full.ip) {
            let outer = full.tunnel.map(|t| (t.outer_src, t.outer_dst));
            prop_assert!((a.src, a.dst) == (b.src, b.dst) || Some((a.src, a.dst)) == outer);
            if (a.src, a.dst) == (b.src, b.dst) {
                prop_assert_eq!(a.total_len, b.total_len);
            }
        }
        if let (Some(a), Some(b)) = (p.transport.ports(), full.transport.ports()) {
            prop_assert_eq!(a, b);
        }
        if cut < f.len() {
            prop_assert!(p.truncated || !p.anomalies.is_empty() || p.transport.ports().is_some(),
                "cut {} of {} lost silently", cut, f.len());
        }
    }

    #[test]
    fn fragments_in_any_order_reassemble(size in 1usize..6000, mtu_units in 1usize..185, seed in any::<u64>()) {
        let frames = fragmented_udp([10, 0, 0, 1], [10, 0, 0, 2], 77, size, mtu_units * 8).unwrap();
        let mut order: Vec<usize> = (0..frames.len()).collect();
        // deterministic shuffle from the seed
        let mut x = seed | 1;
        for i in (1..order.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut d = Defragmenter::default();
        let mut done = None;
        for (k, &i) in order.iter().enumerate() {
            let p = decode(LinkType::ETHERNET, &frames[i], frames[i].len() as u32);
            let ip = p.ip.expect("ip");
            if frames.len() == 1 {
                prop_assert!(!p.is_fragment());
                return Ok(());
            }
            match d.push(0, &ip, frames[i].len() as u32) {
                FragmentOutcome::Complete(r) => { prop_assert_eq!(k, order.len() - 1); done = Some(r); }
                FragmentOutcome::Pending => {}
                FragmentOutcome::Dropped(a) => prop_assert!(false, "dropped: {:?}", a),
            }
        }
        let r = done.expect("complete");
        let p = decode_ip(&r.bytes);
        let Transport::Udp(u) = p.transport else { return Err(TestCaseError::fail("no udp")) };
        prop_assert_eq!(u.payload.len(), size);
        prop_assert!(u.payload.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    }
}
