//! Command-line interface: argument parsing (clap) and the subcommands.
//! The library does the work; this module only wires and reports.

mod inspect;
#[cfg(feature = "sql")]
mod query;

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
    /// Convert captures into a dataset (`flows/`, optionally `packets/`,
    /// `manifest.json`).
    Convert {
        #[command(flatten)]
        args: ConvertArgs,
        #[command(flatten)]
        analyzer: AnalyzerArgs,
    },
    /// Run SQL over datasets (or captures, converted on the fly): tables
    /// flows, packets, dns, tls_certificates; functions in schemas/sql.md.
    #[cfg(feature = "sql")]
    Query {
        /// Dataset directories (written by `convert`) or captures.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// The SQL (several statements: the last one's rows are output).
        #[arg(short = 'e', long = "execute")]
        execute: Option<String>,
        /// Read the SQL from this file (else -e, else standard input).
        #[arg(short = 'f', long = "file", conflicts_with = "execute")]
        file: Option<PathBuf>,
        /// Output format [default: table on a terminal, else csv, or by -o's extension].
        #[arg(long, value_enum)]
        format: Option<query::OutFormat>,
        /// Write the rows to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        analyzer: AnalyzerArgs,
    },
    /// Interactive SQL shell over datasets or captures (\d, \d flows,
    /// \timing, \q; statements end with ;).
    #[cfg(feature = "sql")]
    Sql {
        /// Dataset directories or captures.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
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

#[derive(clap::Args, Debug, Clone)]
struct ConvertArgs {
    /// Capture files, directories (searched recursively) or globs
    /// (`dir/*.pcap`, `dir/**/*.pcapng`).
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
    /// Also write the packets table (one row per counted packet) and the
    /// dns table (one row per DNS message).
    #[arg(long)]
    packets: bool,
    /// Tables to write besides flows, comma-separated, from packets, dns,
    /// tls_certificates, or "none" [default: tls_certificates; with
    /// --packets: packets,dns,tls_certificates].
    #[arg(long, value_delimiter = ',')]
    tables: Option<Vec<TableArg>>,
    /// Add the frame bytes to the packets table (implies --packets).
    #[arg(long)]
    raw_bytes: bool,
    /// Only analyse packets matching this libpcap-style expression, e.g.
    /// "tcp port 443 and not net 10.0.0.0/8".
    #[arg(long)]
    filter: Option<String>,
    /// Hive-style directories by flow start (packet time for packets).
    #[arg(long, value_enum, default_value = "none")]
    partition_by: PartitionArg,
    /// Output file format.
    #[arg(long, value_enum, default_value = "parquet")]
    format: FormatArg,
    /// The inputs are one capture split into consecutive files (rotated
    /// captures): flows continue across files.
    #[arg(long)]
    stitch: bool,
    /// Memory budget (MiB; default 512, 0 for none): past it the least
    /// recently active flows end early (end_reason = evicted, counted)
    /// instead of growing.
    #[arg(long, value_name = "MIB")]
    max_memory: Option<u64>,
    /// The secret (1 to 32 hex digits) that spreads a large capture's
    /// packets over the workers, and so decides its flow ids: by default
    /// the dataset's own, drawn at random when it is created (or
    /// WA1KPCAP_HASH_SEED). Fix it for a dataset that is the same run to
    /// run; keep it unknown to whoever shapes the traffic.
    #[arg(long, value_name = "HEX", value_parser = parse_hash_seed)]
    hash_seed: Option<wa1kpcap::keyed::DispatchKey>,
    /// Print the run summary as one JSON object.
    #[arg(long)]
    json: bool,
    /// No progress display.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_hash_seed(s: &str) -> Result<wa1kpcap::keyed::DispatchKey, String> {
    wa1kpcap::keyed::DispatchKey::from_hex(s).ok_or_else(|| "1 to 32 hex digits".to_string())
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
enum PartitionArg {
    None,
    Date,
    Hour,
    Capture,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum TableArg {
    Packets,
    Dns,
    /// The table's own name is accepted too (README, `--tables` of SQL).
    #[value(name = "tls_certificates", alias = "tls-certificates")]
    TlsCertificates,
    /// No table besides flows.
    None,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
enum FormatArg {
    Parquet,
    Csv,
    Jsonl,
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
    /// Do not parse application protocols (TLS hellos): their columns stay null.
    #[arg(long)]
    no_protocols: bool,
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
            .protocols(!self.no_protocols)
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
        Command::Convert { args, analyzer } => convert(&args, &analyzer),
        #[cfg(feature = "sql")]
        Command::Query {
            inputs,
            execute,
            file,
            format,
            output,
            analyzer,
        } => query::query(
            &inputs,
            execute.as_deref(),
            file.as_deref(),
            format,
            output.as_deref(),
            &analyzer.analyzer(),
        ),
        #[cfg(feature = "sql")]
        Command::Sql { inputs, analyzer } => query::shell(&inputs, &analyzer.analyzer()),
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

fn convert(c: &ConvertArgs, args: &AnalyzerArgs) -> anyhow::Result<i32> {
    use wa1kpcap::convert::{ConvertOptions, Format, PartitionBy, Progress};
    let filter = match &c.filter {
        Some(e) => match wa1kpcap::filter::PacketFilter::parse(e) {
            Ok(f) => Some(std::sync::Arc::new(f)),
            Err(err) => {
                eprintln!("wa1kpcap: --filter: {err}");
                return Ok(2);
            }
        },
        None => None,
    };
    let wa1kpcap::convert::Discovered {
        inputs: found,
        missing,
        ignored,
    } = wa1kpcap::convert::discover_all(&c.inputs);
    for (p, why) in &missing {
        eprintln!("{}: error: {why}", p.display());
    }
    if !ignored.is_empty() && !c.quiet {
        eprintln!(
            "skipped {} files in the input directories that are not captures (e.g. {})",
            ignored.len(),
            ignored[0].display()
        );
    }
    let progress = std::sync::Arc::new(Progress::default());
    let tables = c.tables.clone().unwrap_or_else(|| {
        let mut t = vec![TableArg::TlsCertificates];
        if c.packets || c.raw_bytes {
            t.extend([TableArg::Packets, TableArg::Dns]);
        }
        t
    });
    let mut opts = ConvertOptions {
        overwrite: c.overwrite,
        packets: tables.contains(&TableArg::Packets) || c.raw_bytes,
        dns: tables.contains(&TableArg::Dns),
        certificates: tables.contains(&TableArg::TlsCertificates),
        raw_bytes: c.raw_bytes,
        filter,
        stitch: c.stitch,
        hash_seed: c.hash_seed,
        max_memory_bytes: match c.max_memory {
            None => Some(wa1kpcap::convert::DEFAULT_MAX_MEMORY_BYTES),
            Some(0) => None,
            Some(m) => Some(m << 20),
        },
        format: match c.format {
            FormatArg::Parquet => Format::Parquet,
            FormatArg::Csv => Format::Csv,
            FormatArg::Jsonl => Format::Jsonl,
        },
        partition_by: match c.partition_by {
            PartitionArg::None => PartitionBy::None,
            PartitionArg::Date => PartitionBy::Date,
            PartitionArg::Hour => PartitionBy::Hour,
            PartitionArg::Capture => PartitionBy::Capture,
        },
        progress: Some(progress.clone()),
        ..ConvertOptions::default()
    };
    if let Some(t) = c.threads {
        opts.threads = t.max(1);
    }
    let bar = (!c.quiet).then(|| progress_bar(progress.clone()));
    let result = wa1kpcap::convert::convert(&args.analyzer(), &found, &c.output, &opts);
    progress
        .finished
        .store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(b) = bar {
        let _ = b.join();
    }
    let m = result?;
    for r in m.inputs.iter().filter(|r| r.error.is_some()) {
        eprintln!("{}: error: {}", r.path, r.error.as_deref().unwrap_or(""));
    }
    if c.json {
        let mut j = summary_json(&m, &c.output);
        j["ignored_non_captures"] = ignored.len().into();
        j["missing"] = missing
            .iter()
            .map(|(p, why)| serde_json::json!({"path": p.display().to_string(), "error": why}))
            .collect();
        println!("{}", serde_json::to_string(&j)?);
    } else {
        print_summary(&m, &c.output);
    }
    Ok(if m.inputs_with_errors > 0 || !missing.is_empty() {
        1
    } else {
        0
    })
}

/// The end-of-run summary for scripts: the manifest without the per-input
/// list, plus rates.
fn summary_json(m: &wa1kpcap::convert::Manifest, out: &std::path::Path) -> serde_json::Value {
    let secs = m.elapsed_s.max(1e-9);
    let converted: Vec<_> = m.inputs.iter().filter(|r| !r.skipped).collect();
    let bytes: u64 = converted.iter().map(|r| r.size_bytes).sum();
    let packets: u64 = converted.iter().map(|r| r.packets).sum();
    serde_json::json!({
        "dataset": out.display().to_string(),
        "inputs": m.inputs.len(),
        "inputs_with_errors": m.inputs_with_errors,
        "inputs_skipped": m.inputs_skipped,
        "errors": m.inputs.iter().filter_map(|r| r.error.as_ref().map(|e| serde_json::json!({"path": r.path, "error": e}))).collect::<Vec<_>>(),
        "packets": m.packets,
        "flows": m.flows,
        "bytes": m.bytes,
        "elapsed_s": m.elapsed_s,
        "packets_per_s": packets as f64 / secs,
        "mb_per_s": bytes as f64 / 1e6 / secs,
        "totals": m.totals,
        "settings": m.settings,
    })
}

fn print_summary(m: &wa1kpcap::convert::Manifest, out: &std::path::Path) {
    let secs = m.elapsed_s.max(1e-9);
    let converted: Vec<_> = m.inputs.iter().filter(|r| !r.skipped).collect();
    let bytes: u64 = converted.iter().map(|r| r.size_bytes).sum();
    let packets: u64 = converted.iter().map(|r| r.packets).sum();
    println!(
        "{} inputs ({} with errors, {} already converted), {} packets, {} flows -> {} in {:.2} s ({:.0} packets/s, {:.1} MB/s)",
        m.inputs.len(),
        m.inputs_with_errors,
        m.inputs_skipped,
        m.packets,
        m.flows,
        out.display(),
        secs,
        packets as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
    let t = &m.totals;
    if t.packets_filtered_expr + t.flows_evicted + t.packet_rows > 0 {
        println!(
            "  filtered by --filter: {} packets; flows ended early by the memory bound: {}; packet rows: {}",
            t.packets_filtered_expr, t.flows_evicted, t.packet_rows
        );
    }
    if t.dns_rows + t.certificate_rows > 0 {
        println!(
            "  dns rows: {}; tls_certificates rows: {}",
            t.dns_rows, t.certificate_rows
        );
    }
}

/// Progress on stderr while a terminal watches: bytes and packets per
/// second, jobs done, ETA. Hidden when stderr is not a terminal.
fn progress_bar(p: std::sync::Arc<wa1kpcap::convert::Progress>) -> std::thread::JoinHandle<()> {
    use std::sync::atomic::Ordering::Relaxed;
    std::thread::spawn(move || {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(0),
            indicatif::ProgressDrawTarget::stderr_with_hz(4),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} {msg} ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let started = std::time::Instant::now();
        while !p.finished.load(Relaxed) {
            bar.set_length(p.bytes_total.load(Relaxed));
            bar.set_position(p.bytes_done.load(Relaxed));
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "{:.0} k packets/s, {}/{} captures",
                p.packets_done.load(Relaxed) as f64 / secs / 1e3,
                p.jobs_done.load(Relaxed),
                p.jobs_total.load(Relaxed)
            ));
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        bar.finish_and_clear();
    })
}

fn write_sample(path: &std::path::Path) -> anyhow::Result<()> {
    let bytes = wa1kpcap::sample::sample_pcap()?;
    std::fs::write(path, bytes)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// What names a flow for a reader: the server name (SNI), HTTP host, DNS
/// query, or the first field its protocol offered.
fn flow_name(a: &wa1kpcap::flow::AppInfo) -> Option<&str> {
    let tls = a.tls_client().and_then(|c| c.sni.as_deref());
    let http = a
        .http
        .as_deref()
        .and_then(|h| h.request.as_ref()?.host.as_deref());
    let dns = a
        .dns
        .as_deref()
        .and_then(|d| d.queries.first().map(String::as_str));
    let fields = a.fields.as_deref().and_then(|f| {
        [
            &f.ssh_server,
            &f.ssh_client,
            &f.banner,
            &f.sip_from,
            &f.krb_principal,
            &f.mqtt_client_id,
        ]
        .into_iter()
        .find_map(|v| v.as_deref())
    });
    tls.or(http).or(dns).or(fields)
}

fn demo(dir: &std::path::Path) -> anyhow::Result<i32> {
    std::fs::create_dir_all(dir)?;
    let sample = dir.join("sample.pcap");
    std::fs::write(&sample, wa1kpcap::sample::demo_pcap()?)?;
    eprintln!("wrote {}", sample.display());
    let code = inspect::run(std::slice::from_ref(&sample), false)?;
    let analysis = wa1kpcap::Analyzer::new().analyze(&sample)?;
    println!();
    println!(
        "{:<48} {:>5} {:>7} {:>9} {:>9} {:>10} {:>14}  {:<6} name",
        "flow", "pkts", "bytes", "pkt_mean", "pkt_skew", "iat_mean", "end", "app"
    );
    for f in &analysis.flows {
        let app = f.app.as_deref();
        println!(
            "{:<48} {:>5} {:>7} {:>9.1} {:>9.3} {:>10.6} {:>14}  {:<6} {}",
            f.key.display(),
            f.packet_count(),
            f.byte_count(),
            f.stats.pkt.all.mean,
            f.stats.pkt.all.skew,
            f.stats.iat.all.mean,
            f.end_reason.name(),
            app.and_then(|a| a.protocol()).unwrap_or("-"),
            app.and_then(flow_name).unwrap_or("")
        );
    }
    let dataset = dir.join("dataset");
    let inputs = vec![wa1kpcap::convert::Input::file(
        sample.clone(),
        "sample.pcap".into(),
    )];
    let opts = wa1kpcap::convert::ConvertOptions {
        overwrite: true,
        packets: true,
        ..Default::default()
    };
    let m = wa1kpcap::convert::convert(&wa1kpcap::Analyzer::new(), &inputs, &dataset, &opts)?;
    println!();
    println!(
        "dataset: {} flows from {} packets in {} (flows/*.parquet, manifest.json)",
        m.flows,
        m.packets,
        dataset.display()
    );
    Ok(code)
}
