//! DNS messages (RFC 1035 §4): header, questions and resource records, with
//! the record data of the common types in text form.
//!
//! Owns: reading one DNS message out of a UDP payload, or the first message
//! of a DNS-over-TCP stream (RFC 1035 §4.2.2: a 2-byte length prefix),
//! following name compression (RFC 1035 §4.1.4) and writing names and
//! record data as text. Does not own: TCP reassembly or IP defragmentation
//! (the caller hands over the bytes), matching queries to responses, DNSSEC
//! validation, or output columns.
//!
//! Hand-parsed over borrowed bytes. `simple-dns` was evaluated and not used:
//! it only parses whole packets (its per-record parser is crate-private), so
//! one odd record loses the message; it reserves `Vec` capacity for the
//! section counts the header claims (a 12-byte input claiming 4 × 65535
//! records reserves ~30 MB before failing); its names print lossy UTF-8;
//! and unknown RCODEs lose their value.
//!
//! Text forms: names are labels joined by `.`, the root name is `<Root>`
//! (as TShark writes it); inside a label, `.` and `\` are written `\.` and
//! `\\`, and bytes outside printable ASCII as `\DDD` (three decimal digits,
//! RFC 1035 §5.1, as dig writes them), so any bytes make a valid UTF-8
//! string. See [`DnsAnswer::data`] for record data.
//!
//! Bounds: a name follows at most [`MAX_POINTER_JUMPS`] compression
//! pointers and is at most 255 bytes in wire form (RFC 1035 §3.1), so a
//! pointer loop ends in an error (a longer name is read to its end and
//! written as `<Name too long>`, like TShark); each section keeps at most
//! [`MAX_KEPT_PER_SECTION`] entries and counts the rest in
//! [`DnsMessage::entries_not_read`]. The work is linear in the input, the
//! memory proportional to it, and no input can make these functions panic.

mod detect;
mod summary;

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

pub use detect::{is_plausible_message, is_plausible_tcp};
pub use summary::{DnsInfo, MAX_DNS_ANSWERS, MAX_DNS_NAMES};

use super::{hex, Parse};

const HEADER_BYTES: usize = 12;
/// Type, class, TTL and RDLENGTH after a record's owner name (RFC 1035 §4.1.3).
const RECORD_FIXED_BYTES: usize = 10;
/// Compression pointers one name may follow: far more than any real name
/// needs (a name has at most 127 labels), few enough to end loops at once.
pub const MAX_POINTER_JUMPS: usize = 128;
/// Wire length of a name, length octets and the root included (RFC 1035 §3.1).
const MAX_NAME_WIRE_BYTES: usize = 255;
/// Questions, and records of each section, kept per message.
pub const MAX_KEPT_PER_SECTION: usize = 256;
/// Text of the root name, as TShark writes it.
pub const ROOT_NAME: &str = "<Root>";
/// Text of a name longer than 255 bytes in wire form, as TShark writes it.
pub const NAME_TOO_LONG: &str = "<Name too long>";

/// Record types whose data gets a text form other than hex (IANA "Resource
/// Record (RR) TYPEs").
mod rtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const PTR: u16 = 12;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const DNAME: u16 = 39;
    pub const OPT: u16 = 41;
    pub const SVCB: u16 = 64;
    pub const HTTPS: u16 = 65;
}

/// Names of the record and query types (IANA "Resource Record (RR) TYPEs").
const TYPE_NAMES: &[(u16, &str)] = &[
    (1, "A"),
    (2, "NS"),
    (5, "CNAME"),
    (6, "SOA"),
    (10, "NULL"),
    (11, "WKS"),
    (12, "PTR"),
    (13, "HINFO"),
    (15, "MX"),
    (16, "TXT"),
    (17, "RP"),
    (18, "AFSDB"),
    (24, "SIG"),
    (25, "KEY"),
    (28, "AAAA"),
    (29, "LOC"),
    (33, "SRV"),
    (35, "NAPTR"),
    (36, "KX"),
    (37, "CERT"),
    (39, "DNAME"),
    (41, "OPT"),
    (42, "APL"),
    (43, "DS"),
    (44, "SSHFP"),
    (45, "IPSECKEY"),
    (46, "RRSIG"),
    (47, "NSEC"),
    (48, "DNSKEY"),
    (49, "DHCID"),
    (50, "NSEC3"),
    (51, "NSEC3PARAM"),
    (52, "TLSA"),
    (53, "SMIMEA"),
    (55, "HIP"),
    (59, "CDS"),
    (60, "CDNSKEY"),
    (61, "OPENPGPKEY"),
    (62, "CSYNC"),
    (63, "ZONEMD"),
    (64, "SVCB"),
    (65, "HTTPS"),
    (99, "SPF"),
    (108, "EUI48"),
    (109, "EUI64"),
    (249, "TKEY"),
    (250, "TSIG"),
    (251, "IXFR"),
    (252, "AXFR"),
    (255, "ANY"),
    (256, "URI"),
    (257, "CAA"),
];

/// A record or query type's mnemonic; "other" for types not in the table.
pub fn type_name(t: u16) -> &'static str {
    TYPE_NAMES
        .iter()
        .find(|(code, _)| *code == t)
        .map_or("other", |(_, name)| name)
}

/// One DNS message.
/// A record type's mnemonic, or `TYPEnnn` (RFC 3597 §5) when unknown.
pub fn type_text(t: u16, out: &mut impl Write) -> std::fmt::Result {
    match type_name(t) {
        "other" => write!(out, "TYPE{t}"),
        name => out.write_str(name),
    }
}

/// A response code's mnemonic (IANA "DNS RCODEs"), or `RCODEnn`.
pub fn rcode_name(rcode: u16, out: &mut impl Write) -> std::fmt::Result {
    let name = match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        11 => "DSOTYPENI",
        16 => "BADVERS",
        17 => "BADKEY",
        18 => "BADTIME",
        19 => "BADMODE",
        20 => "BADNAME",
        21 => "BADALG",
        22 => "BADTRUNC",
        23 => "BADCOOKIE",
        _ => return write!(out, "RCODE{rcode}"),
    };
    out.write_str(name)
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsMessage {
    pub id: u16,
    /// QR bit: a response.
    pub response: bool,
    /// OPCODE (0 query, 1 inverse query, 2 status, 4 notify, 5 update).
    pub opcode: u8,
    /// RCODE: the header's 4 bits, extended by the upper 8 bits of an OPT
    /// record's TTL when the message has one (RFC 6891 §6.1.3).
    pub rcode: u16,
    /// Flag bits of the header as sent (AA, TC, RD, RA, Z, AD, CD).
    pub flags: u16,
    pub questions: Vec<DnsQuestion>,
    pub answers: Vec<DnsAnswer>,
    /// Authority section records (RFC 1035 §4.1).
    pub authorities: Vec<DnsAnswer>,
    /// Additional section records, the EDNS OPT record included.
    pub additionals: Vec<DnsAnswer>,
    /// Questions and records the header announced that were not read:
    /// beyond [`MAX_KEPT_PER_SECTION`], or after `anomaly`.
    pub entries_not_read: u32,
    /// The first problem met: a question or record cut short or unreadable
    /// stops the reading there (the header and the entries before it are
    /// kept, as TShark does); record data that does not fit its type falls
    /// back to hex and the reading goes on.
    pub anomaly: Option<&'static str>,
}

/// An entry of the question section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsQuestion {
    pub name: String,
    pub qtype: u16,
    /// QCLASS without the mDNS unicast-response bit (RFC 6762 §5.4).
    pub qclass: u16,
}

/// A resource record of the answer, authority or additional section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsAnswer {
    pub name: String,
    pub rtype: u16,
    /// CLASS as sent (the OPT record puts the UDP payload size here).
    pub class: u16,
    pub ttl: u32,
    /// The record data as text: an address for A and AAAA; the target name
    /// for NS, CNAME, PTR and DNAME; `pref exchange` for MX; the strings,
    /// each quoted, space-separated, for TXT; `mname rname serial refresh
    /// retry expire minimum` for SOA; `priority weight port target` for
    /// SRV; `priority target key=value …` for SVCB and HTTPS (RFC 9460:
    /// alpn, no-default-alpn, port, ipv4hint, ipv6hint by name, others as
    /// `keyN=hex`); lowercase hex of the bytes for other types, and for
    /// data that does not fit its type.
    pub data: String,
}

/// One DNS message filling a UDP payload.
pub fn parse_message(bytes: &[u8]) -> Parse<DnsMessage> {
    let Some(header) = bytes.get(..HEADER_BYTES) else {
        return Parse::Malformed("shorter than the 12-byte DNS header");
    };
    let word = |i: usize| u16::from_be_bytes([header[i], header[i + 1]]);
    let flags = word(2);
    let counts = [word(4), word(6), word(8), word(10)];
    let mut msg = DnsMessage {
        id: word(0),
        response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0x0f) as u8,
        rcode: flags & 0x000f,
        flags: flags & 0x07f0,
        ..DnsMessage::default()
    };
    let mut pos = HEADER_BYTES;
    // Question section (RFC 1035 §4.1.2). Like TShark, a question that
    // cannot be read stops the reading but keeps the header and what came
    // before it.
    let kept = usize::from(counts[0]).min(MAX_KEPT_PER_SECTION);
    msg.questions.reserve(kept.min(bytes.len() / 5));
    let mut failed = false;
    for _ in 0..kept {
        let question = read_name(bytes, pos).and_then(|(name, end)| {
            match (be16(bytes, end), be16(bytes, end + 2)) {
                (Some(qtype), Some(qclass)) => Ok((name, qtype, qclass, end)),
                _ => Err("question cut short"),
            }
        });
        match question {
            Ok((name, qtype, qclass, end)) => {
                msg.questions.push(DnsQuestion {
                    name,
                    qtype,
                    qclass: qclass & 0x7fff,
                });
                pos = end + 4;
            }
            Err(why) => {
                msg.anomaly = Some(why);
                failed = true;
                break;
            }
        }
    }
    let mut not_read = u32::from(counts[0]) - msg.questions.len() as u32;
    for (section, &count) in counts[1..].iter().enumerate() {
        let count = usize::from(count);
        let kept = if failed {
            0
        } else {
            count.min(MAX_KEPT_PER_SECTION)
        };
        let mut records = Vec::with_capacity(kept.min(bytes.len() / 11));
        let mut read = 0;
        while read < kept {
            match read_record(bytes, pos) {
                Ok((rr, end, data_anomaly)) => {
                    if msg.anomaly.is_none() {
                        msg.anomaly = data_anomaly;
                    }
                    records.push(rr);
                    pos = end;
                    read += 1;
                }
                Err(why) => {
                    msg.anomaly = Some(why);
                    failed = true;
                    break;
                }
            }
        }
        not_read += (count - read) as u32;
        match section {
            0 => msg.answers = records,
            1 => msg.authorities = records,
            _ => msg.additionals = records,
        }
    }
    msg.entries_not_read = not_read;
    if let Some(opt) = msg.additionals.iter().find(|r| r.rtype == rtype::OPT) {
        msg.rcode |= ((opt.ttl >> 24) as u16) << 4;
    }
    Parse::Done(msg)
}

/// The first message of a DNS-over-TCP stream (RFC 1035 §4.2.2), `stream`
/// starting at a length prefix; also the bytes it used (prefix included).
pub fn parse_tcp_stream(stream: &[u8]) -> Parse<(DnsMessage, usize)> {
    let Some(len) = be16(stream, 0) else {
        return Parse::NeedMore;
    };
    let len = usize::from(len);
    if len < HEADER_BYTES {
        return Parse::Malformed("TCP length prefix shorter than a DNS header");
    }
    let Some(body) = stream.get(2..2 + len) else {
        return Parse::NeedMore;
    };
    match parse_message(body) {
        Parse::Done(m) => Parse::Done((m, 2 + len)),
        Parse::NeedMore => Parse::NeedMore,
        Parse::Malformed(why) => Parse::Malformed(why),
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

/// The name at `start` in `msg` as text, and the offset just after it
/// where it starts (after its first pointer, if it has one).
fn read_name(msg: &[u8], start: usize) -> Result<(String, usize), &'static str> {
    let mut text = String::new();
    let mut pos = start;
    let mut end = None;
    let mut jumps = 0;
    let mut wire_bytes = 1; // the root's length octet
    loop {
        let Some(&len) = msg.get(pos) else {
            return Err("name runs past the message");
        };
        match len & 0xc0 {
            0x00 if len == 0 => {
                end.get_or_insert(pos + 1);
                break;
            }
            0x00 => {
                let len = usize::from(len);
                let Some(label) = msg.get(pos + 1..pos + 1 + len) else {
                    return Err("name label runs past the message");
                };
                wire_bytes += 1 + len;
                // Over 255 bytes (RFC 1035 §3.1): walked to its end, its
                // text replaced by TShark's placeholder.
                if wire_bytes <= MAX_NAME_WIRE_BYTES {
                    if !text.is_empty() {
                        text.push('.');
                    }
                    escape_label(label, &mut text);
                } else if end.is_some() {
                    // Past a pointer nothing more is needed: the work per
                    // name stays within 255 bytes plus its own labels.
                    break;
                }
                pos += 1 + len;
            }
            // RFC 1035 §4.1.4: a pointer to an offset in the message.
            0xc0 => {
                let Some(&low) = msg.get(pos + 1) else {
                    return Err("name pointer cut short");
                };
                end.get_or_insert(pos + 2);
                jumps += 1;
                if jumps > MAX_POINTER_JUMPS {
                    return Err("name compression pointers loop or chain too long");
                }
                pos = usize::from(len & 0x3f) << 8 | usize::from(low);
            }
            // 0x40 (RFC 6891 extended labels, deprecated by RFC 6891) and 0x80.
            _ => return Err("name label of a reserved type"),
        }
    }
    if wire_bytes > MAX_NAME_WIRE_BYTES {
        text = NAME_TOO_LONG.to_owned();
    } else if text.is_empty() {
        text.push_str(ROOT_NAME);
    }
    Ok((text, end.unwrap_or(pos + 1)))
}

/// A label's bytes in presentation form (RFC 1035 §5.1).
fn escape_label(label: &[u8], out: &mut String) {
    for &b in label {
        match b {
            b'.' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:03}");
            }
        }
    }
}

/// The record at `pos`, the offset after it, and a note if its data had no
/// text form.
fn read_record(
    msg: &[u8],
    pos: usize,
) -> Result<(DnsAnswer, usize, Option<&'static str>), &'static str> {
    let (name, at) = read_name(msg, pos)?;
    let (Some(rtype), Some(class), Some(ttl), Some(rdlen)) = (
        be16(msg, at),
        be16(msg, at + 2),
        be32(msg, at + 4),
        be16(msg, at + 8),
    ) else {
        return Err("record cut short");
    };
    let data_at = at + RECORD_FIXED_BYTES;
    let data_end = data_at + usize::from(rdlen);
    let Some(rdata) = msg.get(data_at..data_end) else {
        return Err("record data runs past the message");
    };
    // RFC 2136 §2.5: UPDATE deletions (and OPT without options) carry no data.
    let text = if rdata.is_empty() {
        Some(String::new())
    } else {
        record_text(msg, rtype, data_at, rdata)
    };
    let (data, note) = match text {
        Some(text) => (text, None),
        None => (hex(rdata), Some("record data does not fit its type")),
    };
    let rr = DnsAnswer {
        name,
        rtype,
        class,
        ttl,
        data,
    };
    Ok((rr, data_end, note))
}

/// Text form of record data `rdata`, found at `at` in `msg` (names in it
/// may point back into the message); `None` if it does not fit its type.
fn record_text(msg: &[u8], rtype: u16, at: usize, rdata: &[u8]) -> Option<String> {
    // A name inside the data must end inside it.
    let name_in = |offset: usize| -> Option<(String, usize)> {
        let (name, end) = read_name(msg, at + offset).ok()?;
        (end <= at + rdata.len()).then_some((name, end - at))
    };
    let text = match rtype {
        rtype::A => Ipv4Addr::from(<[u8; 4]>::try_from(rdata).ok()?).to_string(),
        rtype::AAAA => Ipv6Addr::from(<[u8; 16]>::try_from(rdata).ok()?).to_string(),
        rtype::NS | rtype::CNAME | rtype::PTR | rtype::DNAME => name_in(0)?.0,
        rtype::MX => {
            let pref = be16(rdata, 0)?;
            format!("{pref} {}", name_in(2)?.0)
        }
        rtype::TXT => txt(rdata)?,
        rtype::SOA => {
            let (mname, next) = name_in(0)?;
            let (rname, next) = name_in(next)?;
            let mut t = format!("{mname} {rname}");
            for i in 0..5 {
                let _ = write!(t, " {}", be32(rdata, next + 4 * i)?);
            }
            t
        }
        rtype::SRV => {
            let (prio, weight, port) = (be16(rdata, 0)?, be16(rdata, 2)?, be16(rdata, 4)?);
            format!("{prio} {weight} {port} {}", name_in(6)?.0)
        }
        rtype::SVCB | rtype::HTTPS => svcb(rdata, &name_in)?,
        _ => hex(rdata),
    };
    Some(text)
}

/// TXT data (RFC 1035 §3.3.14): character-strings, each quoted.
fn txt(rdata: &[u8]) -> Option<String> {
    let mut out = String::new();
    let mut rest = rdata;
    while let Some((&len, tail)) = rest.split_first() {
        let s = tail.get(..usize::from(len))?;
        if !out.is_empty() {
            out.push(' ');
        }
        out.push('"');
        for &b in s {
            match b {
                b'"' | b'\\' => {
                    out.push('\\');
                    out.push(char::from(b));
                }
                0x20..=0x7e => out.push(char::from(b)),
                _ => {
                    let _ = write!(out, "\\{b:03}");
                }
            }
        }
        out.push('"');
        rest = &tail[s.len()..];
    }
    Some(out)
}

/// SVCB and HTTPS data (RFC 9460 §2.2): priority, target, parameters.
fn svcb(rdata: &[u8], name_in: &dyn Fn(usize) -> Option<(String, usize)>) -> Option<String> {
    let prio = be16(rdata, 0)?;
    let (target, mut at) = name_in(2)?;
    let mut out = format!("{prio} {target}");
    while at < rdata.len() {
        let (key, len) = (be16(rdata, at)?, usize::from(be16(rdata, at + 2)?));
        let value = rdata.get(at + 4..at + 4 + len)?;
        at += 4 + len;
        out.push(' ');
        match key {
            // alpn: length-prefixed protocol ids.
            1 => {
                out.push_str("alpn=");
                let mut ids = value;
                let mut first = true;
                while let Some((&n, tail)) = ids.split_first() {
                    let id = tail.get(..usize::from(n))?;
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    escape_label(id, &mut out);
                    ids = &tail[id.len()..];
                }
            }
            2 => out.push_str("no-default-alpn"),
            3 => {
                let _ = write!(out, "port={}", be16(value, 0)?);
            }
            4 => {
                out.push_str("ipv4hint=");
                for (i, a) in value.chunks(4).enumerate() {
                    let a = Ipv4Addr::from(<[u8; 4]>::try_from(a).ok()?);
                    let _ = write!(out, "{}{a}", if i > 0 { "," } else { "" });
                }
            }
            6 => {
                out.push_str("ipv6hint=");
                for (i, a) in value.chunks(16).enumerate() {
                    let a = Ipv6Addr::from(<[u8; 16]>::try_from(a).ok()?);
                    let _ = write!(out, "{}{a}", if i > 0 { "," } else { "" });
                }
            }
            _ => {
                let _ = write!(out, "key{key}={}", hex(value));
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::dns_message;
    use proptest::prelude::*;

    fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
        let mut m = id.to_be_bytes().to_vec();
        m.extend_from_slice(&flags.to_be_bytes());
        for c in counts {
            m.extend_from_slice(&c.to_be_bytes());
        }
        m
    }

    fn name(m: &mut Vec<u8>, dotted: &str) {
        for label in dotted.split('.').filter(|l| !l.is_empty()) {
            m.push(label.len() as u8);
            m.extend_from_slice(label.as_bytes());
        }
        m.push(0);
    }

    fn record(m: &mut Vec<u8>, owner: &[u8], rtype: u16, ttl: u32, data: &[u8]) {
        m.extend_from_slice(owner);
        m.extend_from_slice(&rtype.to_be_bytes());
        m.extend_from_slice(&1u16.to_be_bytes());
        m.extend_from_slice(&ttl.to_be_bytes());
        m.extend_from_slice(&(data.len() as u16).to_be_bytes());
        m.extend_from_slice(data);
    }

    #[test]
    fn sample_query_and_response() {
        let q = parse_message(&dns_message(7, "example.com", None))
            .done()
            .unwrap();
        assert_eq!((q.id, q.response, q.opcode, q.rcode), (7, false, 0, 0));
        assert_eq!(q.questions[0].name, "example.com");
        assert_eq!(q.questions[0].qtype, 1);
        assert!(q.answers.is_empty());
        let r = parse_message(&dns_message(
            7,
            "example.com",
            Some(Ipv4Addr::new(192, 0, 2, 1)),
        ))
        .done()
        .unwrap();
        assert!(r.response);
        assert_eq!(r.answers.len(), 1);
        let a = &r.answers[0];
        assert_eq!((a.name.as_str(), a.rtype, a.ttl), ("example.com", 1, 300));
        assert_eq!(a.data, "192.0.2.1");
        assert_eq!((r.entries_not_read, r.anomaly), (0, None));
    }

    #[test]
    fn record_text_forms() {
        let mut m = header(1, 0x8180, [1, 7, 0, 0]);
        name(&mut m, "www.example.com");
        m.extend_from_slice(&[0, 28, 0, 1]);
        let owner = [0xc0, 12];
        let mut cname = Vec::new();
        name(&mut cname, "edge");
        cname.pop();
        cname.extend_from_slice(&[0xc0, 16]); // edge.example.com
        record(&mut m, &owner, 5, 60, &cname);
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        record(&mut m, &owner, 28, 60, &v6.octets());
        let mut mx = 10u16.to_be_bytes().to_vec();
        name(&mut mx, "mail.example.com");
        record(&mut m, &owner, 15, 60, &mx);
        record(&mut m, &owner, 16, 60, b"\x05hello\x03a\"b\x01\xff");
        let mut srv = [0u8, 1, 0, 2, 0x01, 0xbb].to_vec();
        name(&mut srv, "t.example");
        record(&mut m, &owner, 33, 60, &srv);
        let mut soa = Vec::new();
        name(&mut soa, "ns1.example");
        name(&mut soa, "admin.example");
        for v in [1u32, 2, 3, 4, 5] {
            soa.extend_from_slice(&v.to_be_bytes());
        }
        record(&mut m, &owner, 6, 60, &soa);
        let mut https = 1u16.to_be_bytes().to_vec();
        https.push(0); // target "."
        https.extend_from_slice(&[0, 1, 0, 6, 2, b'h', b'2', 2, b'h', b'3']);
        https.extend_from_slice(&[0, 4, 0, 4, 192, 0, 2, 7]);
        record(&mut m, &owner, 65, 60, &https);
        let msg = parse_message(&m).done().unwrap();
        let data: Vec<&str> = msg.answers.iter().map(|a| a.data.as_str()).collect();
        assert_eq!(
            data,
            [
                "edge.example.com",
                "2001:db8::1",
                "10 mail.example.com",
                r#""hello" "a\"b" "\255""#,
                "1 2 443 t.example",
                "ns1.example admin.example 1 2 3 4 5",
                "1 <Root> alpn=h2,h3 ipv4hint=192.0.2.7",
            ]
        );
        assert_eq!(msg.anomaly, None);
        assert_eq!(type_name(65), "HTTPS");
        assert_eq!(type_name(65280), "other");
    }

    #[test]
    fn non_utf8_and_special_label_bytes_are_escaped() {
        let mut m = header(2, 0x0100, [1, 0, 0, 0]);
        m.extend_from_slice(b"\x04\xff\x00a.\x02\\ \x00\x00\x01\x00\x01");
        let msg = parse_message(&m).done().unwrap();
        assert_eq!(msg.questions[0].name, r"\255\000a\..\\ ");
    }

    #[test]
    fn names_over_255_bytes_read_on() {
        let mut m = header(12, 0x0100, [2, 0, 0, 0]);
        for _ in 0..5 {
            m.push(63);
            m.extend_from_slice(&[b'x'; 63]);
        }
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        name(&mut m, "ok.example");
        m.extend_from_slice(&[0, 1, 0, 1]);
        let msg = parse_message(&m).done().unwrap();
        assert_eq!(msg.questions[0].name, NAME_TOO_LONG);
        assert_eq!(msg.questions[1].name, "ok.example");
        assert_eq!(msg.anomaly, None);
    }

    #[test]
    fn root_name() {
        let mut m = header(3, 0x0100, [1, 0, 0, 0]);
        m.extend_from_slice(&[0, 0, 2, 0, 1]);
        assert_eq!(
            parse_message(&m).done().unwrap().questions[0].name,
            ROOT_NAME
        );
    }

    #[test]
    fn compression_loops_end_in_malformed() {
        // A pointer to itself, and two pointers to each other.
        for tail in [&[0xc0u8, 12][..], &[0xc0, 14, 0xc0, 12]] {
            let mut m = header(4, 0x0100, [1, 0, 0, 0]);
            m.extend_from_slice(tail);
            m.extend_from_slice(&[0, 1, 0, 1]);
            let msg = parse_message(&m).done().unwrap();
            assert!(msg.questions.is_empty(), "{tail:?}");
            assert_eq!(
                msg.anomaly,
                Some("name compression pointers loop or chain too long")
            );
        }
        // A loop in an answer keeps the question and notes the anomaly.
        let mut m = dns_message(5, "a.b", None);
        m[7] = 1; // ANCOUNT = 1
        record(&mut m, &[0xc0, 21], 1, 1, &[1, 2, 3, 4]); // points at itself
        let msg = parse_message(&m).done().unwrap();
        assert_eq!(msg.questions[0].name, "a.b");
        assert!(msg.answers.is_empty());
        assert_eq!(msg.entries_not_read, 1);
        assert!(msg.anomaly.is_some());
    }

    #[test]
    fn truncated_messages() {
        let full = dns_message(6, "example.com", Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert!(parse_message(&full[..11]).is_malformed());
        // Cut inside the question: the header is kept.
        let msg = parse_message(&full[..20]).done().unwrap();
        assert_eq!((msg.id, msg.questions.len()), (6, 0));
        assert_eq!(msg.entries_not_read, 2);
        assert_eq!(msg.anomaly, Some("name runs past the message"));
        // Cut inside the answer: the question is kept.
        let msg = parse_message(&full[..full.len() - 2]).done().unwrap();
        assert_eq!(msg.questions.len(), 1);
        assert!(msg.answers.is_empty());
        assert_eq!(msg.anomaly, Some("record data runs past the message"));
        // A header claiming more questions than there are bytes.
        let m = header(7, 0, [0xffff; 4]);
        let msg = parse_message(&m).done().unwrap();
        assert_eq!(msg.entries_not_read, 4 * 0xffff);
        assert_eq!(msg.anomaly, Some("name runs past the message"));
    }

    #[test]
    fn sections_are_capped() {
        let mut m = header(8, 0x8180, [0, 300, 0, 0]);
        for _ in 0..300 {
            record(&mut m, &[0], 1, 1, &[1, 1, 1, 1]);
        }
        let msg = parse_message(&m).done().unwrap();
        assert_eq!(msg.answers.len(), MAX_KEPT_PER_SECTION);
        assert_eq!(msg.entries_not_read, 300 - MAX_KEPT_PER_SECTION as u32);
    }

    #[test]
    fn edns_extends_rcode() {
        let mut m = header(9, 0x8183, [0, 0, 0, 1]);
        record(&mut m, &[0], 41, 0x0100_0000, &[]); // extended RCODE 1
        assert_eq!(parse_message(&m).done().unwrap().rcode, 0x13);
    }

    #[test]
    fn tcp_length_prefix() {
        let body = dns_message(10, "example.org", None);
        let mut stream = (body.len() as u16).to_be_bytes().to_vec();
        stream.extend_from_slice(&body);
        stream.extend_from_slice(&[0, 40]); // the next message begins
        for cut in 0..body.len() + 2 {
            assert!(parse_tcp_stream(&stream[..cut]).is_need_more(), "{cut}");
        }
        let (msg, used) = parse_tcp_stream(&stream).done().unwrap();
        assert_eq!((msg.id, used), (10, body.len() + 2));
        assert!(parse_tcp_stream(&stream[used..]).is_need_more());
        assert!(parse_tcp_stream(&[0, 3, 1, 2, 3]).is_malformed());
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Parse::Done(m) = parse_message(&bytes) {
                // Invariants: caps hold and every name fits the 255-byte
                // wire bound, at most 4 text bytes per wire byte.
                prop_assert!(m.questions.len() <= MAX_KEPT_PER_SECTION);
                prop_assert!(m.answers.len() <= MAX_KEPT_PER_SECTION);
                for q in &m.questions {
                    prop_assert!(q.name.len() <= 4 * MAX_NAME_WIRE_BYTES);
                }
            }
            if let Parse::Done((_, used)) = parse_tcp_stream(&bytes) {
                prop_assert!(used <= bytes.len());
            }
        }

        #[test]
        fn mutated_messages_never_panic(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
            cut in any::<usize>(),
        ) {
            let mut m = header(11, 0x8180, [1, 2, 1, 1]);
            name(&mut m, "www.example.com");
            m.extend_from_slice(&[0, 65, 0, 1]);
            let cname = vec![4, b'e', b'd', b'g', b'e', 0xc0, 16];
            record(&mut m, &[0xc0, 12], 5, 1, &cname);
            record(&mut m, &[0xc0, 12], 65, 1, &[0, 1, 0xc0, 16, 0, 1, 0, 3, 2, b'h', b'2']);
            let mut soa = vec![0xc0, 12, 0xc0, 16];
            soa.extend_from_slice(&[0; 20]);
            record(&mut m, &[0xc0, 16], 6, 1, &soa);
            record(&mut m, &[0], 41, 0, &[]);
            prop_assert!(parse_message(&m).done().is_some_and(|d| d.anomaly.is_none()));
            for (at, byte) in edits {
                let len = m.len();
                m[at % len] = byte;
            }
            m.truncate(cut % (m.len() + 1));
            let _ = parse_message(&m);
            let mut stream = (m.len() as u16).to_be_bytes().to_vec();
            stream.extend_from_slice(&m);
            let _ = parse_tcp_stream(&stream);
        }
    }
}
