//! Application-protocol parsers: pure functions over borrowed bytes.
//!
//! This module owns the parsing of application messages (today: the TLS
//! ClientHello and ServerHello, see [`tls`]) out of a byte stream that the
//! caller has already put together (a TCP direction from its first byte, a
//! UDP payload). It does not own the reassembly itself, flow state, or
//! output columns: those live with the flow table and the sinks.
//!
//! Every parser answers with a [`Parse`]: the message, "the stream ended
//! before the message did" ([`Parse::NeedMore`]: call again with more
//! bytes), or "these bytes are not this protocol" ([`Parse::Malformed`],
//! with a static reason that names the failed check). Parsers are bounded:
//! the work is linear in the input, they keep no state between calls,
//! allocate at most in proportion to the bytes they were given, and never
//! panic on any input.

pub mod cert;
pub mod dhcp;
pub mod dns;
pub mod dtls;
pub mod http;
pub mod ident;
pub mod preamble;
pub mod quic;
pub mod stream;
pub mod tls;

/// What a protocol parser found at the front of a byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse<T> {
    /// A complete message.
    Done(T),
    /// The bytes so far are a valid beginning, but the message is not
    /// complete: ask again when the stream has grown.
    NeedMore,
    /// The bytes cannot be this message; the reason names the failed check.
    Malformed(&'static str),
}

impl<T> Parse<T> {
    /// The message, if complete.
    pub fn done(self) -> Option<T> {
        match self {
            Parse::Done(t) => Some(t),
            Parse::NeedMore | Parse::Malformed(_) => None,
        }
    }

    pub fn is_need_more(&self) -> bool {
        matches!(self, Parse::NeedMore)
    }

    pub fn is_malformed(&self) -> bool {
        matches!(self, Parse::Malformed(_))
    }
}

/// Lowercase hex of `bytes` (a table, not `write!`: DNSSEC keys and
/// fingerprints put kilobytes here, and formatting each byte was a hot
/// spot).
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}
