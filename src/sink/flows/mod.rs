//! The `flows` table: one row per flow, every key, time, counter, statistic
//! and sequence under the seed's names. Types every reader takes without
//! settings: signed integers, timestamps in µs UTC, UTF-8 strings, lists.
//! Here the column registry, its builders and the flow-engine columns;
//! `app.rs` the application-protocol columns.

use std::fmt::Write;
use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanArray, Float64Array, Float64Builder, Int32Array, Int32Builder,
    Int64Array, Int64Builder, ListBuilder, StringBuilder, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

use crate::features::{Family, SeqStats, STAT_NAMES};
use crate::flow::{DnsInfo, Fingerprints, Flow, FlowMetrics, TlsInfo};
use crate::proto::cert::Certificate;
use crate::proto::dns::{rcode_name, type_text};
use crate::proto::tls::{version_name, ClientHello, ServerHello};

mod app;
use app::app_columns;

/// One flow and where it came from.
pub struct FlowRow<'a> {
    pub flow: &'a Flow,
    /// Unique in the dataset.
    pub flow_id: i64,
    /// Capture path relative to its input root.
    pub capture: &'a str,
}

/// Column types of the flows table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Int32,
    Int64,
    Float64,
    Bool,
    Utf8,
    TimestampUs,
    ListInt32,
    ListInt64,
    ListFloat64,
    ListUtf8,
}

impl ColType {
    pub fn arrow(self) -> DataType {
        let item = |t: DataType| DataType::List(Arc::new(Field::new("item", t, true)));
        match self {
            ColType::Int32 => DataType::Int32,
            ColType::Int64 => DataType::Int64,
            ColType::Float64 => DataType::Float64,
            ColType::Bool => DataType::Boolean,
            ColType::Utf8 => DataType::Utf8,
            ColType::TimestampUs => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            ColType::ListInt32 => item(DataType::Int32),
            ColType::ListInt64 => item(DataType::Int64),
            ColType::ListFloat64 => item(DataType::Float64),
            ColType::ListUtf8 => item(DataType::Utf8),
        }
    }

    /// The name used in `schemas/flows.md`.
    pub fn doc_name(self) -> &'static str {
        match self {
            ColType::Int32 => "int32",
            ColType::Int64 => "int64",
            ColType::Float64 => "float64",
            ColType::Bool => "bool",
            ColType::Utf8 => "string",
            ColType::TimestampUs => "timestamp[us, UTC]",
            ColType::ListInt32 => "list<int32>",
            ColType::ListInt64 => "list<int64>",
            ColType::ListFloat64 => "list<float64>",
            ColType::ListUtf8 => "list<string>",
        }
    }
}

type ExtractFn = Box<dyn Fn(&[FlowRow<'_>]) -> ArrayRef + Send + Sync>;

/// How a column is built from a batch of rows.
enum Extract {
    /// Column by column.
    Func(ExtractFn),
    /// Statistic `slot` of the statistics block, which is filled row by row
    /// in one pass: each flow's statistics are touched once per batch
    /// instead of once per column (the block has 180 columns).
    Stat(usize),
}

/// One column: name, type, nullability, meaning, unit, and how to build it.
pub struct ColumnSpec {
    pub name: String,
    pub ty: ColType,
    pub nullable: bool,
    pub meaning: String,
    pub unit: &'static str,
    extract: Extract,
}

fn col(
    name: &str,
    ty: ColType,
    meaning: &str,
    unit: &'static str,
    extract: ExtractFn,
) -> ColumnSpec {
    ColumnSpec {
        name: name.to_string(),
        ty,
        nullable: false,
        meaning: meaning.to_string(),
        unit,
        extract: Extract::Func(extract),
    }
}

fn i64_col(
    name: &str,
    meaning: &str,
    unit: &'static str,
    f: fn(&FlowRow<'_>) -> i64,
) -> ColumnSpec {
    col(
        name,
        ColType::Int64,
        meaning,
        unit,
        Box::new(move |rows| Arc::new(rows.iter().map(f).collect::<Int64Array>())),
    )
}

fn i32_col(
    name: &str,
    meaning: &str,
    unit: &'static str,
    f: fn(&FlowRow<'_>) -> i32,
) -> ColumnSpec {
    col(
        name,
        ColType::Int32,
        meaning,
        unit,
        Box::new(move |rows| Arc::new(rows.iter().map(f).collect::<Int32Array>())),
    )
}

fn metric(name: &'static str, meaning: &str, f: fn(&FlowMetrics) -> u64) -> ColumnSpec {
    let unit = if name.contains("byte") {
        "bytes"
    } else {
        "packets"
    };
    col(
        name,
        ColType::Int64,
        meaning,
        unit,
        Box::new(move |rows| {
            Arc::new(
                rows.iter()
                    .map(|r| clamp_i64(f(&r.flow.metrics)))
                    .collect::<Int64Array>(),
            )
        }),
    )
}

fn clamp_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A list column filled per flow by `fill` through the list's value builder.
fn list_col<B: ArrayBuilder + Default>(
    name: &str,
    ty: ColType,
    meaning: &str,
    unit: &'static str,
    fill: fn(&Flow, &mut B),
) -> ColumnSpec {
    col(
        name,
        ty,
        meaning,
        unit,
        Box::new(move |rows| {
            let mut b = ListBuilder::new(B::default());
            for r in rows {
                fill(r.flow, b.values());
                b.append(true);
            }
            Arc::new(b.finish())
        }),
    )
}

fn family_meaning(f: Family) -> &'static str {
    match f {
        Family::Pkt => "packet (wire) lengths",
        Family::Ip => "IP lengths",
        Family::Trans => "transport lengths",
        Family::App => "application payload lengths",
        Family::Iat => "inter-arrival times",
    }
}

/// Direction prefixes of the statistics block, in slot order.
const STAT_DIRS: [(&str, &str); 3] = [
    ("", "all packets"),
    ("up_", "up packets"),
    ("down_", "down packets"),
];

/// Statistics sets per flow in the block: families × directions.
const STAT_SETS: usize = Family::ALL.len() * STAT_DIRS.len();

/// The statistics sets of a flow in slot order.
#[inline]
fn stat_sets(flow: &Flow) -> impl Iterator<Item = &SeqStats> {
    Family::ALL.into_iter().flat_map(move |fam| {
        let d = flow.stats.family(fam);
        [&d.all, &d.up, &d.down]
    })
}

fn stat_columns() -> Vec<ColumnSpec> {
    let mut out = Vec::new();
    for fam in Family::ALL {
        let unit: &'static str = if fam == Family::Iat {
            "seconds"
        } else {
            "bytes"
        };
        for (dir, dir_meaning) in STAT_DIRS {
            for stat in STAT_NAMES {
                let name = format!("{}_{dir}{stat}", fam.prefix());
                let meaning = format!(
                    "{stat} of {} over {dir_meaning} (absolute values)",
                    family_meaning(fam)
                );
                let (ty, unit) = match stat {
                    "count" => (ColType::Int64, "values"),
                    "skew" | "kurt" | "cv" => (ColType::Float64, "ratio"),
                    _ => (ColType::Float64, unit),
                };
                out.push(ColumnSpec {
                    name,
                    ty,
                    nullable: false,
                    meaning,
                    unit,
                    extract: Extract::Stat(out.len()),
                });
            }
        }
    }
    out
}

/// The statistics block of `rows`, one vector per slot. Built a tile of
/// rows at a time: each flow's 180 statistics are read in order into a
/// small block (in L1), then every column takes the tile's values as one
/// contiguous run — not 180 scattered one-value pushes per flow (this
/// loop was a fifth of the short-flow flood's profile).
fn stat_block(rows: &[FlowRow<'_>]) -> Vec<Vec<f64>> {
    const TILE: usize = 8;
    let n = STAT_SETS * STAT_NAMES.len();
    let mut cols: Vec<Vec<f64>> = (0..n).map(|_| Vec::with_capacity(rows.len())).collect();
    let mut tile = vec![[0.0f64; TILE]; n];
    for chunk in rows.chunks(TILE) {
        for (k, r) in chunk.iter().enumerate() {
            let mut slot = 0;
            for s in stat_sets(r.flow) {
                for v in s.values() {
                    tile[slot][k] = v;
                    slot += 1;
                }
            }
        }
        for (col, t) in cols.iter_mut().zip(&tile) {
            col.extend_from_slice(&t[..chunk.len()]);
        }
    }
    cols
}

fn ts_col(name: &str, meaning: &str, f: fn(&Flow) -> i64) -> ColumnSpec {
    col(
        name,
        ColType::TimestampUs,
        meaning,
        "µs since epoch, UTC",
        Box::new(move |rows| {
            Arc::new(
                TimestampMicrosecondArray::from(
                    rows.iter()
                        .map(|r| f(r.flow).div_euclid(1000))
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            )
        }),
    )
}

/// A string column written in place (no `String` per row): `f` writes the
/// row's value into the builder.
fn str_col(name: &str, meaning: &str, f: fn(&FlowRow<'_>, &mut StringBuilder)) -> ColumnSpec {
    col(
        name,
        ColType::Utf8,
        meaning,
        "",
        Box::new(move |rows| {
            let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 16);
            for r in rows {
                f(r, &mut b);
                // ends the value the writes began (fmt::Write appends bytes)
                b.append_value("");
            }
            Arc::new(b.finish())
        }),
    )
}

/// A nullable string column: `f` writes the value and says whether there
/// is one.
fn opt_str_col(name: &str, meaning: &str, f: fn(&Flow, &mut StringBuilder) -> bool) -> ColumnSpec {
    let mut c = col(
        name,
        ColType::Utf8,
        meaning,
        "",
        Box::new(move |rows| {
            let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 8);
            for r in rows {
                if f(r.flow, &mut b) {
                    b.append_value("");
                } else {
                    b.append_null();
                }
            }
            Arc::new(b.finish())
        }),
    );
    c.nullable = true;
    c
}

/// A nullable list column: `fill` appends the items and says whether the
/// list exists.
fn opt_list_col<B: ArrayBuilder + Default>(
    name: &str,
    ty: ColType,
    meaning: &str,
    fill: fn(&Flow, &mut B) -> bool,
) -> ColumnSpec {
    let mut c = col(
        name,
        ty,
        meaning,
        "",
        Box::new(move |rows| {
            let mut b = ListBuilder::new(B::default());
            for r in rows {
                let present = fill(r.flow, b.values());
                b.append(present);
            }
            Arc::new(b.finish())
        }),
    );
    c.nullable = true;
    c
}

/// A nullable int32 column.
fn opt_i32_col(name: &str, meaning: &str, f: fn(&Flow) -> Option<i32>) -> ColumnSpec {
    let mut c = col(
        name,
        ColType::Int32,
        meaning,
        "",
        Box::new(move |rows| Arc::new(rows.iter().map(|r| f(r.flow)).collect::<Int32Array>())),
    );
    c.nullable = true;
    c
}

/// Every column of the flows table, in order.
pub fn flow_columns() -> Vec<ColumnSpec> {
    let mut c = vec![
        i64_col(
            "flow_id",
            "flow identifier, unique in the dataset",
            "",
            |r| r.flow_id,
        ),
        str_col(
            "capture",
            "source capture, relative to its input root",
            |r, b| b.write_str(r.capture).unwrap_or_default(),
        ),
        str_col(
            "src_ip",
            "address of the up side (first packet's sender)",
            |r, b| write!(b, "{}", r.flow.key.src_ip).unwrap_or_default(),
        ),
        str_col("dst_ip", "address of the down side", |r, b| {
            write!(b, "{}", r.flow.key.dst_ip).unwrap_or_default()
        }),
        i32_col(
            "src_port",
            "port of the up side (0 without ports)",
            "",
            |r| i32::from(r.flow.key.src_port),
        ),
        i32_col(
            "dst_port",
            "port of the down side (0 without ports)",
            "",
            |r| i32::from(r.flow.key.dst_port),
        ),
        i32_col("protocol", "IP protocol / IPv6 next header", "", |r| {
            i32::from(r.flow.key.protocol)
        }),
        i32_col(
            "vlan_id",
            "last 802.1Q/802.1ad VID, 0 if untagged",
            "",
            |r| i32::from(r.flow.key.vlan_id),
        ),
        ts_col("start_time", "first counted packet", |f| f.start_ns),
        ts_col("end_time", "latest counted packet", |f| f.end_ns),
        col(
            "duration",
            ColType::Float64,
            "end_time − start_time",
            "seconds",
            Box::new(|rows| {
                Arc::new(
                    rows.iter()
                        .map(|r| r.flow.duration())
                        .collect::<Float64Array>(),
                )
            }),
        ),
        metric("packet_count", "counted packets", |m| m.packet_count),
        metric("byte_count", "Σ wire length", |m| m.byte_count),
        metric("up_packet_count", "packets of the up side", |m| {
            m.up_packet_count
        }),
        metric("up_byte_count", "wire bytes of the up side", |m| {
            m.up_byte_count
        }),
        metric("down_packet_count", "packets of the down side", |m| {
            m.down_packet_count
        }),
        metric("down_byte_count", "wire bytes of the down side", |m| {
            m.down_byte_count
        }),
        metric("syn_count", "TCP packets with SYN", |m| m.syn_count),
        metric("fin_count", "TCP packets with FIN", |m| m.fin_count),
        metric("rst_count", "TCP packets with RST", |m| m.rst_count),
        metric("ack_count", "TCP packets with ACK", |m| m.ack_count),
        metric("psh_count", "TCP packets with PSH", |m| m.psh_count),
        metric("urg_count", "TCP packets with URG", |m| m.urg_count),
        metric(
            "retrans_count",
            "TCP retransmissions seen (dropped or not)",
            |m| m.retrans_count,
        ),
        i32_col(
            "min_window",
            "smallest raw TCP window (0 for non-TCP)",
            "bytes",
            |r| i32::from(r.flow.metrics.min_window),
        ),
        i32_col(
            "max_window",
            "largest raw TCP window (0 for non-TCP)",
            "bytes",
            |r| i32::from(r.flow.metrics.max_window),
        ),
        str_col(
            "end_reason",
            "fin, rst, idle, evicted or end_of_capture",
            |r, b| b.write_str(r.flow.end_reason.name()).unwrap_or_default(),
        ),
        col(
            "tcp_handshake",
            ColType::Bool,
            "SYN, SYN+ACK and ACK seen",
            "",
            Box::new(|rows| {
                Arc::new(
                    rows.iter()
                        .map(|r| Some(r.flow.tcp_handshake))
                        .collect::<BooleanArray>(),
                )
            }),
        ),
        i64_col(
            "truncated_packets",
            "counted packets cut short by the snap length",
            "packets",
            |r| clamp_i64(r.flow.truncated_packets),
        ),
        i64_col(
            "reassembled_packets",
            "datagrams rebuilt from IP fragments",
            "packets",
            |r| clamp_i64(r.flow.reassembled_packets),
        ),
        str_col(
            "tunnel",
            "outermost tunnel (gre, erspan, vxlan, geneve, gtpu, ipip), empty if none",
            |r, b| {
                if let Some(t) = r.flow.tunnel {
                    b.write_str(t.kind.name()).unwrap_or_default()
                }
            },
        ),
        i64_col(
            "tunnel_id",
            "GRE key, ERSPAN session, VNI or TEID (0 if none)",
            "",
            |r| i64::from(r.flow.tunnel.map_or(0, |t| t.id)),
        ),
        str_col(
            "outer_src_ip",
            "outer source address of the tunnel, empty if none",
            |r, b| {
                if let Some(t) = r.flow.tunnel {
                    write!(b, "{}", t.outer_src).unwrap_or_default()
                }
            },
        ),
        str_col(
            "outer_dst_ip",
            "outer destination address of the tunnel, empty if none",
            |r, b| {
                if let Some(t) = r.flow.tunnel {
                    write!(b, "{}", t.outer_dst).unwrap_or_default()
                }
            },
        ),
        i32_col(
            "icmp_type",
            "ICMP/ICMPv6 type of the first packet, −1 if none",
            "",
            |r| r.flow.icmp.map_or(-1, |(t, _)| i32::from(t)),
        ),
        i32_col(
            "icmp_code",
            "ICMP/ICMPv6 code of the first packet, −1 if none",
            "",
            |r| r.flow.icmp.map_or(-1, |(_, c)| i32::from(c)),
        ),
        col(
            "anomalies",
            ColType::ListUtf8,
            "names of the anomalies seen in the flow's packets",
            "",
            Box::new(|rows| {
                let mut b = ListBuilder::new(StringBuilder::new());
                for r in rows {
                    for a in r.flow.anomalies.iter() {
                        b.values().append_value(a.name());
                    }
                    b.append(true);
                }
                Arc::new(b.finish())
            }),
        ),
    ];
    c.extend(stat_columns());
    c.push(col(
        "up_down_pkt_ratio",
        ColType::Float64,
        "up packets / down packets (0 without down packets)",
        "ratio",
        Box::new(|rows| {
            Arc::new(
                rows.iter()
                    .map(|r| r.flow.stats.up_down_pkt_ratio)
                    .collect::<Float64Array>(),
            )
        }),
    ));
    c.push(col(
        "up_down_byte_ratio",
        ColType::Float64,
        "up wire bytes / down wire bytes (0 without down bytes)",
        "ratio",
        Box::new(|rows| {
            Arc::new(
                rows.iter()
                    .map(|r| r.flow.stats.up_down_byte_ratio)
                    .collect::<Float64Array>(),
            )
        }),
    ));
    let int64 = |name: &str, meaning: &str, get: fn(&Flow, &mut Int64Builder)| {
        list_col(name, ColType::ListInt64, meaning, "bytes", get)
    };
    c.extend([
        int64(
            "packet_lengths",
            "± wire length per packet (+ up, − down)",
            |f, b| b.append_slice(&f.seq.packet_lengths),
        ),
        int64("ip_lengths", "± IP total length per packet", |f, b| {
            b.append_slice(&f.seq.ip_lengths)
        }),
        int64(
            "trans_lengths",
            "± TCP header+payload or UDP length per packet",
            |f, b| b.append_slice(&f.seq.trans_lengths),
        ),
        int64(
            "app_lengths",
            "± transport payload bytes per packet",
            |f, b| b.append_slice(&f.seq.app_lengths),
        ),
        int64(
            "payload_bytes",
            "± payload length per packet (TCP and UDP)",
            |f, b| b.append_slice(&f.seq.payload_bytes),
        ),
        list_col::<Float64Builder>(
            "timestamps",
            ColType::ListFloat64,
            "packet times",
            "seconds since epoch",
            |f, b| b.append_slice(&f.seq.timestamps),
        ),
        list_col::<Float64Builder>(
            "iats",
            ColType::ListFloat64,
            "inter-arrival times (n − 1 values)",
            "seconds",
            |f, b| b.append_slice(&f.seq.iats),
        ),
        list_col::<Int32Builder>(
            "tcp_flags",
            ColType::ListInt32,
            "TCP flags byte per TCP packet",
            "",
            |f, b| {
                f.seq
                    .tcp_flags
                    .iter()
                    .for_each(|&x| b.append_value(i32::from(x)))
            },
        ),
        list_col::<Int32Builder>(
            "tcp_window_sizes",
            ColType::ListInt32,
            "raw TCP window per TCP packet",
            "bytes",
            |f, b| {
                f.seq
                    .tcp_window_sizes
                    .iter()
                    .for_each(|&x| b.append_value(i32::from(x)))
            },
        ),
    ]);
    c.extend(app_columns());
    c
}

/// The Arrow schema of the flows table.
pub fn flows_schema(columns: &[ColumnSpec]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(&c.name, c.ty.arrow(), c.nullable))
            .collect::<Vec<_>>(),
    ))
}

fn stat_array(ty: ColType, values: Vec<f64>) -> ArrayRef {
    if ty == ColType::Int64 {
        // Counts are integers well below 2^53, exact in f64.
        Arc::new(values.iter().map(|&v| v as i64).collect::<Int64Array>())
    } else {
        Arc::new(Float64Array::from(values))
    }
}

/// One record batch of flows.
pub fn flows_to_batch(
    columns: &[ColumnSpec],
    schema: &SchemaRef,
    rows: &[FlowRow<'_>],
) -> Result<RecordBatch, ArrowError> {
    let mut block = stat_block(rows);
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|c| match &c.extract {
            Extract::Func(f) => f(rows),
            Extract::Stat(slot) => stat_array(
                c.ty,
                block.get_mut(*slot).map(std::mem::take).unwrap_or_default(),
            ),
        })
        .collect();
    RecordBatch::try_new(schema.clone(), arrays)
}
