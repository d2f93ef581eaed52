//! The `packets` table (optional): one row per counted packet, joined to
//! `flows` by `flow_id`. Built row by row straight into Arrow builders (no
//! per-packet allocation besides the builders' own growth).

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Int32Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

use super::flows::ColType;
use crate::analyzer::PacketRecord;

/// One column of the packets table, as `schemas/packets.md` documents it.
pub struct PacketColumn {
    pub name: &'static str,
    /// `None`: binary (raw frame bytes).
    pub ty: Option<ColType>,
    pub nullable: bool,
    pub meaning: &'static str,
    pub unit: &'static str,
}

pub(super) const fn pc(
    name: &'static str,
    ty: ColType,
    nullable: bool,
    meaning: &'static str,
    unit: &'static str,
) -> PacketColumn {
    PacketColumn {
        name,
        ty: Some(ty),
        nullable,
        meaning,
        unit,
    }
}

/// The packets table's columns, in order; `raw_bytes` adds the frame.
pub fn packet_columns(raw_bytes: bool) -> Vec<PacketColumn> {
    let mut c = vec![
        pc("flow_id", ColType::Int64, false, "the packet's flow (flows.flow_id)", ""),
        pc("capture", ColType::Utf8, false, "source capture, relative to its input root", ""),
        pc("frame_number", ColType::Int64, false, "1-based record number in the capture (for a reassembled datagram, its last fragment's)", ""),
        pc("timestamp", ColType::TimestampUs, false, "capture time", "µs since epoch, UTC"),
        pc("direction", ColType::Int32, false, "+1 sent by the flow's up side, −1 by its down side", ""),
        pc("caplen", ColType::Int64, false, "bytes captured of the frame", "bytes"),
        pc("wirelen", ColType::Int64, false, "frame length on the wire (sum over fragments when reassembled)", "bytes"),
        pc("ip_len", ColType::Int64, false, "IP total length (IPv6: 40 + payload length)", "bytes"),
        pc("trans_len", ColType::Int64, false, "TCP header + payload, or the UDP length field; 0 otherwise", "bytes"),
        pc("app_len", ColType::Int64, false, "transport payload bytes present", "bytes"),
        pc("tcp_flags", ColType::Int32, true, "TCP flags byte (FIN=1 … CWR=128); null if not TCP", ""),
        pc("tcp_window", ColType::Int32, true, "raw TCP window; null if not TCP", "bytes"),
        pc("tcp_seq", ColType::Int64, true, "TCP sequence number; null if not TCP", ""),
        pc("tcp_ack", ColType::Int64, true, "TCP acknowledgement number; null if not TCP", ""),
        pc("ttl", ColType::Int32, false, "TTL or hop limit of the innermost IP header", "hops"),
        pc("reassembled", ColType::Bool, false, "rebuilt from IP fragments", ""),
    ];
    if raw_bytes {
        c.push(PacketColumn {
            name: "raw_bytes",
            ty: None,
            nullable: false,
            meaning: "captured frame bytes (for a reassembled datagram, its last fragment's frame)",
            unit: "",
        });
    }
    c
}

/// The Arrow schema of the packets table.
pub fn packets_schema(raw_bytes: bool) -> SchemaRef {
    schema_of(&packet_columns(raw_bytes))
}

/// The Arrow schema of a table described by `cols`.
pub(super) fn schema_of(cols: &[PacketColumn]) -> SchemaRef {
    Arc::new(Schema::new(
        cols.iter()
            .map(|c| {
                let ty = c.ty.map_or(DataType::Binary, ColType::arrow);
                Field::new(c.name, ty, c.nullable)
            })
            .collect::<Vec<_>>(),
    ))
}

/// One packet and where it came from.
pub struct PacketRow<'a> {
    pub flow_id: i64,
    pub capture: &'a str,
    pub frame_number: u64,
    pub caplen: u32,
    pub record: &'a PacketRecord,
    /// The frame, when the table has `raw_bytes`.
    pub raw: &'a [u8],
}

/// Rows of the packets table being collected into one record batch.
pub struct PacketBatch {
    schema: SchemaRef,
    raw_bytes: bool,
    flow_id: Int64Builder,
    capture: StringBuilder,
    frame: Int64Builder,
    ts: TimestampMicrosecondBuilder,
    direction: Int32Builder,
    caplen: Int64Builder,
    wirelen: Int64Builder,
    ip_len: Int64Builder,
    trans_len: Int64Builder,
    app_len: Int64Builder,
    tcp_flags: Int32Builder,
    tcp_window: Int32Builder,
    tcp_seq: Int64Builder,
    tcp_ack: Int64Builder,
    ttl: Int32Builder,
    reassembled: BooleanBuilder,
    raw: BinaryBuilder,
    rows: usize,
}

impl PacketBatch {
    pub fn new(schema: SchemaRef, raw_bytes: bool) -> PacketBatch {
        PacketBatch {
            schema,
            raw_bytes,
            flow_id: Int64Builder::new(),
            capture: StringBuilder::new(),
            frame: Int64Builder::new(),
            ts: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            direction: Int32Builder::new(),
            caplen: Int64Builder::new(),
            wirelen: Int64Builder::new(),
            ip_len: Int64Builder::new(),
            trans_len: Int64Builder::new(),
            app_len: Int64Builder::new(),
            tcp_flags: Int32Builder::new(),
            tcp_window: Int32Builder::new(),
            tcp_seq: Int64Builder::new(),
            tcp_ack: Int64Builder::new(),
            ttl: Int32Builder::new(),
            reassembled: BooleanBuilder::new(),
            raw: BinaryBuilder::new(),
            rows: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    pub fn push(&mut self, row: &PacketRow<'_>) {
        let r = row.record;
        self.flow_id.append_value(row.flow_id);
        self.capture.append_value(row.capture);
        self.frame
            .append_value(i64::try_from(row.frame_number).unwrap_or(i64::MAX));
        self.ts.append_value(r.ts_ns.div_euclid(1000));
        self.direction.append_value(if r.up { 1 } else { -1 });
        self.caplen.append_value(i64::from(row.caplen));
        self.wirelen.append_value(i64::from(r.wire_len));
        self.ip_len.append_value(i64::from(r.ip_len));
        self.trans_len.append_value(i64::from(r.trans_len));
        self.app_len.append_value(i64::from(r.app_len));
        match r.tcp {
            Some((flags, window, seq, ack)) => {
                self.tcp_flags.append_value(i32::from(flags));
                self.tcp_window.append_value(i32::from(window));
                self.tcp_seq.append_value(i64::from(seq));
                self.tcp_ack.append_value(i64::from(ack));
            }
            None => {
                self.tcp_flags.append_null();
                self.tcp_window.append_null();
                self.tcp_seq.append_null();
                self.tcp_ack.append_null();
            }
        }
        self.ttl.append_value(i32::from(r.ttl));
        self.reassembled.append_value(r.reassembled);
        if self.raw_bytes {
            self.raw.append_value(row.raw);
        }
        self.rows += 1;
    }

    /// The collected rows as a batch; the builders start over.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(self.flow_id.finish()),
            Arc::new(self.capture.finish()),
            Arc::new(self.frame.finish()),
            Arc::new(self.ts.finish()),
            Arc::new(self.direction.finish()),
            Arc::new(self.caplen.finish()),
            Arc::new(self.wirelen.finish()),
            Arc::new(self.ip_len.finish()),
            Arc::new(self.trans_len.finish()),
            Arc::new(self.app_len.finish()),
            Arc::new(self.tcp_flags.finish()),
            Arc::new(self.tcp_window.finish()),
            Arc::new(self.tcp_seq.finish()),
            Arc::new(self.tcp_ack.finish()),
            Arc::new(self.ttl.finish()),
            Arc::new(self.reassembled.finish()),
        ];
        if self.raw_bytes {
            cols.push(Arc::new(self.raw.finish()));
        }
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), cols)
    }
}
