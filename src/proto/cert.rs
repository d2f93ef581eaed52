//! Server certificates in clear: the TLS ≤ 1.2 Certificate message and the
//! X.509 fields flow datasets want from each certificate.
//!
//! Owns: walking the handshake records of a server→client stream from its
//! first byte to the Certificate message (RFC 5246 §7.4.2), joining
//! fragments across records, and reading each DER certificate with
//! `x509-parser`. Does not own: the ServerHello (see [`super::tls`]),
//! validation of chains or signatures, or TLS 1.3, whose Certificate is
//! encrypted (a stream whose handshake leaves the clear before a
//! Certificate message simply has none).
//!
//! Text forms follow Zeek's `x509.log`, the oracle: names in RFC 4514
//! order (most specific first, `CN=…,O=…,C=US`), serial in upper-case hex,
//! fingerprints in lower-case hex of the DER, algorithms by their OpenSSL
//! short names (`sha256WithRSAEncryption`, `rsaEncryption`).
//!
//! Bounds: the handshake bytes are copied at most once (no more than the
//! input); at most [`MAX_CHAIN`] certificates are kept.

use std::fmt::Write;

use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};
use x509_parser::public_key::PublicKey;
use x509_parser::x509::X509Name;

use super::{hex, Parse};

const HANDSHAKE: u8 = 22;
const CERTIFICATE: u8 = 11;
const RECORD_HEADER_BYTES: usize = 5;
const MAX_RECORD_BYTES: usize = (1 << 14) + 2048;
/// Certificates kept per chain; real chains hold 2–5.
pub const MAX_CHAIN: usize = 16;

/// The DER certificates of a server's Certificate message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    pub ders: Vec<Vec<u8>>,
    /// The message was cut by the end of the bytes given (the caller's
    /// bound): `ders` holds the certificates complete before the cut.
    pub truncated: bool,
}

/// The Certificate message of a server→client TLS stream, `stream`
/// starting at the stream's first byte (its first record holds the
/// ServerHello). `Done` with an empty chain when the handshake leaves the
/// clear (ChangeCipherSpec, TLS 1.3) or ends its flight without one.
/// `at_end`: the stream will not grow, so a cut message yields the
/// certificates complete so far instead of [`Parse::NeedMore`].
pub fn server_certificates(stream: &[u8], at_end: bool) -> Parse<Chain> {
    // Join the handshake fragments of consecutive records.
    let mut hs: Vec<u8> = Vec::new();
    let mut rest = stream;
    let mut cleartext_ended = false;
    while rest.len() >= RECORD_HEADER_BYTES {
        if rest[0] != HANDSHAKE {
            cleartext_ended = true;
            break;
        }
        if rest[1] != 3 {
            return Parse::Malformed("record version is not SSL 3.0 or TLS");
        }
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        if len == 0 || len > MAX_RECORD_BYTES {
            return Parse::Malformed("handshake record length impossible");
        }
        let body = &rest[RECORD_HEADER_BYTES..];
        let take = len.min(body.len());
        hs.extend_from_slice(&body[..take]);
        rest = &body[take..];
        if take < len {
            break;
        }
    }
    // Walk the messages of the joined handshake bytes.
    let mut at = 0;
    while let Some(header) = hs.get(at..at + 4) {
        let len =
            usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
        let body_at = at + 4;
        match header[0] {
            CERTIFICATE => {
                let body = hs
                    .get(body_at..(body_at + len).min(hs.len()))
                    .unwrap_or(&[]);
                let complete = hs.len() >= body_at + len;
                if !complete && !at_end {
                    return Parse::NeedMore;
                }
                return certificate_list(body, !complete);
            }
            // Messages the server sends before its Certificate: ServerHello,
            // HelloRetryRequest-era messages, a TLS 1.3 draft's clear
            // EncryptedExtensions, and a second ServerHello after HRR.
            1 | 2 | 6 | 8 => {}
            // ServerKeyExchange, CertificateRequest, ServerHelloDone…: the
            // flight went on without a certificate (anonymous or PSK).
            _ => return Parse::Done(Chain::default()),
        }
        at = body_at + len;
    }
    if cleartext_ended || at_end {
        Parse::Done(Chain::default())
    } else {
        Parse::NeedMore
    }
}

/// The certificates of a whole Certificate message body (after its
/// handshake header), as DTLS delivers it once reassembled.
pub fn certificate_message(body: &[u8]) -> Parse<Chain> {
    certificate_list(body, false)
}

/// The `certificate_list` of a Certificate message body.
fn certificate_list(body: &[u8], cut: bool) -> Parse<Chain> {
    let Some(total) = u24(body, 0) else {
        return if cut {
            Parse::Done(Chain {
                ders: Vec::new(),
                truncated: true,
            })
        } else {
            Parse::Malformed("Certificate message shorter than its list length")
        };
    };
    let list_end = 3 + total;
    if !cut && list_end > body.len() {
        return Parse::Malformed("certificate list overruns its message");
    }
    let mut chain = Chain {
        ders: Vec::new(),
        truncated: cut,
    };
    let mut at = 3;
    while at < list_end.min(body.len()) {
        let Some(len) = u24(body, at) else { break };
        let Some(der) = body.get(at + 3..at + 3 + len) else {
            if !cut {
                return Parse::Malformed("certificate overruns the certificate list");
            }
            break;
        };
        if chain.ders.len() < MAX_CHAIN {
            chain.ders.push(der.to_vec());
        }
        at += 3 + len;
    }
    Parse::Done(chain)
}

fn u24(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 3)?;
    Some(usize::from(s[0]) << 16 | usize::from(s[1]) << 8 | usize::from(s[2]))
}

/// What a certificate says, as flow datasets carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Certificate {
    /// X.509 version (1, 2 or 3).
    pub version: u32,
    /// Serial number, upper-case hex of its DER content bytes.
    pub serial: String,
    pub subject: String,
    pub issuer: String,
    /// Validity, seconds since the epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// subjectAltName entries: DNS names, IPs, e-mails and URIs as text.
    pub san: Vec<String>,
    /// Signature algorithm (OpenSSL short name, or the dotted OID).
    pub sig_alg: String,
    /// Public-key algorithm (`rsaEncryption`, `id-ecPublicKey`, …).
    pub key_alg: String,
    /// `rsa`, `ec`, `dsa`, or the key algorithm when none of those.
    pub key_type: String,
    /// Key size in bits (0 when unknown).
    pub key_bits: u32,
    /// basicConstraints CA flag.
    pub is_ca: bool,
    pub sha1: String,
    pub sha256: String,
}

/// Read one DER certificate, and why it could not be read if so: a
/// certificate x509-parser refuses still gives its fingerprints, so the
/// chain keeps its length and order.
pub fn decode_certificate(der: &[u8]) -> (Certificate, Option<&'static str>) {
    let mut c = Certificate {
        sha1: hex(&Sha1::digest(der)),
        sha256: hex(&Sha256::digest(der)),
        ..Certificate::default()
    };
    let x = match X509Certificate::from_der(der) {
        Ok((_, x)) => x,
        Err(_) => return (c, Some("certificate is not valid DER X.509")),
    };
    c.version = x.version().0 + 1;
    // The integer's value, without DER's sign byte (a leading 00 before a
    // byte with its top bit set), as OpenSSL and Zeek print it.
    let raw = x.raw_serial();
    let serial = match raw {
        [0, next, ..] if next & 0x80 != 0 => &raw[1..],
        _ => raw,
    };
    c.serial = serial.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    });
    c.subject = rfc4514(x.subject());
    c.issuer = rfc4514(x.issuer());
    c.not_before = x.validity().not_before.timestamp();
    c.not_after = x.validity().not_after.timestamp();
    c.sig_alg = oid_name(&x.signature_algorithm.algorithm);
    let spki = x.public_key();
    c.key_alg = oid_name(&spki.algorithm.algorithm);
    // Other key types: the algorithm names the type and the key's bit
    // string gives the size (as OpenSSL reports ML-DSA keys).
    c.key_type = c.key_alg.clone();
    c.key_bits = (spki.subject_public_key.data.len() * 8) as u32;
    if let Ok(key) = spki.parsed() {
        let typed = match key {
            PublicKey::RSA(_) => Some("rsa"),
            PublicKey::EC(_) => Some("ec"),
            PublicKey::DSA(_) => Some("dsa"),
            _ => None,
        };
        if let Some(t) = typed {
            c.key_type = t.into();
            c.key_bits = key.key_size() as u32;
        }
    }
    for ext in x.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                for name in &san.general_names {
                    if let Some(text) = general_name(name) {
                        c.san.push(text);
                    }
                }
            }
            ParsedExtension::BasicConstraints(bc) => c.is_ca = bc.ca,
            _ => {}
        }
    }
    (c, None)
}

fn general_name(n: &GeneralName<'_>) -> Option<String> {
    match n {
        GeneralName::DNSName(s) | GeneralName::RFC822Name(s) | GeneralName::URI(s) => {
            Some(s.to_string())
        }
        GeneralName::IPAddress(b) => match b.len() {
            4 => Some(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()),
            16 => {
                let a: [u8; 16] = (*b).try_into().ok()?;
                Some(std::net::Ipv6Addr::from(a).to_string())
            }
            _ => None,
        },
        _ => None,
    }
}

/// OpenSSL short name of an algorithm OID, else its dotted form.
fn oid_name(oid: &x509_parser::der_parser::oid::Oid<'_>) -> String {
    if let Ok(sn) = x509_parser::objects::oid2sn(oid, x509_parser::objects::oid_registry()) {
        return sn.to_string();
    }
    let dotted = oid.to_id_string();
    // FIPS 204 ML-DSA (NIST CSOR), newer than the registry.
    match dotted.as_str() {
        "2.16.840.1.101.3.4.3.17" => "ML-DSA-44".into(),
        "2.16.840.1.101.3.4.3.18" => "ML-DSA-65".into(),
        "2.16.840.1.101.3.4.3.19" => "ML-DSA-87".into(),
        _ => dotted,
    }
}

/// Short attribute names as OpenSSL prints them in RFC 4514 names.
fn attr_name(oid: &x509_parser::der_parser::oid::Oid<'_>) -> String {
    match oid.to_id_string().as_str() {
        "2.5.4.3" => "CN".into(),
        "2.5.4.6" => "C".into(),
        "2.5.4.7" => "L".into(),
        "2.5.4.8" => "ST".into(),
        "2.5.4.9" => "street".into(),
        "2.5.4.10" => "O".into(),
        "2.5.4.11" => "OU".into(),
        "2.5.4.5" => "serialNumber".into(),
        "0.9.2342.19200300.100.1.25" => "DC".into(),
        "0.9.2342.19200300.100.1.1" => "UID".into(),
        "1.2.840.113549.1.9.1" => "emailAddress".into(),
        _ => oid_name(oid),
    }
}

/// RFC 4514 form: RDNs most specific first, `,` between them, `+` within
/// one, special characters escaped.
fn rfc4514(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    for (i, rdn) in name
        .iter_rdn()
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .enumerate()
    {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            out.push_str(&attr_name(atv.attr_type()));
            out.push('=');
            let value = match atv.as_str() {
                Ok(s) => s.to_string(),
                // BMPString, T61String…: bytes as Latin-1 rather than lost.
                Err(_) => atv.as_slice().iter().map(|&b| b as char).collect(),
            };
            escape_value(&value, &mut out);
        }
    }
    out
}

fn escape_value(v: &str, out: &mut String) {
    let last = v.chars().count().saturating_sub(1);
    for (i, ch) in v.chars().enumerate() {
        let special = matches!(ch, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (ch == '#' || ch == ' '))
            || (i == last && ch == ' ');
        if special {
            out.push('\\');
        }
        if ch.is_control() {
            let _ = write!(out, "\\{:02X}", ch as u32);
        } else {
            out.push(ch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ty: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![ty, 3, 3];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    fn message(ty: u8, body: &[u8]) -> Vec<u8> {
        let n = body.len();
        let mut m = vec![ty, (n >> 16) as u8, (n >> 8) as u8, n as u8];
        m.extend_from_slice(body);
        m
    }

    fn cert_message(ders: &[&[u8]]) -> Vec<u8> {
        let mut list = Vec::new();
        for d in ders {
            let n = d.len();
            list.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
            list.extend_from_slice(d);
        }
        let n = list.len();
        let mut body = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8];
        body.extend_from_slice(&list);
        message(CERTIFICATE, &body)
    }

    #[test]
    fn chain_across_records_and_cut() {
        let hello = message(2, &[0; 40]);
        let mut hs = hello.clone();
        hs.extend(cert_message(&[b"first-der", b"second"]));
        hs.extend(message(14, &[]));
        // Split the handshake bytes over three records at odd places.
        let mut stream = record(HANDSHAKE, &hs[..30]);
        stream.extend(record(HANDSHAKE, &hs[30..55]));
        stream.extend(record(HANDSHAKE, &hs[55..]));
        let Parse::Done(chain) = server_certificates(&stream, false) else {
            panic!("chain not found");
        };
        assert_eq!(chain.ders, vec![b"first-der".to_vec(), b"second".to_vec()]);
        assert!(!chain.truncated);
        // Cut inside the second certificate: more is needed, unless the
        // stream is at its end, when the first certificate is kept.
        let cut = &stream[..stream.len() - 12];
        assert!(server_certificates(cut, false).is_need_more());
        let Parse::Done(chain) = server_certificates(cut, true) else {
            panic!("cut chain not given");
        };
        assert_eq!(chain.ders, vec![b"first-der".to_vec()]);
        assert!(chain.truncated);
    }

    #[test]
    fn no_certificate_in_clear() {
        // TLS 1.3 / resumption: ChangeCipherSpec follows the ServerHello.
        let mut stream = record(HANDSHAKE, &message(2, &[0; 40]));
        stream.extend(record(20, &[1]));
        assert_eq!(
            server_certificates(&stream, false),
            Parse::Done(Chain::default())
        );
        // Only the hello so far: wait.
        let hello_only = record(HANDSHAKE, &message(2, &[0; 40]));
        assert!(server_certificates(&hello_only, false).is_need_more());
        // Anonymous DH: ServerKeyExchange straight after the hello.
        let mut hs = message(2, &[0; 40]);
        hs.extend(message(12, &[0; 8]));
        assert_eq!(
            server_certificates(&record(HANDSHAKE, &hs), false),
            Parse::Done(Chain::default())
        );
    }

    #[test]
    fn bad_bytes_never_panic() {
        for n in 0..64u8 {
            let junk: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37) ^ n).collect();
            let mut s = vec![HANDSHAKE, 3, 1, 0, n];
            s.extend(&junk);
            let _ = server_certificates(&s, true);
            let _ = decode_certificate(&junk);
        }
    }

    #[test]
    fn names_escape_specials() {
        let mut out = String::new();
        escape_value(" a,b+c ", &mut out);
        assert_eq!(out, "\\ a\\,b\\+c\\ ");
    }
}
