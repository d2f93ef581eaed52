//! Output: finished flows as Arrow record batches, written to Parquet files
//! that appear atomically.
//!
//! Owns: the `flows` table's columns (one registry that the batch builder,
//! the written contract `schemas/flows.md` and its test share) and the file
//! writer. Does not own: which flows exist (that is [`crate::analyzer`]).

mod flows;
mod parquet_file;

pub use flows::{flow_columns, flows_schema, flows_to_batch, ColType, ColumnSpec, FlowRow};
pub use parquet_file::{read_footer_metadata, AtomicParquetWriter, WriteError};
