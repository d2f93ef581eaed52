//! SQL over datasets and captures (Apache DataFusion): a ready
//! [`SessionContext`] with the dataset's tables (`flows`, `packets`, `dns`,
//! `tls_certificates`, whichever exist) registered as Hive-partitioned
//! Parquet listing tables, and the network functions of [`udf`].
//!
//! Owns: finding a dataset's tables and partition columns (from its
//! `manifest.json`), converting a capture given instead of a dataset (into a
//! temporary dataset removed with the [`Session`]), and running statements
//! to record batches. Does not own: output formatting (the CLI), or the
//! tables' contents (`schemas/`).

pub mod udf;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use datafusion::common::utils::datafusion_strsim::levenshtein;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::analyzer::Analyzer;
use crate::convert::{self, ConvertOptions, PartitionBy};

/// The tables a dataset may hold, in the order `.tables` lists them.
pub const TABLES: [&str; 4] = ["flows", "packets", "dns", "tls_certificates"];

/// Why a session could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("{0}: no such file or directory")]
    Missing(PathBuf),
    #[error(
        "{0}: not a wa1kpcap dataset (no manifest.json) and not a capture; \
         convert captures with `wa1kpcap convert` or pass the capture itself"
    )]
    NotDataset(PathBuf),
    #[error("{path}: the dataset is {format}; SQL reads Parquet datasets (convert with --format parquet)")]
    NotParquet { path: PathBuf, format: String },
    #[error("datasets partitioned differently ({0:?} and {1:?}) cannot be queried together")]
    MixedPartitions(PartitionBy, PartitionBy),
    #[error("{0}")]
    Convert(String),
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A query session and the temporary dataset behind it, if a capture was
/// given (removed when the session is dropped).
pub struct Session {
    pub ctx: SessionContext,
    /// Tables registered, in [`TABLES`] order.
    pub tables: Vec<&'static str>,
    temp: Option<PathBuf>,
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(dir) = self.temp.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Session {
    /// Run one statement and collect its rows.
    pub async fn sql(&self, statement: &str) -> Result<Vec<RecordBatch>, SqlError> {
        Ok(self.ctx.sql(statement).await?.collect().await?)
    }
}

/// A session context with the network functions registered and the
/// information schema on (`SHOW TABLES`, `SHOW COLUMNS FROM flows`).
pub fn new_context() -> SessionContext {
    let config = SessionConfig::new()
        .with_information_schema(true)
        .with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()));
    let ctx = SessionContext::new_with_config(config);
    udf::register(&ctx);
    ctx
}

/// How a dataset was written, from its manifest.
fn dataset_layout(root: &Path) -> Result<PartitionBy, SqlError> {
    let text = std::fs::read_to_string(root.join("manifest.json"))
        .map_err(|_| SqlError::NotDataset(root.to_path_buf()))?;
    let manifest: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| SqlError::NotDataset(root.to_path_buf()))?;
    let settings = &manifest["settings"];
    let format = settings["format"].as_str().unwrap_or("parquet");
    if format != "parquet" {
        return Err(SqlError::NotParquet {
            path: root.to_path_buf(),
            format: format.to_string(),
        });
    }
    Ok(match settings["partition_by"].as_str().unwrap_or("none") {
        "date" => PartitionBy::Date,
        "hour" => PartitionBy::Hour,
        "capture" => PartitionBy::Capture,
        _ => PartitionBy::None,
    })
}

fn partition_cols(by: PartitionBy) -> Vec<(String, DataType)> {
    let names: &[&str] = match by {
        PartitionBy::None => &[],
        PartitionBy::Date => &["date"],
        PartitionBy::Hour => &["date", "hour"],
        PartitionBy::Capture => &["capture"],
    };
    names
        .iter()
        .map(|n| (n.to_string(), DataType::Utf8))
        .collect()
}

/// Register the tables of the datasets at `roots` (all written with the
/// same partitioning) on `ctx`; returns the tables found.
pub async fn register_datasets(
    ctx: &SessionContext,
    roots: &[PathBuf],
) -> Result<Vec<&'static str>, SqlError> {
    let mut layout = None;
    for r in roots {
        if !r.exists() {
            return Err(SqlError::Missing(r.clone()));
        }
        let by = dataset_layout(r)?;
        match layout {
            Some(l) if l != by => return Err(SqlError::MixedPartitions(l, by)),
            _ => layout = Some(by),
        }
    }
    let by = layout.unwrap_or(PartitionBy::None);
    let mut found = Vec::new();
    for table in TABLES {
        let dirs: Vec<PathBuf> = roots
            .iter()
            .map(|r| r.join(table))
            .filter(|d| has_parquet(d))
            .collect();
        if dirs.is_empty() {
            continue;
        }
        let urls = dirs
            .iter()
            .map(|d| {
                let abs = std::fs::canonicalize(d)?;
                Ok(ListingTableUrl::parse(format!("{}/", abs.display()))?)
            })
            .collect::<Result<Vec<_>, SqlError>>()?;
        let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet")
            .with_table_partition_cols(partition_cols(by));
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options)
            .infer_schema(&ctx.state())
            .await?;
        ctx.register_table(table, Arc::new(ListingTable::try_new(config)?))?;
        found.push(table);
    }
    Ok(found)
}

fn has_parquet(dir: &Path) -> bool {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    rd.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            has_parquet(&p)
        } else {
            p.extension().is_some_and(|x| x == "parquet")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        }
    })
}

/// Is `path` a dataset directory (it has a `manifest.json`)?
pub fn is_dataset(path: &Path) -> bool {
    path.join("manifest.json").is_file()
}

/// A session over `inputs`: dataset directories, or captures (files or
/// directories of captures), which are converted with `analyzer` into a
/// temporary dataset first (every table written).
pub async fn open(
    inputs: &[PathBuf],
    analyzer: &Analyzer,
    threads: usize,
) -> Result<Session, SqlError> {
    for p in inputs {
        if !p.exists() {
            return Err(SqlError::Missing(p.clone()));
        }
    }
    let (datasets, captures): (Vec<PathBuf>, Vec<PathBuf>) =
        inputs.iter().cloned().partition(|p| is_dataset(p));
    let mut roots = datasets;
    let mut temp = None;
    if !captures.is_empty() {
        let (found, _ignored) = convert::discover(&captures);
        if found.is_empty() {
            return Err(SqlError::NotDataset(captures[0].clone()));
        }
        let dir = std::env::temp_dir().join(format!(
            "wa1kpcap-query-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        temp = Some(dir.clone());
        let opts = ConvertOptions {
            threads: threads.max(1),
            packets: true,
            dns: true,
            certificates: true,
            ..ConvertOptions::default()
        };
        let result = convert::convert(analyzer, &found, &dir, &opts);
        let manifest = match result {
            Ok(m) => m,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(SqlError::Convert(e.to_string()));
            }
        };
        for r in manifest.inputs.iter().filter(|r| r.error.is_some()) {
            eprintln!(
                "warning: {}: {}",
                r.path,
                r.error.as_deref().unwrap_or_default()
            );
        }
        roots.push(dir);
    }
    // Built first so that an error below still removes the temporary.
    let mut session = Session {
        ctx: new_context(),
        tables: Vec::new(),
        temp,
    };
    session.tables = register_datasets(&session.ctx, &roots).await?;
    Ok(session)
}

/// An error as a person would write it: a missing column names the closest
/// columns that exist (not all 250), other errors keep DataFusion's words
/// once (not repeated through their chain).
pub fn explain(e: &SqlError) -> String {
    use datafusion::common::SchemaError;
    use datafusion::error::DataFusionError;
    let SqlError::DataFusion(df) = e else {
        return e.to_string();
    };
    match df.find_root() {
        DataFusionError::SchemaError(err, _) => match err.as_ref() {
            SchemaError::FieldNotFound {
                field,
                valid_fields,
            } => {
                let mut names: Vec<&str> = valid_fields.iter().map(|c| c.name.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                let close = closest(&field.name, &names, 5);
                let mut msg = format!("no column named '{}'", field.name);
                if !close.is_empty() {
                    msg.push_str(&format!("; did you mean {}?", close.join(", ")));
                }
                msg.push_str(" (`\\d TABLE` in `wa1kpcap sql`, or schemas/, lists the columns)");
                msg
            }
            other => other.to_string(),
        },
        DataFusionError::Plan(m) | DataFusionError::Execution(m) => m.clone(),
        root => root.to_string(),
    }
}

/// Up to `n` names closest to `word` (edit distance ≤ a third of its length,
/// or sharing its start), closest first.
fn closest<'a>(word: &str, names: &[&'a str], n: usize) -> Vec<&'a str> {
    let word = word.to_lowercase();
    let limit = (word.len() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = names
        .iter()
        .filter_map(|&c| {
            let d = levenshtein(&word, &c.to_lowercase());
            let prefix = word.len() >= 3 && c.to_lowercase().starts_with(&word);
            (d <= limit || prefix).then_some((if prefix { d.min(limit) } else { d }, c))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(n).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names() {
        let names = [
            "sni", "src_ip", "dst_ip", "pkt_mean", "app_mean", "ja4", "ja3",
        ];
        assert_eq!(closest("snii", &names, 5), ["sni"]);
        assert_eq!(closest("ja5", &names, 5), ["ja3", "ja4"]);
        assert_eq!(closest("app_meen", &names, 5), ["app_mean"]);
        assert!(closest("zzzzzz", &names, 5).is_empty());
    }
}
