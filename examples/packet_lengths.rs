//! The seed README's "Extract Packet Length Sequences": signed packet
//! lengths (positive up, negative down) and inter-arrival times per flow.
//!
//! `cargo run --example packet_lengths -- [capture]` (default: the built-in sample)

use wa1kpcap::Analyzer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = capture_path()?;
    for flow in Analyzer::new().analyze_file(&path)? {
        println!("{}", flow.key.display());
        println!("  packet lengths: {:?}", flow.seq.packet_lengths);
        println!("  IATs: {:?}", flow.seq.iats);
    }
    Ok(())
}

/// The path given, or the built-in sample written to a temporary file.
fn capture_path() -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    if let Some(p) = std::env::args().nth(1) {
        return Ok(p.into());
    }
    let p = std::env::temp_dir().join("wa1kpcap-example-sample.pcap");
    std::fs::write(&p, wa1kpcap::sample::sample_pcap()?)?;
    Ok(p)
}
