//! `convert`: capture files to a dataset directory (`flows/`, optionally
//! `packets/`, `manifest.json`).
//!
//! Owns: input discovery (files, directories, globs), the plan (which inputs
//! form one capture job, which jobs run packet-parallel and which run side by
//! side), dataset-unique flow ids, resume, and the manifest. The pipeline
//! itself (reader → per-core workers) is [`pipeline`]; where rows go
//! (partitions, files, commit) is [`output`].
//!
//! Resume: a job's files are staged, committed together, and then a done
//! marker `.wa1kpcap/done/<capture index>.json` is written atomically with
//! the settings, the inputs' size and mtime, and the reports. A re-run skips
//! jobs whose marker matches, and deletes files of jobs without a marker
//! (a run killed between the commit and the marker).

pub mod discover;
pub mod output;
pub mod pipeline;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analyzer::Analyzer;
use crate::filter::PacketFilter;
use crate::keyed::DispatchKey;
pub use crate::sink::Format;

pub use discover::{discover, discover_all, Discovered, Input};
pub use output::PartitionBy;
pub use pipeline::Progress;

/// Default of [`ConvertOptions::parallel_min_bytes`].
pub const PARALLEL_MIN_BYTES: u64 = 64 << 20;
/// A job of at least this size runs packet-parallel when its plan has fewer
/// jobs than threads (a lone 48 MB capture: 0.36 → 0.2 s on 2 threads);
/// below it, starting a reader and workers costs more than it gains.
pub const LONE_PARALLEL_MIN_BYTES: u64 = 8 << 20;

/// The default memory budget of a conversion: memory stays flat however
/// many flows a capture holds at once (a flood, a long capture whose UDP
/// flows never idle out). Chosen so that the benchmark captures (1 and
/// 4 GiB of `make_big.sh`, 60 k flows active at once per worker) end no
/// flow early; see `schemas/dataset.md` (Memory).
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 512 << 20;

/// Memory set aside per worker (row buffers, open files, finished flows
/// waiting for their batch, allocator slack) before `--max-memory` is turned
/// into a bound on the flow state each worker holds. Calibrated: see
/// `schemas/dataset.md` (Memory).
pub const WORKER_BUFFER_BYTES: u64 = 80 << 20;

/// The least flow state a worker may hold, however small the budget.
pub const MIN_FLOW_BYTES: u64 = 16 << 10;

/// The estimated flow-state bytes one of `workers` workers may hold under a
/// memory budget of `budget` bytes ([`crate::flow::FlowConfig::max_flow_bytes`]).
pub fn flow_budget(budget: u64, workers: usize) -> u64 {
    (budget / workers.max(1) as u64)
        .saturating_sub(WORKER_BUFFER_BYTES)
        .max(MIN_FLOW_BYTES)
}

/// How to convert.
#[derive(Clone)]
pub struct ConvertOptions {
    /// Worker threads (≥ 1).
    pub threads: usize,
    /// Remove an existing dataset first instead of resuming it.
    pub overwrite: bool,
    pub format: Format,
    pub partition_by: PartitionBy,
    /// Also write the packets table.
    pub packets: bool,
    /// Also write the `dns` table (one row per DNS message).
    pub dns: bool,
    /// Also write the `tls_certificates` table (one row per certificate).
    pub certificates: bool,
    /// Add the frame bytes to the packets table.
    pub raw_bytes: bool,
    /// Only packets this accepts are analysed.
    pub filter: Option<Arc<PacketFilter>>,
    /// The inputs are one capture split into consecutive files.
    pub stitch: bool,
    /// Bound on memory: flows beyond what fits end early (`evicted`);
    /// default [`DEFAULT_MAX_MEMORY_BYTES`], `None` for no bound.
    pub max_memory_bytes: Option<u64>,
    /// Shared counters a progress display can read while the job runs.
    pub progress: Option<Arc<Progress>>,
    /// Jobs at least this large (and stitched ones) run packet-parallel, one
    /// at a time, on all threads; smaller ones run side by side, one thread
    /// each (no channel to pay for).
    pub parallel_min_bytes: u64,
    /// The secret that spreads a packet-parallel job's packets over its
    /// workers ([`crate::keyed::DispatchKey`]); `None`: the dataset's
    /// own, else `WA1KPCAP_HASH_SEED`, else a random one.
    pub hash_seed: Option<DispatchKey>,
}

impl Default for ConvertOptions {
    fn default() -> ConvertOptions {
        ConvertOptions {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            overwrite: false,
            format: Format::Parquet,
            partition_by: PartitionBy::None,
            packets: false,
            dns: false,
            certificates: true,
            raw_bytes: false,
            filter: None,
            stitch: false,
            max_memory_bytes: Some(DEFAULT_MAX_MEMORY_BYTES),
            progress: None,
            parallel_min_bytes: PARALLEL_MIN_BYTES,
            hash_seed: None,
        }
    }
}

/// What happened to one input.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputReport {
    pub path: String,
    pub capture: String,
    /// The dataset-wide number of its capture job (high bits of flow ids).
    pub capture_index: u32,
    pub size_bytes: u64,
    pub mtime_unix_s: i64,
    pub packets: u64,
    /// Flows that started in this input.
    pub flows: u64,
    pub anomalies: u64,
    /// Why the input could not be (fully) read.
    pub error: Option<String>,
    /// Files written for its job, relative to the dataset root.
    #[serde(default)]
    pub outputs: Vec<String>,
    /// Already converted with the same settings by an earlier run.
    #[serde(default)]
    pub skipped: bool,
}

/// Counters of one run, summed over its jobs (skipped ones excluded).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunTotals {
    pub packets_filtered_expr: u64,
    pub packets_non_ip: u64,
    pub fragments: u64,
    pub flows_evicted: u64,
    pub flows_ended_idle: u64,
    pub max_active_flows: u64,
    /// Peak estimated bytes of flow state in one worker (what
    /// `max_memory_bytes` bounds, per worker).
    #[serde(default)]
    pub max_flow_bytes: u64,
    pub packet_rows: u64,
    pub dns_rows: u64,
    pub certificate_rows: u64,
}

/// The dataset manifest (`manifest.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    pub settings: serde_json::Value,
    pub inputs: Vec<InputReport>,
    pub bytes: u64,
    pub packets: u64,
    pub flows: u64,
    pub inputs_with_errors: u64,
    pub inputs_skipped: u64,
    pub totals: RunTotals,
    pub elapsed_s: f64,
}

/// Why a conversion could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{dir} holds a dataset written with other settings ({file}); use --overwrite to start afresh")]
    SettingsDiffer { dir: String, file: String },
    #[error("hash seed: {0}")]
    HashSeed(String),
    #[error("--stitch needs inputs that can be memory-mapped or streamed in order: {0}")]
    Stitch(String),
    #[error("{dir} is being written by another conversion (it holds {lock}); wait for it to end or choose another output directory")]
    Busy { dir: String, lock: String },
}

/// The lock file of a dataset directory (hidden: dataset readers skip it).
pub const LOCK_FILE: &str = ".wa1kpcap.lock";

/// Hold `out_dir` for one conversion: a second `convert` on the same
/// directory, from this process or another, is refused instead of
/// interleaving its files and manifest with the first. An advisory
/// `flock` on [`LOCK_FILE`], released by the kernel when the holder ends,
/// even by `kill -9`: a stale file never blocks a rerun.
pub fn lock_dataset(out_dir: &Path) -> Result<std::fs::File, ConvertError> {
    // An output directory that cannot be made or written is named.
    let named = |e: std::io::Error| {
        ConvertError::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", out_dir.display()),
        ))
    };
    std::fs::create_dir_all(out_dir).map_err(named)?;
    let path = out_dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(named)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ConvertError::Busy {
            dir: out_dir.display().to_string(),
            lock: path.display().to_string(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// A done marker: one finished job.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DoneMarker {
    settings: serde_json::Value,
    capture_index: u32,
    reports: Vec<InputReport>,
    /// The job's counters: a retried Spark task that finds its unit done
    /// reports them as the first attempt did (absent in older markers).
    #[serde(default)]
    totals: RunTotals,
    /// Its files as committed (absent in older markers: not checked).
    #[serde(default)]
    files: Vec<FileStamp>,
}

/// One unit of work: one input, or every input when stitching. Units run
/// independently of each other (on this machine's threads or in Spark
/// tasks): each writes its own files and done marker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// The capture index (high bits of its flow ids, file names).
    pub index: u32,
    pub inputs: Vec<Input>,
    pub bytes: u64,
    /// Jobs in the plan it belongs to (0: unknown, many): a plan with
    /// fewer jobs than threads has nothing to run beside a mid-sized job,
    /// so that job runs packet-parallel too.
    #[serde(default)]
    pub plan_jobs: u32,
    /// The key that picks each packet's worker (the dataset's).
    #[serde(default = "DispatchKey::random")]
    pub dispatch_key: DispatchKey,
}

impl Job {
    /// Workers it runs on: packet-parallel on all `threads` when large (or
    /// stitched, or at least [`LONE_PARALLEL_MIN_BYTES`] in a plan of fewer
    /// jobs than threads), else one (small jobs run side by side instead).
    /// It depends on the plan and settings only, never on what an earlier
    /// run finished: a resumed run numbers flows as a clean one.
    pub fn workers(&self, opts: &ConvertOptions) -> usize {
        let lone = self.plan_jobs > 0
            && (self.plan_jobs as usize) < opts.threads
            && self.bytes >= LONE_PARALLEL_MIN_BYTES.min(opts.parallel_min_bytes);
        if self.bytes >= opts.parallel_min_bytes || opts.stitch || lone {
            opts.threads.max(1)
        } else {
            1
        }
    }
}

const MARKER_DIR: &str = ".wa1kpcap/done";

/// A conversion planned on a dataset directory: what is left to run. The
/// three phases of [`convert`] — [`plan_dataset`], [`run_unit`] for each
/// unit, [`finish_dataset`] — are public so that another scheduler (the
/// Python package's Spark driver) writes the very same dataset.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatasetPlan {
    /// What decides the content of the dataset (markers, file footers).
    pub settings: serde_json::Value,
    /// Jobs to run, each independently.
    pub units: Vec<Job>,
    /// Reports of jobs an earlier run finished with these settings and
    /// inputs (skipped now), by capture index.
    pub reused: Vec<(u32, Vec<InputReport>)>,
}

/// What running one unit gave.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnitResult {
    pub index: u32,
    pub reports: Vec<InputReport>,
    pub totals: RunTotals,
    /// Its files are in place and its done marker written.
    pub committed: bool,
}

/// Prepare `out_dir` for converting `inputs`: remove it first when
/// `opts.overwrite`, read the done markers (an error if they were written
/// with other settings), number the jobs, and delete what unfinished or
/// outdated jobs left (files of jobs without a marker, hidden temporaries,
/// files and markers of jobs whose inputs changed).
pub fn plan_dataset(
    analyzer: &Analyzer,
    inputs: &[Input],
    out_dir: &Path,
    opts: &ConvertOptions,
) -> Result<DatasetPlan, ConvertError> {
    let opts = normalized(opts);
    if opts.overwrite {
        for d in ["flows", ".wa1kpcap"].into_iter().chain(output::ROW_TABLES) {
            let p = out_dir.join(d);
            if p.exists() {
                std::fs::remove_dir_all(&p)?;
            }
        }
        let _ = std::fs::remove_file(out_dir.join("manifest.json"));
    }
    std::fs::create_dir_all(out_dir.join(MARKER_DIR))?;
    // The dataset keeps one dispatch key: asked for, else the one its
    // markers record (a resumed run numbers flows as the first did), else
    // a new secret.
    let key = match DispatchKey::requested(opts.hash_seed).map_err(ConvertError::HashSeed)? {
        Some(k) => k,
        None => recorded_key(out_dir).unwrap_or_else(DispatchKey::random),
    };
    let settings = settings_json(analyzer, &opts, key);
    let done = read_markers(out_dir, &settings)?;
    let jobs = plan(inputs, &done, opts.stitch, key);
    let mut live: HashSet<u32> = done.values().map(|m| m.capture_index).collect();
    let mut reused = Vec::new();
    let mut units = Vec::new();
    for job in jobs {
        let marker = done.get(&job.inputs[0].rel);
        let broken = marker.and_then(|m| tampered(out_dir, m));
        if let Some(why) = &broken {
            eprintln!(
                "{}: capture {} is converted again: {why}",
                out_dir.display(),
                job.inputs[0].rel
            );
        }
        match marker
            .filter(|_| broken.is_none())
            .and_then(|m| reusable(m, &job))
        {
            Some(r) => reused.push((job.index, r)),
            None => {
                // An input that changed since its marker: redone from scratch.
                if live.remove(&job.index) {
                    let _ = std::fs::remove_file(marker_path(out_dir, job.index));
                }
                units.push(job);
            }
        }
    }
    output::remove_unfinished(out_dir, &live)?;
    Ok(DatasetPlan {
        settings,
        units,
        reused,
    })
}

/// Run one planned unit into `out_dir` on [`Job::workers`] workers: its
/// files are committed together and then its done marker is written. With
/// `clean` (another scheduler's task, which may be a retry): a unit an
/// earlier attempt finished — its marker matches the settings and inputs —
/// is not redone, its result is read back; otherwise what an earlier
/// attempt left (files, hidden temporaries) is removed first.
pub fn run_unit(
    analyzer: &Analyzer,
    out_dir: &Path,
    opts: &ConvertOptions,
    unit: &Job,
    clean: bool,
) -> Result<UnitResult, ConvertError> {
    let opts = normalized(opts);
    let settings = settings_json(analyzer, &opts, unit.dispatch_key);
    if clean {
        if let Some(done) = finished_unit(out_dir, &settings, unit) {
            return Ok(done);
        }
        let _ = std::fs::remove_file(marker_path(out_dir, unit.index));
        output::remove_job_files(out_dir, unit.index)?;
    }
    let ctx = output::OutputCtx::new(out_dir, &opts, &settings);
    let r = pipeline::run_job(analyzer, &ctx, &opts, unit, unit.workers(&opts));
    finish_unit(out_dir, &settings, r)
}

/// The result of `unit` from its done marker, if an attempt finished it
/// with these settings and inputs.
fn finished_unit(out_dir: &Path, settings: &serde_json::Value, unit: &Job) -> Option<UnitResult> {
    let bytes = std::fs::read(marker_path(out_dir, unit.index)).ok()?;
    let m: DoneMarker = serde_json::from_slice(&bytes).ok()?;
    if &m.settings != settings || m.capture_index != unit.index || tampered(out_dir, &m).is_some() {
        return None;
    }
    let reports = reusable(&m, unit)?;
    Some(UnitResult {
        index: unit.index,
        // as the attempt that wrote them reported them: not skipped
        reports: reports
            .into_iter()
            .map(|mut r| {
                r.skipped = false;
                r
            })
            .collect(),
        totals: m.totals,
        committed: true,
    })
}

/// The done marker of a committed job, and its result.
fn finish_unit(
    out_dir: &Path,
    settings: &serde_json::Value,
    r: pipeline::JobResult,
) -> Result<UnitResult, ConvertError> {
    let totals = RunTotals::of_job(&r);
    if r.committed {
        // The renames of its files durable before the marker that vouches
        // for them.
        let outputs: std::collections::BTreeSet<&String> =
            r.reports.iter().flat_map(|i| &i.outputs).collect();
        let dirs: std::collections::BTreeSet<PathBuf> = outputs
            .iter()
            .filter_map(|o| out_dir.join(o).parent().map(Path::to_path_buf))
            .collect();
        for d in dirs {
            sync_dir(&d)?;
        }
        let marker = DoneMarker {
            settings: settings.clone(),
            capture_index: r.index,
            reports: r.reports.clone(),
            totals: totals.clone(),
            files: outputs
                .iter()
                .filter_map(|o| FileStamp::of(out_dir, o))
                .collect(),
        };
        write_atomically(
            &marker_path(out_dir, r.index),
            &serde_json::to_vec_pretty(&marker).map_err(std::io::Error::other)?,
        )?;
    }
    Ok(UnitResult {
        index: r.index,
        reports: r.reports,
        totals,
        committed: r.committed,
    })
}

/// Write `manifest.json` for a planned conversion whose units gave
/// `results` (in any order); `elapsed_s` is the whole run's.
pub fn finish_dataset(
    out_dir: &Path,
    plan: &DatasetPlan,
    results: Vec<UnitResult>,
    elapsed_s: f64,
) -> Result<Manifest, ConvertError> {
    let mut totals = RunTotals::default();
    let mut reports = plan.reused.clone();
    for r in results {
        totals.merge(&r.totals);
        reports.push((r.index, r.reports));
    }
    reports.sort_by_key(|(i, _)| *i);
    let inputs: Vec<InputReport> = reports.into_iter().flat_map(|(_, r)| r).collect();
    let manifest = Manifest {
        tool: "wa1kpcap".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        settings: plan.settings.clone(),
        bytes: inputs.iter().map(|r| r.size_bytes).sum(),
        packets: inputs.iter().map(|r| r.packets).sum(),
        flows: inputs.iter().map(|r| r.flows).sum(),
        inputs_with_errors: inputs.iter().filter(|r| r.error.is_some()).count() as u64,
        inputs_skipped: inputs.iter().filter(|r| r.skipped).count() as u64,
        inputs,
        totals,
        elapsed_s,
    };
    write_atomically(
        &out_dir.join("manifest.json"),
        &serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?,
    )?;
    Ok(manifest)
}

/// Options as every phase applies them.
fn normalized(opts: &ConvertOptions) -> ConvertOptions {
    let mut opts = opts.clone();
    opts.threads = opts.threads.max(1);
    opts.raw_bytes &= opts.packets;
    opts
}

/// Convert `inputs` into `out_dir`. Jobs already converted there with the
/// same settings are skipped unless `opts.overwrite`, which removes the
/// existing dataset first.
pub fn convert(
    analyzer: &Analyzer,
    inputs: &[Input],
    out_dir: &Path,
    opts: &ConvertOptions,
) -> Result<Manifest, ConvertError> {
    let started = std::time::Instant::now();
    let opts = normalized(opts);
    let _lock = lock_dataset(out_dir)?;
    let plan = plan_dataset(analyzer, inputs, out_dir, &opts)?;
    if let Some(p) = &opts.progress {
        p.set_total(
            plan.units.iter().map(|j| j.bytes).sum(),
            plan.units.len() as u64,
        );
    }
    let ctx = output::OutputCtx::new(out_dir, &opts, &plan.settings);
    let results = run_jobs(analyzer, &ctx, &opts, plan.units.clone())?
        .into_iter()
        .map(|r| finish_unit(out_dir, &plan.settings, r))
        .collect::<Result<Vec<_>, _>>()?;
    finish_dataset(out_dir, &plan, results, started.elapsed().as_secs_f64())
}

/// Run the planned jobs: big ones one at a time on all threads, small ones
/// side by side; a cancelled run skips the jobs not yet started.
fn run_jobs(
    analyzer: &Analyzer,
    ctx: &output::OutputCtx,
    opts: &ConvertOptions,
    to_run: Vec<Job>,
) -> Result<Vec<pipeline::JobResult>, ConvertError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(std::io::Error::other)?;
    let (big, small): (Vec<Job>, Vec<Job>) = to_run.into_iter().partition(|j| j.workers(opts) > 1);
    let mut results: Vec<pipeline::JobResult> = Vec::new();
    for job in &big {
        results.push(pipeline::run_job(
            analyzer,
            ctx,
            opts,
            job,
            job.workers(opts),
        ));
    }
    results.extend(pool.install(|| {
        small
            .par_iter()
            .map(|job| pipeline::run_job(analyzer, ctx, opts, job, 1))
            .collect::<Vec<_>>()
    }));
    Ok(results)
}

impl RunTotals {
    /// Add another run's (or unit's) counters.
    pub fn merge(&mut self, o: &RunTotals) {
        self.packets_filtered_expr += o.packets_filtered_expr;
        self.packets_non_ip += o.packets_non_ip;
        self.fragments += o.fragments;
        self.flows_evicted += o.flows_evicted;
        self.flows_ended_idle += o.flows_ended_idle;
        self.max_active_flows = self.max_active_flows.max(o.max_active_flows);
        self.max_flow_bytes = self.max_flow_bytes.max(o.max_flow_bytes);
        self.packet_rows += o.packet_rows;
        self.dns_rows += o.dns_rows;
        self.certificate_rows += o.certificate_rows;
    }

    /// One job's counters.
    fn of_job(r: &pipeline::JobResult) -> RunTotals {
        RunTotals {
            packets_filtered_expr: r.summary.packets_filtered_expr,
            packets_non_ip: r.summary.packets_non_ip,
            fragments: r.summary.fragments,
            flows_evicted: r.summary.table.flows_evicted,
            flows_ended_idle: r.summary.table.flows_ended_idle,
            max_active_flows: r.summary.table.max_active_flows,
            max_flow_bytes: r.summary.table.max_flow_bytes,
            packet_rows: r.row_counts[output::PACKETS],
            dns_rows: r.row_counts[output::DNS],
            certificate_rows: r.row_counts[output::CERTS],
        }
    }
}

/// Tables kept in memory by [`collect`]: `flows` and, as asked for, the
/// row tables, with exactly the schemas of a dataset's files (partitioning
/// `none`).
pub struct Collected {
    pub flows: (
        arrow::datatypes::SchemaRef,
        Vec<arrow::record_batch::RecordBatch>,
    ),
    /// `packets`, `dns`, `tls_certificates` ([`output::ROW_TABLES`]), each
    /// `None` unless asked for.
    pub row_tables: [Option<(
        arrow::datatypes::SchemaRef,
        Vec<arrow::record_batch::RecordBatch>,
    )>; 3],
    /// Every input, in input order, as a manifest would list it.
    pub inputs: Vec<InputReport>,
    pub totals: RunTotals,
    /// The runs' summaries merged (packets read, filtered, anomalies …).
    pub summary: crate::analyzer::RunSummary,
}

/// As [`convert`], but the tables stay in memory (no directory, no
/// manifest, no resume): what the Python package's `read_flows` and
/// `analyze_file` return. Flow ids are the ones `convert` would write.
pub fn collect(
    analyzer: &Analyzer,
    inputs: &[Input],
    opts: &ConvertOptions,
) -> Result<Collected, ConvertError> {
    collect_units(analyzer, plan_units(inputs, opts)?, opts)
}

/// The jobs of `inputs` as a new dataset numbers them: what
/// [`collect_units`] runs, one unit per Spark task or all here; their
/// dispatch key is the one asked for, else a new secret.
pub fn plan_units(inputs: &[Input], opts: &ConvertOptions) -> Result<Vec<Job>, ConvertError> {
    let key = DispatchKey::requested(opts.hash_seed)
        .map_err(ConvertError::HashSeed)?
        .unwrap_or_else(DispatchKey::random);
    Ok(plan(inputs, &HashMap::new(), opts.stitch, key))
}

/// As [`collect`], for units planned already (some of a larger plan: their
/// flow ids are the plan's).
pub fn collect_units(
    analyzer: &Analyzer,
    jobs: Vec<Job>,
    opts: &ConvertOptions,
) -> Result<Collected, ConvertError> {
    collect_into(analyzer, jobs, opts, None)
}

/// A batch of one of the tables: 0 is `flows`, `1 + i` is
/// [`output::ROW_TABLES`]`[i]`.
pub type TableBatch = (usize, arrow::record_batch::RecordBatch);

/// As [`collect_units`], but each batch goes to `sink` as soon as it is
/// built (in no particular order across workers), so memory holds the
/// channel's few batches instead of whole tables: what a Spark task
/// streams out. The returned tables are empty. When the receiver goes
/// away, the workers stop writing (a cancel via `opts.progress` stops the
/// readers too).
pub fn stream_units(
    analyzer: &Analyzer,
    jobs: Vec<Job>,
    opts: &ConvertOptions,
    sink: crossbeam_channel::Sender<TableBatch>,
) -> Result<Collected, ConvertError> {
    collect_into(analyzer, jobs, opts, Some(sink))
}

fn collect_into(
    analyzer: &Analyzer,
    jobs: Vec<Job>,
    opts: &ConvertOptions,
    sink: Option<crossbeam_channel::Sender<TableBatch>>,
) -> Result<Collected, ConvertError> {
    let mut opts = normalized(opts);
    opts.partition_by = PartitionBy::None;
    let key = jobs
        .first()
        .map_or_else(DispatchKey::random, |j| j.dispatch_key);
    let settings = settings_json(analyzer, &opts, key);
    if let Some(p) = &opts.progress {
        p.set_total(jobs.iter().map(|j| j.bytes).sum(), jobs.len() as u64);
    }
    let mut ctx = output::OutputCtx::new(Path::new(""), &opts, &settings);
    ctx.in_memory = true;
    ctx.stream = sink;
    let mut results = run_jobs(analyzer, &ctx, &opts, jobs)?;
    results.sort_by_key(|r| r.index);
    let mut out = Collected {
        flows: (ctx.flows_schema.clone(), Vec::new()),
        row_tables: [0, 1, 2]
            .map(|t| ctx.tables[t].then(|| (ctx.row_schemas[t].clone(), Vec::new()))),
        inputs: Vec::new(),
        totals: RunTotals::default(),
        summary: Default::default(),
    };
    for r in results {
        out.totals.merge(&RunTotals::of_job(&r));
        out.summary.merge(&r.summary);
        let [flows, rows @ ..] = r.batches;
        out.flows.1.extend(flows);
        for (t, b) in out.row_tables.iter_mut().zip(rows) {
            if let Some((_, all)) = t {
                all.extend(b);
            }
        }
        out.inputs.extend(r.reports);
    }
    Ok(out)
}

fn marker_path(out_dir: &Path, index: u32) -> PathBuf {
    out_dir.join(MARKER_DIR).join(format!("{index:06}.json"))
}

/// The dispatch key the dataset's markers record, if any.
fn recorded_key(out_dir: &Path) -> Option<DispatchKey> {
    let rd = std::fs::read_dir(out_dir.join(MARKER_DIR)).ok()?;
    rd.flatten().find_map(|e| {
        let m: DoneMarker = serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
        serde_json::from_value(m.settings.get("hash_seed")?.clone()).ok()
    })
}

/// Finished jobs by their first input's capture name; an error if one was
/// written with other settings.
fn read_markers(
    out_dir: &Path,
    settings: &serde_json::Value,
) -> Result<HashMap<String, DoneMarker>, ConvertError> {
    let mut out = HashMap::new();
    let dir = out_dir.join(MARKER_DIR);
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Ok(out);
    };
    for e in rd.flatten() {
        let path = e.path();
        if path.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        let Some(m) = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<DoneMarker>(&b).ok())
        else {
            continue;
        };
        if &m.settings != settings {
            return Err(ConvertError::SettingsDiffer {
                dir: out_dir.display().to_string(),
                file: path.display().to_string(),
            });
        }
        if let Some(first) = m.reports.first() {
            out.insert(first.capture.clone(), m);
        }
    }
    Ok(out)
}

/// Group inputs into jobs and number them: a job already done keeps its
/// number; a new one takes its position in the input list unless that is
/// taken, then the next free number.
fn plan(
    inputs: &[Input],
    done: &HashMap<String, DoneMarker>,
    stitch: bool,
    dispatch_key: DispatchKey,
) -> Vec<Job> {
    let groups: Vec<Vec<Input>> = if stitch {
        if inputs.is_empty() {
            vec![]
        } else {
            vec![inputs.to_vec()]
        }
    } else {
        inputs.iter().map(|i| vec![i.clone()]).collect()
    };
    let mut used: HashSet<u32> = done.values().map(|m| m.capture_index).collect();
    let mut next_free = 0u32;
    let plan_jobs = groups.len() as u32;
    groups
        .into_iter()
        .enumerate()
        .map(|(pos, inputs)| {
            let index = match done.get(&inputs[0].rel) {
                Some(m) => m.capture_index,
                None => {
                    let mut idx = pos as u32;
                    if used.contains(&idx) {
                        while used.contains(&next_free) {
                            next_free += 1;
                        }
                        idx = next_free;
                    }
                    used.insert(idx);
                    idx
                }
            };
            let bytes = inputs.iter().map(|i| i.size_mtime().0).sum();
            Job {
                index,
                inputs,
                bytes,
                plan_jobs,
                dispatch_key,
            }
        })
        .collect()
}

/// Size and mtime (whole seconds) of a file.
pub(crate) fn size_mtime(path: &Path) -> (u64, i64) {
    let Ok(meta) = std::fs::metadata(path) else {
        return (0, 0);
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    (meta.len(), mtime)
}

/// The reports of marker `m` for `job`, if it finished with these same inputs
/// unchanged (same names, sizes and mtimes).
fn reusable(m: &DoneMarker, job: &Job) -> Option<Vec<InputReport>> {
    if m.reports.len() != job.inputs.len() {
        return None;
    }
    for (r, i) in m.reports.iter().zip(&job.inputs) {
        let (size, mtime) = i.size_mtime();
        if r.capture != i.rel || r.size_bytes != size || r.mtime_unix_s != mtime {
            return None;
        }
    }
    Some(
        m.reports
            .iter()
            .zip(&job.inputs)
            .map(|(r, i)| {
                let mut r = r.clone();
                r.path = i.path.display().to_string();
                r.skipped = true;
                r
            })
            .collect(),
    )
}

/// What decides the content of the dataset: a resumed run must match.
fn settings_json(a: &Analyzer, o: &ConvertOptions, key: DispatchKey) -> serde_json::Value {
    let c = a.config();
    serde_json::json!({
        "udp_timeout": c.udp_timeout_s,
        "tcp_cleanup_timeout": c.tcp_cleanup_timeout_s,
        "tcp_close_delay": c.tcp_close_delay_s,
        "filter_ack": c.filter_ack,
        "filter_rst": c.filter_rst,
        "filter_retrans": c.filter_retrans,
        "compute_statistics": c.compute_statistics,
        "enable_reassembly": c.enable_reassembly,
        "max_sequence_len": c.max_sequence_len,
        "max_flows": c.max_flows,
        "protocols": c.protocols,
        "max_memory_bytes": o.max_memory_bytes,
        "filter": o.filter.as_ref().map(|f| f.expr().to_string()),
        "format": o.format,
        "partition_by": o.partition_by,
        "packets": o.packets,
        "dns": o.dns,
        "certificates": o.certificates,
        "raw_bytes": o.raw_bytes,
        "stitch": o.stitch,
        "hash_seed": key,
    })
}

/// Write a small file so that it appears whole or not at all, and stays
/// so through a power cut: the temporary is synced before the rename and
/// the directory after it (else a marker could survive as an empty file,
/// or its rename be lost, and a resume trust it).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    sync_dir(dir)
}

/// Make a directory's entries (renames into it) durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    })?
    .sync_all()
}

/// A committed file as its job's marker records it: a resume trusts a job
/// only while every one of its files is still there with the same size
/// and the same last 64 KiB (a Parquet file's footer, which describes every
/// row group). Content, not times: the CLI's and a Spark task's markers
/// stay byte-equal; reading 64 KiB a file keeps the check cheap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FileStamp {
    path: String,
    size: u64,
    /// SipHash-1-3 (zero key: integrity, not secrecy) of the tail, hex.
    tail_hash: String,
}

const STAMP_TAIL_BYTES: u64 = 64 << 10;

impl FileStamp {
    fn of(out_dir: &Path, rel: &str) -> Option<FileStamp> {
        use std::hash::Hasher;
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(out_dir.join(rel)).ok()?;
        let size = f.metadata().ok()?.len();
        f.seek(SeekFrom::Start(size.saturating_sub(STAMP_TAIL_BYTES)))
            .ok()?;
        let mut tail = Vec::with_capacity(STAMP_TAIL_BYTES as usize);
        f.read_to_end(&mut tail).ok()?;
        let mut h = siphasher::sip::SipHasher13::new_with_keys(0, 0);
        h.write(&tail);
        Some(FileStamp {
            path: rel.to_string(),
            size,
            tail_hash: format!("{:016x}", h.finish()),
        })
    }
}

/// Why a finished job's files can no longer be trusted, if they cannot:
/// one deleted, or changed since its marker was written.
fn tampered(out_dir: &Path, m: &DoneMarker) -> Option<String> {
    for want in &m.files {
        match FileStamp::of(out_dir, &want.path) {
            None => return Some(format!("{} is missing", want.path)),
            Some(got) if got != *want => {
                return Some(format!("{} changed since it was written", want.path))
            }
            Some(_) => {}
        }
    }
    None
}
