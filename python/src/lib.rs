//! `wa1kpcap._native`: the engine as a Python extension module.
//!
//! Owns: turning Python options into an [`Analyzer`] and
//! [`ConvertOptions`], running the engine off the GIL in a thread of its
//! own while the calling thread watches for Ctrl-C and reports progress,
//! and handing the tables out as Arrow (C stream interface, no copy). The
//! Python API (`Wa1kPcap`, `Flow`, the exporters) is pure Python on top of
//! these few functions, in `python/wa1kpcap/`.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use crossbeam_channel::RecvTimeoutError;
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;

use wa1kpcap::convert::{
    self, Collected, ConvertError, ConvertOptions, Format, Input, PartitionBy, Progress,
};
use wa1kpcap::filter::PacketFilter;
use wa1kpcap::Analyzer;

mod units;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How often the waiting thread looks at signals and reports progress.
pub(crate) const POLL: Duration = Duration::from_millis(100);

/// Options shared by `analyze` and `convert`, read from a dict whose keys
/// are the Python API's argument names. Unknown keys are an error, so a
/// misspelt option never goes unnoticed.
pub(crate) fn options(opts: &Bound<'_, PyDict>) -> PyResult<(Analyzer, ConvertOptions)> {
    let mut a = Analyzer::new();
    let mut c = ConvertOptions::default();
    for (k, v) in opts.iter() {
        let key: String = k.extract()?;
        let bad = |what: &str| PyValueError::new_err(format!("option {key}: {what}"));
        match key.as_str() {
            "udp_timeout" => {
                a = a.udp_timeout(non_negative(v.extract()?).ok_or_else(|| bad("must be ≥ 0"))?)
            }
            "tcp_cleanup_timeout" => {
                a = a.tcp_cleanup_timeout(
                    non_negative(v.extract()?).ok_or_else(|| bad("must be ≥ 0"))?,
                )
            }
            "filter_ack" => a = a.filter_ack(v.extract()?),
            "filter_rst" => a = a.filter_rst(v.extract()?),
            "filter_retrans" => a = a.filter_retrans(v.extract()?),
            "compute_statistics" => a = a.compute_statistics(v.extract()?),
            "enable_reassembly" => a = a.enable_reassembly(v.extract()?),
            "protocols" => a = a.protocols(v.extract()?),
            "max_sequence_len" => a = a.max_sequence_len(v.extract()?),
            "max_flows" => {
                let n: usize = v.extract()?;
                if n == 0 {
                    return Err(bad("must be ≥ 1"));
                }
                a = a.max_flows(n)
            }
            "filter" => {
                let e: Option<String> = v.extract()?;
                c.filter =
                    match e.as_deref().map(str::trim) {
                        None | Some("") => None,
                        Some(e) => Some(Arc::new(PacketFilter::parse(e).map_err(|err| {
                            PyValueError::new_err(format!("filter {e:?}: {err}"))
                        })?)),
                    };
            }
            "threads" => {
                let n: Option<usize> = v.extract()?;
                if let Some(n) = n {
                    c.threads = n.max(1);
                }
            }
            "stitch" => c.stitch = v.extract()?,
            // The dispatch key (hex digits, or an int): a dataset the same
            // run to run ([`wa1kpcap::keyed`]).
            "hash_seed" => {
                c.hash_seed = match v.extract::<Option<String>>() {
                    Ok(s) => s.map(|s| {
                        wa1kpcap::keyed::DispatchKey::from_hex(s.trim())
                            .ok_or_else(|| bad("must be 1 to 32 hex digits"))
                    }),
                    Err(_) => Some(Ok(wa1kpcap::keyed::DispatchKey::from_u128(v.extract()?))),
                }
                .transpose()?
            }
            // None or 0: no bound (the engine's default applies when the
            // key is absent).
            "max_memory_mib" => {
                c.max_memory_bytes = v
                    .extract::<Option<u64>>()?
                    .filter(|&m| m > 0)
                    .map(|m| m << 20)
            }
            "packets" => c.packets = v.extract()?,
            "raw_bytes" => c.raw_bytes = v.extract()?,
            "dns" => c.dns = v.extract()?,
            "certificates" => c.certificates = v.extract()?,
            "overwrite" => c.overwrite = v.extract()?,
            "partition_by" => {
                c.partition_by = match v.extract::<String>()?.as_str() {
                    "none" => PartitionBy::None,
                    "date" => PartitionBy::Date,
                    "hour" => PartitionBy::Hour,
                    "capture" => PartitionBy::Capture,
                    other => {
                        return Err(bad(&format!(
                            "{other:?} is not none, date, hour or capture"
                        )))
                    }
                }
            }
            "format" => {
                c.format = match v.extract::<String>()?.as_str() {
                    "parquet" => Format::Parquet,
                    "csv" => Format::Csv,
                    "jsonl" => Format::Jsonl,
                    other => return Err(bad(&format!("{other:?} is not parquet, csv or jsonl"))),
                }
            }
            _ => return Err(PyValueError::new_err(format!("unknown option {key:?}"))),
        }
    }
    Ok((a, c))
}

fn non_negative(x: f64) -> Option<f64> {
    (x >= 0.0 && x.is_finite()).then_some(x)
}

/// The inputs, or `FileNotFoundError` for the first path that names
/// nothing (before any work starts).
pub(crate) fn inputs(paths: &[PathBuf]) -> PyResult<Vec<Input>> {
    let found = convert::discover_all(paths);
    if let Some((p, why)) = found.missing.first() {
        return Err(PyFileNotFoundError::new_err((
            2,
            why.clone(),
            p.display().to_string(),
        )));
    }
    Ok(found.inputs)
}

/// What a run needs, read before any work: the engine's settings, the
/// inputs, and the progress counters the watcher reads (and cancels by).
fn prepare(
    options: &Bound<'_, PyDict>,
    paths: &[PathBuf],
) -> PyResult<(Analyzer, ConvertOptions, Vec<Input>, Arc<Progress>)> {
    let (analyzer, mut opts) = self::options(options)?;
    let inputs = inputs(paths)?;
    let watch = Arc::new(Progress::default());
    opts.progress = Some(watch.clone());
    Ok((analyzer, opts, inputs, watch))
}

/// Run `work` in its own thread with the GIL released; every [`POLL`] the
/// caller's thread reports progress and checks for signals. On Ctrl-C the
/// work is cancelled (readers stop within 4096 packets) and waited for, so
/// no thread outlives the call; a panic becomes a Python exception.
pub(crate) fn run_watched<T: Send + 'static>(
    py: Python<'_>,
    progress: Arc<Progress>,
    on_progress: Option<Py<PyAny>>,
    work: impl FnOnce() -> T + Send + 'static,
) -> PyResult<T> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let handle = std::thread::Builder::new()
        .name("wa1kpcap-run".into())
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = tx.send(r);
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a thread: {e}")))?;
    let report = |py: Python<'_>| -> PyResult<()> {
        if let Some(cb) = &on_progress {
            cb.call1(
                py,
                (
                    progress.bytes_done.load(Ordering::Relaxed),
                    progress.bytes_total.load(Ordering::Relaxed),
                    progress.packets_done.load(Ordering::Relaxed),
                ),
            )?;
        }
        Ok(())
    };
    let outcome = loop {
        match py.detach(|| rx.recv_timeout(POLL)) {
            Ok(r) => break r,
            Err(RecvTimeoutError::Timeout) => {
                if let Err(e) = py.check_signals().and_then(|()| report(py)) {
                    progress.cancel.store(true, Ordering::Relaxed);
                    let _ = py.detach(|| rx.recv());
                    let _ = handle.join();
                    return Err(e);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err(
                    "the engine's thread ended without a result",
                ))
            }
        }
    };
    let _ = handle.join();
    report(py)?;
    outcome.map_err(panic_error)
}

/// A panic of the engine's thread as a Python exception.
pub(crate) fn panic_error(p: Box<dyn std::any::Any + Send>) -> PyErr {
    let msg = p
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into());
    pyo3::panic::PanicException::new_err(format!(
        "internal error in the wa1kpcap engine (please report it): {msg}"
    ))
}

pub(crate) fn convert_error(e: ConvertError) -> PyErr {
    match e {
        ConvertError::Io(e) => PyOSError::new_err(e.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

pub(crate) fn table(
    py: Python<'_>,
    (schema, batches): (SchemaRef, Vec<RecordBatch>),
) -> PyResult<Py<PyAny>> {
    Ok(Py::new(py, PyTable::try_new(batches, schema)?)?.into_any())
}

/// The run's report (inputs, totals, summary, anomalies) as JSON text.
pub(crate) fn report_json(c: &Collected) -> String {
    let anomalies: serde_json::Map<String, serde_json::Value> = c
        .summary
        .anomalies
        .nonzero()
        .map(|(a, n)| (a.name().to_string(), n.into()))
        .collect();
    serde_json::json!({
        "inputs": c.inputs,
        "totals": c.totals,
        "summary": c.summary,
        "anomalies": anomalies,
    })
    .to_string()
}

/// Analyse captures into in-memory tables: a dict with `flows` (and
/// `packets`, `dns`, `tls_certificates` when asked for by the options) as
/// Arrow tables, and `report`, the run's JSON report.
#[pyfunction]
#[pyo3(signature = (paths, options, progress=None))]
fn analyze(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    options: &Bound<'_, PyDict>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyDict>> {
    let (analyzer, opts, inputs, watch) = prepare(options, &paths)?;
    let collected = run_watched(py, watch, progress, move || {
        convert::collect(&analyzer, &inputs, &opts)
    })?
    .map_err(convert_error)?;
    collected_dict(py, collected)
}

/// `analyze`'s answer: the tables and the report.
pub(crate) fn collected_dict(py: Python<'_>, collected: Collected) -> PyResult<Py<PyDict>> {
    let out = PyDict::new(py);
    out.set_item("report", report_json(&collected))?;
    let Collected {
        flows, row_tables, ..
    } = collected;
    out.set_item("flows", table(py, flows)?)?;
    for (name, t) in ["packets", "dns", "tls_certificates"]
        .into_iter()
        .zip(row_tables)
    {
        match t {
            Some(t) => out.set_item(name, table(py, t)?)?,
            None => out.set_item(name, py.None())?,
        }
    }
    Ok(out.unbind())
}

/// Convert captures into a dataset directory, as `wa1kpcap convert` does;
/// returns the manifest as JSON text.
#[pyfunction(name = "convert")]
#[pyo3(signature = (paths, output, options, progress=None))]
fn convert_dataset(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    output: PathBuf,
    options: &Bound<'_, PyDict>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let (analyzer, opts, inputs, watch) = prepare(options, &paths)?;
    let manifest = run_watched(py, watch, progress, move || {
        convert::convert(&analyzer, &inputs, &output, &opts)
    })?
    .map_err(convert_error)?;
    serde_json::to_string(&manifest).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// Check a libpcap-syntax filter; `ValueError` says what is wrong.
#[pyfunction]
fn check_filter(expr: &str) -> PyResult<()> {
    PacketFilter::parse(expr)
        .map(|_| ())
        .map_err(|e| PyValueError::new_err(format!("filter {expr:?}: {e}")))
}

/// Write a generated capture: `sample` (the demo's mix: TLS, HTTP, DNS,
/// IPv6, VLAN, fragments, GRE), `traffic` (`sessions` copies of it from
/// as many clients) or `tls_cert` (one TLS 1.2 session whose server sends
/// the certificates `ders`). For tests and examples that need no files.
#[pyfunction]
#[pyo3(signature = (path, kind="sample", sessions=20, ders=Vec::new()))]
fn write_sample(path: PathBuf, kind: &str, sessions: usize, ders: Vec<Vec<u8>>) -> PyResult<()> {
    let bytes = match kind {
        "sample" => wa1kpcap::sample::sample_pcap(),
        "traffic" => wa1kpcap::sample::traffic_pcap(sessions),
        "tls_cert" => {
            let ders: Vec<&[u8]> = ders.iter().map(Vec::as_slice).collect();
            wa1kpcap::sample::tls_certificate_pcap("cert.example", &ders)
        }
        other => return Err(PyValueError::new_err(format!("unknown sample {other:?}"))),
    }
    .map_err(|e| PyOSError::new_err(e.to_string()))?;
    std::fs::write(&path, bytes).map_err(|e| PyOSError::new_err(format!("{}: {e}", path.display())))
}

/// Panics in the engine's thread: the tests' proof that a panic becomes
/// an exception and the interpreter lives on.
#[pyfunction]
fn _panic_for_tests(py: Python<'_>) -> PyResult<()> {
    run_watched(py, Arc::new(Progress::default()), None, || -> () {
        panic!("a panic on purpose")
    })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(convert_dataset, m)?)?;
    m.add_function(wrap_pyfunction!(check_filter, m)?)?;
    m.add_function(wrap_pyfunction!(write_sample, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    units::register(m)?;
    Ok(())
}
