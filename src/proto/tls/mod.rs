//! TLS handshake hellos and their fingerprints (JA3, JA3S, JA4).
//!
//! Owns: finding the first handshake message of one TCP direction (the
//! ClientHello up, the ServerHello down) in the byte stream from its first
//! byte, across TLS records (RFC 8446 §5.1: a handshake message may span
//! records, and a record may hold several messages), and reading the fields
//! flow datasets want from it. Does not own: TCP reassembly (the caller
//! hands over the in-order stream), decryption, certificates, or anything
//! after the hellos.
//!
//! The record layer and the fixed part of each hello are parsed with
//! `tls-parser`; the extension block is walked here over borrowed bytes so
//! that every extension type, GREASE and unknown ones included, keeps its
//! place for the fingerprints, and one odd extension body does not lose the
//! whole hello.
//!
//! Bounds: the work is linear in the input; a hello that fits in its first
//! record is parsed in place, one spanning records is copied once into a
//! buffer no larger than the input; the parsed lists hold at most one
//! element per two input bytes. Lengths from the wire are checked against
//! the slice before use: no input can make these functions panic.

use std::borrow::Cow;
use std::fmt::Write;

use tls_parser::{
    parse_tls_handshake_client_hello, parse_tls_handshake_msg_server_hello,
    parse_tls_record_header, TlsMessageHandshake, TlsRecordType,
};

mod summary;

pub use summary::{Fingerprints, TlsInfo};

use super::{hex, Parse};

/// Handshake message types (RFC 8446 §4).
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;

const RECORD_HEADER_BYTES: usize = 5;
const HANDSHAKE_HEADER_BYTES: usize = 4;
/// Largest record fragment accepted: 2^14 plaintext plus the 2048 bytes
/// RFC 5246 §6.2.3 allows a ciphertext to grow (tls-parser's limit too).
const MAX_RECORD_BYTES: usize = (1 << 14) + 2048;
/// Largest possible hello body: version, random, 32-byte session id,
/// 2^16-2 bytes of cipher suites, 255 compression methods, 2^16-1 bytes of
/// extensions, with their length prefixes. A longer length is garbage.
const MAX_HELLO_BYTES: usize = 2 + 32 + 1 + 32 + 2 + 65534 + 1 + 255 + 2 + 65535;

/// Extension types (IANA "TLS ExtensionType Values").
mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const SUPPORTED_VERSIONS: u16 = 43;
}

/// A ClientHello, as the fingerprints and flow datasets use it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientHello {
    /// `legacy_version` of the hello body (0x0303 for TLS 1.2 and 1.3).
    pub legacy_version: u16,
    /// Version of the record that carried the hello's first byte.
    pub record_version: u16,
    /// Cipher suites in wire order, GREASE included.
    pub cipher_suites: Vec<u16>,
    /// Extension types in wire order, GREASE included.
    pub extensions: Vec<u16>,
    /// First `host_name` of server_name (RFC 6066 §3); bytes that are not
    /// UTF-8 are written as `\xNN`.
    pub sni: Option<String>,
    /// ALPN protocol names in order (RFC 7301), escaped like `sni`.
    pub alpn: Vec<String>,
    /// supported_groups (RFC 8422 §5.1.1), GREASE included.
    pub supported_groups: Vec<u16>,
    pub ec_point_formats: Vec<u8>,
    /// signature_algorithms (RFC 8446 §4.2.3), in order, GREASE included.
    pub signature_algorithms: Vec<u16>,
    /// supported_versions (RFC 8446 §4.2.1), GREASE included.
    pub supported_versions: Vec<u16>,
    /// 1 to 3 bytes after the last whole extension, too few for another
    /// (an anomaly: TShark warns and goes on, and so do we).
    pub trailing_extension_bytes: u8,
    /// An SSLv2-compatible hello (RFC 5246 appendix E.2): no extensions,
    /// and no JA3 (TShark computes none for it either).
    pub sslv2: bool,
    /// A list was longer than [`MAX_HELLO_LIST`] and keeps its first
    /// values only (the fingerprints are taken over them).
    pub lists_capped: bool,
}

/// Values a ClientHello list keeps (cipher suites, extension types,
/// groups, signature algorithms, versions, point formats): far more than
/// any client sends (the cipher registry holds some 350 suites, and a
/// scanner offering all of them fits), so that a crafted hello of
/// thousands of values costs its fingerprints no more than a real one
/// (`tls_many_extensions` in `benches/hostile.rs` ran at 0.13 of benign
/// throughput with every value kept).
pub const MAX_HELLO_LIST: usize = 512;

/// Cut `v` to [`MAX_HELLO_LIST`]; whether it was longer.
fn cap_list<T>(v: &mut Vec<T>) -> bool {
    let over = v.len() > MAX_HELLO_LIST;
    v.truncate(MAX_HELLO_LIST);
    over
}

/// A ServerHello (or HelloRetryRequest, which has the same shape).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerHello {
    pub legacy_version: u16,
    /// The cipher suite the server selected.
    pub cipher: u16,
    /// Extension types in wire order.
    pub extensions: Vec<u16>,
    /// The protocol the server selected by ALPN.
    pub alpn: Option<String>,
    /// supported_versions: the version TLS 1.3 servers really negotiate.
    pub selected_version: Option<u16>,
    /// 1 to 3 bytes after the last whole extension, too few for another
    /// (an anomaly: TShark warns and goes on, and so do we).
    pub trailing_extension_bytes: u8,
}

/// GREASE values (RFC 8701 §2): both bytes equal and of the form 0x?A.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// A protocol version's usual name; "unknown" for values no standard uses.
pub fn version_name(v: u16) -> &'static str {
    match v {
        0x0002 => "SSL 2.0",
        0x0300 => "SSL 3.0",
        0x0301 => "TLS 1.0",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        0x7f00..=0x7fff => "TLS 1.3 draft",
        0xfeff => "DTLS 1.0",
        0xfefd => "DTLS 1.2",
        0xfefc => "DTLS 1.3",
        _ => "unknown",
    }
}

/// The first ClientHello of a client→server TCP stream, `stream` starting
/// at the stream's first byte.
pub fn parse_client_hello(stream: &[u8]) -> Parse<ClientHello> {
    let (record_version, body) = match handshake_message(stream, CLIENT_HELLO) {
        Parse::Done(m) => m,
        Parse::NeedMore => return Parse::NeedMore,
        Parse::Malformed(why) => return Parse::Malformed(why),
    };
    client_hello_body(record_version, &body)
}

/// An SSLv2-compatible ClientHello at the start of `stream` (RFC 5246
/// appendix E.2; old clients and scanners still open with one): a 2-byte
/// length with the top bit set, type 1, a TLS version, then the lengths of
/// the cipher specs (3 bytes each), session id (0 or 16) and challenge
/// (16–32), which must add up to the message. Cipher specs a TLS suite
/// can express (first byte 0) become `cipher_suites`.
pub fn parse_sslv2_client_hello(stream: &[u8]) -> Parse<ClientHello> {
    let [b0, b1, rest @ ..] = stream else {
        return Parse::NeedMore;
    };
    if b0 & 0x80 == 0 {
        return Parse::Malformed("not an SSLv2 record header");
    }
    let len = usize::from(b0 & 0x7f) << 8 | usize::from(*b1);
    let Some(m) = rest.get(..len) else {
        return if rest.first().is_none_or(|&t| t == 1) && len >= 9 + 16 {
            Parse::NeedMore
        } else {
            Parse::Malformed("SSLv2 hello length impossible")
        };
    };
    let [1, v0, v1, c0, c1, s0, s1, h0, h1, body @ ..] = m else {
        return Parse::Malformed("SSLv2 message is not a ClientHello");
    };
    let ciphers = usize::from(u16::from_be_bytes([*c0, *c1]));
    let sid = usize::from(u16::from_be_bytes([*s0, *s1]));
    let challenge = usize::from(u16::from_be_bytes([*h0, *h1]));
    let ok = *v0 == 3
        && *v1 <= 4
        && ciphers > 0
        && ciphers % 3 == 0
        && matches!(sid, 0 | 16)
        && (16..=32).contains(&challenge)
        && ciphers + sid + challenge == body.len();
    if !ok {
        return Parse::Malformed("SSLv2 ClientHello lengths do not add up");
    }
    Parse::Done(ClientHello {
        legacy_version: u16::from_be_bytes([*v0, *v1]),
        record_version: 0x0002,
        cipher_suites: body[..ciphers]
            .chunks_exact(3)
            .filter(|c| c[0] == 0)
            .map(|c| u16::from_be_bytes([c[1], c[2]]))
            .collect(),
        sslv2: true,
        ..ClientHello::default()
    })
}

/// A ClientHello handshake message carried outside TLS records (QUIC
/// CRYPTO frames, RFC 9001 §4): `message` starts at the 4-byte handshake
/// header. `record_version` is 0: there is no record layer.
pub fn parse_client_hello_message(message: &[u8]) -> Parse<ClientHello> {
    match complete_message(message, CLIENT_HELLO) {
        Err(why) => Parse::Malformed(why),
        Ok(None) => Parse::NeedMore,
        Ok(Some(need)) => {
            client_hello_body(0, message.get(HANDSHAKE_HEADER_BYTES..need).unwrap_or(&[]))
        }
    }
}

/// The ClientHello fields of a handshake body (after the 4-byte header).
fn client_hello_body(record_version: u16, body: &[u8]) -> Parse<ClientHello> {
    let Ok((rest, ch)) = parse_tls_handshake_client_hello(body) else {
        return Parse::Malformed("ClientHello body is cut short or inconsistent");
    };
    let ext_block = match ch.ext {
        Some(block) => block,
        // RFC 5246 §7.4.1.2: a hello without extensions ends after the
        // compression methods; anything else there is a broken block.
        None if rest.is_empty() => &[],
        None => return Parse::Malformed("ClientHello extensions overrun the message"),
    };
    let mut hello = ClientHello {
        legacy_version: ch.version.0,
        record_version,
        cipher_suites: ch.ciphers.iter().map(|c| c.0).collect(),
        ..ClientHello::default()
    };
    let Some((count, trailing)) = count_extensions(ext_block) else {
        return Parse::Malformed("ClientHello extension overruns the extension block");
    };
    hello.trailing_extension_bytes = trailing as u8;
    hello
        .extensions
        .reserve_exact(count.min(MAX_HELLO_LIST + 1));
    for (ty, data) in Extensions(ext_block) {
        if hello.extensions.len() <= MAX_HELLO_LIST {
            hello.extensions.push(ty);
        }
        // Unreadable bodies leave their field empty; the type still counts.
        match ty {
            ext::SERVER_NAME if hello.sni.is_none() => hello.sni = server_name(data),
            ext::ALPN => hello.alpn = protocol_names(data).unwrap_or_default(),
            ext::SUPPORTED_GROUPS => hello.supported_groups = u16_list16(data),
            ext::EC_POINT_FORMATS => {
                hello.ec_point_formats = Reader(data).vec8().map(<[u8]>::to_vec).unwrap_or_default()
            }
            ext::SIGNATURE_ALGORITHMS => hello.signature_algorithms = u16_list16(data),
            ext::SUPPORTED_VERSIONS => {
                hello.supported_versions = Reader(data).vec8().map(u16s).unwrap_or_default()
            }
            _ => {}
        }
    }
    let mut capped = cap_list(&mut hello.cipher_suites);
    capped |= cap_list(&mut hello.extensions);
    capped |= cap_list(&mut hello.supported_groups);
    capped |= cap_list(&mut hello.ec_point_formats);
    capped |= cap_list(&mut hello.signature_algorithms);
    capped |= cap_list(&mut hello.supported_versions);
    hello.lists_capped = capped;
    Parse::Done(hello)
}

/// The first ServerHello of a server→client TCP stream, `stream` starting
/// at the stream's first byte.
pub fn parse_server_hello(stream: &[u8]) -> Parse<ServerHello> {
    let (_, body) = match handshake_message(stream, SERVER_HELLO) {
        Parse::Done(m) => m,
        Parse::NeedMore => return Parse::NeedMore,
        Parse::Malformed(why) => return Parse::Malformed(why),
    };
    server_hello_body(&body)
}

/// A ServerHello handshake message carried outside TLS records (a QUIC
/// server Initial's CRYPTO frames): `message` starts at the 4-byte
/// handshake header.
pub fn parse_server_hello_message(message: &[u8]) -> Parse<ServerHello> {
    match complete_message(message, SERVER_HELLO) {
        Err(why) => Parse::Malformed(why),
        Ok(None) => Parse::NeedMore,
        Ok(Some(need)) => {
            server_hello_body(message.get(HANDSHAKE_HEADER_BYTES..need).unwrap_or(&[]))
        }
    }
}

/// The ServerHello fields of a handshake body (after the 4-byte header).
fn server_hello_body(body: &[u8]) -> Parse<ServerHello> {
    // tls-parser reads SSL 3.0 to TLS 1.2 bodies (TLS 1.3 uses the 1.2 shape
    // with legacy_version 0x0303) and the TLS 1.3 draft-18 layout.
    let (version, cipher, ext, rest) = match parse_tls_handshake_msg_server_hello(body) {
        Ok((rest, TlsMessageHandshake::ServerHello(sh))) => (sh.version, sh.cipher, sh.ext, rest),
        Ok((rest, TlsMessageHandshake::ServerHelloV13Draft18(sh))) => {
            (sh.version, sh.cipher, sh.ext, rest)
        }
        Ok(_) | Err(_) => {
            return Parse::Malformed("ServerHello body is cut short or of an unknown version")
        }
    };
    let ext_block = match ext {
        Some(block) => block,
        None if rest.is_empty() => &[],
        // tls-parser stops an SSL 3.0 ServerHello after the compression
        // method; servers still append extensions (renegotiation_info).
        None if version.0 == 0x0300 => match Reader(rest).vec16() {
            Some(block) => block,
            None => return Parse::Malformed("ServerHello extensions overrun the message"),
        },
        None => return Parse::Malformed("ServerHello extensions overrun the message"),
    };
    let Some((count, trailing)) = count_extensions(ext_block) else {
        return Parse::Malformed("ServerHello extension overruns the extension block");
    };
    let mut hello = ServerHello {
        legacy_version: version.0,
        cipher: cipher.0,
        extensions: Vec::with_capacity(count),
        trailing_extension_bytes: trailing as u8,
        ..ServerHello::default()
    };
    for (ty, data) in Extensions(ext_block) {
        hello.extensions.push(ty);
        match ty {
            ext::ALPN => {
                hello.alpn = protocol_names(data).and_then(|mut v| {
                    v.truncate(1);
                    v.pop()
                })
            }
            // RFC 8446 §4.2.1: the ServerHello form is one selected version.
            ext::SUPPORTED_VERSIONS => hello.selected_version = Reader(data).u16(),
            _ => {}
        }
    }
    Parse::Done(hello)
}

/// Find the first handshake message at the start of `stream`, which must
/// be of type `want`, joining the fragments of consecutive handshake
/// records. Returns the version of the first record and the message body
/// (without the 4-byte handshake header): borrowed when the message sits in
/// one record, else copied once.
fn handshake_message(stream: &[u8], want: u8) -> Parse<(u16, Cow<'_, [u8]>)> {
    // SSLv2-compatible ClientHello (RFC 5246 appendix E.2): a 2-byte length
    // with the top bit set, then message type 1. Not parsed.
    if let [b0, _, 1, 3, ..] = stream {
        if b0 & 0x80 != 0 {
            return Parse::Malformed("SSLv2-compatible ClientHello is not supported");
        }
    }
    let mut rest = stream;
    let mut record_version = None;
    // Fragments seen so far when the message spans records.
    let mut joined: Option<Vec<u8>> = None;
    loop {
        if let Some(&ty) = rest.first() {
            if ty != TlsRecordType::Handshake.0 {
                return Parse::Malformed("record before the hello is not a handshake record");
            }
        }
        if let Some(&major) = rest.get(1) {
            if major != 3 {
                return Parse::Malformed("record version is not SSL 3.0 or TLS");
            }
        }
        if rest.len() < RECORD_HEADER_BYTES {
            return Parse::NeedMore;
        }
        let Ok((after_header, header)) = parse_tls_record_header(rest) else {
            return Parse::NeedMore;
        };
        let len = usize::from(header.len);
        if len == 0 {
            // RFC 8446 §5.1: no zero-length handshake fragments.
            return Parse::Malformed("empty handshake record");
        }
        if len > MAX_RECORD_BYTES {
            return Parse::Malformed("record longer than 2^14 + 2048 bytes");
        }
        record_version.get_or_insert(header.version.0);
        // A record cut by the end of the stream still lends its bytes: the
        // message may be complete within them.
        let fragment = after_header.get(..len).unwrap_or(after_header);
        rest = after_header.get(len..).unwrap_or(&[]);
        let version = record_version.unwrap_or(header.version.0);

        match &mut joined {
            None => match complete_message(fragment, want) {
                Err(why) => return Parse::Malformed(why),
                Ok(Some(need)) => {
                    let body = fragment.get(HANDSHAKE_HEADER_BYTES..need).unwrap_or(&[]);
                    return Parse::Done((version, Cow::Borrowed(body)));
                }
                Ok(None) => {}
            },
            Some(buf) => {
                // Never hold more than the message: header plus its length.
                let room =
                    message_len(buf).map_or(usize::MAX, |need| need.saturating_sub(buf.len()));
                buf.extend_from_slice(fragment.get(..room).unwrap_or(fragment));
                match complete_message(buf, want) {
                    Err(why) => return Parse::Malformed(why),
                    Ok(Some(need)) => {
                        let mut body = std::mem::take(buf);
                        body.truncate(need);
                        body.drain(..HANDSHAKE_HEADER_BYTES);
                        return Parse::Done((version, Cow::Owned(body)));
                    }
                    Ok(None) => {}
                }
            }
        }
        if fragment.len() < len || rest.is_empty() {
            return Parse::NeedMore;
        }
        if joined.is_none() {
            let mut buf = Vec::with_capacity(message_len(fragment).unwrap_or(0).min(stream.len()));
            buf.extend_from_slice(fragment);
            joined = Some(buf);
        }
    }
}

/// Check the handshake message at the front of `message`: its type must be
/// `want` and its length possible. `Some(total length)` once complete.
fn complete_message(message: &[u8], want: u8) -> Result<Option<usize>, &'static str> {
    if let Some(&ty) = message.first() {
        if ty != want {
            return Err(if want == CLIENT_HELLO {
                "first handshake message is not a ClientHello"
            } else {
                "first handshake message is not a ServerHello"
            });
        }
    }
    match message_len(message) {
        Some(need) if need > HANDSHAKE_HEADER_BYTES + MAX_HELLO_BYTES => {
            Err("hello length exceeds any possible hello")
        }
        Some(need) if message.len() >= need => Ok(Some(need)),
        _ => Ok(None),
    }
}

/// Total length (header included) of the handshake message starting at
/// `m`, once its 4-byte header is present.
fn message_len(m: &[u8]) -> Option<usize> {
    match m {
        [_, a, b, c, ..] => Some(
            HANDSHAKE_HEADER_BYTES
                + (usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c)),
        ),
        _ => None,
    }
}

/// A bounds-checked cursor over borrowed bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(n)?;
        self.0 = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
    }
    /// An opaque vector with a 1-byte length (RFC 8446 §3.4).
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    /// An opaque vector with a 2-byte length.
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}

/// The extensions of a hello's extension block as (type, body), in order;
/// stops at the first extension that overruns the block.
struct Extensions<'a>(&'a [u8]);

impl<'a> Iterator for Extensions<'a> {
    type Item = (u16, &'a [u8]);
    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let mut r = Reader(self.0);
        let ty = r.u16()?;
        let body = r.vec16()?;
        self.0 = r.0;
        Some((ty, body))
    }
}

/// How many whole extensions the block holds and how many bytes follow
/// the last one that are too few for an extension header (TShark: "trailing
/// bytes unprocessed", a warning). `None` when an extension's length runs
/// past the block: that is a broken hello.
fn count_extensions(block: &[u8]) -> Option<(usize, usize)> {
    let mut it = Extensions(block);
    let n = it.by_ref().count();
    (it.0.len() < 4).then_some((n, it.0.len()))
}

/// Big-endian u16s of `b` (a trailing odd byte is ignored).
fn u16s(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

/// A u16 list with a 2-byte length prefix; empty if unreadable.
fn u16_list16(data: &[u8]) -> Vec<u16> {
    Reader(data).vec16().map(u16s).unwrap_or_default()
}

/// First host_name of a server_name body (RFC 6066 §3).
fn server_name(data: &[u8]) -> Option<String> {
    let mut list = Reader(Reader(data).vec16()?);
    while let Some(name_type) = list.u8() {
        let name = list.vec16()?;
        if name_type == 0 {
            return Some(text(name));
        }
    }
    None
}

/// ALPN ProtocolNameList (RFC 7301 §3.1).
fn protocol_names(data: &[u8]) -> Option<Vec<String>> {
    let mut list = Reader(Reader(data).vec16()?);
    let mut names = Vec::new();
    while !list.0.is_empty() {
        names.push(text(list.vec8()?));
    }
    Some(names)
}

/// Wire text as a String: UTF-8 as is, anything else escaped as `\xNN`.
fn text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => b.escape_ascii().to_string(),
    }
}

/// Values joined by `sep`, GREASE left out.
fn join_decimal<T: Copy + Into<u16> + std::fmt::Display>(values: &[T], sep: &str) -> String {
    let mut out = String::new();
    for v in values.iter().filter(|v| !is_grease((**v).into())) {
        if !out.is_empty() {
            out.push_str(sep);
        }
        let _ = write!(out, "{v}");
    }
    out
}

/// 4-digit lower-case hex values joined by commas.
fn join_hex4(values: &[u16]) -> String {
    let mut out = String::with_capacity(values.len() * 5);
    for v in values {
        if !out.is_empty() {
            out.push(',');
        }
        let _ = write!(out, "{v:04x}");
    }
    out
}

impl ClientHello {
    /// JA3 (salesforce/ja3): `version,ciphers,extensions,groups,formats`,
    /// decimal, list items joined by `-`, GREASE values left out; version is
    /// the hello's legacy_version.
    pub fn ja3_string(&self) -> String {
        if self.sslv2 {
            return String::new();
        }
        format!(
            "{},{},{},{},{}",
            self.legacy_version,
            join_decimal(&self.cipher_suites, "-"),
            join_decimal(&self.extensions, "-"),
            join_decimal(&self.supported_groups, "-"),
            join_decimal(&self.ec_point_formats, "-"),
        )
    }

    /// MD5 of [`ja3_string`](Self::ja3_string), lower-case hex.
    pub fn ja3_hash(&self) -> String {
        if self.sslv2 {
            return String::new();
        }
        md5_hex(&self.ja3_string())
    }

    /// The version JA4 reports: the highest non-GREASE supported_versions
    /// entry, else legacy_version.
    pub fn ja4_version(&self) -> u16 {
        self.supported_versions
            .iter()
            .copied()
            .filter(|v| !is_grease(*v))
            .max()
            .unwrap_or(self.legacy_version)
    }

    /// JA4 (FoxIO, technical_details/JA4.md): `a_b_c` with
    /// a = `t`/`q`, 2-char version, `d`/`i` (server_name present or not),
    /// 2-digit cipher and extension counts (GREASE left out, capped at 99),
    /// first and last character of the first ALPN value (`00` if none);
    /// b = first 12 hex of SHA-256 of the sorted 4-hex cipher list;
    /// c = the same of the sorted extension list without server_name and
    /// ALPN, then `_` and the signature algorithms in wire order (the `_`
    /// part only when there are any). An empty list hashes to 12 zeros.
    pub fn ja4(&self, quic: bool) -> String {
        self.ja4_for(if quic { 'q' } else { 't' })
    }

    /// [`ja4`](Self::ja4) with the transport letter given: `t` (TCP), `q`
    /// (QUIC) or `d` (DTLS).
    pub fn ja4_for(&self, transport: char) -> String {
        let ciphers: Vec<u16> = self
            .cipher_suites
            .iter()
            .copied()
            .filter(|c| !is_grease(*c))
            .collect();
        let exts: Vec<u16> = self
            .extensions
            .iter()
            .copied()
            .filter(|e| !is_grease(*e))
            .collect();
        let a = format!(
            "{}{}{}{:02}{:02}{}",
            transport,
            ja4_version_code(self.ja4_version()),
            if self.extensions.contains(&ext::SERVER_NAME) {
                'd'
            } else {
                'i'
            },
            ciphers.len().min(99),
            exts.len().min(99),
            ja4_alpn(self.alpn.first().map(String::as_str)),
        );
        let mut sorted_ciphers = ciphers;
        sorted_ciphers.sort_unstable();
        let mut sorted_exts: Vec<u16> = exts
            .into_iter()
            .filter(|e| *e != ext::SERVER_NAME && *e != ext::ALPN)
            .collect();
        sorted_exts.sort_unstable();
        let sigs: Vec<u16> = self
            .signature_algorithms
            .iter()
            .copied()
            .filter(|s| !is_grease(*s))
            .collect();
        let mut c = join_hex4(&sorted_exts);
        if !sigs.is_empty() {
            c.push('_');
            c.push_str(&join_hex4(&sigs));
        }
        format!(
            "{a}_{}_{}",
            ja4_hash12(&join_hex4(&sorted_ciphers)),
            ja4_hash12(&c)
        )
    }
}

/// JA4's 2-character version code; "00" when unknown.
fn ja4_version_code(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0200 | 0x0002 => "s2",
        0x0100 => "s1",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// First and last character of the first ALPN value; when either is not
/// an ASCII letter or digit, first and last character of the value's hex;
/// "00" when there is no (or an empty) value.
fn ja4_alpn(first: Option<&str>) -> String {
    let Some(value) = first.filter(|v| !v.is_empty()) else {
        return "00".to_owned();
    };
    let b = value.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() => {
            format!("{}{}", char::from(*f), char::from(*l))
        }
        (Some(f), Some(l)) => {
            let hx = |n: u8| char::from(b"0123456789abcdef"[usize::from(n & 0xf)]);
            format!("{}{}", hx(f >> 4), hx(*l))
        }
        _ => "00".to_owned(),
    }
}

/// First 12 hex digits of SHA-256; 12 zeros for an empty list.
fn ja4_hash12(list: &str) -> String {
    if list.is_empty() {
        return "000000000000".to_owned();
    }
    let mut h = hex(&sha256(list.as_bytes()));
    h.truncate(12);
    h
}

impl ServerHello {
    /// supported_versions when present (TLS 1.3), else legacy_version.
    pub fn negotiated_version(&self) -> u16 {
        self.selected_version.unwrap_or(self.legacy_version)
    }

    /// JA3S (salesforce/ja3): `version,cipher,extensions`, decimal,
    /// extensions joined by `-`, GREASE left out; version is legacy_version.
    pub fn ja3s_string(&self) -> String {
        format!(
            "{},{},{}",
            self.legacy_version,
            self.cipher,
            join_decimal(&self.extensions, "-")
        )
    }

    /// MD5 of [`ja3s_string`](Self::ja3s_string), lower-case hex.
    pub fn ja3s_hash(&self) -> String {
        md5_hex(&self.ja3s_string())
    }
}

/// MD5 of a JA3/JA3S string, lower-case hex (the published form).
pub fn md5_hex(text: &str) -> String {
    hex(&md5(text.as_bytes()))
}

/// MD5 (only for JA3/JA3S, which are defined with it; not for security).
fn md5(msg: &[u8]) -> [u8; 16] {
    use md5::Digest;
    let mut out = [0u8; 16];
    out.copy_from_slice(&md5::Md5::digest(msg));
    out
}

/// SHA-256 (JA4's hashed parts).
fn sha256(msg: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    let mut out = [0u8; 32];
    out.copy_from_slice(&sha2::Sha256::digest(msg));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{tls_client_hello, tls_server_hello};

    #[test]
    fn md5_rfc1321_vectors() {
        // RFC 1321 appendix A.5.
        let cases: [(&str, &str); 7] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(hex(&md5(input.as_bytes())), want, "md5({input:?})");
        }
    }

    #[test]
    fn sha256_fips180_vectors() {
        // FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA256_2.pdf").
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha256(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let million_a = vec![b'a'; 1_000_000];
        assert_eq!(
            hex(&sha256(&million_a)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn grease_values() {
        assert!(is_grease(0x0a0a) && is_grease(0xfafa) && is_grease(0x4a4a));
        assert!(!is_grease(0x0a1a) && !is_grease(0x1301) && !is_grease(0x000a));
    }

    #[test]
    fn sample_client_hello_parses() {
        let rec = tls_client_hello("example.org", &["h2", "http/1.1"]);
        let ch = parse_client_hello(&rec).done().expect("parses");
        assert_eq!(ch.sni.as_deref(), Some("example.org"));
        assert_eq!(ch.alpn, ["h2", "http/1.1"]);
        assert_eq!(ch.legacy_version, 0x0303);
        assert_eq!(ch.record_version, 0x0301);
        assert_eq!(ch.cipher_suites, [0x1301, 0x1302, 0xc02f, 0x009c]);
        assert_eq!(ch.extensions, [0, 10, 16]);
        assert_eq!(ch.supported_groups, [29, 23]);
        assert_eq!(ch.ja3_string(), "771,4865-4866-49199-156,0-10-16,29-23,");
        assert_eq!(ch.ja3_hash(), hex(&md5(ch.ja3_string().as_bytes())));
        // a: t, TLS 1.2, SNI, 4 ciphers, 3 extensions, "h2".
        assert!(
            ch.ja4(false).starts_with("t12d0403h2_"),
            "{}",
            ch.ja4(false)
        );
        assert!(ch.ja4(true).starts_with("q12d0403h2_"));
        // b: sha256("009c,1301,1302,c02f"); c: only supported_groups left.
        let b = &hex(&sha256(b"009c,1301,1302,c02f"))[..12];
        let c = &hex(&sha256(b"000a"))[..12];
        assert_eq!(ch.ja4(false), format!("t12d0403h2_{b}_{c}"));
        // The stream may go on past the hello.
        let mut longer = rec.clone();
        longer.extend_from_slice(&[0x17, 3, 3, 0, 1, 0]);
        assert_eq!(parse_client_hello(&longer), Parse::Done(ch));
    }

    #[test]
    fn ja4_spec_example() {
        // FoxIO JA4.md "Example": 15 ciphers, 16 extensions, h2.
        let ch = ClientHello {
            legacy_version: 0x0303,
            cipher_suites: vec![
                0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
                0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
            ],
            extensions: vec![
                0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023,
                0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
            ],
            sni: Some("x".into()),
            alpn: vec!["h2".into()],
            signature_algorithms: vec![
                0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
            ],
            supported_versions: vec![0x0304, 0x0303],
            ..ClientHello::default()
        };
        assert_eq!(ch.ja4(false), "t13d1516h2_8daaf6152771_e5627efa2ab1");
        let no_sigs = ClientHello {
            signature_algorithms: vec![],
            ..ch
        };
        assert!(no_sigs.ja4(false).ends_with("_6d807ffa2a79"));
    }

    #[test]
    fn ja4_alpn_edge_cases() {
        assert_eq!(ja4_alpn(None), "00");
        assert_eq!(ja4_alpn(Some("")), "00");
        assert_eq!(ja4_alpn(Some("http/1.1")), "h1");
        assert_eq!(ja4_alpn(Some("h")), "hh");
        // Non-alphanumeric: first and last hex digit of the value.
        assert_eq!(ja4_alpn(Some("\u{ab}x\u{cd}")), "cd");
    }

    /// Re-wrap a single-record handshake message into records of at most
    /// `chunk` bytes each.
    fn split_records(rec: &[u8], chunk: usize) -> Vec<u8> {
        let (header, msg) = rec.split_at(5);
        let mut out = Vec::new();
        for part in msg.chunks(chunk) {
            out.extend_from_slice(&header[..3]);
            out.extend_from_slice(&(part.len() as u16).to_be_bytes());
            out.extend_from_slice(part);
        }
        out
    }

    #[test]
    fn hello_spanning_records() {
        let rec = tls_client_hello("split.example", &["h2"]);
        let whole = parse_client_hello(&rec).done().expect("whole");
        for chunk in [1, 2, 3, 4, 5, 40, rec.len() - 6] {
            let split = split_records(&rec, chunk);
            assert_eq!(
                parse_client_hello(&split),
                Parse::Done(whole.clone()),
                "chunk {chunk}"
            );
            // Every strict prefix is a valid beginning.
            for cut in 0..split.len() {
                assert_eq!(
                    parse_client_hello(&split[..cut]),
                    Parse::NeedMore,
                    "chunk {chunk} cut {cut}"
                );
            }
        }
    }

    #[test]
    fn truncated_hello_needs_more() {
        let rec = tls_client_hello("a.example", &[]);
        for cut in 0..rec.len() {
            assert_eq!(
                parse_client_hello(&rec[..cut]),
                Parse::NeedMore,
                "cut {cut}"
            );
        }
        assert!(parse_client_hello(&rec).done().is_some());
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(parse_client_hello(b"GET / HTTP/1.1\r\n\r\n").is_malformed());
        assert!(parse_client_hello(&[0x16, 0x02, 0x00, 0x00, 0x10]).is_malformed());
        assert!(parse_client_hello(&[0x16, 0x03, 0x01, 0x00, 0x00]).is_malformed());
        // A ServerHello is not a ClientHello, and the other way round.
        let sh = tls_server_hello(0xc02f);
        assert!(parse_client_hello(&sh).is_malformed());
        assert!(parse_server_hello(&tls_client_hello("x", &[])).is_malformed());
        // SSLv2-compatible hello: not a TLS record (read by its own parser).
        assert!(parse_client_hello(&[0x80, 0x2e, 0x01, 0x03, 0x01, 0, 0x15]).is_malformed());
        // Extensions block longer than the message.
        let mut rec = tls_client_hello("x.example", &[]);
        // server_name (4 + 5 + 9 bytes) and supported_groups (4 + 6).
        let ext_len_at = rec.len() - (4 + 5 + 9) - (4 + 6) - 2;
        assert_eq!(rec[ext_len_at..ext_len_at + 2], [0, 28]);
        rec[ext_len_at + 1] = rec[ext_len_at + 1].wrapping_add(1);
        assert!(
            parse_client_hello(&rec).is_malformed(),
            "{:?}",
            parse_client_hello(&rec)
        );
    }

    #[test]
    fn server_hello_and_ja3s() {
        let sh = parse_server_hello(&tls_server_hello(0xc02f))
            .done()
            .expect("parses");
        assert_eq!(sh.cipher, 0xc02f);
        assert_eq!(sh.negotiated_version(), 0x0303);
        assert_eq!(sh.ja3s_string(), "771,49199,");
        assert_eq!(sh.ja3s_hash(), hex(&md5(b"771,49199,")));
        assert_eq!(version_name(sh.negotiated_version()), "TLS 1.2");
    }

    #[test]
    fn server_hello_tls13_selected_version() {
        // ServerHello: 0x0303, random, empty session id, 0x1301, null
        // compression, supported_versions = 0x0304, ALPN "h2".
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.extend_from_slice(&[0, 0x13, 0x01, 0]);
        let exts = [0, 43, 0, 2, 3, 4, 0, 16, 0, 5, 0, 3, 2, b'h', b'2'];
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
        let mut rec = vec![22, 3, 3];
        rec.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
        rec.push(2);
        rec.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        rec.extend_from_slice(&body);
        let sh = parse_server_hello(&rec).done().expect("parses");
        assert_eq!(sh.selected_version, Some(0x0304));
        assert_eq!(sh.negotiated_version(), 0x0304);
        assert_eq!(sh.alpn.as_deref(), Some("h2"));
        assert_eq!(sh.extensions, [43, 16]);
        assert_eq!(sh.ja3s_string(), "771,4865,43-16");
    }

    /// A handshake record holding one message of `msg_type` with `body`.
    fn record(msg_type: u8, version: [u8; 2], body: &[u8]) -> Vec<u8> {
        let mut rec = vec![22, version[0], version[1]];
        rec.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
        rec.push(msg_type);
        rec.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        rec.extend_from_slice(body);
        rec
    }

    #[test]
    fn ssl3_server_hello_keeps_its_extensions() {
        // SSL 3.0 ServerHello with renegotiation_info (arkime openssl-ssl3).
        let mut body = vec![3, 0];
        body.extend_from_slice(&[9; 32]);
        body.extend_from_slice(&[0, 0xc0, 0x11, 0]);
        body.extend_from_slice(&[0, 5, 0xff, 0x01, 0, 1, 0]);
        let sh = parse_server_hello(&record(2, [3, 0], &body))
            .done()
            .expect("parses");
        assert_eq!(sh.ja3s_string(), "768,49169,65281");
        assert_eq!(version_name(sh.negotiated_version()), "SSL 3.0");
    }

    #[test]
    fn trailing_extension_bytes_are_kept_apart() {
        // Extensions length 1: one byte that cannot hold an extension
        // (arkime_synthetic frame 842; TShark: "1 trailing byte").
        let mut body = vec![3, 3];
        body.extend_from_slice(&[9; 32]);
        body.extend_from_slice(&[0, 0x13, 0x01, 0, 0, 1, 0]);
        let sh = parse_server_hello(&record(2, [3, 3], &body))
            .done()
            .expect("parses");
        assert_eq!(sh.trailing_extension_bytes, 1);
        assert_eq!(sh.ja3s_string(), "771,4865,");
        // An extension whose length runs past the block is a broken hello.
        let mut body = vec![3, 3];
        body.extend_from_slice(&[9; 32]);
        body.extend_from_slice(&[0, 0x13, 0x01, 0, 0, 4, 0, 43, 0, 2]);
        assert!(parse_server_hello(&record(2, [3, 3], &body)).is_malformed());
    }

    #[test]
    fn non_utf8_sni_is_escaped() {
        let mut rec = tls_client_hello("ab", &[]);
        let at = rec.windows(2).position(|w| w == b"ab").expect("name");
        rec[at] = 0xff;
        let ch = parse_client_hello(&rec).done().expect("parses");
        assert_eq!(ch.sni.as_deref(), Some("\\xffb"));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn never_panics_and_is_prefix_stable(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
                let c = parse_client_hello(&bytes);
                let s = parse_server_hello(&bytes);
                // A complete answer does not change when the stream grows.
                let mut longer = bytes.clone();
                longer.extend_from_slice(&[0x17, 3, 3, 0, 0]);
                if let Parse::Done(ch) = c {
                    let _ = (ch.ja3_hash(), ch.ja4(false));
                    prop_assert_eq!(parse_client_hello(&longer), Parse::Done(ch));
                }
                if let Parse::Done(sh) = s {
                    let _ = sh.ja3s_hash();
                    prop_assert_eq!(parse_server_hello(&longer), Parse::Done(sh));
                }
            }

            #[test]
            fn mutated_hellos_never_panic(
                flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
                chunk in 1usize..64,
            ) {
                let rec = split_records(&tls_client_hello("mutate.example", &["h2", "http/1.1"]), chunk);
                let mut m = rec.clone();
                for (i, v) in flips {
                    let at = i.index(m.len());
                    m[at] = v;
                }
                if let Parse::Done(ch) = parse_client_hello(&m) {
                    let _ = (ch.ja3_string(), ch.ja4(true));
                    // Parsed lists never outgrow the input.
                    prop_assert!(ch.cipher_suites.len() + ch.extensions.len() <= m.len());
                }
                // Any valid hello's strict prefixes ask for more.
                let cut = chunk.min(rec.len() - 1);
                prop_assert_eq!(parse_client_hello(&rec[..cut]), Parse::NeedMore);
            }
        }
    }

    #[test]
    fn sslv2_compatible_client_hello() {
        // version 3.1, 3 cipher specs (one SSLv2-only), no session id, a
        // 16-byte challenge.
        let mut m = vec![1, 3, 1, 0, 9, 0, 0, 0, 16];
        m.extend([0, 0x00, 0x2f, 0x01, 0x00, 0x80, 0x00, 0xc0, 0x14]);
        m.extend([0xcc; 16]);
        let mut rec = vec![0x80 | (m.len() >> 8) as u8, m.len() as u8];
        rec.extend(&m);
        let Parse::Done(ch) = parse_sslv2_client_hello(&rec) else {
            panic!("{:?}", parse_sslv2_client_hello(&rec));
        };
        assert_eq!((ch.legacy_version, ch.record_version), (0x0301, 0x0002));
        assert_eq!(ch.cipher_suites, [0x002f, 0xc014]);
        assert!(ch.sslv2 && ch.extensions.is_empty());
        // No JA3, as TShark; JA4 still describes it.
        assert_eq!(
            (ch.ja3_string(), ch.ja3_hash()),
            (String::new(), String::new())
        );
        assert!(ch.ja4(false).starts_with("t10i0200"), "{}", ch.ja4(false));
        assert!(parse_sslv2_client_hello(&rec[..20]).is_need_more());
        let mut bad = rec.clone();
        bad[8] = 7; // a session id of 7 bytes
        assert!(parse_sslv2_client_hello(&bad).is_malformed());
        assert!(parse_sslv2_client_hello(b"\x16\x03\x01").is_malformed());
    }
}
