//! The seed README's "Export to DataFrame/CSV/JSON", from Rust: analyse a
//! capture and write its flows as a Parquet dataset (what `to_dataframe`
//! users load with `pandas.read_parquet`), as CSV (`to_csv`) and as JSON
//! Lines (`to_json`), with the packets table alongside the Parquet one.
//!
//! `cargo run --example export -- [capture.pcap] [out_dir]`
//! (without a capture, the built-in sample is used)

use std::path::PathBuf;

use wa1kpcap::convert::{convert, discover, ConvertOptions, Format};
use wa1kpcap::Analyzer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let capture = wa1kpcap::sample::path_arg_or_sample()?;
    let out = std::env::args()
        .nth(2)
        .map_or_else(|| PathBuf::from("wa1kpcap-export"), PathBuf::from);
    let (inputs, missing) = discover(std::slice::from_ref(&capture));
    if let Some((p, why)) = missing.first() {
        return Err(format!("{}: {why}", p.display()).into());
    }
    let analyzer = Analyzer::new();
    for (dir, format, packets) in [
        ("parquet", Format::Parquet, true),
        ("csv", Format::Csv, false),
        ("jsonl", Format::Jsonl, false),
    ] {
        let opts = ConvertOptions {
            format,
            packets,
            overwrite: true,
            ..ConvertOptions::default()
        };
        let m = convert(&analyzer, &inputs, &out.join(dir), &opts)?;
        let files: Vec<&String> = m.inputs.iter().flat_map(|r| &r.outputs).collect();
        println!("{dir}: {} flows -> {files:?}", m.flows);
    }
    println!(
        "pandas: pd.read_parquet('{}')",
        out.join("parquet/flows").display()
    );
    Ok(())
}
