//! Work units for another scheduler (the Spark driver in
//! `wa1kpcap/spark.py`): plan on the driver, run each unit in a task,
//! write the manifest on the driver — the three phases of `convert`, so
//! the dataset is the one `wa1kpcap convert` writes (names, flow ids,
//! markers, manifest). Units travel as JSON text between them.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyArray;
use wa1kpcap::convert::output::ROW_TABLES;
use wa1kpcap::convert::{
    self, Collected, ConvertError, DatasetPlan, Input, Job, Progress, TableBatch, UnitResult,
};

use crate::{convert_error, inputs, options, panic_error, report_json, run_watched, table, POLL};

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> PyResult<T> {
    serde_json::from_str(text).map_err(|e| PyValueError::new_err(format!("work unit JSON: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// Plan the units of `paths` (discovered as the CLI does; a path naming
/// nothing is `FileNotFoundError`) or of `listed`, JSON inputs
/// (`[{"path", "rel", "known_size_mtime": [size, mtime]}]`, a
/// `binaryFile` listing). With `output`, planned on that dataset (overwrite,
/// resume, cleanup: `convert`'s first phase); without, as a new dataset
/// numbers them. Returns a `DatasetPlan` as JSON.
#[pyfunction]
#[pyo3(signature = (paths, options, output=None, listed=None))]
fn plan_units(
    paths: Vec<PathBuf>,
    options: &Bound<'_, PyDict>,
    output: Option<PathBuf>,
    listed: Option<&str>,
) -> PyResult<String> {
    let (analyzer, opts) = self::options(options)?;
    let found: Vec<Input> = match listed {
        Some(text) => from_json(text)?,
        None => inputs(&paths)?,
    };
    let plan = match output {
        Some(out) => {
            convert::plan_dataset(&analyzer, &found, &out, &opts).map_err(convert_error)?
        }
        None => DatasetPlan {
            settings: serde_json::Value::Null,
            units: convert::plan_units(&found, &opts).map_err(convert_error)?,
            reused: Vec::new(),
        },
    };
    to_json(&plan)
}

/// Hand `job` the bytes of its inputs: an Arrow binary array (Spark's
/// `binaryFile` `content`), one element per input, taken over the C data
/// interface and copied once (the engine reads it off the GIL).
fn with_contents(mut job: Job, contents: Option<PyArray>) -> PyResult<Job> {
    let Some(contents) = contents else {
        return Ok(job);
    };
    let array = contents.array();
    if array.len() != job.inputs.len() {
        return Err(PyValueError::new_err(format!(
            "{} contents for {} inputs",
            array.len(),
            job.inputs.len()
        )));
    }
    let value = |i: usize| -> PyResult<Vec<u8>> {
        if let Some(a) = array.as_binary_opt::<i32>() {
            Ok(a.value(i).to_vec())
        } else if let Some(a) = array.as_binary_opt::<i64>() {
            Ok(a.value(i).to_vec())
        } else {
            Err(PyValueError::new_err(format!(
                "contents must be binary, not {}",
                array.data_type()
            )))
        }
    };
    for (i, input) in job.inputs.iter_mut().enumerate() {
        input.data = Some(Arc::new(value(i)?));
    }
    Ok(job)
}

/// Run one unit into the dataset `output` (planned by `plan_units` with
/// that output): its files, then its done marker. What an earlier attempt
/// at it left is removed first. Returns a `UnitResult` as JSON.
#[pyfunction]
#[pyo3(signature = (unit, output, options, contents=None))]
fn run_unit(
    py: Python<'_>,
    unit: &str,
    output: PathBuf,
    options: &Bound<'_, PyDict>,
    contents: Option<PyArray>,
) -> PyResult<String> {
    let (analyzer, opts) = self::options(options)?;
    let job = with_contents(from_json(unit)?, contents)?;
    let result = run_watched(py, Arc::new(Progress::default()), None, move || {
        convert::run_unit(&analyzer, &output, &opts, &job, true)
    })?
    .map_err(convert_error)?;
    to_json(&result)
}

/// The tables of planned units (JSON list; `[]` gives empty tables, the
/// schemas), as `analyze` returns them, flow ids those of the plan.
#[pyfunction]
fn analyze_units(py: Python<'_>, units: &str, options: &Bound<'_, PyDict>) -> PyResult<Py<PyDict>> {
    let (analyzer, opts) = self::options(options)?;
    let jobs: Vec<Job> = from_json(units)?;
    let collected = run_watched(py, Arc::new(Progress::default()), None, move || {
        convert::collect_units(&analyzer, jobs, &opts)
    })?
    .map_err(convert_error)?;
    crate::collected_dict(py, collected)
}

/// A streamed run: [`stream_units`]'s iterator.
type Outcome = std::thread::Result<Result<Collected, ConvertError>>;

/// The batches of one table of planned units, as the engine builds them
/// (a bounded channel: memory holds a few batches, not the table); after
/// the last, `report()` gives the run's report. Dropping it early
/// cancels the run.
#[pyclass(module = "wa1kpcap._native")]
struct UnitStream {
    rx: Receiver<TableBatch>,
    table: usize,
    progress: Arc<Progress>,
    handle: Option<std::thread::JoinHandle<Outcome>>,
    report: Option<String>,
}

#[pymethods]
impl UnitStream {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        loop {
            let rx = &self.rx;
            match py.detach(|| rx.recv_timeout(POLL)) {
                Ok((t, b)) if t == self.table => {
                    return table(py, (b.schema(), vec![b])).map(Some);
                }
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = py.check_signals() {
                        self.progress.cancel.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let Some(h) = self.handle.take() else {
                        return Ok(None);
                    };
                    let collected = py
                        .detach(|| h.join())
                        .map_err(panic_error)?
                        .map_err(panic_error)?
                        .map_err(convert_error)?;
                    self.report = Some(report_json(&collected));
                    return Ok(None);
                }
            }
        }
    }

    /// The run's report (JSON text, as `analyze`'s), once every batch was read.
    fn report(&self) -> Option<String> {
        self.report.clone()
    }
}

impl Drop for UnitStream {
    fn drop(&mut self) {
        // Readers stop within 4096 packets; workers stop sending at once.
        self.progress.cancel.store(true, Ordering::Relaxed);
    }
}

/// Stream the `table` (`flows`, `packets`, `dns`, `tls_certificates`) of
/// one planned unit (JSON), batch by batch: a `UnitStream`.
#[pyfunction]
#[pyo3(signature = (unit, options, table, contents=None))]
fn stream_units(
    unit: &str,
    options: &Bound<'_, PyDict>,
    table: &str,
    contents: Option<PyArray>,
) -> PyResult<UnitStream> {
    let (analyzer, mut opts) = self::options(options)?;
    let slot = match table {
        "flows" => 0,
        other => {
            1 + ROW_TABLES
                .iter()
                .position(|t| *t == other)
                .ok_or_else(|| PyValueError::new_err(format!("unknown table {other:?}")))?
        }
    };
    let jobs = vec![with_contents(from_json(unit)?, contents)?];
    let progress = Arc::new(Progress::default());
    opts.progress = Some(progress.clone());
    // Two batches in flight: one being read by Python, one ready.
    let (tx, rx) = crossbeam_channel::bounded(2);
    let handle = std::thread::Builder::new()
        .name("wa1kpcap-stream".into())
        .spawn(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                convert::stream_units(&analyzer, jobs, &opts, tx)
            }))
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a thread: {e}")))?;
    Ok(UnitStream {
        rx,
        table: slot,
        progress,
        handle: Some(handle),
        report: None,
    })
}

/// Write the manifest of a planned conversion from its units' results;
/// returns it as JSON.
#[pyfunction]
fn finish_units(
    plan: &str,
    results: Vec<String>,
    output: PathBuf,
    elapsed_s: f64,
) -> PyResult<String> {
    let plan: DatasetPlan = from_json(plan)?;
    let results = results
        .iter()
        .map(|r| from_json::<UnitResult>(r))
        .collect::<PyResult<Vec<_>>>()?;
    let manifest =
        convert::finish_dataset(&output, &plan, results, elapsed_s).map_err(convert_error)?;
    to_json(&manifest)
}

/// The lock `wa1kpcap convert` holds on a dataset directory, for the
/// Spark driver to hold from planning to the manifest: a CLI run or another
/// driver on the same directory is refused meanwhile (its tasks write the
/// units of this plan, which the lock admits). Released on `__exit__`,
/// `release()`, or when collected; by the kernel if the process dies.
#[pyclass]
struct DatasetLock(Option<std::fs::File>);

#[pymethods]
impl DatasetLock {
    fn release(&mut self) {
        self.0 = None;
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&mut self, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.0 = None;
        false
    }
}

/// Lock the dataset directory `output` (made if missing); a directory
/// another conversion holds is `ValueError` with `convert`'s message.
#[pyfunction]
fn lock_dataset(output: PathBuf) -> PyResult<DatasetLock> {
    convert::lock_dataset(&output)
        .map(|f| DatasetLock(Some(f)))
        .map_err(convert_error)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(lock_dataset, m)?)?;
    m.add_class::<DatasetLock>()?;
    m.add_function(wrap_pyfunction!(plan_units, m)?)?;
    m.add_function(wrap_pyfunction!(run_unit, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_units, m)?)?;
    m.add_function(wrap_pyfunction!(stream_units, m)?)?;
    m.add_function(wrap_pyfunction!(finish_units, m)?)?;
    m.add_class::<UnitStream>()?;
    Ok(())
}
