//! Captures that change while they are read: truncated (the mapped pages
//! vanish: no fault, no phantom packet), grown (read up to the size at
//! open), rewritten in place (reported). Files written by our own writers.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use wa1kpcap::capture::writer::{PcapNgWriter, PcapWriter};
use wa1kpcap::capture::{Capture, CaptureError, LinkType};

const T0: i64 = 1_700_000_000_000_000_000;
const PACKETS: usize = 20_000;

/// Frame `i`: 120–375 bytes, every byte `i % 251 + 1` (never zero, so a
/// zeroed page read as a packet would show).
fn frame(i: usize) -> Vec<u8> {
    vec![(i % 251 + 1) as u8; 120 + i % 256]
}

fn write_capture(path: &Path, ng: bool, packets: usize) {
    let mut out = Vec::new();
    if ng {
        let mut w = PcapNgWriter::new(&mut out, false).unwrap();
        w.interface(LinkType::ETHERNET, 65535, 9, 0).unwrap();
        for i in 0..packets {
            let f = frame(i);
            w.packet(0, (T0 + i as i64) as u64, &f, f.len() as u32)
                .unwrap();
        }
    } else {
        let mut w = PcapWriter::new(&mut out, LinkType::ETHERNET, 65535).unwrap();
        for i in 0..packets {
            let f = frame(i);
            w.write(T0 + i as i64 * 1000, &f, f.len() as u32).unwrap();
        }
    }
    std::fs::write(path, out).unwrap();
}

/// Read `path`, calling `at(n)` after the n-th packet; (packets, error).
fn read_with(path: &Path, mut at: impl FnMut(usize)) -> (Vec<Vec<u8>>, Option<CaptureError>) {
    let mut cap = Capture::open(path).unwrap();
    let mut got = Vec::new();
    let out = cap
        .for_each_packet(|p| {
            got.push(p.data.to_vec());
            at(got.len());
        })
        .unwrap();
    assert_eq!(
        out.packets as usize,
        got.len(),
        "outcome counts what was delivered"
    );
    (got, out.error)
}

fn assert_real(got: &[Vec<u8>]) {
    for (i, p) in got.iter().enumerate() {
        assert_eq!(p, &frame(i), "packet {i} is not the one written");
    }
}

#[test]
fn truncated_while_read_stops_at_the_cut_without_phantoms() {
    let dir = tempfile::tempdir().unwrap();
    for ng in [false, true] {
        let path = dir.path().join(if ng { "t.pcapng" } else { "t.pcap" });
        write_capture(&path, ng, PACKETS);
        let full = std::fs::metadata(&path).unwrap().len();
        for cut in [1 << 20, 1_000_003, full / 2 + 7, 4096 + 13, 100] {
            write_capture(&path, ng, PACKETS);
            let (got, err) = read_with(&path, |n| {
                if n == 10 {
                    let f = OpenOptions::new().write(true).open(&path).unwrap();
                    f.set_len(cut).unwrap();
                }
            });
            let err = err.expect("a truncation is reported");
            assert_eq!(err.kind(), "changed_while_read", "{err}");
            match err {
                CaptureError::Changed { was, now, .. } => {
                    assert_eq!((was, now), (full, cut));
                }
                e => panic!("{e}"),
            }
            // Exactly the records a file cut there beforehand yields (or
            // the ten read before the cut).
            let fit = {
                let copy = dir.path().join("cut");
                write_capture(&copy, ng, PACKETS);
                OpenOptions::new()
                    .write(true)
                    .open(&copy)
                    .unwrap()
                    .set_len(cut)
                    .unwrap();
                match Capture::open(&copy) {
                    Ok(mut c) => c.for_each_packet(|_| {}).map_or(0, |o| o.packets as usize),
                    Err(_) => 0,
                }
            };
            // The record straddling a cut just ahead of the reader may come
            // through with its tail zeroed (guard.rs): real up to the cut.
            let n = got.len();
            assert!(
                n == fit.max(10) || n == fit + 1,
                "ng={ng} cut={cut}: {n} of {fit}"
            );
            if n == fit + 1 && n > 10 {
                let (last, real) = (&got[n - 1], frame(n - 1));
                assert_eq!(last.len(), real.len());
                let kept = last.iter().zip(&real).take_while(|(a, b)| a == b).count();
                assert!(last[kept..].iter().all(|&b| b == 0), "ng={ng} cut={cut}");
                assert_real(&got[..n - 1]);
            } else {
                assert_real(&got);
            }
        }
    }
}

#[test]
fn pages_past_a_truncation_read_as_zeros_instead_of_faulting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.pcap");
    write_capture(&path, false, PACKETS);
    let cap = Capture::open(&path).unwrap();
    let bytes = cap.slice_packets().unwrap().unwrap();
    drop(bytes);
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(8192)
        .unwrap();
    let all = cap.bytes().unwrap();
    // Without the guard this read kills the process with SIGBUS.
    let tail: u64 = all[1 << 20..(1 << 20) + 65536]
        .iter()
        .map(|&b| u64::from(b))
        .sum();
    assert_eq!(tail, 0);
    assert!(all.len() > 1 << 21);
}

#[test]
fn grown_while_read_is_read_to_its_size_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.pcap");
    write_capture(&path, false, PACKETS);
    let was = std::fs::metadata(&path).unwrap().len();
    let (got, err) = read_with(&path, |n| {
        if n == 10 {
            // A capture still being written: whole records and half of one.
            let mut f = OpenOptions::new().append(true).open(&path).unwrap();
            f.write_all(&[7u8; 1000]).unwrap();
        }
    });
    assert_eq!(got.len(), PACKETS, "every packet present at open is read");
    assert_real(&got);
    match err.expect("growth is reported") {
        CaptureError::Changed {
            was: w,
            now,
            packets,
            ..
        } => {
            assert_eq!((w, now, packets), (was, was + 1000, PACKETS as u64));
        }
        e => panic!("{e}"),
    }
}

#[test]
fn rewritten_in_place_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pcap");
    write_capture(&path, false, 100);
    let (got, err) = read_with(&path, |n| {
        if n == 10 {
            let f = OpenOptions::new().write(true).open(&path).unwrap();
            f.set_modified(SystemTime::now() + Duration::from_secs(60))
                .unwrap();
        }
    });
    assert_eq!(got.len(), 100);
    assert_eq!(
        err.expect("a rewrite is reported").kind(),
        "changed_while_read"
    );
}

#[test]
fn an_unchanged_file_reads_clean() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.pcapng");
    write_capture(&path, true, PACKETS);
    let (got, err) = read_with(&path, |_| {});
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got.len(), PACKETS);
    assert_real(&got);
}
