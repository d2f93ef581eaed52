//! `convert` end to end (read, decode, flows, Parquet) and the flows →
//! record batch step alone. Input: `WA1KPCAP_BENCH_PCAP` (default
//! `/tmp/corpus-big.pcap` from `make_big.sh`), else generated traffic.
//! Threads: `WA1KPCAP_BENCH_THREADS` (default 1 and 2).
//!
//! `cargo bench --no-default-features --bench convert`

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wa1kpcap::convert::{convert, discover, ConvertOptions};
use wa1kpcap::sink::{flow_columns, flows_schema, flows_to_batch, FlowRow};
use wa1kpcap::Analyzer;

fn input(dir: &std::path::Path) -> PathBuf {
    let p = std::env::var_os("WA1KPCAP_BENCH_PCAP")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/corpus-big.pcap"));
    if p.exists() {
        return p;
    }
    let g = dir.join("traffic.pcap");
    std::fs::write(&g, wa1kpcap::sample::traffic_pcap(20_000).expect("traffic")).expect("write");
    g
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = input(tmp.path());
    let (inputs, _) = discover(std::slice::from_ref(&path));
    let analyzer = Analyzer::new();
    let packets = analyzer
        .analyze(&path)
        .expect("analyze")
        .summary
        .packets_read;
    let threads: Vec<usize> = std::env::var("WA1KPCAP_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .map_or(vec![1, 2], |t| vec![t]);

    let mut g = c.benchmark_group("convert");
    g.sample_size(10);
    g.throughput(Throughput::Elements(packets));
    for t in threads {
        g.bench_function(format!("parquet_{t}_threads"), |b| {
            b.iter(|| {
                let o = ConvertOptions {
                    threads: t,
                    overwrite: true,
                    parallel_min_bytes: 0,
                    ..ConvertOptions::default()
                };
                convert(&analyzer, &inputs, &tmp.path().join("ds"), &o).expect("convert")
            })
        });
    }
    g.finish();

    // flows → one record batch (the sink's share of the work)
    let flows = analyzer.analyze_file(&path).expect("flows");
    let flows = &flows[..flows.len().min(4096)];
    let columns = flow_columns();
    let schema = flows_schema(&columns);
    let rows: Vec<FlowRow<'_>> = flows
        .iter()
        .enumerate()
        .map(|(i, f)| FlowRow {
            flow: f,
            flow_id: i as i64,
            capture: "bench.pcap",
        })
        .collect();
    let mut g = c.benchmark_group("sink");
    g.throughput(Throughput::Elements(rows.len() as u64));
    g.bench_function("flows_to_batch", |b| {
        b.iter(|| flows_to_batch(&columns, &schema, &rows).expect("batch"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
