//! One output file of a table, in any of the dataset formats, that appears
//! atomically: written to a hidden temporary name beside its final name,
//! synced, and renamed only when its owner commits it. A set of files that
//! must appear together (all parts of one capture) is staged first and
//! committed last, so the window in which a reader sees part of the set is
//! a few renames long.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use parquet::arrow::ArrowWriter;

use super::parquet_file::{parquet_properties, WriteError};

/// File format of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Parquet,
    /// Lists and binary as text (`[1, -2]`, hex), one header line.
    Csv,
    /// JSON Lines: one object per row, lists as arrays.
    Jsonl,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

enum Inner {
    Parquet(ArrowWriter<File>),
    Csv(arrow::csv::Writer<BufWriter<File>>),
    Jsonl(arrow::json::LineDelimitedWriter<BufWriter<File>>),
}

/// A table file being written.
pub struct TableFile {
    tmp_path: PathBuf,
    final_path: PathBuf,
    inner: Option<Inner>,
    rows: u64,
}

/// Hidden temporary name beside `final_path`.
fn tmp_name(final_path: &Path) -> PathBuf {
    let dir = final_path.parent().unwrap_or(Path::new("."));
    let name = final_path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("part");
    dir.join(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl TableFile {
    /// Start `final_path` (its directory is created). Parquet files carry
    /// `metadata` in their footer and `row_group_rows` rows per row group.
    pub fn create(
        final_path: &Path,
        schema: SchemaRef,
        format: Format,
        metadata: Vec<(String, String)>,
        row_group_rows: usize,
    ) -> Result<TableFile, WriteError> {
        let dir = final_path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let tmp_path = tmp_name(final_path);
        let file = File::create(&tmp_path).map_err(io_err(&tmp_path))?;
        let inner = match format {
            Format::Parquet => {
                let props = parquet_properties(&schema, metadata, row_group_rows)?;
                Inner::Parquet(ArrowWriter::try_new(file, schema, Some(props))?)
            }
            Format::Csv => Inner::Csv(
                arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(BufWriter::with_capacity(1 << 20, file)),
            ),
            Format::Jsonl => Inner::Jsonl(arrow::json::LineDelimitedWriter::new(
                BufWriter::with_capacity(1 << 20, file),
            )),
        };
        Ok(TableFile {
            tmp_path,
            final_path: final_path.to_path_buf(),
            inner: Some(inner),
            rows: 0,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), WriteError> {
        match self.inner.as_mut() {
            Some(Inner::Parquet(w)) => w.write(batch)?,
            Some(Inner::Csv(w)) => w.write(&as_text_columns(batch)?)?,
            Some(Inner::Jsonl(w)) => w.write(batch)?,
            None => return Ok(()),
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Bytes buffered for the row group in progress (Parquet; 0 otherwise).
    pub fn buffered_bytes(&self) -> usize {
        match &self.inner {
            Some(Inner::Parquet(w)) => w.in_progress_size(),
            _ => 0,
        }
    }

    /// Close the row group in progress (Parquet), bounding memory.
    pub fn flush(&mut self) -> Result<(), WriteError> {
        if let Some(Inner::Parquet(w)) = self.inner.as_mut() {
            w.flush()?;
        }
        Ok(())
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Add footer metadata (Parquet; ignored by the text formats).
    pub fn append_metadata(&mut self, key: &str, value: String) {
        if let Some(Inner::Parquet(w)) = self.inner.as_mut() {
            w.append_key_value_metadata(parquet::file::metadata::KeyValue::new(
                key.to_string(),
                value,
            ));
        }
    }

    /// Close and sync; the file is not visible until the result is committed.
    pub fn finish(mut self) -> Result<Staged, WriteError> {
        let text = |w: BufWriter<File>| w.into_inner().map_err(|e| e.into_error());
        let closed = match self.inner.take() {
            Some(Inner::Parquet(w)) => w.into_inner().map_err(WriteError::from),
            Some(Inner::Csv(w)) => text(w.into_inner()).map_err(io_err(&self.tmp_path)),
            Some(Inner::Jsonl(w)) => text(w.into_inner()).map_err(io_err(&self.tmp_path)),
            None => File::open(&self.tmp_path).map_err(io_err(&self.tmp_path)),
        };
        let synced = closed.and_then(|f| f.sync_all().map_err(io_err(&self.tmp_path)));
        if let Err(e) = synced {
            // the writer is gone, so Drop no longer removes the temporary
            let _ = std::fs::remove_file(&self.tmp_path);
            return Err(e);
        }
        Ok(Staged {
            tmp_path: std::mem::take(&mut self.tmp_path),
            final_path: std::mem::take(&mut self.final_path),
            rows: self.rows,
        })
    }
}

impl Drop for TableFile {
    fn drop(&mut self) {
        if self.inner.is_some() {
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}

/// A finished file under its hidden name, waiting to be committed.
#[derive(Debug)]
pub struct Staged {
    tmp_path: PathBuf,
    final_path: PathBuf,
    pub rows: u64,
}

impl Staged {
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Rename into place: the file appears whole.
    pub fn commit(mut self) -> Result<PathBuf, WriteError> {
        std::fs::rename(&self.tmp_path, &self.final_path).map_err(io_err(&self.final_path))?;
        self.tmp_path = PathBuf::new();
        Ok(std::mem::take(&mut self.final_path))
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.tmp_path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}

/// CSV has no lists or bytes: render those columns as text (`[1, -2]`,
/// hex), the way a reader would print them.
fn as_text_columns(batch: &RecordBatch) -> Result<RecordBatch, WriteError> {
    let needs_text = |t: &DataType| {
        matches!(
            t,
            DataType::List(_) | DataType::LargeList(_) | DataType::Binary | DataType::LargeBinary
        )
    };
    if !batch
        .schema()
        .fields()
        .iter()
        .any(|f| needs_text(f.data_type()))
    {
        return Ok(batch.clone());
    }
    let opts = FormatOptions::default();
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        if needs_text(f.data_type()) {
            let fmt = ArrayFormatter::try_new(c.as_ref(), &opts)?;
            let mut b = StringBuilder::with_capacity(c.len(), c.len() * 16);
            for i in 0..c.len() {
                if c.is_null(i) {
                    b.append_null();
                } else {
                    b.append_value(fmt.value(i).to_string());
                }
            }
            fields.push(Field::new(f.name(), DataType::Utf8, f.is_nullable()));
            cols.push(Arc::new(b.finish()));
        } else {
            fields.push(f.as_ref().clone());
            cols.push(c.clone());
        }
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
}
