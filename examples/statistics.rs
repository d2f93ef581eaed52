//! The seed README's "Extract Statistical Features": totals, directional
//! and IAT statistics by the seed's names, including skew, kurtosis and CV.
//!
//! `cargo run --example statistics -- [capture]` (default: the built-in sample)

use wa1kpcap::Analyzer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = wa1kpcap::sample::path_arg_or_sample()?;
    for flow in Analyzer::new().analyze_file(&path)? {
        let s = &flow.stats;
        println!("{}", flow.key.display());
        println!("  mean packet length: {:.1}", s.pkt.all.mean);
        println!("  std packet length: {:.1}", s.pkt.all.std);
        println!(
            "  skew / kurtosis / cv: {:.3} / {:.3} / {:.3}",
            s.pkt.all.skew, s.pkt.all.kurt, s.pkt.all.cv
        );
        println!("  up packet count: {}", s.pkt.up.count);
        println!("  down packet count: {}", s.pkt.down.count);
        println!("  up mean: {:.1}", s.pkt.up.mean);
        println!("  down mean: {:.1}", s.pkt.down.mean);
        println!("  IAT mean: {:.6}", s.iat.all.mean);
        // any statistic by its column name
        println!("  IAT max: {:.6}", flow.stat("iat_max").unwrap_or(0.0));
    }
    Ok(())
}
