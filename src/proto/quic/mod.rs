//! QUIC client Initial packets, read from the outside: the ClientHello a
//! client sends in its first flight (RFC 9000, RFC 9001, RFC 9369; header
//! invariants RFC 8999).
//!
//! Owns: the version-independent header of each packet in a UDP datagram
//! (long and short forms, Version Negotiation); the long-header fields of
//! the versions whose Initial packets can be opened here (QUIC v1, v2,
//! drafts 23–34, mvfst's draft-27 builds: [`is_decryptable_version`]);
//! removing Initial packet protection with the keys anyone can derive from
//! the client's Destination Connection ID (RFC 9001 §5.2); the frames of
//! client Initials and their CRYPTO-stream reassembly; and [`QuicTracker`],
//! the bounded per-flow state that turns a flow's datagrams into a
//! [`QuicInfo`].
//! Does not own: the ClientHello format ([`super::tls`]), Handshake or
//! 1-RTT packets (their keys cannot be derived by an observer), the
//! server's Initial (ServerHello), Google QUIC (Q0xx, T05x), Retry
//! integrity tags, flows or output columns. See `schemas/quic.md`.
//!
//! Bounds: a datagram is walked once, packet by packet by their Length
//! fields; each Initial tried costs one AES-GCM pass over it (keys are
//! derived once per connection attempt). A tracker reads at most
//! [`MAX_DATAGRAMS`] datagrams, holds at most [`MAX_CRYPTO_BYTES`] of CRYPTO
//! data in at most [`MAX_CRYPTO_RANGES`] pieces, and frees its working state
//! when the ClientHello is parsed or it gives up. Lengths from the wire are
//! checked against the slice before use: no input can make this panic.

mod crypto;
pub mod gquic;
mod keys;
#[cfg(test)]
mod tests;
mod tracker;

pub use keys::{
    is_decryptable_version, is_reserved_version, open_client_initial, seal_client_initial,
};
pub use tracker::{GiveUp, QuicInfo, QuicTracker, Status};

use keys::profile;

/// Version 0 marks a Version Negotiation packet (RFC 8999 §6).
pub const VERSION_NEGOTIATION: u32 = 0;
pub const VERSION_1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369 §3.1).
pub const VERSION_2: u32 = 0x6b33_43cf;
/// Google QUIC over TLS, `T050` and `T051` in ASCII.
pub const T050: u32 = 0x5430_3530;
pub const T051: u32 = 0x5430_3531;

/// Datagrams a tracker reads, both sides counted, before it stops: a
/// ClientHello takes one to three client datagrams, a lossy start a few
/// more.
pub const MAX_DATAGRAMS: u32 = 32;
/// CRYPTO bytes held per flow: a ClientHello with a post-quantum key share
/// is ~2 KiB; offsets beyond this bound end the search.
pub const MAX_CRYPTO_BYTES: usize = 16 * 1024;
/// Disjoint CRYPTO pieces held at once (Chrome cuts its ClientHello into
/// a dozen frames, out of order).
pub const MAX_CRYPTO_RANGES: usize = 64;
/// Versions kept from a Version Negotiation packet.
pub const MAX_SERVER_VERSIONS: usize = 64;

/// RFC 9000 §17.2: versions 1 and 2 (and the drafts) cap connection IDs at
/// 20 bytes; RFC 8999 allows 255 for versions not known here.
pub(super) const MAX_CID_BYTES: usize = 20;
pub(super) const TAG_BYTES: usize = 16;
pub(super) const SAMPLE_BYTES: usize = 16;
/// The sample starts 4 bytes after the packet number's first byte,
/// whatever its length (RFC 9001 §5.4.2).
pub(super) const SAMPLE_OFFSET: usize = 4;

/// Long-header packet types (RFC 9000 §17.2; RFC 9369 §3.2 renumbers them
/// on the wire, not in meaning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongType {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
}

impl LongType {
    pub(super) fn from_first_byte(first: u8, v2_types: bool) -> LongType {
        match ((first >> 4) & 0x03, v2_types) {
            (0, false) | (1, true) => LongType::Initial,
            (1, false) | (2, true) => LongType::ZeroRtt,
            (2, false) | (3, true) => LongType::Handshake,
            _ => LongType::Retry,
        }
    }
}

/// A long-header packet of a version known here (see
/// [`is_decryptable_version`]), or an Initial of another version laid out
/// as v1's or v2's; its header read, its payload still protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongPacket<'a> {
    pub version: u32,
    /// The version whose Initial protection applies: `version` itself when
    /// it is known here, else v1 or v2, whose layout the header had.
    pub keys_version: u32,
    pub kind: LongType,
    pub dcid: &'a [u8],
    pub scid: &'a [u8],
    /// Initial: the address-validation token; Retry: the retry token;
    /// empty for the other types.
    pub token: &'a [u8],
    /// The whole packet, header included, up to the end its Length field
    /// gives (a Retry runs to the end of the datagram).
    pub bytes: &'a [u8],
    /// Offset in `bytes` of the (protected) packet number; 0 for Retry.
    pub pn_offset: usize,
}

/// One packet at the front of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet<'a> {
    /// A long header of a version known here.
    Long(LongPacket<'a>),
    /// Version Negotiation (RFC 8999 §6), sent by a server; fills the
    /// datagram.
    VersionNegotiation {
        dcid: &'a [u8],
        scid: &'a [u8],
        versions: VersionList<'a>,
    },
    /// A long header of another version: only its invariant fields can be
    /// read, and its length is unknown, so it fills the datagram.
    OtherVersion {
        version: u32,
        dcid: &'a [u8],
        scid: &'a [u8],
    },
    /// A short header (RFC 8999 §5.2): its DCID length is not on the wire;
    /// fills the datagram.
    Short,
}

/// The versions of a Version Negotiation packet, in wire order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionList<'a>(&'a [u8]);

impl Iterator for VersionList<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        let mut r = Reader(self.0);
        let v = r.u32()?;
        self.0 = r.0;
        Some(v)
    }
}

/// Something wrong in a QUIC datagram, by name (counted by the tracker,
/// see [`QuicTracker::anomalies`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum QuicAnomaly {
    /// A long header cut short before its connection IDs or lengths ended.
    TruncatedHeader,
    /// A connection ID longer than 20 bytes in a version that forbids it.
    CidTooLong,
    /// A Length field running past the datagram.
    LengthBeyondDatagram,
    /// A Version Negotiation list whose length is not a multiple of 4.
    BadVersionList,
    /// A client Initial too short for the header-protection sample.
    InitialTooShort,
    /// A client-side Initial whose AEAD tag did not verify (corrupt, or
    /// keys from a connection ID never seen).
    InitialNotOpened,
    /// A frame cut short or not allowed in an Initial (the rest of that
    /// packet is not read).
    BadFrame,
}

impl QuicAnomaly {
    pub const ALL: &'static [QuicAnomaly] = &[
        QuicAnomaly::TruncatedHeader,
        QuicAnomaly::CidTooLong,
        QuicAnomaly::LengthBeyondDatagram,
        QuicAnomaly::BadVersionList,
        QuicAnomaly::InitialTooShort,
        QuicAnomaly::InitialNotOpened,
        QuicAnomaly::BadFrame,
    ];

    /// Stable name, as output columns and summaries show it.
    pub fn name(self) -> &'static str {
        match self {
            QuicAnomaly::TruncatedHeader => "quic_truncated_header",
            QuicAnomaly::CidTooLong => "quic_cid_too_long",
            QuicAnomaly::LengthBeyondDatagram => "quic_length_beyond_datagram",
            QuicAnomaly::BadVersionList => "quic_bad_version_list",
            QuicAnomaly::InitialTooShort => "quic_initial_too_short",
            QuicAnomaly::InitialNotOpened => "quic_initial_not_opened",
            QuicAnomaly::BadFrame => "quic_bad_frame",
        }
    }

    pub(super) fn bit(self) -> u16 {
        1 << (self as u8)
    }
}

/// The packet at the front of `datagram` and the bytes after it (the next
/// coalesced packet, RFC 9000 §12.2; empty when the packet fills the
/// datagram).
pub fn parse_packet(datagram: &[u8]) -> Result<(Packet<'_>, &[u8]), QuicAnomaly> {
    let mut r = Reader(datagram);
    let first = r.u8().ok_or(QuicAnomaly::TruncatedHeader)?;
    if first & 0x80 == 0 {
        return Ok((Packet::Short, &[]));
    }
    let version = r.u32().ok_or(QuicAnomaly::TruncatedHeader)?;
    let dcid = r.vec8().ok_or(QuicAnomaly::TruncatedHeader)?;
    let scid = r.vec8().ok_or(QuicAnomaly::TruncatedHeader)?;
    if version == VERSION_NEGOTIATION {
        if r.0.len() % 4 != 0 {
            return Err(QuicAnomaly::BadVersionList);
        }
        let versions = VersionList(r.0);
        return Ok((
            Packet::VersionNegotiation {
                dcid,
                scid,
                versions,
            },
            &[],
        ));
    }
    let other = Packet::OtherVersion {
        version,
        dcid,
        scid,
    };
    let Some(profile) = profile(version) else {
        // A version not known here (a greased one forcing version
        // negotiation, an unlisted draft): an Initial laid out as v1's or
        // v2's is tried with their keys (the AEAD tag decides), as TShark
        // does; anything else fills the datagram unread.
        let guess = match (first & 0x40 != 0, (first >> 4) & 0x03) {
            (true, 0) => VERSION_1,
            (true, 1) => VERSION_2,
            _ => return Ok((other, &[])),
        };
        let v2_types = guess == VERSION_2;
        return match long_packet(datagram, r, first, version, guess, v2_types, dcid, scid) {
            Ok((Packet::Long(p), rest)) if p.kind == LongType::Initial => {
                Ok((Packet::Long(p), rest))
            }
            _ => Ok((other, &[])),
        };
    };
    long_packet(
        datagram,
        r,
        first,
        version,
        version,
        profile.v2_types,
        dcid,
        scid,
    )
}

/// The rest of a long header of a version laid out as v1 or v2 (`r` after
/// the connection IDs).
#[allow(clippy::too_many_arguments)]
fn long_packet<'a>(
    datagram: &'a [u8],
    mut r: Reader<'a>,
    first: u8,
    version: u32,
    keys_version: u32,
    v2_types: bool,
    dcid: &'a [u8],
    scid: &'a [u8],
) -> Result<(Packet<'a>, &'a [u8]), QuicAnomaly> {
    if dcid.len() > MAX_CID_BYTES || scid.len() > MAX_CID_BYTES {
        return Err(QuicAnomaly::CidTooLong);
    }
    let kind = LongType::from_first_byte(first, v2_types);
    let mut packet = LongPacket {
        version,
        keys_version,
        kind,
        dcid,
        scid,
        token: &[],
        bytes: datagram,
        pn_offset: 0,
    };
    match kind {
        // RFC 9000 §17.2.5: token, then a 16-byte integrity tag, to the end.
        LongType::Retry => {
            let token_len = r.0.len().checked_sub(TAG_BYTES);
            packet.token = token_len
                .and_then(|n| r.0.get(..n))
                .ok_or(QuicAnomaly::TruncatedHeader)?;
            return Ok((Packet::Long(packet), &[]));
        }
        LongType::Initial => {
            let n = r.varint().ok_or(QuicAnomaly::TruncatedHeader)?;
            packet.token = r.take_u64(n).ok_or(QuicAnomaly::TruncatedHeader)?;
        }
        LongType::ZeroRtt | LongType::Handshake => {}
    }
    let length = r.varint().ok_or(QuicAnomaly::TruncatedHeader)?;
    packet.pn_offset = datagram.len() - r.0.len();
    let end = usize::try_from(length)
        .ok()
        .and_then(|n| packet.pn_offset.checked_add(n))
        .filter(|end| *end <= datagram.len())
        .ok_or(QuicAnomaly::LengthBeyondDatagram)?;
    packet.bytes = datagram.get(..end).unwrap_or(datagram);
    Ok((Packet::Long(packet), datagram.get(end..).unwrap_or(&[])))
}

/// Whether a flow's first datagram opens like QUIC: a long header whose
/// version is opened here, or a reserved version (a client forcing version
/// negotiation), or — for any other version — what a client's first
/// Initial must be: the fixed bit set, the Initial type of v1 or v2, a
/// Destination Connection ID of 8 to 20 bytes (RFC 9000 §7.2) and a
/// datagram of at least 1200 bytes (§14.1). Cheap: reads the header only.
pub fn starts_like_quic(datagram: &[u8]) -> bool {
    if gquic::clear_chlo(datagram).is_some() {
        return true;
    }
    let mut r = Reader(datagram);
    let (Some(first), Some(v)) = (r.u8(), r.u32()) else {
        return false;
    };
    if first & 0x80 == 0 {
        return false;
    }
    if is_decryptable_version(v) || is_reserved_version(v) {
        return true;
    }
    v != VERSION_NEGOTIATION
        && first & 0x40 != 0
        && (first >> 4) & 0x03 <= 1
        && datagram.len() >= 1200
        && r.vec8()
            .is_some_and(|d| (8..=MAX_CID_BYTES).contains(&d.len()))
        && r.vec8().is_some_and(|s| s.len() <= MAX_CID_BYTES)
}

/// A bounds-checked cursor over borrowed bytes.
pub(super) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub(super) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(n)?;
        self.0 = tail;
        Some(head)
    }
    pub(super) fn take_u64(&mut self, n: u64) -> Option<&'a [u8]> {
        self.take(usize::try_from(n).ok()?)
    }
    pub(super) fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    pub(super) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    /// A connection ID: 1-byte length, then the bytes.
    pub(super) fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    /// A variable-length integer (RFC 9000 §16).
    pub(super) fn varint(&mut self) -> Option<u64> {
        let first = *self.0.first()?;
        let bytes = self.take(1 << (first >> 6))?;
        Some(
            bytes
                .iter()
                .skip(1)
                .fold(u64::from(first & 0x3f), |v, b| v << 8 | u64::from(*b)),
        )
    }
}
