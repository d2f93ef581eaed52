//! Capture readers over files written by our own writers: every format
//! variant, compression, lying extensions and each kind of damage.

use std::io::Write;

use wa1kpcap::capture::writer::{PcapNgWriter, PcapWriter};
use wa1kpcap::capture::{Capture, CaptureError, CaptureFormat, Compression, LinkType};

const T0: i64 = 1_700_000_000_123_456_789;

fn frames() -> Vec<Vec<u8>> {
    (0..5u8).map(|i| vec![i; 60 + usize::from(i)]).collect()
}

/// (timestamp ns, wire length, bytes, link type) of each packet.
type Packets = Vec<(i64, u32, Vec<u8>, LinkType)>;

fn read_all(bytes: Vec<u8>) -> (Packets, wa1kpcap::capture::ReadOutcome) {
    let mut c = Capture::from_bytes(bytes).expect("header");
    let mut got = Vec::new();
    let out = c
        .for_each_packet(|p| got.push((p.ts_ns, p.wire_len, p.data.to_vec(), p.linktype)))
        .expect("read");
    (got, out)
}

#[test]
fn classic_pcap_all_magics() {
    for (nanos, be) in [(false, false), (false, true), (true, false), (true, true)] {
        let mut w =
            PcapWriter::with_options(Vec::new(), LinkType::ETHERNET, 65535, nanos, be).unwrap();
        for (i, f) in frames().iter().enumerate() {
            w.write(T0 + i as i64 * 1_000, f, f.len() as u32 + 10)
                .unwrap();
        }
        let (got, out) = read_all(w.into_inner());
        assert!(out.error.is_none());
        assert_eq!(
            out.format,
            if nanos {
                CaptureFormat::PcapNs
            } else {
                CaptureFormat::Pcap
            }
        );
        assert_eq!(out.ts_digits, if nanos { 9 } else { 6 });
        assert_eq!(got.len(), 5);
        for (i, (ts, wire, data, lt)) in got.iter().enumerate() {
            let exact = T0 + i as i64 * 1_000;
            let expect = if nanos { exact } else { exact - exact % 1_000 };
            assert_eq!(*ts, expect, "nanos={nanos} be={be}");
            assert_eq!(*wire as usize, data.len() + 10);
            assert_eq!(data, &frames()[i]);
            assert_eq!(*lt, LinkType::ETHERNET);
        }
    }
}

#[test]
fn pcapng_sections_interfaces_and_resolutions() {
    let mut w = PcapNgWriter::new(Vec::new(), false).unwrap();
    w.interface(LinkType::ETHERNET, 0, 6, 0).unwrap(); // µs
    w.interface(LinkType::RAW, 0, 9, 0).unwrap(); // ns
    w.interface(LinkType::LINUX_SLL, 0, 0x80 | 10, 100).unwrap(); // 2^-10 s, offset 100 s
    w.packet(0, 1_700_000_000_000_001, b"aaaa", 4).unwrap();
    w.packet(1, 1_700_000_000_000_000_001, b"bbbb", 8).unwrap();
    w.packet(2, 2048, b"cc", 2).unwrap();
    w.opaque_block(5, &[0; 8]).unwrap(); // interface statistics: skipped
                                         // A second, big-endian section: interface numbering restarts.
    w.section(true).unwrap();
    w.interface(LinkType::NULL, 0, 3, 0).unwrap(); // ms
    w.packet(0, 1_500, b"dd", 2).unwrap();
    w.simple_packet(b"eeeeee", 6).unwrap();
    let (got, out) = read_all(w.into_inner());
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.format, CaptureFormat::PcapNg);
    assert_eq!(out.ts_digits, 9);
    let ts: Vec<i64> = got.iter().map(|g| g.0).collect();
    assert_eq!(
        ts,
        vec![
            1_700_000_000_000_001_000,
            1_700_000_000_000_000_001,
            102_000_000_000,
            1_500_000_000,
            0
        ]
    );
    let lts: Vec<u16> = got.iter().map(|g| g.3 .0).collect();
    assert_eq!(lts, vec![1, 101, 113, 0, 0]);
    assert_eq!(got[1].1, 8);
    assert_eq!(got[4].2, b"eeeeee");
    assert_eq!(
        out.linktypes,
        vec![LinkType(1), LinkType(101), LinkType(113), LinkType(0)]
    );
}

#[test]
fn compressed_captures_are_streamed() {
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).unwrap();
    for i in 0..2000u32 {
        let f = vec![(i % 256) as u8; 100 + (i % 1400) as usize];
        w.write(T0 + i64::from(i), &f, f.len() as u32).unwrap();
    }
    let plain = w.into_inner();
    let (plain_pkts, _) = read_all(plain.clone());

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let zs = zstd::encode_all(&plain[..], 3).unwrap();
    for (bytes, kind) in [(gz, Compression::Gzip), (zs, Compression::Zstd)] {
        let (got, out) = read_all(bytes.clone());
        assert_eq!(out.compression, kind);
        assert!(out.error.is_none());
        assert_eq!(got, plain_pkts);
        // a reader that breaks stops there (Ctrl-C): the stream is not read on
        let mut c = Capture::from_bytes(bytes).unwrap();
        let mut seen = 0u32;
        let out = c
            .try_for_each_packet(|_| {
                seen += 1;
                if seen == 3 {
                    std::ops::ControlFlow::Break(())
                } else {
                    std::ops::ControlFlow::Continue(())
                }
            })
            .unwrap();
        assert_eq!((seen, out.packets), (3, 3));
    }
}

#[test]
fn truncated_compressed_tail_reports_packets_before_it() {
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).unwrap();
    for f in frames() {
        w.write(T0, &f, f.len() as u32).unwrap();
    }
    let mut plain = w.into_inner();
    plain.truncate(plain.len() - 10);
    let zs = zstd::encode_all(&plain[..], 3).unwrap();
    let (got, out) = read_all(zs);
    assert_eq!(got.len(), 4);
    assert!(matches!(
        out.error,
        Some(CaptureError::RecordTruncated { packets: 4, .. })
    ));
}

#[test]
fn file_whose_extension_lies_is_read_by_magic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("really-classic.pcapng");
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).unwrap();
    w.write(T0, b"abc", 3).unwrap();
    std::fs::write(&path, w.into_inner()).unwrap();
    let mut c = Capture::open(&path).unwrap();
    let out = c.for_each_packet(|_| {}).unwrap();
    assert_eq!(out.format, CaptureFormat::Pcap);
    assert_eq!(out.packets, 1);
}

#[test]
fn damaged_files_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(Capture::open(&empty), Err(CaptureError::Empty)));

    let text = Capture::from_bytes(b"GET / HTTP/1.1\r\n\r\n".to_vec())
        .unwrap()
        .for_each_packet(|_| {});
    assert!(matches!(text, Err(CaptureError::NotACapture { .. })));

    let short = Capture::from_bytes(vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0])
        .unwrap()
        .for_each_packet(|_| {});
    assert!(matches!(
        short,
        Err(CaptureError::HeaderTruncated { have: 8, need: 24 })
    ));

    // cut inside the second record's header
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).unwrap();
    w.write(T0, b"0123456789", 10).unwrap();
    w.write(T0, b"0123456789", 10).unwrap();
    let full = w.into_inner();
    let (got, out) = read_all(full[..24 + 26 + 9].to_vec());
    assert_eq!(got.len(), 1);
    assert!(matches!(
        out.error,
        Some(CaptureError::RecordTruncated {
            packets: 1,
            need: 16,
            have: 9,
            ..
        })
    ));
    assert!(out.error.as_ref().unwrap().is_partial());

    // garbage captured length
    let mut bad = full.clone();
    bad[24 + 8..24 + 12].copy_from_slice(&0xfff0_0000u32.to_le_bytes());
    let (got, out) = read_all(bad);
    assert!(got.is_empty());
    assert!(matches!(
        out.error,
        Some(CaptureError::BadRecord { packets: 0, .. })
    ));

    // pcapng with a garbage block length after one good packet
    let mut w = PcapNgWriter::new(Vec::new(), false).unwrap();
    w.interface(LinkType::ETHERNET, 0, 6, 0).unwrap();
    w.packet(0, 1, b"good", 4).unwrap();
    w.packet(0, 2, b"bad!", 4).unwrap();
    let mut ng = w.into_inner();
    let n = ng.len();
    ng[n - 36 + 4..n - 36 + 8].copy_from_slice(&7u32.to_le_bytes());
    let (got, out) = read_all(ng);
    assert_eq!(got.len(), 1);
    assert!(
        matches!(out.error, Some(CaptureError::BadRecord { packets: 1, .. })),
        "{:?}",
        out.error
    );

    // pcapng packet referring to an interface never declared
    let mut w = PcapNgWriter::new(Vec::new(), false).unwrap();
    w.interface(LinkType::ETHERNET, 0, 6, 0).unwrap();
    w.packet(3, 1, b"x", 1).unwrap();
    let (_, out) = read_all(w.into_inner());
    assert!(matches!(out.error, Some(CaptureError::BadRecord { .. })));
}

#[test]
fn a_pcapng_declaring_every_link_type_lists_each_once_in_order() {
    // 65 536 interfaces of distinct link types, then one of them again, and
    // packets on a few: each type listed once, in order of appearance.
    let mut w = PcapNgWriter::new(Vec::new(), false).unwrap();
    for lt in (0..=u16::MAX).rev() {
        w.interface(LinkType(lt), 0, 6, 0).unwrap();
    }
    w.interface(LinkType::ETHERNET, 0, 6, 0).unwrap();
    for if_id in [0u32, 65_535, 65_536, 7] {
        w.packet(if_id, 1, b"abcd", 4).unwrap();
    }
    let (got, out) = read_all(w.into_inner());
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.linktypes.len(), 65_536);
    assert!(out.linktypes.iter().rev().map(|l| l.0).eq(0..=u16::MAX));
    let lts: Vec<u16> = got.iter().map(|p| p.3 .0).collect();
    assert_eq!(lts, [u16::MAX, 0, 1, u16::MAX - 7]);
}
