//! A flow's TLS (or DTLS, or QUIC-carried) handshake summarised for its
//! `flows` columns (`schemas/tls.md`): the hellos, the server's chain and
//! the fingerprints.

use super::{ClientHello, ServerHello};
use crate::proto::cert::Certificate;

/// The TLS handshake of a flow: the ClientHello and the ServerHello at the
/// start of its two directions (found by content: either side may be the
/// flow's up side), and the server's certificates, as far as they were seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    pub client: Option<ClientHello>,
    pub server: Option<ServerHello>,
    /// The server's chain (TLS ≤ 1.2: TLS 1.3 encrypts it), leaf first.
    pub certificates: Vec<Certificate>,
    /// The Certificate message was cut by the stream bound.
    pub chain_truncated: bool,
    /// Fingerprints, computed once when the flow ends.
    pub fingerprints: Fingerprints,
    /// Carried by DTLS over UDP (`app_protocol` `dtls`, JA4 prefix `d`).
    pub dtls: bool,
    /// Certificates that could not be read (moved to `AppInfo::errors`).
    pub(crate) errors: Vec<&'static str>,
}

/// JA3, JA3S and JA4 of a flow's hellos (empty strings when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fingerprints {
    pub ja3: String,
    pub ja3_hash: String,
    pub ja3s: String,
    pub ja3s_hash: String,
    pub ja4: String,
}
