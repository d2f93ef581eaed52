//! The `flows` table: one row per flow, every key, time, counter, statistic
//! and sequence under the seed's names. Types every reader takes without
//! settings: signed integers, timestamps in µs UTC, UTF-8 strings, lists.

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

fn tls(f: &Flow) -> Option<&TlsInfo> {
    f.app.as_ref()?.tls.as_deref()
}

fn client(f: &Flow) -> Option<&ClientHello> {
    tls(f)?.client.as_ref()
}

fn server(f: &Flow) -> Option<&ServerHello> {
    tls(f)?.server.as_ref()
}

/// The leaf certificate (the first of the server's chain).
fn leaf(f: &Flow) -> Option<&Certificate> {
    tls(f)?.certificates.first()
}

/// The leaf, when its DER could be read (else only its fingerprint and the
/// chain length are known: the other cert_* columns are null, as in the
/// tls_certificates table).
fn leaf_read(f: &Flow) -> Option<&Certificate> {
    leaf(f).filter(|c| c.version > 0)
}

fn quic(f: &Flow) -> Option<&crate::proto::quic::QuicInfo> {
    f.app.as_ref()?.quic.as_deref()
}

/// QUIC version as people name it: `1`, `2`, `draft-29`, else hex.
fn quic_version_text(v: u32, b: &mut StringBuilder) -> bool {
    match v {
        0x0000_0001 => b.write_str("1"),
        0x6b33_43cf => b.write_str("2"),
        v if v >> 8 == 0x00ff_0000 => write!(b, "draft-{}", v & 0xff),
        // Google QUIC: Q043, T051 … in ASCII.
        v if matches!(v >> 24, 0x51 | 0x54)
            && v.to_be_bytes()[1..].iter().all(u8::is_ascii_digit) =>
        {
            b.write_str(&String::from_utf8_lossy(&v.to_be_bytes()))
        }
        v => write!(b, "0x{v:08x}"),
    }
    .is_ok()
}

/// The flow's application protocol and how it was found: by content
/// (`dpi`; for a protocol IP carries directly, by its header's protocol
/// number, as nDPI names ICMP or ESP), else by a well-known TCP/UDP port
/// (`port`).
fn app_name(f: &Flow) -> Option<(&'static str, &'static str)> {
    if let Some(p) = f.app.as_ref().and_then(|a| a.protocol()) {
        return Some((p, "dpi"));
    }
    let over_ip = match f.key.protocol {
        1 => Some("icmp"),
        2 => Some("igmp"),
        47 => Some("gre"),
        50 | 51 => Some("ipsec"),
        58 => Some("icmpv6"),
        89 => Some("ospf"),
        103 => Some("pim"),
        112 => Some("vrrp"),
        132 => Some("sctp"),
        _ => None,
    };
    if let Some(p) = over_ip {
        return Some((p, "dpi"));
    }
    matches!(f.key.protocol, 6 | 17)
        .then(|| crate::proto::ident::by_port(f.key.src_port, f.key.dst_port, f.key.protocol == 6))
        .flatten()
        .map(|p| (p, "port"))
}

fn http(f: &Flow) -> Option<&crate::proto::http::HttpInfo> {
    f.app.as_ref()?.http.as_deref()
}

fn dhcp(f: &Flow) -> Option<&crate::flow::DhcpInfo> {
    f.app.as_ref()?.dhcp.as_deref()
}

fn opt_text(v: Option<&str>, b: &mut StringBuilder) -> bool {
    v.is_some_and(|s| b.write_str(s).is_ok())
}

fn dns(f: &Flow) -> Option<&DnsInfo> {
    f.app.as_ref()?.dns.as_deref()
}

/// A nullable timestamp column (µs UTC) from seconds.
fn opt_ts_s_col(name: &str, meaning: &str, f: fn(&Flow) -> Option<i64>) -> ColumnSpec {
    let mut c = col(
        name,
        ColType::TimestampUs,
        meaning,
        "µs since epoch, UTC",
        Box::new(move |rows| {
            Arc::new(
                rows.iter()
                    .map(|r| f(r.flow).map(|s| s.saturating_mul(1_000_000)))
                    .collect::<TimestampMicrosecondArray>()
                    .with_timezone("UTC"),
            )
        }),
    );
    c.nullable = true;
    c
}

fn str_list(values: Option<&Vec<String>>, b: &mut StringBuilder) -> bool {
    match values {
        Some(v) => {
            v.iter().for_each(|x| b.append_value(x));
            true
        }
        None => false,
    }
}

/// A fingerprint computed at the flow's end; null when empty (no hello).
fn fingerprint(f: &Flow, pick: fn(&Fingerprints) -> &String, b: &mut StringBuilder) -> bool {
    tls(f)
        .map(|t| pick(&t.fingerprints))
        .is_some_and(|v| !v.is_empty() && b.write_str(v).is_ok())
}

fn u16_list(values: Option<&Vec<u16>>, b: &mut Int32Builder) -> bool {
    match values {
        Some(v) => {
            v.iter().for_each(|&x| b.append_value(i32::from(x)));
            true
        }
        None => false,
    }
}

/// The application-protocol columns (null when absent; `schemas/tls.md`,
/// `schemas/dns.md`).
fn app_columns() -> Vec<ColumnSpec> {
    vec![
        opt_str_col(
            "app_protocol",
            "application protocol: from the flow's bytes (a protocol IP carries directly: its protocol number), else (app_confidence port) from its well-known port; names in `schemas/protocols.md`; null if neither",
            |f, b| app_name(f).is_some_and(|(p, _)| b.write_str(p).is_ok()),
        ),
        str_col(
            "app_confidence",
            "how app_protocol was found: dpi (the bytes), port (a well-known port only), none",
            |r, b| {
                let _ = b.write_str(app_name(r.flow).map_or("none", |(_, c)| c));
            },
        ),
        opt_str_col("sni", "server name of the TLS or QUIC ClientHello (SNI), or of a Google QUIC CHLO", |f, b| {
            client(f)
                .and_then(|c| c.sni.as_deref())
                .or_else(|| quic(f)?.chlo.as_ref()?.sni.as_deref())
                .is_some_and(|s| b.write_str(s).is_ok())
        }),
        opt_list_col::<StringBuilder>(
            "alpn",
            ColType::ListUtf8,
            "ALPN protocols the client offered, in order",
            |f, b| str_list(client(f).map(|c| &c.alpn), b),
        ),
        opt_str_col(
            "alpn_selected",
            "ALPN protocol the server selected",
            |f, b| {
                server(f)
                    .and_then(|s| s.alpn.as_deref())
                    .is_some_and(|a| b.write_str(a).is_ok())
            },
        ),
        opt_str_col(
            "tls_version",
            "negotiated TLS version (ServerHello; supported_versions wins over the legacy field)",
            |f, b| {
                server(f).is_some_and(|s| b.write_str(version_name(s.negotiated_version())).is_ok())
            },
        ),
        opt_list_col::<Int32Builder>(
            "tls_cipher_suites",
            ColType::ListInt32,
            "cipher suites the client offered, in order (GREASE included)",
            |f, b| u16_list(client(f).map(|c| &c.cipher_suites), b),
        ),
        opt_i32_col("tls_cipher", "cipher suite the server selected", |f| {
            server(f).map(|s| i32::from(s.cipher))
        }),
        opt_list_col::<Int32Builder>(
            "tls_extensions",
            ColType::ListInt32,
            "ClientHello extension types, in order (GREASE included)",
            |f, b| u16_list(client(f).map(|c| &c.extensions), b),
        ),
        opt_list_col::<Int32Builder>(
            "tls_supported_groups",
            ColType::ListInt32,
            "supported groups the client offered, in order",
            |f, b| u16_list(client(f).map(|c| &c.supported_groups), b),
        ),
        opt_list_col::<Int32Builder>(
            "tls_signature_algorithms",
            ColType::ListInt32,
            "signature algorithms the client offered, in order",
            |f, b| u16_list(client(f).map(|c| &c.signature_algorithms), b),
        ),
        opt_str_col("ja3", "JA3 string of the ClientHello", |f, b| {
            fingerprint(f, |p| &p.ja3, b)
        }),
        opt_str_col("ja3_hash", "JA3 (MD5 of the JA3 string, hex)", |f, b| {
            fingerprint(f, |p| &p.ja3_hash, b)
        }),
        opt_str_col("ja3s", "JA3S string of the ServerHello", |f, b| {
            fingerprint(f, |p| &p.ja3s, b)
        }),
        opt_str_col("ja3s_hash", "JA3S (MD5 of the JA3S string, hex)", |f, b| {
            fingerprint(f, |p| &p.ja3s_hash, b)
        }),
        opt_str_col("ja4", "JA4 client fingerprint (FoxIO; q… for QUIC)", |f, b| {
            fingerprint(f, |p| &p.ja4, b)
        }),
        opt_str_col(
            "quic_version",
            "QUIC version of the client's Initials (1, 2, draft-NN, Google's Q0xx/T0xx, else hex)",
            |f, b| quic(f).is_some_and(|q| quic_version_text(q.version, b)),
        ),
        opt_str_col(
            "cert_subject",
            "subject of the server's leaf certificate (RFC 4514, TLS <= 1.2)",
            |f, b| leaf_read(f).is_some_and(|c| b.write_str(&c.subject).is_ok()),
        ),
        opt_str_col("cert_issuer", "issuer of the leaf certificate (RFC 4514)", |f, b| {
            leaf_read(f).is_some_and(|c| b.write_str(&c.issuer).is_ok())
        }),
        opt_str_col(
            "cert_serial",
            "serial number of the leaf certificate (upper-case hex)",
            |f, b| leaf_read(f).is_some_and(|c| b.write_str(&c.serial).is_ok()),
        ),
        opt_ts_s_col("cert_not_before", "leaf certificate valid from", |f| {
            leaf_read(f).map(|c| c.not_before)
        }),
        opt_ts_s_col("cert_not_after", "leaf certificate valid until", |f| {
            leaf_read(f).map(|c| c.not_after)
        }),
        opt_list_col::<StringBuilder>(
            "cert_san",
            ColType::ListUtf8,
            "subjectAltName entries of the leaf certificate (DNS, IP, e-mail, URI)",
            |f, b| str_list(leaf_read(f).map(|c| &c.san), b),
        ),
        opt_str_col(
            "cert_sha256",
            "SHA-256 of the leaf certificate's DER (lower-case hex)",
            |f, b| leaf(f).is_some_and(|c| b.write_str(&c.sha256).is_ok()),
        ),
        opt_i32_col(
            "cert_chain_len",
            "certificates in the server's Certificate message (kept: at most 16)",
            |f| {
                tls(f)
                    .filter(|t| !t.certificates.is_empty())
                    .map(|t| t.certificates.len() as i32)
            },
        ),
        opt_str_col("dns_query", "first DNS question name of the flow", |f, b| {
            dns(f)
                .and_then(|d| d.query.as_ref())
                .is_some_and(|q| b.write_str(&q.name).is_ok())
        }),
        opt_str_col(
            "dns_qtype",
            "type of the first question (A, AAAA, … or TYPEnnn)",
            |f, b| {
                dns(f)
                    .and_then(|d| d.query.as_ref())
                    .is_some_and(|q| type_text(q.qtype, b).is_ok())
            },
        ),
        opt_str_col(
            "dns_rcode",
            "response code of the first response (NOERROR, NXDOMAIN, … or RCODEnn)",
            |f, b| {
                dns(f)
                    .and_then(|d| d.rcode)
                    .is_some_and(|r| rcode_name(r, b).is_ok())
            },
        ),
        opt_list_col::<StringBuilder>(
            "dns_queries",
            ColType::ListUtf8,
            "distinct question names of the flow's messages, in order (at most 32)",
            |f, b| str_list(dns(f).map(|d| &d.queries), b),
        ),
        opt_str_col("http_method", "method of the first HTTP request", |f, b| {
            opt_text(http(f).and_then(|h| h.request.as_ref()).map(|r| r.method.as_str()), b)
        }),
        opt_str_col("http_host", "Host header of the first HTTP request", |f, b| {
            opt_text(http(f).and_then(|h| h.request.as_ref()?.host.as_deref()), b)
        }),
        opt_str_col("http_uri", "request target of the first HTTP request", |f, b| {
            opt_text(http(f).and_then(|h| h.request.as_ref()).map(|r| r.target.as_str()), b)
        }),
        opt_str_col("http_user_agent", "User-Agent of the first HTTP request", |f, b| {
            opt_text(http(f).and_then(|h| h.request.as_ref()?.user_agent.as_deref()), b)
        }),
        opt_i32_col(
            "http_status",
            "status of the first final (non-1xx) HTTP response",
            |f| http(f).and_then(|h| h.final_status).map(i32::from),
        ),
        opt_str_col(
            "http_content_type",
            "Content-Type of the first HTTP response",
            |f, b| opt_text(http(f).and_then(|h| h.response.as_ref()?.content_type.as_deref()), b),
        ),
        opt_str_col("http_server", "Server header of the first HTTP response", |f, b| {
            opt_text(http(f).and_then(|h| h.response.as_ref()?.server.as_deref()), b)
        }),
        opt_i32_col(
            "http_requests",
            "HTTP request heads read (within the first 16 KiB of the direction)",
            |f| http(f).map(|h| h.requests as i32),
        ),
        opt_i32_col(
            "http_responses",
            "HTTP response heads read, 1xx included (within the first 16 KiB)",
            |f| http(f).map(|h| h.responses as i32),
        ),
        opt_list_col::<StringBuilder>(
            "dhcp_message_types",
            ColType::ListUtf8,
            "DHCP/DHCPv6 message types of the flow, in order (at most 16)",
            |f, b| match dhcp(f) {
                Some(d) => {
                    d.message_types.iter().for_each(|t| b.append_value(t));
                    true
                }
                None => false,
            },
        ),
        opt_str_col("dhcp_client_mac", "client hardware address (chaddr, or a DHCPv6 link-layer DUID's)", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.client_mac.as_deref()), b)
        }),
        opt_str_col("dhcp_client_id", "client identifier (option 61) or DHCPv6 client DUID, hex", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.client_id.as_deref()), b)
        }),
        opt_str_col("dhcp_hostname", "host name (option 12)", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.hostname.as_deref()), b)
        }),
        opt_str_col("dhcp_fqdn", "client FQDN (DHCPv4 option 81, DHCPv6 option 39)", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.fqdn.as_deref()), b)
        }),
        opt_str_col("dhcp_requested_addr", "requested address (option 50)", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.requested_addr.as_deref()), b)
        }),
        opt_str_col("dhcp_assigned_addr", "address offered or assigned (yiaddr, DHCPv6 IA address)", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.assigned_addr.as_deref()), b)
        }),
        opt_str_col("dhcp_vendor_class", "vendor class (DHCPv4 option 60, DHCPv6 option 16)", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.vendor_class.as_deref()), b)
        }),
        opt_str_col("dhcp_server_id", "server identifier (option 54, DHCPv6 server DUID)", |f, b| {
            opt_text(dhcp(f).and_then(|d| d.server_id.as_deref()), b)
        }),
        opt_list_col::<Int32Builder>(
            "dhcp_param_request_list",
            ColType::ListInt32,
            "options the client asked for (option 55, DHCPv6 ORO), in order",
            |f, b| u16_list(dhcp(f).map(|d| &d.parameter_requests), b),
        ),
        opt_list_col::<StringBuilder>(
            "dns_answers",
            ColType::ListUtf8,
            "distinct answer values (address, name or text) of the flow's responses, in order (at most 64)",
            |f, b| str_list(dns(f).map(|d| &d.answers), b),
        ),
        opt_list_col::<StringBuilder>(
            "app_errors",
            ColType::ListUtf8,
            "why the flow's malformed messages were refused, `protocol: reason` (distinct, at most 8)",
            |f, b| {
                let errors = f.app.as_ref().map(|a| a.errors()).filter(|e| !e.is_empty());
                for (proto, why) in errors.into_iter().flatten() {
                    b.append_value(format!("{proto}: {why}"));
                }
                errors.is_some()
            },
        ),
        opt_str_col(
            "app_proxy",
            "the proxy the flow's bytes show: socks4, socks5, proxy_v1, proxy_v2 (PROXY protocol), http_connect, http (absolute-form requests); app_protocol names what it carried",
            |f, b| opt_text(f.app.as_ref().and_then(|a| a.proxy).map(|p| p.name()), b),
        ),
        opt_str_col("ssh_client", "SSH identification string of the flow's opening side (`SSH-2.0-OpenSSH_9.6`)", |f, b| {
            opt_text(fields(f).and_then(|x| x.ssh_client.as_deref()), b)
        }),
        opt_str_col("ssh_server", "SSH identification string of the other side", |f, b| {
            opt_text(fields(f).and_then(|x| x.ssh_server.as_deref()), b)
        }),
        opt_str_col("app_banner", "the server's greeting line (SMTP, FTP, POP3, IMAP)", |f, b| {
            opt_text(fields(f).and_then(|x| x.banner.as_deref()), b)
        }),
        opt_str_col("krb_realm", "Kerberos realm of the first message that names one", |f, b| {
            opt_text(fields(f).and_then(|x| x.krb_realm.as_deref()), b)
        }),
        opt_str_col("krb_principal", "Kerberos client principal (name strings joined by /)", |f, b| {
            opt_text(fields(f).and_then(|x| x.krb_principal.as_deref()), b)
        }),
        opt_str_col("sip_from", "SIP From address (the URI) of the first message", |f, b| {
            opt_text(fields(f).and_then(|x| x.sip_from.as_deref()), b)
        }),
        opt_str_col("sip_to", "SIP To address (the URI) of the first message", |f, b| {
            opt_text(fields(f).and_then(|x| x.sip_to.as_deref()), b)
        }),
        opt_str_col("sip_user_agent", "User-Agent of the first SIP request", |f, b| {
            opt_text(fields(f).and_then(|x| x.sip_user_agent.as_deref()), b)
        }),
        opt_str_col("mqtt_client_id", "client identifier of the MQTT CONNECT", |f, b| {
            opt_text(fields(f).and_then(|x| x.mqtt_client_id.as_deref()), b)
        }),
    ]
}

fn fields(f: &Flow) -> Option<&crate::flow::AppFields> {
    f.app.as_ref()?.fields.as_deref()
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
