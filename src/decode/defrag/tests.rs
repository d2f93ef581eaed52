//! Reassembly tests: order, overlap policy, bounds.

use super::*;
use crate::capture::LinkType;
use crate::decode::{decode, Transport};
use crate::sample::fragmented_udp;

fn push_frame(d: &mut Defragmenter, ts: i64, f: &[u8]) -> FragmentOutcome {
    let p = decode(LinkType::ETHERNET, f, f.len() as u32);
    d.push(ts, p.ip.as_ref().unwrap(), f.len() as u32)
}

fn expect_datagram(r: FragmentOutcome, size: usize) -> Reassembled {
    let FragmentOutcome::Complete(r) = r else {
        panic!("not complete: {r:?}")
    };
    let p = crate::decode::decode_ip(&r.bytes);
    assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
    let Transport::Udp(u) = p.transport else {
        panic!("no udp")
    };
    assert_eq!(usize::from(u.length), 8 + size);
    assert_eq!(u.payload.len(), size);
    assert!(u
        .payload
        .iter()
        .enumerate()
        .all(|(i, &b)| b == (i % 251) as u8));
    r
}

#[test]
fn in_order_and_reversed() {
    let frames = fragmented_udp([1, 1, 1, 1], [2, 2, 2, 2], 7, 4000, 1480).unwrap();
    let mut d = Defragmenter::default();
    let mut last = None;
    for (i, f) in frames.iter().enumerate() {
        last = Some(push_frame(&mut d, i as i64, f));
    }
    let r = expect_datagram(last.unwrap(), 4000);
    assert_eq!(r.fragments, 3);
    assert_eq!(
        r.wire_len_sum,
        frames.iter().map(|f| f.len() as u64).sum::<u64>()
    );
    assert_eq!(d.pending(), 0);

    let mut d = Defragmenter::default();
    let mut last = None;
    for f in frames.iter().rev() {
        last = Some(push_frame(&mut d, 0, f));
    }
    expect_datagram(last.unwrap(), 4000);
    assert_eq!(d.stats.reassembled, 1);
}

#[test]
fn duplicate_is_ignored() {
    let frames = fragmented_udp([1, 1, 1, 1], [2, 2, 2, 2], 7, 2000, 1480).unwrap();
    let mut d = Defragmenter::default();
    assert!(matches!(
        push_frame(&mut d, 0, &frames[0]),
        FragmentOutcome::Pending
    ));
    assert!(matches!(
        push_frame(&mut d, 0, &frames[0]),
        FragmentOutcome::Pending
    ));
    expect_datagram(push_frame(&mut d, 0, &frames[1]), 2000);
    assert_eq!(d.anomalies.get(Anomaly::FragmentDuplicate), 1);
}

#[test]
fn ipv4_overlap_first_bytes_win() {
    // fragments of 1480 and an overlapping re-send of bytes 1480..2008 with
    // different content: the first arrival wins.
    let frames = fragmented_udp([1, 1, 1, 1], [2, 2, 2, 2], 7, 2000, 1480).unwrap();
    let mut d = Defragmenter::default();
    // a bogus fragment at offset 1472 (MF=1, 16 bytes of 0xee) first
    let mut ip = crate::sample::ipv4_header([1, 1, 1, 1], [2, 2, 2, 2], 17, 7, 16, 1472 / 8, true);
    ip.extend_from_slice(&[0xee; 16]);
    let bogus = crate::sample::ethernet(0x0800, &ip);
    assert!(matches!(
        push_frame(&mut d, 0, &bogus),
        FragmentOutcome::Pending
    ));
    assert!(matches!(
        push_frame(&mut d, 0, &frames[0]),
        FragmentOutcome::Pending
    ));
    let FragmentOutcome::Complete(r) = push_frame(&mut d, 0, &frames[1]) else {
        panic!()
    };
    // the bogus piece overlaps both real fragments
    assert_eq!(d.anomalies.get(Anomaly::FragmentOverlap), 2);
    // bytes 1472..1480 of the UDP datagram come from the bogus fragment
    assert_eq!(&r.bytes[20 + 1472..20 + 1488], &[0xee; 16]);
}

#[test]
fn timeout_and_eviction_bound_the_table() {
    let frames = fragmented_udp([1, 1, 1, 1], [2, 2, 2, 2], 7, 2000, 1480).unwrap();
    let mut d = Defragmenter::default();
    push_frame(&mut d, 0, &frames[0]);
    // 31 s later the first fragment has expired
    assert!(matches!(
        push_frame(&mut d, 31_000_000_000, &frames[1]),
        FragmentOutcome::Pending
    ));
    assert_eq!(d.anomalies.get(Anomaly::FragmentTimeout), 1);

    let mut d = Defragmenter::new(DefragConfig {
        max_datagrams: 4,
        ..DefragConfig::default()
    });
    for id in 0..10u16 {
        let f = fragmented_udp([1, 1, 1, 1], [2, 2, 2, 2], id, 2000, 1480).unwrap();
        push_frame(&mut d, 0, &f[0]);
        assert!(d.pending() <= 4);
    }
    assert_eq!(d.anomalies.get(Anomaly::FragmentEvicted), 6);
    d.finish();
    assert_eq!(d.anomalies.get(Anomaly::FragmentTimeout), 4);
}

#[test]
fn oversized_datagram_is_dropped() {
    let mut ip = crate::sample::ipv4_header([1, 1, 1, 1], [2, 2, 2, 2], 17, 7, 16, 8189, false);
    ip.extend_from_slice(&[0; 16]);
    let f = crate::sample::ethernet(0x0800, &ip);
    let mut d = Defragmenter::default();
    assert!(matches!(
        push_frame(&mut d, 0, &f),
        FragmentOutcome::Dropped(Anomaly::FragmentTooLarge)
    ));
}

#[test]
fn ipv6_fragments_reassemble_and_overlap_drops() {
    // Build an IPv6 UDP datagram of 3000 payload bytes in two fragments.
    let mut udp = Vec::new();
    udp.extend_from_slice(&4000u16.to_be_bytes());
    udp.extend_from_slice(&4001u16.to_be_bytes());
    udp.extend_from_slice(&3008u16.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend((0..3000).map(|i| (i % 251) as u8));
    let frag = |off: usize, end: usize, more: bool| {
        let mut ip = vec![0x60, 0, 0, 0];
        ip.extend_from_slice(&((end - off + 8) as u16).to_be_bytes());
        ip.extend_from_slice(&[44, 64]);
        ip.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        ip.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        let fo = ((off / 8) as u16) << 3 | u16::from(more);
        ip.extend_from_slice(&[17, 0]);
        ip.extend_from_slice(&fo.to_be_bytes());
        ip.extend_from_slice(&0xabcdu32.to_be_bytes());
        ip.extend_from_slice(&udp[off..end]);
        crate::sample::ethernet(0x86dd, &ip)
    };
    let mut d = Defragmenter::default();
    assert!(matches!(
        push_frame(&mut d, 0, &frag(1448, 3008, false)),
        FragmentOutcome::Pending
    ));
    let r = expect_datagram(push_frame(&mut d, 0, &frag(0, 1448, true)), 3000);
    assert_eq!(r.bytes[6], 17);
    assert_eq!(u16::from_be_bytes([r.bytes[4], r.bytes[5]]), 3008);

    let mut d = Defragmenter::default();
    push_frame(&mut d, 0, &frag(0, 1448, true));
    let out = push_frame(&mut d, 0, &frag(1440, 3008, false));
    assert!(matches!(
        out,
        FragmentOutcome::Dropped(Anomaly::FragmentOverlap)
    ));
    assert_eq!(d.pending(), 0);
}
