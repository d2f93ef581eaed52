//! Output: flows, packets, DNS messages and certificates as Arrow record batches, written to table files
//! (Parquet, CSV, JSON Lines) that appear atomically.
//!
//! Owns: the `flows` and `packets` tables' columns (one registry per table
//! that the batch builder, the written contract in `schemas/` and its test
//! share) and the file writer. Does not own: which flows exist (that is
//! [`crate::analyzer`]) or where files go (that is [`crate::convert`]).

mod app_tables;
mod flows;
mod packets;
mod parquet_file;
mod table_file;

pub use app_tables::{
    cert_columns, certs_schema, dns_columns, dns_schema, CertBatch, CertRow, DnsBatch, DnsRow,
};
pub use flows::{flow_columns, flows_schema, flows_to_batch, ColType, ColumnSpec, FlowRow};
pub use packets::{packet_columns, packets_schema, PacketBatch, PacketRow};
pub use parquet_file::{read_footer_metadata, WriteError, ROW_GROUP_BYTES};
pub use table_file::{Format, Staged, TableFile};
