//! The application tables (optional): `dns`, one row per DNS message, and
//! `tls_certificates`, one row per certificate of a server's chain. Both
//! join `flows` by `flow_id`; their columns are documented in
//! `schemas/dns.md` and `schemas/tls.md` from the registries here.
//!
//! Rows are few next to packets (a DNS message or a certificate, not every
//! packet), so they are kept as owned values and turned into columns when
//! the batch is written.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Int32Array, Int64Array, Int64Builder, ListBuilder, StringArray,
    StringBuilder, TimestampMicrosecondArray,
};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

use super::flows::ColType;
use super::packets::{pc as c, schema_of, PacketColumn};
use crate::flow::DnsEvent;
use crate::proto::cert::Certificate;
use crate::proto::dns::{rcode_name, type_text};

/// The `dns` table's columns, in order.
pub fn dns_columns() -> Vec<PacketColumn> {
    vec![
        c(
            "flow_id",
            ColType::Int64,
            false,
            "the message's flow (flows.flow_id)",
            "",
        ),
        c(
            "capture",
            ColType::Utf8,
            false,
            "source capture, relative to its input root",
            "",
        ),
        c(
            "timestamp",
            ColType::TimestampUs,
            false,
            "time of the packet that completed the message",
            "µs since epoch, UTC",
        ),
        c(
            "direction",
            ColType::Int32,
            false,
            "+1 sent by the flow's up side, −1 by its down side",
            "",
        ),
        c(
            "transport",
            ColType::Utf8,
            false,
            "udp, or tcp (length-prefixed messages)",
            "",
        ),
        c("src_ip", ColType::Utf8, false, "sender of the message", ""),
        c(
            "dst_ip",
            ColType::Utf8,
            false,
            "receiver of the message",
            "",
        ),
        c("src_port", ColType::Int32, false, "sender's port", ""),
        c("dst_port", ColType::Int32, false, "receiver's port", ""),
        c("id", ColType::Int32, false, "transaction id", ""),
        c("response", ColType::Bool, false, "QR bit: a response", ""),
        c(
            "opcode",
            ColType::Int32,
            false,
            "operation code (0 query)",
            "",
        ),
        c(
            "rcode",
            ColType::Utf8,
            false,
            "response code, extended by EDNS (NOERROR, NXDOMAIN, … or RCODEnn)",
            "",
        ),
        c("flags", ColType::Int32, false, "the 16-bit flags word", ""),
        c(
            "qname",
            ColType::Utf8,
            true,
            "first question name; null without questions",
            "",
        ),
        c(
            "qtype",
            ColType::Utf8,
            true,
            "first question type (A, AAAA, … or TYPEnnn)",
            "",
        ),
        c(
            "questions",
            ColType::ListUtf8,
            false,
            "every question name, in order",
            "",
        ),
        c(
            "answer_names",
            ColType::ListUtf8,
            false,
            "owner name of each answer record",
            "",
        ),
        c(
            "answer_types",
            ColType::ListUtf8,
            false,
            "type of each answer record",
            "",
        ),
        c(
            "answer_ttls",
            ColType::ListInt64,
            false,
            "TTL of each answer record",
            "seconds",
        ),
        c(
            "answer_data",
            ColType::ListUtf8,
            false,
            "data of each answer record as text (`schemas/dns.md`)",
            "",
        ),
        c(
            "authority_count",
            ColType::Int32,
            false,
            "authority records read",
            "",
        ),
        c(
            "additional_count",
            ColType::Int32,
            false,
            "additional records read (OPT included)",
            "",
        ),
        c(
            "anomaly",
            ColType::Utf8,
            true,
            "why part of the message could not be read; null if whole",
            "",
        ),
    ]
}

/// The `tls_certificates` table's columns, in order.
pub fn cert_columns() -> Vec<PacketColumn> {
    vec![
        c(
            "flow_id",
            ColType::Int64,
            false,
            "the certificate's flow (flows.flow_id)",
            "",
        ),
        c(
            "capture",
            ColType::Utf8,
            false,
            "source capture, relative to its input root",
            "",
        ),
        c(
            "timestamp",
            ColType::TimestampUs,
            false,
            "the flow's start",
            "µs since epoch, UTC",
        ),
        c(
            "position",
            ColType::Int32,
            false,
            "place in the server's chain (0 = leaf)",
            "",
        ),
        c(
            "version",
            ColType::Int32,
            true,
            "X.509 version (1–3); null if the DER could not be read",
            "",
        ),
        c(
            "serial",
            ColType::Utf8,
            true,
            "serial number, upper-case hex, without DER's sign byte (as OpenSSL and Zeek print it)",
            "",
        ),
        c(
            "subject",
            ColType::Utf8,
            true,
            "subject (RFC 4514, most specific first)",
            "",
        ),
        c("issuer", ColType::Utf8, true, "issuer (RFC 4514)", ""),
        c(
            "not_before",
            ColType::TimestampUs,
            true,
            "valid from",
            "µs since epoch, UTC",
        ),
        c(
            "not_after",
            ColType::TimestampUs,
            true,
            "valid until",
            "µs since epoch, UTC",
        ),
        c(
            "san",
            ColType::ListUtf8,
            false,
            "subjectAltName entries (DNS, IP, e-mail, URI)",
            "",
        ),
        c(
            "sig_alg",
            ColType::Utf8,
            true,
            "signature algorithm (OpenSSL short name or OID)",
            "",
        ),
        c("key_alg", ColType::Utf8, true, "public-key algorithm", ""),
        c(
            "key_type",
            ColType::Utf8,
            true,
            "rsa, ec, dsa, or the key algorithm",
            "",
        ),
        c("key_bits", ColType::Int32, true, "key size", "bits"),
        c("is_ca", ColType::Bool, true, "basicConstraints CA flag", ""),
        c(
            "sha1",
            ColType::Utf8,
            false,
            "SHA-1 of the DER, lower-case hex",
            "",
        ),
        c(
            "sha256",
            ColType::Utf8,
            false,
            "SHA-256 of the DER, lower-case hex",
            "",
        ),
    ]
}

pub fn dns_schema() -> SchemaRef {
    schema_of(&dns_columns())
}

pub fn certs_schema() -> SchemaRef {
    schema_of(&cert_columns())
}

fn utc_us(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(
        values
            .collect::<TimestampMicrosecondArray>()
            .with_timezone("UTC"),
    )
}

fn str_lists<'a, I: Iterator<Item = &'a str>>(rows: impl Iterator<Item = I>) -> ArrayRef {
    let mut b = ListBuilder::new(StringBuilder::new());
    for items in rows {
        for s in items {
            b.values().append_value(s);
        }
        b.append(true);
    }
    Arc::new(b.finish())
}

/// A DNS message and where it came from.
pub struct DnsRow {
    pub flow_id: i64,
    pub capture: String,
    pub event: DnsEvent,
}

/// Rows of the `dns` table waiting for a batch.
pub struct DnsBatch {
    schema: SchemaRef,
    rows: Vec<DnsRow>,
}

impl DnsBatch {
    pub fn new(schema: SchemaRef) -> DnsBatch {
        DnsBatch {
            schema,
            rows: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn push(&mut self, row: DnsRow) {
        self.rows.push(row);
    }

    /// The collected rows as a batch; the batch starts over.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let rows = std::mem::take(&mut self.rows);
        fn m(r: &DnsRow) -> &crate::proto::dns::DnsMessage {
            &r.event.message
        }
        let text = |f: &dyn Fn(&DnsRow) -> Option<String>| -> ArrayRef {
            Arc::new(rows.iter().map(f).collect::<StringArray>())
        };
        let mut ttls = ListBuilder::new(Int64Builder::new());
        for r in &rows {
            for a in &m(r).answers {
                ttls.values().append_value(i64::from(a.ttl));
            }
            ttls.append(true);
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(rows.iter().map(|r| r.flow_id).collect::<Int64Array>()),
            text(&|r| Some(r.capture.clone())),
            utc_us(rows.iter().map(|r| Some(r.event.ts_ns.div_euclid(1000)))),
            Arc::new(
                rows.iter()
                    .map(|r| if r.event.up { 1 } else { -1 })
                    .collect::<Int32Array>(),
            ),
            text(&|r| Some(if r.event.tcp { "tcp" } else { "udp" }.to_string())),
            text(&|r| Some(r.event.src.0.to_string())),
            text(&|r| Some(r.event.dst.0.to_string())),
            Arc::new(
                rows.iter()
                    .map(|r| i32::from(r.event.src.1))
                    .collect::<Int32Array>(),
            ),
            Arc::new(
                rows.iter()
                    .map(|r| i32::from(r.event.dst.1))
                    .collect::<Int32Array>(),
            ),
            Arc::new(
                rows.iter()
                    .map(|r| i32::from(m(r).id))
                    .collect::<Int32Array>(),
            ),
            Arc::new(
                rows.iter()
                    .map(|r| Some(m(r).response))
                    .collect::<BooleanArray>(),
            ),
            Arc::new(
                rows.iter()
                    .map(|r| i32::from(m(r).opcode))
                    .collect::<Int32Array>(),
            ),
            text(&|r| {
                let mut s = String::new();
                rcode_name(m(r).rcode, &mut s).ok().map(|_| s)
            }),
            Arc::new(
                rows.iter()
                    .map(|r| i32::from(m(r).flags))
                    .collect::<Int32Array>(),
            ),
            text(&|r| m(r).questions.first().map(|q| q.name.clone())),
            text(&|r| {
                let q = m(r).questions.first()?;
                let mut s = String::new();
                type_text(q.qtype, &mut s).ok().map(|_| s)
            }),
            str_lists(
                rows.iter()
                    .map(|r| m(r).questions.iter().map(|q| q.name.as_str())),
            ),
            str_lists(
                rows.iter()
                    .map(|r| m(r).answers.iter().map(|a| a.name.as_str())),
            ),
            {
                let mut b = ListBuilder::new(StringBuilder::new());
                for r in &rows {
                    for a in &m(r).answers {
                        let _ = type_text(a.rtype, b.values());
                        b.values().append_value("");
                    }
                    b.append(true);
                }
                Arc::new(b.finish())
            },
            Arc::new(ttls.finish()),
            str_lists(
                rows.iter()
                    .map(|r| m(r).answers.iter().map(|a| a.data.as_str())),
            ),
            Arc::new(
                rows.iter()
                    .map(|r| m(r).authorities.len() as i32)
                    .collect::<Int32Array>(),
            ),
            Arc::new(
                rows.iter()
                    .map(|r| m(r).additionals.len() as i32)
                    .collect::<Int32Array>(),
            ),
            text(&|r| m(r).anomaly.map(str::to_string)),
        ];
        RecordBatch::try_new(self.schema.clone(), cols)
    }
}

/// A flow's chain and where it came from.
pub struct CertRow {
    pub flow_id: i64,
    pub capture: String,
    pub start_ns: i64,
    pub position: i32,
    pub cert: Certificate,
}

/// Rows of the `tls_certificates` table waiting for a batch.
pub struct CertBatch {
    schema: SchemaRef,
    rows: Vec<CertRow>,
}

impl CertBatch {
    pub fn new(schema: SchemaRef) -> CertBatch {
        CertBatch {
            schema,
            rows: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn push(&mut self, row: CertRow) {
        self.rows.push(row);
    }

    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let rows = std::mem::take(&mut self.rows);
        // A certificate x509-parser refused has only its fingerprints.
        let read = |r: &CertRow| r.cert.version > 0;
        let text = |f: &dyn Fn(&CertRow) -> &str| -> ArrayRef {
            Arc::new(
                rows.iter()
                    .map(|r| read(r).then(|| f(r)))
                    .collect::<StringArray>(),
            )
        };
        let cols: Vec<ArrayRef> = vec![
            Arc::new(rows.iter().map(|r| r.flow_id).collect::<Int64Array>()),
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.capture.as_str()))
                    .collect::<StringArray>(),
            ),
            utc_us(rows.iter().map(|r| Some(r.start_ns.div_euclid(1000)))),
            Arc::new(rows.iter().map(|r| r.position).collect::<Int32Array>()),
            Arc::new(
                rows.iter()
                    .map(|r| read(r).then_some(r.cert.version as i32))
                    .collect::<Int32Array>(),
            ),
            text(&|r| &r.cert.serial),
            text(&|r| &r.cert.subject),
            text(&|r| &r.cert.issuer),
            utc_us(
                rows.iter()
                    .map(|r| read(r).then(|| r.cert.not_before.saturating_mul(1_000_000))),
            ),
            utc_us(
                rows.iter()
                    .map(|r| read(r).then(|| r.cert.not_after.saturating_mul(1_000_000))),
            ),
            str_lists(rows.iter().map(|r| r.cert.san.iter().map(String::as_str))),
            text(&|r| &r.cert.sig_alg),
            text(&|r| &r.cert.key_alg),
            text(&|r| &r.cert.key_type),
            Arc::new(
                rows.iter()
                    .map(|r| read(r).then_some(r.cert.key_bits as i32))
                    .collect::<Int32Array>(),
            ),
            Arc::new(
                rows.iter()
                    .map(|r| read(r).then_some(r.cert.is_ca))
                    .collect::<BooleanArray>(),
            ),
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.cert.sha1.as_str()))
                    .collect::<StringArray>(),
            ),
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.cert.sha256.as_str()))
                    .collect::<StringArray>(),
            ),
        ];
        RecordBatch::try_new(self.schema.clone(), cols)
    }
}
