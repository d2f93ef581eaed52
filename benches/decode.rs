//! Read + decode throughput on one core (criterion).
//!
//! Input: `WA1KPCAP_BENCH_PCAP` (default `/tmp/corpus-big.pcap`, built by
//! `../shared/tools/make_big.sh`); without it, the built-in sample repeated
//! to ~64 MiB so the bench always runs.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wa1kpcap::capture::writer::PcapWriter;
use wa1kpcap::capture::{Capture, LinkType, SlicePackets};
use wa1kpcap::decode::{decode, Transport};

fn input() -> (String, Capture) {
    let path = std::env::var_os("WA1KPCAP_BENCH_PCAP")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/corpus-big.pcap"));
    if let Ok(c) = Capture::open(&path) {
        if c.bytes().is_some() {
            return (path.display().to_string(), c);
        }
    }
    let frames = wa1kpcap::sample::sample_frames().expect("sample");
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).expect("writer");
    let mut size = 0usize;
    let mut round = 0i64;
    while size < 64 << 20 {
        for (ts, f) in &frames {
            w.write(ts + round * 1_000_000_000, f, f.len() as u32)
                .expect("write");
            size += f.len() + 16;
        }
        round += 1;
    }
    (
        "generated sample x N".to_string(),
        Capture::from_bytes(w.into_inner()).expect("sample capture"),
    )
}

fn bench(c: &mut Criterion) {
    let (name, capture) = input();
    let bytes = capture.bytes().expect("in-memory capture");
    let packets = SlicePackets::new(bytes).expect("header").count() as u64;
    eprintln!(
        "bench input: {name}: {packets} packets, {} bytes",
        bytes.len()
    );

    let mut g = c.benchmark_group("capture");
    g.sample_size(10);
    g.throughput(Throughput::Elements(packets));
    g.bench_function("read", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for p in SlicePackets::new(bytes).expect("header") {
                n += u64::from(p.wire_len);
            }
            black_box(n)
        })
    });
    g.bench_function("read+decode", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for p in SlicePackets::new(bytes).expect("header") {
                let d = decode(p.linktype, p.data, p.wire_len);
                if let Transport::Tcp(t) = d.transport {
                    n += u64::from(t.src_port);
                }
            }
            black_box(n)
        })
    });
    g.finish();
    let mut g = c.benchmark_group("capture-bytes");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("read+decode", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for p in SlicePackets::new(bytes).expect("header") {
                n += decode(p.linktype, p.data, p.wire_len).layers.iter().count() as u64;
            }
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
