//! Flow tracking + all sequences + all statistics on one core (criterion):
//! decode, reassembly and the flow table over a whole capture, flows ended
//! and dropped as they close.
//!
//! Input: `WA1KPCAP_BENCH_PCAP` (default `/tmp/corpus-big.pcap`, from
//! `../shared/tools/make_big.sh`); without it, the built-in sample repeated.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wa1kpcap::capture::writer::PcapWriter;
use wa1kpcap::capture::{Capture, LinkType, SlicePackets};
use wa1kpcap::Analyzer;

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
    for round in 0..20_000i64 {
        for (ts, f) in &frames {
            w.write(ts + round * 1_000_000_000, f, f.len() as u32)
                .expect("write");
        }
    }
    (
        "generated sample x 20000".to_string(),
        Capture::from_bytes(w.into_inner()).expect("sample"),
    )
}

fn bench(c: &mut Criterion) {
    let (name, capture) = input();
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
