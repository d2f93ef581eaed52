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
    /// Convert captures into a Parquet dataset (`flows/` and `manifest.json`).
    Convert {
        /// Capture files or directories (searched recursively).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Dataset directory to write.
        #[arg(short, long)]
        output: PathBuf,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Remove an existing dataset in the output directory first
        /// (otherwise inputs already converted with the same settings are skipped).
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        analyzer: AnalyzerArgs,
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

/// The flow engine's settings (defaults: the reference's).
#[derive(clap::Args, Debug, Clone)]
struct AnalyzerArgs {
    /// End UDP flows idle longer than this many seconds (0 = never).
    #[arg(long, default_value_t = 0.0)]
    udp_timeout: f64,
    /// End TCP flows idle longer than this many seconds.
    #[arg(long, default_value_t = 300.0)]
    tcp_cleanup_timeout: f64,
    /// Drop TCP packets that are only ACKs without payload.
    #[arg(long)]
    filter_ack: bool,
    /// Drop TCP packets with RST set.
    #[arg(long)]
    filter_rst: bool,
    /// Keep TCP retransmissions in the sequences (dropped by default).
    #[arg(long)]
    keep_retrans: bool,
    /// Do not reassemble IP fragments.
    #[arg(long)]
    no_reassembly: bool,
    /// Keep at most N packets per sequence (statistics still cover all).
    #[arg(long)]
    max_sequence_len: Option<usize>,
    /// Most flows held at once per worker; the least recently active end early.
    #[arg(long, default_value_t = 1_000_000)]
    max_flows: usize,
}

impl AnalyzerArgs {
    fn analyzer(&self) -> wa1kpcap::Analyzer {
        wa1kpcap::Analyzer::new()
            .udp_timeout(self.udp_timeout)
            .tcp_cleanup_timeout(self.tcp_cleanup_timeout)
            .filter_ack(self.filter_ack)
            .filter_rst(self.filter_rst)
            .filter_retrans(!self.keep_retrans)
            .enable_reassembly(!self.no_reassembly)
            .max_sequence_len(self.max_sequence_len)
            .max_flows(self.max_flows)
    }
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
        Command::Convert {
            inputs,
            output,
            threads,
            overwrite,
            analyzer,
        } => convert(&inputs, &output, threads, overwrite, &analyzer),
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

fn convert(
    inputs: &[PathBuf],
    output: &std::path::Path,
    threads: Option<usize>,
    overwrite: bool,
    args: &AnalyzerArgs,
) -> anyhow::Result<i32> {
    let (found, missing) = wa1kpcap::convert::discover(inputs);
    for (p, why) in &missing {
        eprintln!("{}: error: {why}", p.display());
    }
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let started = std::time::Instant::now();
    let m = wa1kpcap::convert::convert(&args.analyzer(), &found, output, threads, overwrite)?;
    for r in m.inputs.iter().filter(|r| r.error.is_some()) {
        eprintln!("{}: error: {}", r.path, r.error.as_deref().unwrap_or(""));
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} inputs ({} with errors, {} already converted), {} packets, {} flows -> {} in {:.2} s ({:.0} packets/s)",
        m.inputs.len(),
        m.inputs_with_errors,
        m.inputs_skipped,
        m.packets,
        m.flows,
        output.display(),
        secs,
        m.packets as f64 / secs.max(1e-9)
    );
    Ok(if m.inputs_with_errors > 0 || !missing.is_empty() {
        1
    } else {
        0
    })
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
    let dataset = dir.join("dataset");
    let inputs = vec![wa1kpcap::convert::Input {
        path: sample.clone(),
        rel: "sample.pcap".into(),
    }];
    let m = wa1kpcap::convert::convert(&wa1kpcap::Analyzer::new(), &inputs, &dataset, 1, true)?;
    println!();
    println!(
        "dataset: {} flows from {} packets in {} (flows/*.parquet, manifest.json)",
        m.flows,
        m.packets,
        dataset.display()
    );
    Ok(code)
}
