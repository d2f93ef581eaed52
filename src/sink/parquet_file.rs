//! A Parquet file that appears atomically: written to a hidden temporary
//! name in the target directory, synced, then renamed. A killed process
//! leaves no partial `.parquet` visible (only a hidden `.…tmp`, removed on
//! drop when the process lives long enough).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

pub struct AtomicParquetWriter {
    tmp_path: PathBuf,
    final_path: PathBuf,
    writer: Option<ArrowWriter<File>>,
    rows: u64,
}

impl AtomicParquetWriter {
    /// zstd, page-level statistics, `row_group_rows` rows per row group,
    /// and `metadata` as the file's key-value metadata. Dictionary encoding
    /// only for the string columns (it costs time and gains nothing on
    /// statistics and sequences).
    pub fn create(
        final_path: &Path,
        schema: SchemaRef,
        metadata: Vec<(String, String)>,
        row_group_rows: usize,
    ) -> Result<AtomicParquetWriter, WriteError> {
        let dir = final_path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|source| WriteError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = final_path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("part.parquet");
        let tmp_path = dir.join(format!(
            ".{name}.{}-{}.tmp",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let file = File::create(&tmp_path).map_err(|source| WriteError::Io {
            path: tmp_path.clone(),
            source,
        })?;
        let zstd = ZstdLevel::try_new(3)?;
        let mut props = WriterProperties::builder().set_dictionary_enabled(false);
        for f in schema.fields() {
            if matches!(f.data_type(), arrow::datatypes::DataType::Utf8) {
                props =
                    props.set_column_dictionary_enabled(ColumnPath::from(f.name().as_str()), true);
            }
        }
        let props = props
            .set_compression(Compression::ZSTD(zstd))
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_max_row_group_row_count(Some(row_group_rows.max(1)))
            .set_key_value_metadata(Some(
                metadata
                    .into_iter()
                    .map(|(k, v)| KeyValue::new(k, v))
                    .collect(),
            ))
            .build();
        let writer = ArrowWriter::try_new(file, schema, Some(props))?;
        Ok(AtomicParquetWriter {
            tmp_path,
            final_path: final_path.to_path_buf(),
            writer: Some(writer),
            rows: 0,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), WriteError> {
        if let Some(w) = self.writer.as_mut() {
            w.write(batch)?;
            self.rows += batch.num_rows() as u64;
        }
        Ok(())
    }

    /// Add key-value metadata to the footer (e.g. counts known only at the end).
    pub fn append_metadata(&mut self, key: &str, value: String) {
        if let Some(w) = self.writer.as_mut() {
            w.append_key_value_metadata(KeyValue::new(key.to_string(), value));
        }
    }

    /// Close, sync and rename into place; returns the rows written.
    pub fn finish(mut self) -> Result<u64, WriteError> {
        let Some(w) = self.writer.take() else {
            return Ok(self.rows);
        };
        let file = w.into_inner()?;
        file.sync_all().map_err(|source| WriteError::Io {
            path: self.tmp_path.clone(),
            source,
        })?;
        std::fs::rename(&self.tmp_path, &self.final_path).map_err(|source| WriteError::Io {
            path: self.final_path.clone(),
            source,
        })?;
        Ok(self.rows)
    }
}

impl Drop for AtomicParquetWriter {
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}

/// The key-value metadata of a Parquet file's footer.
pub fn read_footer_metadata(path: &Path) -> Result<Vec<(String, String)>, WriteError> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let file = File::open(path).map_err(|source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let reader = SerializedFileReader::new(file)?;
    Ok(reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default())
}
