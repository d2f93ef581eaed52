//! Command-line interface: argument parsing (clap) and the subcommands.
//! The library does the work; this module only wires and reports.

mod inspect;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "wa1kpcap",
    version,
    about = "Packet captures to analysis-ready flow datasets"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Summarise capture files: format, link types, packets, bytes, time
    /// span, protocol layers and anomalies.
    Inspect {
        /// Capture files or directories (searched recursively).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// One JSON object per file, one per line.
        #[arg(long)]
        json: bool,
    },
    /// Write the built-in sample capture (no input files needed).
    Sample {
        /// Output path.
        #[arg(short, long, default_value = "wa1kpcap-sample.pcap")]
        output: PathBuf,
    },
    /// The main job on the built-in sample: write it, inspect it, and show
    /// its flows with their features.
    Demo {
        /// Directory for the sample capture and results.
        #[arg(long, default_value = "wa1kpcap-demo")]
        dir: PathBuf,
    },
}

/// Exit status: 0 all good, 1 some input bad, 2 usage error.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let result = match cli.command {
        Command::Inspect { inputs, json } => inspect::run(&inputs, json),
        Command::Sample { output } => write_sample(&output).map(|_| 0),
        Command::Demo { dir } => demo(&dir),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wa1kpcap: {e:#}");
            1
        }
    }
}

fn write_sample(path: &std::path::Path) -> anyhow::Result<()> {
    let bytes = wa1kpcap::sample::sample_pcap()?;
    std::fs::write(path, bytes)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn demo(dir: &std::path::Path) -> anyhow::Result<i32> {
    std::fs::create_dir_all(dir)?;
    let sample = dir.join("sample.pcap");
    write_sample(&sample)?;
    let code = inspect::run(std::slice::from_ref(&sample), false)?;
    let analysis = wa1kpcap::Analyzer::new().analyze(&sample)?;
    println!();
    println!(
        "{:<48} {:>5} {:>7} {:>9} {:>9} {:>10} {:>14}",
        "flow", "pkts", "bytes", "pkt_mean", "pkt_skew", "iat_mean", "end"
    );
    for f in &analysis.flows {
        println!(
            "{:<48} {:>5} {:>7} {:>9.1} {:>9.3} {:>10.6} {:>14}",
            f.key.display(),
            f.packet_count(),
            f.byte_count(),
            f.stats.pkt.all.mean,
            f.stats.pkt.all.skew,
            f.stats.iat.all.mean,
            f.end_reason.name()
        );
    }
    Ok(code)
}
