//! Arbitrary datagrams, from either side, never panic the QUIC packet
//! walker, the Initial opener or the per-flow tracker, and the tracker keeps
//! its bounds: at most MAX_DATAGRAMS read, CIDs of at most 20 bytes, a
//! status of Done exactly when a ClientHello (or a Google QUIC CHLO) was parsed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::proto::quic::{
    open_client_initial, parse_packet, Packet, QuicTracker, Status, MAX_DATAGRAMS,
    MAX_SERVER_VERSIONS,
};

fuzz_target!(|data: &[u8]| {
    // Datagrams are separated by a 2-byte length prefix whose top bit
    // gives the side.
    let mut t = QuicTracker::new();
    let mut rest = data;
    let mut fed = 0u32;
    while let [hi, lo, tail @ ..] = rest {
        let n = usize::from(u16::from_be_bytes([*hi & 0x7f, *lo])).min(tail.len());
        let (datagram, next) = tail.split_at(n);
        rest = next;
        // Every packet of the datagram: each step consumes bytes.
        let mut walk = datagram;
        while !walk.is_empty() {
            let Ok((packet, after)) = parse_packet(walk) else {
                break;
            };
            assert!(after.len() < walk.len());
            if let Packet::Long(p) = packet {
                let _ = open_client_initial(&p);
            }
            walk = after;
        }
        let finished = t.is_finished();
        let status = t.datagram(datagram, *hi & 0x80 != 0);
        fed += 1;
        if finished {
            assert_eq!(status, t.status());
        }
        assert!(t.datagrams() <= MAX_DATAGRAMS.min(fed));
    }
    let info = t.info();
    assert!(info.dcid.len() <= 20 && info.scid.len() <= 20);
    assert!(info.server_versions.len() <= MAX_SERVER_VERSIONS);
    assert_eq!(
        t.status() == Status::Done,
        info.client_hello.is_some() || info.chlo.is_some()
    );
    if let Some(ch) = &info.client_hello {
        let _ = (ch.ja3_hash(), ch.ja4(true));
    }
    let _ = t.anomalies().count();
});
