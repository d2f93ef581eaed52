//! The seed README's "Extract Packet Length Sequences": signed packet
//! lengths (positive up, negative down) and inter-arrival times per flow.
//!
//! `cargo run --example packet_lengths -- [capture]` (default: the built-in sample)

use wa1kpcap::Analyzer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = wa1kpcap::sample::path_arg_or_sample()?;
    for flow in Analyzer::new().analyze_file(&path)? {
        println!("{}", flow.key.display());
        println!("  packet lengths: {:?}", flow.seq.packet_lengths);
        println!("  IATs: {:?}", flow.seq.iats);
    }
    Ok(())
}
