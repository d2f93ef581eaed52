//! wa1kpcap: packet captures to analysis-ready flow datasets.
//!
//! The pipeline, stage by stage:
//! - [`capture`]: pcap / pcapng readers (memory-mapped, or streamed from
//!   gzip/zstd) yielding borrowed packet records with exact ns timestamps;
//! - [`decode`]: stateless link → tunnel → IP → transport decoding with named
//!   anomalies, plus bounded IP defragmentation;
//! - [`flow`], [`features`]: bidirectional flows, their sequences and
//!   statistics; [`analyzer`] wires it all for one capture;
//! - [`inspect`]: per-file summaries (`wa1kpcap inspect`);
//! - [`convert`]: captures to a Parquet dataset (`wa1kpcap convert`);
//! - [`sink`]: the `flows` table as Arrow batches and atomic Parquet files;
//! - [`sample`]: a generated sample capture and protocol-message fixtures;
//! - [`keyed`]: the secret hash keys of every table keyed by wire data.

pub mod analyzer;
pub mod capture;
pub mod convert;
pub mod decode;
pub mod features;
pub mod filter;
pub mod flow;
pub mod inspect;
pub mod keyed;
pub mod proto;
pub mod sample;
pub mod sink;
#[cfg(feature = "sql")]
pub mod sql;

pub use analyzer::{Analysis, Analyzer, RunSummary};
pub use flow::{Flow, FlowConfig, FlowKey};
