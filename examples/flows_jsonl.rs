//! Print every flow of a capture as one JSON line: key, times, metrics,
//! sequences and statistics (the seed's `to_json`, streaming).
//!
//! `cargo run --example flows_jsonl -- capture.pcap`

use std::io::Write;

use wa1kpcap::Analyzer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: flows_jsonl CAPTURE")?;
    let analysis = Analyzer::new().analyze(&path)?;
    let mut out = std::io::stdout().lock();
    for flow in &analysis.flows {
        serde_json::to_writer(&mut out, flow)?;
        writeln!(out)?;
    }
    if let Some(e) = &analysis.summary.capture_error {
        eprintln!("{path}: {e}");
    }
    Ok(())
}
