//! Flow tracking + all sequences + all statistics on one core (criterion):
//! decode, reassembly and the flow table over a whole capture, flows ended
//! and dropped as they close.
//!
//! Input: `WA1KPCAP_BENCH_PCAP` (default `/tmp/corpus-big.pcap`, from
//! `../shared/tools/make_big.sh`); without it, the built-in sample repeated.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod common;
use wa1kpcap::capture::SlicePackets;
use wa1kpcap::Analyzer;

fn bench(c: &mut Criterion) {
    let (name, capture) = common::input(64 << 20);
    let bytes = capture.bytes().expect("in-memory capture");
    let packets = SlicePackets::new(bytes).expect("header").count() as u64;
    eprintln!("bench input: {name}: {packets} packets");
    let mut g = c.benchmark_group("flow");
    g.sample_size(10);
    g.throughput(Throughput::Elements(packets));
    for (name, analyzer) in [
        ("decode+flows+sequences+stats", Analyzer::new()),
        (
            "decode+flows+sequences (no stats)",
            Analyzer::new().compute_statistics(false),
        ),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut engine = analyzer.engine();
                let mut flows = 0u64;
                let mut sink = |f: wa1kpcap::Flow| {
                    flows += 1;
                    black_box(f.stats.pkt.all.mean);
                };
                for p in SlicePackets::new(bytes).expect("header") {
                    engine.packet(&p, &mut sink);
                }
                let summary = engine.finish(&mut sink);
                black_box((flows, summary.flows))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
