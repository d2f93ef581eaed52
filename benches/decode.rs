//! Read + decode throughput on one core (criterion).
//!
//! Input: `WA1KPCAP_BENCH_PCAP` (default `/tmp/corpus-big.pcap`, built by
//! `../shared/tools/make_big.sh`); without it, the built-in sample repeated
//! to ~64 MiB so the bench always runs.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod common;
use wa1kpcap::capture::SlicePackets;
use wa1kpcap::decode::{decode, Transport};

fn bench(c: &mut Criterion) {
    let (name, capture) = common::input(64 << 20);
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
