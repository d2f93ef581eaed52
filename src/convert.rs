//! `convert`: capture files to a Parquet dataset directory.
//!
//! Owns: input discovery (files, directories), per-input conversion (flows
//! streamed into batches, one atomically written file per input), stable
//! dataset-unique flow ids, resume, and the dataset manifest. This is the
//! first, file-parallel form of the pipeline: each input is analysed by one
//! worker.
//!
//! Resume: every output file carries in its footer the settings, the
//! input's size and mtime, and the input's report. Files appear atomically,
//! so an existing file is a finished one; a re-run skips inputs whose file
//! matches, even after the previous run was killed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use crate::analyzer::Analyzer;
use crate::flow::Flow;
use crate::sink::{
    flow_columns, flows_schema, flows_to_batch, AtomicParquetWriter, ColumnSpec, FlowRow,
};

/// Flows per record batch (and Parquet row-group size).
const BATCH_ROWS: usize = 8192;

/// One input: the file and its path relative to the input root.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub rel: String,
}

/// Expand files and directories (recursively, sorted) into inputs.
pub fn discover(inputs: &[PathBuf]) -> (Vec<Input>, Vec<(PathBuf, String)>) {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for root in inputs {
        if root.is_dir() {
            let mut files = Vec::new();
            walk(root, &mut files);
            files.sort();
            for f in files {
                let rel = f
                    .strip_prefix(root)
                    .unwrap_or(&f)
                    .to_string_lossy()
                    .into_owned();
                out.push(Input { path: f, rel });
            }
        } else if root.is_file() {
            let rel = root.file_name().map_or_else(
                || root.to_string_lossy().into_owned(),
                |n| n.to_string_lossy().into_owned(),
            );
            out.push(Input {
                path: root.clone(),
                rel,
            });
        } else {
            missing.push((root.clone(), "no such file or directory".to_string()));
        }
    }
    (out, missing)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

/// What happened to one input.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct InputReport {
    pub path: String,
    pub capture: String,
    pub size_bytes: u64,
    pub mtime_unix_s: i64,
    pub packets: u64,
    pub flows: u64,
    pub anomalies: u64,
    /// Why the input could not be (fully) read.
    pub error: Option<String>,
    /// The Parquet file written, relative to the dataset root.
    pub output: Option<String>,
    /// Already converted with the same settings by an earlier run.
    #[serde(default)]
    pub skipped: bool,
}

/// The dataset manifest (`manifest.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    pub settings: serde_json::Value,
    pub inputs: Vec<InputReport>,
    pub packets: u64,
    pub flows: u64,
    pub inputs_with_errors: u64,
    pub inputs_skipped: u64,
}

/// Why a conversion could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{dir} holds a dataset written with other settings ({file}); use --overwrite to start afresh")]
    SettingsDiffer { dir: String, file: String },
}

/// Stable 32-bit FNV-1a of the capture's relative path: the high half of
/// its flow ids, so ids are unique in the dataset and the same on re-runs.
fn path_id(rel: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in rel.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Convert `inputs` into `out_dir` with `threads` workers. Inputs already
/// converted there with the same settings are skipped unless `overwrite`,
/// which removes the existing dataset first.
pub fn convert(
    analyzer: &Analyzer,
    inputs: &[Input],
    out_dir: &Path,
    threads: usize,
    overwrite: bool,
) -> Result<Manifest, ConvertError> {
    let flows_dir = out_dir.join("flows");
    if overwrite {
        if flows_dir.exists() {
            std::fs::remove_dir_all(&flows_dir)?;
        }
        let _ = std::fs::remove_file(out_dir.join("manifest.json"));
    }
    std::fs::create_dir_all(&flows_dir)?;
    let columns: Arc<Vec<ColumnSpec>> = Arc::new(flow_columns());
    let schema = flows_schema(&columns);
    let settings = settings_json(analyzer);
    let done = finished_outputs(&flows_dir, &settings)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(std::io::Error::other)?;
    let reports: Vec<InputReport> = pool.install(|| {
        inputs
            .par_iter()
            .map(|input| match reusable(&done, input) {
                Some(report) => report,
                None => convert_one(analyzer, input, out_dir, &columns, &schema, &settings),
            })
            .collect()
    });
    let manifest = Manifest {
        tool: "wa1kpcap".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        settings,
        packets: reports.iter().map(|r| r.packets).sum(),
        flows: reports.iter().map(|r| r.flows).sum(),
        inputs_with_errors: reports.iter().filter(|r| r.error.is_some()).count() as u64,
        inputs_skipped: reports.iter().filter(|r| r.skipped).count() as u64,
        inputs: reports,
    };
    write_atomically(
        &out_dir.join("manifest.json"),
        &serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?,
    )?;
    Ok(manifest)
}

/// Footer facts of a finished output file.
struct Finished {
    size_bytes: u64,
    mtime_unix_s: i64,
    report: InputReport,
}

/// Finished outputs in `flows_dir`, by capture; an error if one was written
/// with other settings.
fn finished_outputs(
    flows_dir: &Path,
    settings: &serde_json::Value,
) -> Result<HashMap<String, Finished>, ConvertError> {
    let mut out = HashMap::new();
    let Ok(rd) = std::fs::read_dir(flows_dir) else {
        return Ok(out);
    };
    for e in rd.flatten() {
        let path = e.path();
        if path.extension().and_then(|x| x.to_str()) != Some("parquet") {
            continue;
        }
        let Ok(kv) = crate::sink::read_footer_metadata(&path) else {
            continue;
        };
        let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        let same_settings = get("wa1kpcap.settings")
            .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
            .is_some_and(|s| &s == settings);
        if !same_settings {
            return Err(ConvertError::SettingsDiffer {
                dir: flows_dir.display().to_string(),
                file: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            });
        }
        let (Some(capture), Some(report)) = (get("wa1kpcap.capture"), get("wa1kpcap.report"))
        else {
            continue;
        };
        let Ok(report) = serde_json::from_str::<InputReport>(report) else {
            continue;
        };
        out.insert(
            capture.to_string(),
            Finished {
                size_bytes: report.size_bytes,
                mtime_unix_s: report.mtime_unix_s,
                report,
            },
        );
    }
    Ok(out)
}

/// The earlier report for `input`, if its output is finished and the input
/// has not changed (same size and mtime).
fn reusable(done: &HashMap<String, Finished>, input: &Input) -> Option<InputReport> {
    let f = done.get(&input.rel)?;
    let meta = std::fs::metadata(&input.path).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs() as i64;
    if meta.len() != f.size_bytes || mtime != f.mtime_unix_s {
        return None;
    }
    let mut r = f.report.clone();
    r.path = input.path.display().to_string();
    r.skipped = true;
    Some(r)
}

fn settings_json(a: &Analyzer) -> serde_json::Value {
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
    })
}

fn convert_one(
    analyzer: &Analyzer,
    input: &Input,
    out_dir: &Path,
    columns: &[ColumnSpec],
    schema: &arrow::datatypes::SchemaRef,
    settings: &serde_json::Value,
) -> InputReport {
    let meta = std::fs::metadata(&input.path).ok();
    let mut report = InputReport {
        path: input.path.display().to_string(),
        capture: input.rel.clone(),
        size_bytes: meta.as_ref().map_or(0, |m| m.len()),
        mtime_unix_s: meta
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64),
        packets: 0,
        flows: 0,
        anomalies: 0,
        error: None,
        output: None,
        skipped: false,
    };
    let id_hi = i64::from(path_id(&input.rel)) << 32;
    let file_name = format!("part-{:08x}.parquet", path_id(&input.rel));
    let rel_out = format!("flows/{file_name}");
    let metadata = vec![
        (
            "wa1kpcap.version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
        ("wa1kpcap.settings".to_string(), settings.to_string()),
        ("wa1kpcap.capture".to_string(), input.rel.clone()),
    ];
    let mut writer = match AtomicParquetWriter::create(
        &out_dir.join(&rel_out),
        schema.clone(),
        metadata,
        BATCH_ROWS,
    ) {
        Ok(w) => w,
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    };
    let mut pending: Vec<Flow> = Vec::with_capacity(BATCH_ROWS);
    let mut next_id = 0i64;
    let mut write_error: Option<String> = None;
    let flush = |pending: &mut Vec<Flow>, writer: &mut AtomicParquetWriter, next_id: &mut i64| {
        let rows: Vec<FlowRow<'_>> = pending
            .iter()
            .enumerate()
            .map(|(i, f)| FlowRow {
                flow: f,
                flow_id: id_hi | (*next_id + i as i64),
                capture: &input.rel,
            })
            .collect();
        *next_id += rows.len() as i64;
        let result = flows_to_batch(columns, schema, &rows)
            .map_err(|e| e.to_string())
            .and_then(|b| writer.write(&b).map_err(|e| e.to_string()));
        pending.clear();
        result
    };
    let outcome = analyzer.stream(&input.path, |flow| {
        pending.push(flow);
        if pending.len() >= BATCH_ROWS && write_error.is_none() {
            if let Err(e) = flush(&mut pending, &mut writer, &mut next_id) {
                write_error = Some(e);
            }
        }
    });
    match outcome {
        Ok(summary) => {
            report.packets = summary.packets_read;
            report.anomalies = summary.anomalies.total();
            report.error = summary.capture_error;
        }
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    }
    if !pending.is_empty() && write_error.is_none() {
        if let Err(e) = flush(&mut pending, &mut writer, &mut next_id) {
            write_error = Some(e);
        }
    }
    if let Some(e) = write_error {
        report.error = Some(e);
        return report;
    }
    // The report goes into the footer, which is what a resumed run trusts.
    let mut final_report = report.clone();
    final_report.flows = next_id as u64;
    final_report.output = Some(rel_out.clone());
    writer.append_metadata(
        "wa1kpcap.report",
        serde_json::to_string(&final_report).unwrap_or_default(),
    );
    match writer.finish() {
        Ok(_) => report = final_report,
        Err(e) => report.error = Some(e.to_string()),
    }
    report
}

/// Write a small file so that it appears whole or not at all.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
