//! Where rows go: per worker, finished flows (and, when asked for, counted
//! packets, DNS messages and server certificates) are collected per partition into record batches and written to that
//! partition's file; files are staged, and the job commits them together.
//!
//! Layout: `<table>/[<partition>/]part-<capture index>-<worker>-<n>.<ext>`,
//! Hive style partitions (`date=2024-05-01`, `date=…/hour=13`,
//! `capture=<percent-encoded path>`), whose values are not repeated inside
//! the files (Hive readers add them as columns). Memory per worker is
//! bounded: at most [`MAX_OPEN_PARTITIONS`] files are open per table
//! (the least recently used is finished first), each holding one Parquet
//! row group of at most `ROW_GROUP_BYTES`; rows wait for their batch in up
//! to 256 partitions, as many rows in all as sixteen batches (past that
//! the fullest partition writes).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use super::ConvertOptions;
use crate::analyzer::PacketRecord;
use crate::flow::{DnsEvent, Flow};
use crate::sink::{
    certs_schema, dns_schema, flow_columns, flows_schema, flows_to_batch, packets_schema,
    CertBatch, CertRow, ColumnSpec, DnsBatch, DnsRow, FlowRow, Format, PacketBatch, PacketRow,
    Staged, TableFile, WriteError,
};

/// The tables besides `flows`, by index into [`ROW_TABLES`].
pub const PACKETS: usize = 0;
pub const DNS: usize = 1;
pub const CERTS: usize = 2;
/// Their directory names.
pub const ROW_TABLES: [&str; 3] = ["packets", "dns", "tls_certificates"];

/// Pending rows of one of the [`ROW_TABLES`].
enum Rows {
    Packets(Box<PacketBatch>),
    Dns(DnsBatch),
    Certs(CertBatch),
}

impl Rows {
    fn len(&self) -> usize {
        match self {
            Rows::Packets(b) => b.len(),
            Rows::Dns(b) => b.len(),
            Rows::Certs(b) => b.len(),
        }
    }

    fn finish(&mut self) -> Result<RecordBatch, arrow::error::ArrowError> {
        match self {
            Rows::Packets(b) => b.finish(),
            Rows::Dns(b) => b.finish(),
            Rows::Certs(b) => b.finish(),
        }
    }
}

/// Flows per record batch handed to a file.
const FLOW_BATCH_ROWS: usize = 1024;
/// … and per batch kept in memory: fewer, larger chunks make the columns
/// cheaper to read whole (numpy, pandas) on the Python side.
const MEMORY_FLOW_BATCH_ROWS: usize = 16 * 1024;
/// Packets per record batch handed to a file.
const PACKET_BATCH_ROWS: usize = 16 * 1024;
/// Flows per Parquet row group (unless `ROW_GROUP_BYTES` comes first).
const FLOW_ROW_GROUP_ROWS: usize = 128 * 1024;
/// Packets per Parquet row group (unless `ROW_GROUP_BYTES` comes first).
const PACKET_ROW_GROUP_ROWS: usize = 1024 * 1024;
/// Open partition files per table and worker.
pub const MAX_OPEN_PARTITIONS: usize = 16;
/// Partitions per table and worker that may hold pending rows, with or
/// without an open file. Rows wait in memory for their partition's next
/// batch; only a batch opens a file. Before, every partition past the
/// sixteenth closed a file, so one-packet flows cycling through 40 days
/// wrote one file per flow (`partition_thrash` in benches/hostile.rs).
const MAX_PENDING_PARTITIONS: usize = 256;

/// How the dataset's directories split the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PartitionBy {
    None,
    /// `date=YYYY-MM-DD` of the flow's start (a packet's own time), UTC.
    Date,
    /// `date=YYYY-MM-DD/hour=HH`, UTC.
    Hour,
    /// `capture=<path relative to its input root>`, percent-encoded.
    Capture,
}

/// What every worker of a run shares.
pub struct OutputCtx {
    pub out_dir: PathBuf,
    pub format: Format,
    pub partition_by: PartitionBy,
    /// Which of the [`ROW_TABLES`] are written.
    pub tables: [bool; 3],
    pub raw_bytes: bool,
    pub columns: Arc<Vec<ColumnSpec>>,
    /// Schemas of the batches built …
    pub flows_schema: SchemaRef,
    pub row_schemas: [SchemaRef; 3],
    /// … and of the files written (without `capture` when partitioned by it).
    flows_file_schema: SchemaRef,
    row_file_schemas: [SchemaRef; 3],
    settings: String,
    /// Batches are kept in memory ([`super::collect`]) instead of written.
    pub in_memory: bool,
    /// … or, in memory mode, handed to this channel as they are built
    /// ([`super::stream_units`]).
    pub stream: Option<crossbeam_channel::Sender<super::TableBatch>>,
}

impl OutputCtx {
    pub fn new(out_dir: &Path, o: &ConvertOptions, settings: &serde_json::Value) -> OutputCtx {
        let columns = Arc::new(flow_columns());
        let flows = flows_schema(&columns);
        let rows = [packets_schema(o.raw_bytes), dns_schema(), certs_schema()];
        OutputCtx {
            out_dir: out_dir.to_path_buf(),
            format: o.format,
            partition_by: o.partition_by,
            tables: [o.packets, o.dns, o.certificates],
            raw_bytes: o.raw_bytes,
            flows_file_schema: file_schema(o.partition_by, &flows),
            row_file_schemas: rows.clone().map(|s| file_schema(o.partition_by, &s)),
            flows_schema: flows,
            row_schemas: rows,
            columns,
            settings: settings.to_string(),
            in_memory: false,
            stream: None,
        }
    }

    fn empty_rows(&self, table: usize) -> Rows {
        let schema = self.row_schemas[table].clone();
        match table {
            PACKETS => Rows::Packets(Box::new(PacketBatch::new(schema, self.raw_bytes))),
            DNS => Rows::Dns(DnsBatch::new(schema)),
            _ => Rows::Certs(CertBatch::new(schema)),
        }
    }

    /// The batch as the files hold it.
    fn file_batch(&self, mut batch: RecordBatch) -> RecordBatch {
        if self.partition_by == PartitionBy::Capture {
            if let Ok(i) = batch.schema().index_of("capture") {
                batch.remove_column(i);
            }
        }
        batch
    }
}

/// The schema of the files: partitioned by capture, the `capture` column
/// lives in the directory name only — Hive readers add it back, and a column
/// of the same name in the files would clash with it (pyarrow refuses the
/// dataset).
fn file_schema(by: PartitionBy, full: &SchemaRef) -> SchemaRef {
    if by != PartitionBy::Capture {
        return full.clone();
    }
    Arc::new(arrow::datatypes::Schema::new(
        full.fields()
            .iter()
            .filter(|f| f.name() != "capture")
            .cloned()
            .collect::<Vec<_>>(),
    ))
}

/// Percent-encode a Hive partition value (what Hive, Spark and pyarrow
/// decode): everything but unreserved characters.
pub fn escape_partition_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A partition, as an integer: days or hours since the epoch, or the input
/// whose capture names it (0 without partitions). Looked up per flow and
/// per packet, so no name is formatted or hashed there; the directory name
/// is made only when a file opens ([`partition_dir`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PartKey(i64);

fn partition_key(by: PartitionBy, ts_ns: i64, capture_key: usize) -> PartKey {
    PartKey(match by {
        PartitionBy::None => 0,
        PartitionBy::Date => ts_ns.div_euclid(86_400 * 1_000_000_000),
        PartitionBy::Hour => ts_ns.div_euclid(3_600 * 1_000_000_000),
        PartitionBy::Capture => capture_key as i64,
    })
}

/// The directory of partition `key` (`captures`: the job's capture names).
fn partition_dir(by: PartitionBy, key: PartKey, captures: &[String]) -> String {
    let at = |secs: i64| chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
    match by {
        PartitionBy::None => String::new(),
        PartitionBy::Date => format!("date={}", at(key.0 * 86_400).format("%Y-%m-%d")),
        PartitionBy::Hour => {
            let t = at(key.0 * 3_600);
            format!("date={}/hour={}", t.format("%Y-%m-%d"), t.format("%H"))
        }
        PartitionBy::Capture => {
            let name = captures.get(key.0 as usize).map_or("", String::as_str);
            format!("capture={}", escape_partition_value(name))
        }
    }
}

/// Rows of one table of one partition waiting for a batch, and its file.
struct Part<P> {
    pending: P,
    file: Option<TableFile>,
    last_used: u64,
}

/// One table's open partitions for one worker: at most
/// [`MAX_OPEN_PARTITIONS`], so a short list searched in order.
struct Table<P> {
    parts: Vec<(PartKey, Part<P>)>,
    clock: u64,
    /// Rows pending in all its partitions: past sixteen batches' worth
    /// the fullest partition writes its batch, so memory holds what
    /// sixteen open partitions held, however many wait.
    pending: usize,
}

impl<P> Table<P> {
    fn new() -> Table<P> {
        Table {
            parts: Vec::new(),
            clock: 0,
            pending: 0,
        }
    }

    /// Partitions with an open file.
    fn files_open(&self) -> usize {
        self.parts.iter().filter(|(_, p)| p.file.is_some()).count()
    }

    /// The least recently used partition with an open file, but `except`.
    fn lru_file(&self, except: PartKey) -> Option<PartKey> {
        self.parts
            .iter()
            .filter(|(k, p)| p.file.is_some() && *k != except)
            .min_by_key(|(_, p)| p.last_used)
            .map(|(k, _)| *k)
    }

    /// The partition with the most pending rows (`len` of its rows).
    fn fullest(&self, len: impl Fn(&P) -> usize) -> Option<PartKey> {
        self.parts
            .iter()
            .max_by_key(|(_, p)| len(&p.pending))
            .map(|(k, _)| *k)
    }

    fn position(&self, key: PartKey) -> Option<usize> {
        // Rows mostly come for the partition of the row before (it is
        // last in the list once used), so look from the end.
        self.parts.iter().rposition(|(k, _)| *k == key)
    }

    /// Opening `key` would exceed [`MAX_PENDING_PARTITIONS`].
    fn needs_room(&self, key: PartKey) -> bool {
        self.position(key).is_none() && self.parts.len() >= MAX_PENDING_PARTITIONS
    }

    /// The least recently used partition.
    fn lru(&self) -> Option<PartKey> {
        self.parts
            .iter()
            .min_by_key(|(_, p)| p.last_used)
            .map(|(k, _)| *k)
    }

    /// `key`'s partition, opened with `empty` rows if new, marked used.
    fn part(&mut self, key: PartKey, empty: impl FnOnce() -> P) -> &mut Part<P> {
        self.clock += 1;
        let i = match self.position(key) {
            Some(i) => i,
            None => {
                self.parts.push((
                    key,
                    Part {
                        pending: empty(),
                        file: None,
                        last_used: 0,
                    },
                ));
                self.parts.len() - 1
            }
        };
        // The partition used last goes last: `position` finds it first.
        let last = self.parts.len() - 1;
        self.parts.swap(i, last);
        let part = &mut self.parts[last].1;
        part.last_used = self.clock;
        part
    }

    fn remove(&mut self, key: PartKey) -> Option<Part<P>> {
        self.position(key).map(|i| self.parts.swap_remove(i).1)
    }

    fn insert(&mut self, key: PartKey, part: Part<P>) {
        self.parts.push((key, part));
    }

    fn keys(&self) -> Vec<PartKey> {
        self.parts.iter().map(|(k, _)| *k).collect()
    }
}

/// One worker's writer for one job.
pub struct WorkerOutput<'c> {
    ctx: &'c OutputCtx,
    capture_index: u32,
    worker: u8,
    /// Capture names of the job's inputs, and the first flow ordinal of each
    /// (a flow belongs to the input in which it started).
    captures: Vec<String>,
    /// Per input: the first input of the same capture name (its
    /// `--partition-by capture` key).
    capture_keys: Vec<usize>,
    first_ord: Vec<u64>,
    flows: Table<Vec<Flow>>,
    rows: [Table<Rows>; 3],
    next_file: u32,
    staged: Vec<Staged>,
    /// In memory mode: the batches of `flows` and of each of the
    /// [`ROW_TABLES`], in the order they were finished.
    batches: [Vec<RecordBatch>; 4],
    pub error: Option<String>,
    /// Flows written, by input.
    pub flows_per_input: Vec<u64>,
    /// Rows written to each of the [`ROW_TABLES`].
    pub row_counts: [u64; 3],
}

impl<'c> WorkerOutput<'c> {
    pub fn new(
        ctx: &'c OutputCtx,
        capture_index: u32,
        worker: u8,
        captures: Vec<String>,
    ) -> WorkerOutput<'c> {
        let n = captures.len();
        let mut first: std::collections::HashMap<&str, usize> = Default::default();
        let capture_keys = (0..n)
            .map(|i| *first.entry(captures[i].as_str()).or_insert(i))
            .collect();
        WorkerOutput {
            ctx,
            capture_index,
            worker,
            captures,
            capture_keys,
            first_ord: vec![u64::MAX; n],
            flows: Table::new(),
            rows: [Table::new(), Table::new(), Table::new()],
            next_file: 0,
            staged: Vec::new(),
            batches: Default::default(),
            error: None,
            flows_per_input: vec![0; n],
            row_counts: [0; 3],
        }
    }

    /// Input `i` of the job begins; its flows start at ordinal `next_ord`.
    /// Inputs this worker got no packet of (between the last begun and `i`)
    /// start there too, so the starts stay sorted.
    pub fn begin_input(&mut self, i: usize, next_ord: u64) {
        for o in self.first_ord.iter_mut().take(i + 1) {
            if *o == u64::MAX {
                *o = next_ord;
            }
        }
    }

    /// Dataset-unique id: capture index (23 bits), worker (8), ordinal (32).
    pub fn flow_id(&self, ord: u64) -> i64 {
        (i64::from(self.capture_index) << 40)
            | (i64::from(self.worker) << 32)
            | (ord & 0xFFFF_FFFF) as i64
    }

    fn key(&self, ts_ns: i64, input: usize) -> PartKey {
        partition_key(self.ctx.partition_by, ts_ns, self.capture_keys[input])
    }

    fn input_of(&self, ord: u64) -> usize {
        self.first_ord
            .partition_point(|&first| first <= ord)
            .saturating_sub(1)
    }

    pub fn flow(&mut self, flow: Flow) {
        let input = self.input_of(flow.ord);
        self.flows_per_input[input] += 1;
        let key = self.key(flow.start_ns, input);
        if self.ctx.tables[CERTS] {
            let chain = flow.app.as_ref().and_then(|a| a.tls.as_deref());
            for (i, cert) in chain.iter().flat_map(|t| t.certificates.iter()).enumerate() {
                let row = CertRow {
                    flow_id: self.flow_id(flow.ord),
                    capture: self.captures[input].clone(),
                    start_ns: flow.start_ns,
                    position: i as i32,
                    cert: cert.clone(),
                };
                self.push_row(CERTS, key, |r| {
                    if let Rows::Certs(b) = r {
                        b.push(row)
                    }
                });
            }
        }
        if self.flows.needs_room(key) {
            if let Some(old) = self.flows.lru() {
                self.close_flows(old);
            }
        }
        // Kept whole in memory: large batches (numpy reads them cheaply);
        // streamed or written: small ones, so memory holds little.
        let rows = if self.ctx.in_memory && self.ctx.stream.is_none() {
            MEMORY_FLOW_BATCH_ROWS
        } else {
            FLOW_BATCH_ROWS
        };
        // (no capacity reserved: most of up to 256 partitions hold few rows)
        let part = self.flows.part(key, Vec::new);
        part.pending.push(flow);
        let full = part.pending.len() >= rows;
        self.flows.pending += 1;
        if full {
            self.flush_flows(key);
        } else if self.flows.pending > MAX_OPEN_PARTITIONS * rows {
            if let Some(k) = self.flows.fullest(Vec::len) {
                self.flush_flows(k);
            }
        }
    }

    pub fn packet(
        &mut self,
        input: usize,
        frame_number: u64,
        caplen: u32,
        raw: &[u8],
        r: &PacketRecord,
    ) {
        let key = self.key(r.ts_ns, input);
        if self.rows[PACKETS].needs_room(key) {
            if let Some(old) = self.rows[PACKETS].lru() {
                self.close_rows(PACKETS, old);
            }
        }
        let row = PacketRow {
            flow_id: self.flow_id(r.flow_ord),
            capture: &self.captures[input],
            frame_number,
            caplen,
            record: r,
            raw,
        };
        // (inline rather than push_row: `row` borrows self.captures)
        let ctx = self.ctx;
        let part = self.rows[PACKETS].part(key, || ctx.empty_rows(PACKETS));
        if let Rows::Packets(b) = &mut part.pending {
            b.push(&row);
        }
        let full = part.pending.len() >= PACKET_BATCH_ROWS;
        self.row_counts[PACKETS] += 1;
        self.rows[PACKETS].pending += 1;
        if full {
            self.flush_rows(PACKETS, key);
        } else {
            self.cap_pending_rows(PACKETS);
        }
    }

    /// A DNS message of input `input`, for the `dns` table.
    pub fn dns(&mut self, input: usize, event: DnsEvent) {
        let key = self.key(event.ts_ns, input);
        let row = DnsRow {
            flow_id: self.flow_id(event.flow_ord),
            capture: self.captures[input].clone(),
            event,
        };
        self.push_row(DNS, key, |r| {
            if let Rows::Dns(b) = r {
                b.push(row)
            }
        });
    }

    /// Add a row to `table`'s partition `key` (opened if new, the least
    /// recently used closed first when too many are open).
    fn push_row(&mut self, table: usize, key: PartKey, push: impl FnOnce(&mut Rows)) {
        if self.rows[table].needs_room(key) {
            if let Some(old) = self.rows[table].lru() {
                self.close_rows(table, old);
            }
        }
        let ctx = self.ctx;
        let part = self.rows[table].part(key, || ctx.empty_rows(table));
        push(&mut part.pending);
        let full = part.pending.len() >= PACKET_BATCH_ROWS;
        self.row_counts[table] += 1;
        self.rows[table].pending += 1;
        if full {
            self.flush_rows(table, key);
        } else {
            self.cap_pending_rows(table);
        }
    }

    fn file_path(&mut self, table: &str, key: PartKey) -> PathBuf {
        let dir = partition_dir(self.ctx.partition_by, key, &self.captures);
        let name = format!(
            "part-{:06}-{:02}-{:04}.{}",
            self.capture_index,
            self.worker,
            self.next_file,
            self.ctx.format.extension()
        );
        self.next_file += 1;
        let mut p = self.ctx.out_dir.join(table);
        if !dir.is_empty() {
            p = p.join(dir);
        }
        p.join(name)
    }

    fn metadata(&self) -> Vec<(String, String)> {
        vec![
            (
                "wa1kpcap.version".into(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            ("wa1kpcap.settings".into(), self.ctx.settings.clone()),
            (
                "wa1kpcap.captures".into(),
                serde_json::to_string(&self.captures).unwrap_or_default(),
            ),
            (
                "wa1kpcap.capture_index".into(),
                self.capture_index.to_string(),
            ),
        ]
    }

    /// Write `batch` to the partition's file, opening it if needed.
    fn write_batch(
        &mut self,
        table: &'static str,
        key: PartKey,
        batch: Result<RecordBatch, arrow::error::ArrowError>,
        file: Option<TableFile>,
    ) -> Option<TableFile> {
        if self.error.is_some() {
            return file;
        }
        if self.ctx.in_memory {
            let slot = ROW_TABLES
                .iter()
                .position(|t| *t == table)
                .map_or(0, |i| i + 1);
            match (batch, &self.ctx.stream) {
                (Ok(b), Some(tx)) => {
                    if tx.send((slot, b)).is_err() {
                        self.error = Some("the reader of the tables went away".into());
                    }
                }
                (Ok(b), None) => self.batches[slot].push(b),
                (Err(e), _) => self.error = Some(e.to_string()),
            }
            return None;
        }
        let result = (|| -> Result<TableFile, WriteError> {
            let batch = self.ctx.file_batch(batch?);
            let mut f = match file {
                Some(f) => f,
                None => {
                    let (schema, rows) = match ROW_TABLES.iter().position(|t| *t == table) {
                        None => (self.ctx.flows_file_schema.clone(), FLOW_ROW_GROUP_ROWS),
                        Some(i) => (self.ctx.row_file_schemas[i].clone(), PACKET_ROW_GROUP_ROWS),
                    };
                    let path = self.file_path(table, key);
                    TableFile::create(&path, schema, self.ctx.format, self.metadata(), rows)?
                }
            };
            f.write(&batch)?;
            Ok(f)
        })();
        match result {
            Ok(f) => Some(f),
            Err(e) => {
                self.error = Some(e.to_string());
                None
            }
        }
    }

    /// Past the pending bound, the fullest partition of `table` writes.
    fn cap_pending_rows(&mut self, table: usize) {
        if self.rows[table].pending > MAX_OPEN_PARTITIONS * PACKET_BATCH_ROWS {
            if let Some(k) = self.rows[table].fullest(|r: &Rows| r.len()) {
                self.flush_rows(table, k);
            }
        }
    }

    fn flush_flows(&mut self, key: PartKey) {
        let needs_file = self
            .flows
            .position(key)
            .is_some_and(|i| self.flows.parts[i].1.file.is_none());
        if needs_file && self.flows.files_open() >= MAX_OPEN_PARTITIONS {
            if let Some(old) = self.flows.lru_file(key) {
                self.close_flows_file(old);
            }
        }
        let Some(mut part) = self.flows.remove(key) else {
            return;
        };
        self.flows.pending -= part.pending.len();
        if !part.pending.is_empty() {
            let batch = {
                let rows: Vec<FlowRow<'_>> = part
                    .pending
                    .iter()
                    .map(|f| FlowRow {
                        flow: f,
                        flow_id: self.flow_id(f.ord),
                        capture: &self.captures[self.input_of(f.ord)],
                    })
                    .collect();
                flows_to_batch(&self.ctx.columns, &self.ctx.flows_schema, &rows)
            };
            part.pending.clear();
            // Many partitions: a written one keeps no batch's capacity
            // (up to 256 of them would); few: it keeps it for the next.
            if self.flows.parts.len() > MAX_OPEN_PARTITIONS {
                part.pending.shrink_to(0);
            }
            part.file = self.write_batch("flows", key, batch, part.file.take());
        }
        self.flows.insert(key, part);
    }

    fn flush_rows(&mut self, table: usize, key: PartKey) {
        let t = &self.rows[table];
        let needs_file = t.position(key).is_some_and(|i| t.parts[i].1.file.is_none());
        if needs_file && t.files_open() >= MAX_OPEN_PARTITIONS {
            if let Some(old) = t.lru_file(key) {
                self.close_rows_file(table, old);
            }
        }
        let Some(mut part) = self.rows[table].remove(key) else {
            return;
        };
        self.rows[table].pending -= part.pending.len();
        if part.pending.len() > 0 {
            let batch = part.pending.finish();
            part.file = self.write_batch(ROW_TABLES[table], key, batch, part.file.take());
        }
        self.rows[table].insert(key, part);
    }

    fn stage(&mut self, file: Option<TableFile>) {
        if let Some(f) = file {
            match f.finish() {
                Ok(s) => self.staged.push(s),
                Err(e) => {
                    if self.error.is_none() {
                        self.error = Some(e.to_string());
                    }
                }
            }
        }
    }

    /// Flush a partition and stage its file.
    fn close_flows(&mut self, key: PartKey) {
        self.flush_flows(key);
        if let Some(part) = self.flows.remove(key) {
            self.stage(part.file);
        }
    }

    fn close_rows(&mut self, table: usize, key: PartKey) {
        self.flush_rows(table, key);
        if let Some(part) = self.rows[table].remove(key) {
            self.stage(part.file);
        }
    }

    /// Finish a partition's file (its pending rows written first) but keep
    /// the partition: its next batch opens a new file.
    fn close_flows_file(&mut self, key: PartKey) {
        self.flush_flows(key);
        if let Some(i) = self.flows.position(key) {
            let file = self.flows.parts[i].1.file.take();
            self.stage(file);
        }
    }

    fn close_rows_file(&mut self, table: usize, key: PartKey) {
        self.flush_rows(table, key);
        if let Some(i) = self.rows[table].position(key) {
            let file = self.rows[table].parts[i].1.file.take();
            self.stage(file);
        }
    }

    /// Flush everything; the files are staged, not yet visible.
    /// Partitions close in name order: file numbers (and in-memory batch
    /// order) must not depend on a hash map's seed, so that every run of
    /// the same job — the CLI's, a Spark task's — names its files alike.
    pub fn finish(mut self) -> WorkerDone {
        let by = self.ctx.partition_by;
        let mut keys = self.flows.keys();
        keys.sort_by_cached_key(|k| partition_dir(by, *k, &self.captures));
        for k in keys {
            self.close_flows(k);
        }
        for t in 0..ROW_TABLES.len() {
            let mut keys = self.rows[t].keys();
            keys.sort_by_cached_key(|k| partition_dir(by, *k, &self.captures));
            for k in keys {
                self.close_rows(t, k);
            }
        }
        WorkerDone {
            staged: std::mem::take(&mut self.staged),
            batches: std::mem::take(&mut self.batches),
            error: self.error.take(),
            flows_per_input: std::mem::take(&mut self.flows_per_input),
            row_counts: self.row_counts,
        }
    }
}

/// What a worker's output left: staged files and counts.
pub struct WorkerDone {
    pub staged: Vec<Staged>,
    /// In memory mode: `flows` and then the [`ROW_TABLES`]' batches.
    pub batches: [Vec<RecordBatch>; 4],
    pub error: Option<String>,
    pub flows_per_input: Vec<u64>,
    /// Rows written to each of the [`ROW_TABLES`].
    pub row_counts: [u64; 3],
}

/// Remove data files of jobs that have no done marker (a run was killed
/// after committing some of a job's files) and stale hidden temporaries.
pub fn remove_unfinished(out_dir: &Path, live: &HashSet<u32>) -> std::io::Result<()> {
    remove_table_files(out_dir, |name| {
        let stale_tmp = name.starts_with('.') && name.ends_with(".tmp");
        let orphan = name
            .strip_prefix("part-")
            .and_then(|r| r.split('-').next())
            .and_then(|i| i.parse::<u32>().ok())
            .is_some_and(|i| !live.contains(&i));
        stale_tmp || orphan
    })
}

/// Remove every file of job `index`, committed or hidden temporary: a
/// unit about to be redone.
pub fn remove_job_files(out_dir: &Path, index: u32) -> std::io::Result<()> {
    let prefix = format!("part-{index:06}-");
    remove_table_files(out_dir, |name| {
        name.starts_with(&prefix)
            || (name
                .strip_prefix('.')
                .is_some_and(|n| n.starts_with(&prefix))
                && name.ends_with(".tmp"))
    })
}

/// Remove the files of every table whose name `doomed` picks (one already
/// gone is no error: another attempt may be cleaning too).
fn remove_table_files(out_dir: &Path, doomed: impl Fn(&str) -> bool) -> std::io::Result<()> {
    for table in std::iter::once("flows").chain(ROW_TABLES) {
        let mut files = Vec::new();
        collect_files(&out_dir.join(table), &mut files);
        for f in files {
            let Some(name) = f.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if doomed(name) {
                match std::fs::remove_file(&f) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out);
        } else {
            out.push(p);
        }
    }
}
