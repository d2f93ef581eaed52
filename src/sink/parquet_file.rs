//! Parquet specifics: the writer properties every dataset file uses, the
//! write error, and reading a file's footer metadata back.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::datatypes::{DataType, SchemaRef};
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
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

/// A row group is closed once its encoded size estimate passes this: the
/// bound on what one open file buffers (≈4 000 flows a row group; 32 MiB
/// cost 70 MB more peak memory with two workers on the 1 GiB benchmark).
pub const ROW_GROUP_BYTES: usize = 8 << 20;

/// Pages are compressed as soon as they hold this much (parquet's default
/// is 1 MiB): the row group's size estimate then counts mostly compressed
/// bytes, so a row group holds 5–30× more rows within [`ROW_GROUP_BYTES`]
/// and far fewer column chunks are opened — each makes a zstd compressor
/// and decompressor in the parquet crate, ≈ 20 % of a one-thread profile
/// of the short-flow flood. Measured (1 GiB capture, flood; 2 threads):
/// 1 MiB pages 2.47 s, 3.38 s; 32 KiB 2.20 s, 2.43 s, files +2.6 %, peak
/// RSS +30 MB; 64 KiB pages with 16 MiB row groups as fast, files −6 %,
/// +60 MB. DELTA_BINARY_PACKED integers were 8 % faster but files 6 %
/// bigger on the 1 GiB capture; BYTE_STREAM_SPLIT floats 30 % bigger.
pub const DATA_PAGE_BYTES: usize = 32 << 10;

/// Page statistics on keys, times and counters, chunk statistics on the
/// rest; zstd level 1 (level 3 made files 14 % smaller and the whole conversion
/// 5–10 % slower on the 1 GiB benchmark capture), at most `row_group_rows` rows and about [`ROW_GROUP_BYTES`] per row
/// group, `metadata` in the footer.
/// Dictionary encoding only for string columns (it costs time and gains
/// nothing on statistics and sequences).
pub fn parquet_properties(
    schema: &SchemaRef,
    metadata: Vec<(String, String)>,
    row_group_rows: usize,
) -> Result<WriterProperties, WriteError> {
    let mut props = WriterProperties::builder().set_dictionary_enabled(false);
    for f in schema.fields() {
        let path = || ColumnPath::from(f.name().as_str());
        match f.data_type() {
            DataType::Utf8 => props = props.set_column_dictionary_enabled(path(), true),
            // Statistics and sequences: column-chunk min/max only. Page
            // indexes pay off on columns that are filtered and sorted by
            // (ids, times, addresses, counts), not on 180 statistics.
            DataType::Float64 | DataType::List(_) | DataType::Binary => {
                props = props.set_column_statistics_enabled(path(), EnabledStatistics::Chunk)
            }
            _ => {}
        }
    }
    Ok(props
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_data_page_size_limit(DATA_PAGE_BYTES)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(row_group_rows.max(1)))
        .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
        .set_key_value_metadata(Some(
            metadata
                .into_iter()
                .map(|(k, v)| KeyValue::new(k, v))
                .collect(),
        ))
        .build())
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
