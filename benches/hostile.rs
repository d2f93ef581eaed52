//! The worst-case contract, measured: every hostile shape of
//! `wa1kpcap::sample::hostile` converted beside benign traffic of the same
//! packet count, at 1 and 2 threads (packet-parallel), medians of runs
//! taken in turn. The contract (`schemas/reliability.md`): each shape's
//! throughput is at least 1/3 of benign's.
//!
//! usage: cargo bench --no-default-features --bench hostile -- [N] [--runs R]
//!        [--only NAME] [--write DIR]
//!   N        packets per shape (default 50 000)
//!   --write  only write each shape (NAME.pcap, benign.pcap) into DIR, to
//!            time other builds or tools on the same files
//!
//! `cargo bench` passes `--bench` to every bench binary; it is ignored.

use std::path::Path;
use std::time::Instant;

use wa1kpcap::convert::{convert, discover, ConvertOptions, PartitionBy};
use wa1kpcap::sample::hostile::{self, Shape};
use wa1kpcap::Analyzer;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let runs: usize = flag("--runs").and_then(|r| r.parse().ok()).unwrap_or(3);
    let only = flag("--only");
    let tmp = tempfile::tempdir()?;
    let dir = match flag("--write") {
        Some(d) => std::path::PathBuf::from(d),
        None => tmp.path().to_path_buf(),
    };
    std::fs::create_dir_all(&dir)?;
    let benign = Shape {
        name: "benign",
        attacks: "",
        frames: hostile::benign(n)?,
        pcapng_options: 0,
        one_packet_flows: false,
        by_date: false,
    };
    let benign_path = dir.join("benign.pcap");
    std::fs::write(&benign_path, benign.capture()?)?;
    let flows = Shape {
        name: "one_packet_flows",
        frames: hostile::one_packet_flows(n)?,
        ..benign
    };
    let flows_path = dir.join("one_packet_flows.pcap");
    std::fs::write(&flows_path, flows.capture()?)?;
    let shapes: Vec<Shape> = hostile::shapes(n)?
        .into_iter()
        .filter(|s| only.as_deref().is_none_or(|o| o == s.name))
        .collect();
    let mut paths = Vec::new();
    for s in &shapes {
        let p = dir.join(format!("{}.pcap", s.name));
        std::fs::write(&p, s.capture()?)?;
        paths.push(p);
    }
    if flag("--write").is_some() {
        eprintln!(
            "wrote {} shapes of {n} packets to {}",
            shapes.len(),
            dir.display()
        );
        return Ok(());
    }

    println!("{n} packets a shape; medians of {runs} runs; ratio = shape pkt/s ÷ baseline pkt/s (contract: ≥ 0.33)");
    println!("baseline: the sample's sessions; for shapes of one-packet flows (*) random one-packet flows");
    println!(
        "{:<24} {:>8} {:>12} {:>12} {:>7} {:>12} {:>12} {:>7} {:>9}",
        "shape",
        "MB",
        "baseline 1t",
        "shape 1t",
        "ratio",
        "baseline 2t",
        "shape 2t",
        "ratio",
        "vs sample"
    );
    let analyzer = Analyzer::new();
    let mut worst = f64::INFINITY;
    for (s, p) in shapes.iter().zip(&paths) {
        let mb = std::fs::metadata(p)?.len() as f64 / 1e6;
        let base = if s.one_packet_flows {
            &flows_path
        } else {
            &benign_path
        };
        let mut cells = Vec::new();
        let mut vs_sample = f64::INFINITY;
        for threads in [1, 2] {
            let (mut b, mut h, mut sample) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..runs {
                b.push(time(&analyzer, base, tmp.path(), threads, s.by_date));
                h.push(time(&analyzer, p, tmp.path(), threads, s.by_date));
                if s.one_packet_flows {
                    sample.push(time(
                        &analyzer,
                        &benign_path,
                        tmp.path(),
                        threads,
                        s.by_date,
                    ));
                }
            }
            let (b, h) = (median(b), median(h));
            if s.one_packet_flows {
                vs_sample = vs_sample.min(median(sample) / h);
            }
            let ratio = b / h;
            worst = worst.min(ratio);
            cells.push(format!(
                "{:>12} {:>12} {:>7.2}",
                format!("{:.0}k/s", n as f64 / b / 1e3),
                format!("{:.0}k/s", n as f64 / h / 1e3),
                ratio
            ));
        }
        let name = format!("{}{}", s.name, if s.one_packet_flows { " *" } else { "" });
        let sample = if vs_sample.is_finite() {
            format!("{vs_sample:.2}")
        } else {
            "-".into()
        };
        println!("{:<24} {:>8.1} {} {:>9}", name, mb, cells.join(" "), sample);
    }
    println!("worst ratio: {worst:.2}");
    Ok(())
}

/// Seconds to convert `input` into a fresh dataset.
fn time(analyzer: &Analyzer, input: &Path, tmp: &Path, threads: usize, by_date: bool) -> f64 {
    let (inputs, _) = discover(&[input.to_path_buf()]);
    let opts = ConvertOptions {
        threads,
        overwrite: true,
        parallel_min_bytes: 0,
        partition_by: if by_date {
            PartitionBy::Date
        } else {
            PartitionBy::None
        },
        ..ConvertOptions::default()
    };
    let started = Instant::now();
    convert(analyzer, &inputs, &tmp.join("ds"), &opts).expect("convert");
    started.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
