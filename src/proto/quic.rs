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

use std::fmt;
use std::ops::Range;

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::{AeadInOut, Aes128Gcm};
use hkdf::Hkdf;
use sha2::Sha256;

use super::tls::{parse_client_hello_message, ClientHello};
use super::Parse;

/// Version 0 marks a Version Negotiation packet (RFC 8999 §6).
pub const VERSION_NEGOTIATION: u32 = 0;
pub const VERSION_1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369 §3.1).
pub const VERSION_2: u32 = 0x6b33_43cf;

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
const MAX_CID_BYTES: usize = 20;
const TAG_BYTES: usize = 16;
const SAMPLE_BYTES: usize = 16;
/// The sample starts 4 bytes after the packet number's first byte,
/// whatever its length (RFC 9001 §5.4.2).
const SAMPLE_OFFSET: usize = 4;

/// Frame types that a client Initial may carry (RFC 9000 §12.4, §19).
mod frame {
    pub const PADDING: u64 = 0x00;
    pub const PING: u64 = 0x01;
    pub const ACK: u64 = 0x02;
    pub const ACK_ECN: u64 = 0x03;
    pub const CRYPTO: u64 = 0x06;
    pub const CONNECTION_CLOSE: u64 = 0x1c;
    pub const CONNECTION_CLOSE_APP: u64 = 0x1d;
}

/// What differs between the versions whose Initials are opened here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Profile {
    /// `initial_salt` (RFC 9001 §5.2).
    salt: &'static [u8; 20],
    /// HKDF-Expand-Label labels of the packet key, IV and header key.
    labels: [&'static [u8]; 3],
    /// RFC 9369 §3.2: v2 renumbers the long-header packet types.
    v2_types: bool,
}

const SALT_V1: &[u8; 20] =
    b"\x38\x76\x2c\xf7\xf5\x59\x34\xb3\x4d\x17\x9a\xe6\xa4\xc8\x0c\xad\xcc\xbb\x7f\x0a";
/// RFC 9369 §3.3.1.
const SALT_V2: &[u8; 20] =
    b"\x0d\xed\xe3\xde\xf7\x00\xa6\xdb\x81\x93\x81\xbe\x6e\x26\x9d\xcb\xf9\xbd\x2e\xd9";
/// draft-ietf-quic-tls-29 §5.2 (drafts 29 to 32).
const SALT_DRAFT_29: &[u8; 20] =
    b"\xaf\xbf\xec\x28\x99\x93\xd2\x4c\x9e\x97\x86\xf1\x9c\x61\x11\xe0\x43\x90\xa8\x99";
/// draft-ietf-quic-tls-23 §5.2 (drafts 23 to 28).
const SALT_DRAFT_23: &[u8; 20] =
    b"\xc3\xee\xf7\x12\xc7\x2e\xbb\x5a\x11\xa7\xd2\x43\x2b\xb4\x63\x65\xbe\xf9\xf5\x02";

const LABELS_V1: [&[u8]; 3] = [b"quic key", b"quic iv", b"quic hp"];
/// RFC 9369 §3.3.2.
const LABELS_V2: [&[u8]; 3] = [b"quicv2 key", b"quicv2 iv", b"quicv2 hp"];

/// The Initial-protection profile of `version`; `None` for versions whose
/// Initials are not opened here. Drafts 33 and 34 already used the final
/// salt; mvfst's 0xfaceb002 and 0xfaceb00e are draft-27 builds (so TShark
/// and nDPI treat them).
fn profile(version: u32) -> Option<Profile> {
    let v1 = |salt| Profile {
        salt,
        labels: LABELS_V1,
        v2_types: false,
    };
    match version {
        VERSION_1 | 0xff00_0021..=0xff00_0022 => Some(v1(SALT_V1)),
        VERSION_2 => Some(Profile {
            salt: SALT_V2,
            labels: LABELS_V2,
            v2_types: true,
        }),
        0xff00_001d..=0xff00_0020 => Some(v1(SALT_DRAFT_29)),
        0xff00_0017..=0xff00_001c | 0xface_b002 | 0xface_b00e => Some(v1(SALT_DRAFT_23)),
        _ => None,
    }
}

/// Whether client Initials of `version` can be opened here.
pub fn is_decryptable_version(version: u32) -> bool {
    profile(version).is_some()
}

/// RFC 9000 §15: versions of the form 0x?a?a?a?a are reserved to exercise
/// version negotiation (a client may open with one to force it).
pub fn is_reserved_version(version: u32) -> bool {
    version & 0x0f0f_0f0f == 0x0a0a_0a0a
}

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
    fn from_first_byte(first: u8, v2_types: bool) -> LongType {
        match ((first >> 4) & 0x03, v2_types) {
            (0, false) | (1, true) => LongType::Initial,
            (1, false) | (2, true) => LongType::ZeroRtt,
            (2, false) | (3, true) => LongType::Handshake,
            _ => LongType::Retry,
        }
    }
}

/// A long-header packet of a version known here (see
/// [`is_decryptable_version`]), its header read, its payload still
/// protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongPacket<'a> {
    pub version: u32,
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

    fn bit(self) -> u16 {
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
    let Some(profile) = profile(version) else {
        return Ok((
            Packet::OtherVersion {
                version,
                dcid,
                scid,
            },
            &[],
        ));
    };
    if dcid.len() > MAX_CID_BYTES || scid.len() > MAX_CID_BYTES {
        return Err(QuicAnomaly::CidTooLong);
    }
    let kind = LongType::from_first_byte(first, profile.v2_types);
    let mut packet = LongPacket {
        version,
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
/// negotiation). Cheap: reads at most 5 bytes.
pub fn starts_like_quic(datagram: &[u8]) -> bool {
    let mut r = Reader(datagram);
    match (r.u8(), r.u32()) {
        (Some(first), Some(v)) if first & 0x80 != 0 => {
            is_decryptable_version(v) || is_reserved_version(v)
        }
        _ => false,
    }
}

/// The client Initial packet keys of one connection attempt (RFC 9001
/// §5.2), derived from the Destination Connection ID of the client's first
/// Initial (or the one a Retry gave).
struct InitialKeys {
    version: u32,
    dcid: Vec<u8>,
    aead: Aes128Gcm,
    iv: [u8; 12],
    hp: Aes128,
}

impl fmt::Debug for InitialKeys {
    // Keys are public values (derived from the wire), but long and useless
    // in a dump.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InitialKeys")
            .field("version", &format_args!("{:#010x}", self.version))
            .field("dcid", &self.dcid)
            .finish_non_exhaustive()
    }
}

/// The secrets behind [`InitialKeys`], kept apart for the RFC vectors.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ClientSecrets {
    key: [u8; 16],
    iv: [u8; 12],
    hp: [u8; 16],
}

/// HKDF-Expand-Label with an empty context (RFC 8446 §7.1).
fn expand_label(hk: &Hkdf<Sha256>, label: &[u8], out: &mut [u8]) -> Option<()> {
    const PREFIX: &[u8] = b"tls13 ";
    let out_len = u16::try_from(out.len()).ok()?;
    let label_len = u8::try_from(PREFIX.len() + label.len()).ok()?;
    let mut info = Vec::with_capacity(4 + usize::from(label_len));
    info.extend_from_slice(&out_len.to_be_bytes());
    info.push(label_len);
    info.extend_from_slice(PREFIX);
    info.extend_from_slice(label);
    info.push(0);
    hk.expand(&info, out).ok()
}

fn client_secrets(profile: &Profile, dcid: &[u8]) -> Option<ClientSecrets> {
    let initial = Hkdf::<Sha256>::new(Some(profile.salt), dcid);
    let mut client = [0u8; 32];
    expand_label(&initial, b"client in", &mut client)?;
    let client = Hkdf::<Sha256>::from_prk(&client).ok()?;
    let mut s = ClientSecrets {
        key: [0; 16],
        iv: [0; 12],
        hp: [0; 16],
    };
    let [key, iv, hp] = profile.labels;
    expand_label(&client, key, &mut s.key)?;
    expand_label(&client, iv, &mut s.iv)?;
    expand_label(&client, hp, &mut s.hp)?;
    Some(s)
}

impl InitialKeys {
    fn client(version: u32, dcid: &[u8]) -> Option<InitialKeys> {
        let s = client_secrets(&profile(version)?, dcid)?;
        Some(InitialKeys {
            version,
            dcid: dcid.to_vec(),
            aead: Aes128Gcm::new_from_slice(&s.key).ok()?,
            iv: s.iv,
            hp: Aes128::new_from_slice(&s.hp).ok()?,
        })
    }

    /// The header-protection mask for the sample after `pn_offset`.
    fn mask(&self, bytes: &[u8], pn_offset: usize) -> Option<[u8; 16]> {
        let start = pn_offset.checked_add(SAMPLE_OFFSET)?;
        let sample: [u8; SAMPLE_BYTES] = bytes
            .get(start..start.checked_add(SAMPLE_BYTES)?)?
            .try_into()
            .ok()?;
        let mut block = aes::Block::from(sample);
        self.hp.encrypt_block(&mut block);
        Some(block.into())
    }

    /// Remove header and payload protection (RFC 9001 §5.3, §5.4) from a
    /// copy of `packet` in `scratch`. Returns the full packet number and
    /// where the plaintext frames lie in `scratch`.
    fn open(
        &self,
        packet: &LongPacket<'_>,
        largest_pn: Option<u64>,
        scratch: &mut Vec<u8>,
    ) -> Result<(u64, Range<usize>), QuicAnomaly> {
        let bytes = packet.bytes;
        let pn_offset = packet.pn_offset;
        let mask = self
            .mask(bytes, pn_offset)
            .ok_or(QuicAnomaly::InitialTooShort)?;
        let first = bytes.first().ok_or(QuicAnomaly::InitialTooShort)? ^ (mask[0] & 0x0f);
        let pn_len = usize::from(first & 0x03) + 1;
        let header_len = pn_offset + pn_len;
        // The sample check above guarantees pn_offset + 20 bytes, so at
        // least the 16-byte tag follows a 4-byte packet number.
        let body_len = bytes.len().saturating_sub(header_len);
        if body_len < TAG_BYTES {
            return Err(QuicAnomaly::InitialTooShort);
        }
        scratch.clear();
        scratch.extend_from_slice(bytes);
        let mut truncated = 0u64;
        if let Some(b) = scratch.first_mut() {
            *b = first;
        }
        if let Some(pn) = scratch.get_mut(pn_offset..header_len) {
            for (b, m) in pn.iter_mut().zip(&mask[1..]) {
                *b ^= m;
                truncated = truncated << 8 | u64::from(*b);
            }
        }
        let pn = decode_packet_number(largest_pn, truncated, pn_len * 8);
        let mut nonce = self.iv;
        for (n, p) in nonce[4..].iter_mut().zip(pn.to_be_bytes()) {
            *n ^= p;
        }
        let tag_start = scratch.len() - TAG_BYTES;
        let (header, body) = scratch.split_at_mut(header_len);
        let (ciphertext, tag) = body.split_at_mut(tag_start - header_len);
        let tag = aes_gcm::Tag::try_from(&*tag).map_err(|_| QuicAnomaly::InitialTooShort)?;
        self.aead
            .decrypt_inout_detached(&nonce.into(), header, ciphertext.into(), &tag)
            .map_err(|_| QuicAnomaly::InitialNotOpened)?;
        Ok((pn, header_len..tag_start))
    }
}

/// The full packet number from its truncated encoding (RFC 9000 §A.3).
fn decode_packet_number(largest: Option<u64>, truncated: u64, bits: usize) -> u64 {
    let expected = largest.map_or(0, |l| l.saturating_add(1));
    let win = 1u64 << bits;
    let hwin = win / 2;
    let candidate = (expected & !(win - 1)) | truncated;
    if candidate.saturating_add(hwin) <= expected && candidate < (1u64 << 62) - win {
        candidate + win
    } else if candidate > expected.saturating_add(hwin) && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

/// Open a client Initial with the keys of its own DCID (a client's first
/// Initial, or one after a Retry): the plaintext frames.
pub fn open_client_initial(packet: &LongPacket<'_>) -> Result<Vec<u8>, QuicAnomaly> {
    if packet.kind != LongType::Initial {
        return Err(QuicAnomaly::InitialNotOpened);
    }
    let keys =
        InitialKeys::client(packet.version, packet.dcid).ok_or(QuicAnomaly::InitialNotOpened)?;
    let mut scratch = Vec::new();
    let (_, frames) = keys.open(packet, None, &mut scratch)?;
    scratch.truncate(frames.end);
    scratch.drain(..frames.start);
    Ok(scratch)
}

/// The CRYPTO stream of client Initials, put together by offset.
#[derive(Debug, Default)]
struct CryptoStream {
    buf: Vec<u8>,
    /// Byte ranges received: sorted, disjoint, not touching.
    ranges: Vec<(usize, usize)>,
}

impl CryptoStream {
    /// Place `data` at `offset`; where it overlaps bytes already held, the
    /// first arrival wins (retransmissions repeat the same bytes).
    fn insert(&mut self, offset: u64, data: &[u8]) -> Result<(), GiveUp> {
        if data.is_empty() {
            return Ok(());
        }
        let start = usize::try_from(offset).map_err(|_| GiveUp::CryptoCap)?;
        let end = start
            .checked_add(data.len())
            .filter(|end| *end <= MAX_CRYPTO_BYTES)
            .ok_or(GiveUp::CryptoCap)?;
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        let mut copy = |from: usize, to: usize| {
            if let (Some(dst), Some(src)) = (
                self.buf.get_mut(from..to),
                data.get(from - start..to - start),
            ) {
                dst.copy_from_slice(src);
            }
        };
        let mut pos = start;
        for &(s, e) in &self.ranges {
            if e <= pos {
                continue;
            }
            if s >= end {
                break;
            }
            if s > pos {
                copy(pos, s);
            }
            pos = e;
            if pos >= end {
                break;
            }
        }
        if pos < end {
            copy(pos, end);
        }
        // Merge [start, end) with every range it overlaps or touches.
        let i = self.ranges.partition_point(|r| r.1 < start);
        let (mut s, mut e) = (start, end);
        let mut j = i;
        while let Some(&(rs, re)) = self.ranges.get(j) {
            if rs > e {
                break;
            }
            s = s.min(rs);
            e = e.max(re);
            j += 1;
        }
        self.ranges.splice(i..j, [(s, e)]);
        if self.ranges.len() > MAX_CRYPTO_RANGES {
            return Err(GiveUp::CryptoFragmented);
        }
        Ok(())
    }

    /// The bytes held without a hole from offset 0.
    fn prefix(&self) -> &[u8] {
        match self.ranges.first() {
            Some(&(0, end)) => self.buf.get(..end).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The ClientHello, once the whole handshake message is held.
    fn client_hello(&self) -> Result<Option<ClientHello>, GiveUp> {
        let p = self.prefix();
        let &[_, a, b, c, ..] = p else {
            return Ok(None);
        };
        let need = 4 + (usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c));
        match parse_client_hello_message(p.get(..need).unwrap_or(p)) {
            Parse::Done(ch) => Ok(Some(ch)),
            Parse::Malformed(why) => Err(GiveUp::BadClientHello(why)),
            Parse::NeedMore if need > MAX_CRYPTO_BYTES => Err(GiveUp::CryptoCap),
            Parse::NeedMore => Ok(None),
        }
    }
}

/// Why reading a packet's frames stopped early.
enum Stop {
    Anomaly(QuicAnomaly),
    GiveUp(GiveUp),
}

/// Read the frames of a client Initial's plaintext, CRYPTO data into
/// `crypto` (RFC 9000 §19).
fn read_frames(plain: &[u8], crypto: &mut CryptoStream) -> Result<(), Stop> {
    let bad = Stop::Anomaly(QuicAnomaly::BadFrame);
    let mut r = Reader(plain);
    while let Some(&first) = r.0.first() {
        // PADDING is most of an Initial: skip a run at once.
        if u64::from(first) == frame::PADDING {
            let run = r.0.iter().position(|b| *b != 0).unwrap_or(r.0.len());
            r.take(run);
            continue;
        }
        let Some(ty) = r.varint() else {
            return Err(bad);
        };
        let ok = match ty {
            frame::PING => Some(()),
            frame::ACK | frame::ACK_ECN => skip_ack(&mut r, ty == frame::ACK_ECN),
            frame::CRYPTO => {
                let (Some(offset), Some(len)) = (r.varint(), r.varint()) else {
                    return Err(bad);
                };
                let Some(data) = r.take_u64(len) else {
                    return Err(bad);
                };
                crypto.insert(offset, data).map_err(Stop::GiveUp)?;
                Some(())
            }
            frame::CONNECTION_CLOSE | frame::CONNECTION_CLOSE_APP => (|| {
                r.varint()?; // error code
                if ty == frame::CONNECTION_CLOSE {
                    r.varint()?; // frame type
                }
                let n = r.varint()?;
                r.take_u64(n).map(|_| ())
            })(),
            _ => None,
        };
        if ok.is_none() {
            return Err(bad);
        }
    }
    Ok(())
}

/// Skip an ACK frame's body (RFC 9000 §19.3). Every range costs at least
/// two bytes, so the loop ends with the input.
fn skip_ack(r: &mut Reader<'_>, ecn: bool) -> Option<()> {
    r.varint()?; // largest acknowledged
    r.varint()?; // delay
    let ranges = r.varint()?;
    r.varint()?; // first range
    for _ in 0..ranges {
        r.varint()?; // gap
        r.varint()?; // length
    }
    if ecn {
        for _ in 0..3 {
            r.varint()?;
        }
    }
    Some(())
}

/// What a flow's QUIC handshake showed of itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuicInfo {
    /// Version of the client Initials the keys opened; before that, of
    /// the first long header seen.
    pub version: u32,
    /// Destination Connection ID the client's Initial keys derive from:
    /// that of its first Initial (RFC 9001 §5.2), or the one a Retry
    /// assigned when the client started over (see `restarts`).
    pub dcid: Vec<u8>,
    /// Source Connection ID of that client Initial.
    pub scid: Vec<u8>,
    /// Source Connection ID of the server's first Initial or Handshake
    /// packet (the CID the server chose).
    pub server_scid: Option<Vec<u8>>,
    /// Versions the server listed in a Version Negotiation packet, in wire
    /// order, at most [`MAX_SERVER_VERSIONS`].
    pub server_versions: Vec<u32>,
    /// The server sent a Retry.
    pub retry: bool,
    /// Times the client's Initials switched to keys from a new DCID before
    /// its ClientHello was complete (after a Retry or Version
    /// Negotiation, or a new connection on the same flow); the CRYPTO data
    /// of the earlier attempt is dropped.
    pub restarts: u8,
    pub client_hello: Option<ClientHello>,
}

/// Where a tracker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Still looking for the ClientHello.
    Reading,
    /// The ClientHello was parsed (`QuicInfo::client_hello`).
    Done,
    /// The flow's first datagram does not open like QUIC
    /// ([`starts_like_quic`]): nothing more is read.
    NotQuic,
    /// Stopped without a ClientHello.
    GaveUp(GiveUp),
}

/// Why a tracker stopped without a ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// [`MAX_DATAGRAMS`] read and no client Initial opened.
    NoInitialOpened,
    /// [`MAX_DATAGRAMS`] read and the ClientHello still incomplete.
    Incomplete,
    /// CRYPTO data or the ClientHello reach past [`MAX_CRYPTO_BYTES`].
    CryptoCap,
    /// More than [`MAX_CRYPTO_RANGES`] disjoint CRYPTO pieces at once.
    CryptoFragmented,
    /// The CRYPTO stream does not start with a valid ClientHello (the TLS
    /// parser's reason).
    BadClientHello(&'static str),
}

/// State held only while the ClientHello is sought.
#[derive(Debug, Default)]
struct Search {
    keys: Option<InitialKeys>,
    largest_pn: Option<u64>,
    crypto: CryptoStream,
    /// Reused copy of the packet being opened.
    scratch: Vec<u8>,
}

/// One flow's QUIC handshake, fed datagram by datagram: finds the client
/// side by content (the side whose Initial opens with client keys), opens
/// its Initials, reassembles their CRYPTO frames and parses the
/// ClientHello; notes the server's CID, Retry and Version Negotiation.
///
/// One ClientHello per tracker: a later connection on the same flow is not
/// read once the first ClientHello is parsed. Before that, a client Initial
/// that opens only with keys from its own new DCID (after a Retry, a
/// Version Negotiation, or a new connection) starts the search over.
#[derive(Debug)]
pub struct QuicTracker {
    status: Status,
    info: QuicInfo,
    datagrams: u32,
    anomalies: u16,
    /// Which side (`up` value) is the client, once known.
    client_up: Option<bool>,
    /// Anomalies of Initials that did not open, by side (`up as usize`),
    /// held while the sides are unknown: a server's Initial does not open
    /// with client keys and is no anomaly.
    unopened: [u16; 2],
    /// Dropped when the search ends.
    search: Option<Box<Search>>,
}

impl Default for QuicTracker {
    fn default() -> QuicTracker {
        QuicTracker::new()
    }
}

impl QuicTracker {
    pub fn new() -> QuicTracker {
        QuicTracker {
            status: Status::Reading,
            info: QuicInfo::default(),
            datagrams: 0,
            anomalies: 0,
            client_up: None,
            unopened: [0; 2],
            search: None,
        }
    }

    /// Read one UDP payload. `up`: sent by the flow's up side (the sender
    /// of its first packet); which side is the client is found by content.
    /// Returns the status after it.
    pub fn datagram(&mut self, payload: &[u8], up: bool) -> Status {
        if self.is_finished() {
            return self.status;
        }
        self.datagrams += 1;
        if self.datagrams == 1 && !starts_like_quic(payload) {
            self.status = Status::NotQuic;
            return self.status;
        }
        let mut rest = payload;
        while !rest.is_empty() && !self.is_finished() {
            match parse_packet(rest) {
                Ok((packet, tail)) => {
                    self.packet(&packet, up);
                    rest = tail;
                }
                Err(a) => {
                    self.flag(a);
                    break;
                }
            }
        }
        if self.datagrams >= MAX_DATAGRAMS && self.status == Status::Reading {
            self.give_up(if self.search.as_ref().is_some_and(|s| s.keys.is_some()) {
                GiveUp::Incomplete
            } else {
                GiveUp::NoInitialOpened
            });
        }
        self.status
    }

    pub fn status(&self) -> Status {
        self.status
    }

    /// No later datagram can change [`info`](Self::info): the search ended
    /// and, after a ClientHello, the server's CID was seen or the datagram
    /// budget is spent.
    pub fn is_finished(&self) -> bool {
        match self.status {
            Status::Reading => false,
            Status::Done => self.info.server_scid.is_some() || self.datagrams >= MAX_DATAGRAMS,
            Status::NotQuic | Status::GaveUp(_) => true,
        }
    }

    pub fn info(&self) -> &QuicInfo {
        &self.info
    }

    pub fn into_info(self) -> QuicInfo {
        self.info
    }

    /// Datagrams read so far.
    pub fn datagrams(&self) -> u32 {
        self.datagrams
    }

    /// The anomalies seen, each once. While no side is known as the
    /// client, an Initial that did not open counts as one.
    pub fn anomalies(&self) -> impl Iterator<Item = QuicAnomaly> + '_ {
        let bits = match self.client_up {
            None => self.anomalies | self.unopened[0] | self.unopened[1],
            Some(_) => self.anomalies,
        };
        QuicAnomaly::ALL
            .iter()
            .copied()
            .filter(move |a| bits & a.bit() != 0)
    }

    /// The side `up` is the client: its held anomalies count now.
    fn set_client(&mut self, up: bool) {
        if self.client_up.is_none() {
            self.client_up = Some(up);
            self.anomalies |= self.unopened[usize::from(up)];
            self.unopened = [0; 2];
        }
    }

    /// An Initial of side `up` that did not open with client keys.
    fn not_opened(&mut self, a: QuicAnomaly, up: bool) {
        match self.client_up {
            Some(client) if client == up => self.anomalies |= a.bit(),
            Some(_) => {}
            None => self.unopened[usize::from(up)] |= a.bit(),
        }
    }

    fn flag(&mut self, a: QuicAnomaly) {
        self.anomalies |= a.bit();
    }

    fn give_up(&mut self, why: GiveUp) {
        self.status = Status::GaveUp(why);
        self.search = None;
    }

    fn packet(&mut self, packet: &Packet<'_>, up: bool) {
        match *packet {
            Packet::Short => {}
            Packet::OtherVersion { version, .. } => {
                if self.info.version == 0 {
                    self.info.version = version;
                }
            }
            Packet::VersionNegotiation { versions, .. } => {
                // Only servers send these (RFC 8999 §6).
                if self.client_up == Some(up) {
                    return;
                }
                self.set_client(!up);
                if self.info.server_versions.is_empty() {
                    self.info.server_versions = versions.take(MAX_SERVER_VERSIONS).collect();
                }
            }
            Packet::Long(p) => {
                if self.info.version == 0 {
                    self.info.version = p.version;
                }
                let from_server = self.client_up == Some(!up);
                match p.kind {
                    // Only servers send these (RFC 9000 §17.2.5).
                    LongType::Retry if self.client_up != Some(up) => {
                        self.set_client(!up);
                        self.info.retry = true;
                    }
                    LongType::Initial | LongType::Handshake
                        if from_server && self.info.server_scid.is_none() =>
                    {
                        self.info.server_scid = Some(p.scid.to_vec());
                    }
                    LongType::Initial | LongType::Handshake if from_server => {}
                    LongType::Initial if self.status == Status::Reading => {
                        self.client_initial(&p, up)
                    }
                    _ => {}
                }
            }
        }
    }

    /// An Initial from the client side, or from a side not known yet.
    fn client_initial(&mut self, p: &LongPacket<'_>, up: bool) {
        let search = self.search.get_or_insert_with(Box::default);
        let Search {
            keys,
            largest_pn,
            crypto,
            scratch,
        } = &mut **search;
        let current = keys.as_ref().filter(|k| k.version == p.version);
        let opened = current.map(|k| k.open(p, *largest_pn, scratch));
        let (pn, frames) = match opened {
            Some(Ok(opened)) => opened,
            // Same keys as the ones that just failed: nothing else to try.
            Some(Err(a)) if current.is_some_and(|k| k.dcid == p.dcid) => {
                self.not_opened(a, up);
                return;
            }
            _ => {
                let fresh = InitialKeys::client(p.version, p.dcid);
                match fresh.as_ref().map(|k| k.open(p, None, scratch)) {
                    Some(Ok(opened)) => {
                        // A new attempt: the earlier one's CRYPTO bytes
                        // belong to another ClientHello (or repeat it).
                        if keys.is_some() {
                            self.info.restarts = self.info.restarts.saturating_add(1);
                            *crypto = CryptoStream::default();
                        }
                        *keys = fresh;
                        *largest_pn = None;
                        self.info.version = p.version;
                        self.info.dcid = p.dcid.to_vec();
                        self.info.scid = p.scid.to_vec();
                        opened
                    }
                    Some(Err(a)) => {
                        self.not_opened(a, up);
                        return;
                    }
                    None => return,
                }
            }
        };
        self.set_client(up);
        let Some(Search {
            largest_pn,
            crypto,
            scratch,
            ..
        }) = self.search.as_deref_mut()
        else {
            return;
        };
        *largest_pn = Some(largest_pn.map_or(pn, |l| l.max(pn)));
        let plain = scratch.get(frames).unwrap_or(&[]);
        let outcome = match read_frames(plain, crypto) {
            Ok(()) => crypto.client_hello(),
            Err(Stop::Anomaly(a)) => {
                self.anomalies |= a.bit();
                crypto.client_hello()
            }
            Err(Stop::GiveUp(why)) => Err(why),
        };
        match outcome {
            Ok(None) => {}
            Ok(Some(ch)) => {
                self.info.client_hello = Some(ch);
                self.status = Status::Done;
                self.search = None;
            }
            Err(why) => self.give_up(why),
        }
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
    fn take_u64(&mut self, n: u64) -> Option<&'a [u8]> {
        self.take(usize::try_from(n).ok()?)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    /// A connection ID: 1-byte length, then the bytes.
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    /// A variable-length integer (RFC 9000 §16).
    fn varint(&mut self) -> Option<u64> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::tls_client_hello;
    use aes_gcm::AeadInOut;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s
            .bytes()
            .filter(u8::is_ascii_hexdigit)
            .map(|c| (c as char).to_digit(16).unwrap() as u8)
            .collect();
        digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()
    }

    const RFC_DCID: &str = "8394c8f03e515708";

    /// RFC 9001 appendix A.2 (and RFC 9369 A.2, the same bytes): the CRYPTO
    /// frame of the client Initial, before 917 bytes of PADDING.
    const A2_CRYPTO_FRAME: &str = "
        060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868
        04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578
        616d706c652e636f6dff01000100000a 00080006001d00170018001000070005
        04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba
        baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400
        0d0010000e0403050306030203080408 050806002d00020101001c0002400100
        3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000
        75300901100f088394c8f03e51570806 048000ffff";

    /// RFC 9001 appendix A.2: the protected client Initial.
    const RFC9001_A2_PACKET: &str = "
        c000000001088394c8f03e5157080000 449e7b9aec34d1b1c98dd7689fb8ec11
        d242b123dc9bd8bab936b47d92ec356c 0bab7df5976d27cd449f63300099f399
        1c260ec4c60d17b31f8429157bb35a12 82a643a8d2262cad67500cadb8e7378c
        8eb7539ec4d4905fed1bee1fc8aafba1 7c750e2c7ace01e6005f80fcb7df6212
        30c83711b39343fa028cea7f7fb5ff89 eac2308249a02252155e2347b63d58c5
        457afd84d05dfffdb20392844ae81215 4682e9cf012f9021a6f0be17ddd0c208
        4dce25ff9b06cde535d0f920a2db1bf3 62c23e596d11a4f5a6cf3948838a3aec
        4e15daf8500a6ef69ec4e3feb6b1d98e 610ac8b7ec3faf6ad760b7bad1db4ba3
        485e8a94dc250ae3fdb41ed15fb6a8e5 eba0fc3dd60bc8e30c5c4287e53805db
        059ae0648db2f64264ed5e39be2e20d8 2df566da8dd5998ccabdae053060ae6c
        7b4378e846d29f37ed7b4ea9ec5d82e7 961b7f25a9323851f681d582363aa5f8
        9937f5a67258bf63ad6f1a0b1d96dbd4 faddfcefc5266ba6611722395c906556
        be52afe3f565636ad1b17d508b73d874 3eeb524be22b3dcbc2c7468d54119c74
        68449a13d8e3b95811a198f3491de3e7 fe942b330407abf82a4ed7c1b311663a
        c69890f4157015853d91e923037c227a 33cdd5ec281ca3f79c44546b9d90ca00
        f064c99e3dd97911d39fe9c5d0b23a22 9a234cb36186c4819e8b9c5927726632
        291d6a418211cc2962e20fe47feb3edf 330f2c603a9d48c0fcb5699dbfe58964
        25c5bac4aee82e57a85aaf4e2513e4f0 5796b07ba2ee47d80506f8d2c25e50fd
        14de71e6c418559302f939b0e1abd576 f279c4b2e0feb85c1f28ff18f58891ff
        ef132eef2fa09346aee33c28eb130ff2 8f5b766953334113211996d20011a198
        e3fc433f9f2541010ae17c1bf202580f 6047472fb36857fe843b19f5984009dd
        c324044e847a4f4a0ab34f719595de37 252d6235365e9b84392b061085349d73
        203a4a13e96f5432ec0fd4a1ee65accd d5e3904df54c1da510b0ff20dcc0c77f
        cb2c0e0eb605cb0504db87632cf3d8b4 dae6e705769d1de354270123cb11450e
        fc60ac47683d7b8d0f811365565fd98c 4c8eb936bcab8d069fc33bd801b03ade
        a2e1fbc5aa463d08ca19896d2bf59a07 1b851e6c239052172f296bfb5e724047
        90a2181014f3b94a4e97d117b4381303 68cc39dbb2d198065ae3986547926cd2
        162f40a29f0c3c8745c0f50fba3852e5 66d44575c29d39a03f0cda721984b6f4
        40591f355e12d439ff150aab7613499d bd49adabc8676eef023b15b65bfc5ca0
        6948109f23f350db82123535eb8a7433 bdabcb909271a6ecbcb58b936a88cd4e
        8f2e6ff5800175f113253d8fa9ca8885 c2f552e657dc603f252e1a8e308f76f0
        be79e2fb8f5d5fbbe2e30ecadd220723 c8c0aea8078cdfcb3868263ff8f09400
        54da48781893a7e49ad5aff4af300cd8 04a6b6279ab3ff3afb64491c85194aab
        760d58a606654f9f4400e8b38591356f bf6425aca26dc85244259ff2b19c41b9
        f96f3ca9ec1dde434da7d2d392b905dd f3d1f9af93d1af5950bd493f5aa731b4
        056df31bd267b6b90a079831aaf579be 0a39013137aac6d404f518cfd4684064
        7e78bfe706ca4cf5e9c5453e9f7cfd2b 8b4c8d169a44e55c88d4a9a7f9474241
        e221af44860018ab0856972e194cd934";

    /// RFC 9001 appendix A.3: the server Initial.
    const RFC9001_A3_PACKET: &str = "
        cf000000010008f067a5502a4262b500 4075c0d95a482cd0991cd25b0aac406a
        5816b6394100f37a1c69797554780bb3 8cc5a99f5ede4cf73c3ec2493a1839b3
        dbcba3f6ea46c5b7684df3548e7ddeb9 c3bf9c73cc3f3bded74b562bfb19fb84
        022f8ef4cdd93795d77d06edbb7aaf2f 58891850abbdca3d20398c276456cbc4
        2158407dd074ee";

    /// RFC 9369 appendix A.2: the protected client Initial of QUIC v2.
    const RFC9369_A2_PACKET: &str = "
        d76b3343cf088394c8f03e5157080000 449ea0c95e82ffe67b6abcdb4298b485
        dd04de806071bf03dceebfa162e75d6c 96058bdbfb127cdfcbf903388e99ad04
        9f9a3dd4425ae4d0992cfff18ecf0fdb 5a842d09747052f17ac2053d21f57c5d
        250f2c4f0e0202b70785b7946e992e58 a59ac52dea6774d4f03b55545243cf1a
        12834e3f249a78d395e0d18f4d766004 f1a2674802a747eaa901c3f10cda5500
        cb9122faa9f1df66c392079a1b40f0de 1c6054196a11cbea40afb6ef5253cd68
        18f6625efce3b6def6ba7e4b37a40f77 32e093daa7d52190935b8da58976ff33
        12ae50b187c1433c0f028edcc4c2838b 6a9bfc226ca4b4530e7a4ccee1bfa2a3
        d396ae5a3fb512384b2fdd851f784a65 e03f2c4fbe11a53c7777c023462239dd
        6f7521a3f6c7d5dd3ec9b3f233773d4b 46d23cc375eb198c63301c21801f6520
        bcfb7966fc49b393f0061d974a2706df 8c4a9449f11d7f3d2dcbb90c6b877045
        636e7c0c0fe4eb0f697545460c806910 d2c355f1d253bc9d2452aaa549e27a1f
        ac7cf4ed77f322e8fa894b6a83810a34 b361901751a6f5eb65a0326e07de7c12
        16ccce2d0193f958bb3850a833f7ae43 2b65bc5a53975c155aa4bcb4f7b2c4e5
        4df16efaf6ddea94e2c50b4cd1dfe060 17e0e9d02900cffe1935e0491d77ffb4
        fdf85290fdd893d577b1131a610ef6a5 c32b2ee0293617a37cbb08b847741c3b
        8017c25ca9052ca1079d8b78aebd4787 6d330a30f6a8c6d61dd1ab5589329de7
        14d19d61370f8149748c72f132f0fc99 f34d766c6938597040d8f9e2bb522ff9
        9c63a344d6a2ae8aa8e51b7b90a4a806 105fcbca31506c446151adfeceb51b91
        abfe43960977c87471cf9ad4074d30e1 0d6a7f03c63bd5d4317f68ff325ba3bd
        80bf4dc8b52a0ba031758022eb025cdd 770b44d6d6cf0670f4e990b22347a7db
        848265e3e5eb72dfe8299ad7481a4083 22cac55786e52f633b2fb6b614eaed18
        d703dd84045a274ae8bfa73379661388 d6991fe39b0d93debb41700b41f90a15
        c4d526250235ddcd6776fc77bc97e7a4 17ebcb31600d01e57f32162a8560cacc
        7e27a096d37a1a86952ec71bd89a3e9a 30a2a26162984d7740f81193e8238e61
        f6b5b984d4d3dfa033c1bb7e4f0037fe bf406d91c0dccf32acf423cfa1e70710
        10d3f270121b493ce85054ef58bada42 310138fe081adb04e2bd901f2f13458b
        3d6758158197107c14ebb193230cd115 7380aa79cae1374a7c1e5bbcb80ee23e
        06ebfde206bfb0fcbc0edc4ebec30966 1bdd908d532eb0c6adc38b7ca7331dce
        8dfce39ab71e7c32d318d136b6100671 a1ae6a6600e3899f31f0eed19e3417d1
        34b90c9058f8632c798d4490da498730 7cba922d61c39805d072b589bd52fdf1
        e86215c2d54e6670e07383a27bbffb5a ddf47d66aa85a0c6f9f32e59d85a44dd
        5d3b22dc2be80919b490437ae4f36a0a e55edf1d0b5cb4e9a3ecabee93dfc6e3
        8d209d0fa6536d27a5d6fbb17641cde2 7525d61093f1b28072d111b2b4ae5f89
        d5974ee12e5cf7d5da4d6a31123041f3 3e61407e76cffcdcfd7e19ba58cf4b53
        6f4c4938ae79324dc402894b44faf8af bab35282ab659d13c93f70412e85cb19
        9a37ddec600545473cfb5a05e08d0b20 9973b2172b4d21fb69745a262ccde96b
        a18b2faa745b6fe189cf772a9f84cbfc";

    /// RFC 9369 appendix A.3: the server Initial of QUIC v2.
    const RFC9369_A3_PACKET: &str = "
        dc6b3343cf0008f067a5502a4262b500 4075d92faaf16f05d8a4398c47089698
        baeea26b91eb761d9b89237bbf872630 17915358230035f7fd3945d88965cf17
        f9af6e16886c61bfc703106fbaf3cb4c fa52382dd16a393e42757507698075b2
        c984c707f0a0812d8cd5a6881eaf21ce da98f4bd23f6fe1a3e2c43edd9ce7ca8
        4bed8521e2e140";

    fn expand(secret: &[u8], label: &[u8], len: usize) -> Vec<u8> {
        let hk = Hkdf::<Sha256>::from_prk(secret).unwrap();
        let mut out = vec![0; len];
        expand_label(&hk, label, &mut out).unwrap();
        out
    }

    fn check_key_schedule(
        version: u32,
        initial: &str,
        client: &str,
        key: &str,
        iv: &str,
        hp: &str,
    ) {
        let p = profile(version).unwrap();
        let (prk, _) = Hkdf::<Sha256>::extract(Some(p.salt), &hex(RFC_DCID));
        assert_eq!(prk.to_vec(), hex(initial), "initial_secret");
        assert_eq!(
            expand(&prk, b"client in", 32),
            hex(client),
            "client_initial_secret"
        );
        let s = client_secrets(&p, &hex(RFC_DCID)).unwrap();
        assert_eq!(s.key.to_vec(), hex(key), "key");
        assert_eq!(s.iv.to_vec(), hex(iv), "iv");
        assert_eq!(s.hp.to_vec(), hex(hp), "hp");
    }

    #[test]
    fn rfc9001_a1_keys() {
        check_key_schedule(
            VERSION_1,
            "7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44",
            "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
            "1f369613dd76d5467730efcbe3b1a22d",
            "fa044b2f42a3fd3b46fb255c",
            "9f50449e04a0e810283a1e9933adedd2",
        );
        // The server side of A.1, through the same expansion.
        let (prk, _) = Hkdf::<Sha256>::extract(Some(SALT_V1), &hex(RFC_DCID));
        let server = expand(&prk, b"server in", 32);
        assert_eq!(
            server,
            hex("3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b")
        );
        assert_eq!(
            expand(&server, b"quic key", 16),
            hex("cf3a5331653c364c88f0f379b6067e37")
        );
        assert_eq!(
            expand(&server, b"quic iv", 12),
            hex("0ac1493ca1905853b0bba03e")
        );
        assert_eq!(
            expand(&server, b"quic hp", 16),
            hex("c206b8d9b9f0f37644430b490eeaa314")
        );
    }

    #[test]
    fn rfc9369_a1_keys() {
        check_key_schedule(
            VERSION_2,
            "2062e8b3cd8d52092614b8071d0aa1fb7c2e3ac193f78b280e72d8f5751f6aba",
            "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
            "8b1a0bc121284290a29e0971b5cd045d",
            "91f73e2351d8fa91660e909f",
            "45b95e15235d6f45a6b19cbcb0294ba9",
        );
    }

    #[test]
    fn header_protection_masks_of_the_rfcs() {
        for (version, sample, mask) in [
            (VERSION_1, "d1b1c98dd7689fb8ec11d242b123dc9b", "437b9aec36"),
            (VERSION_2, "ffe67b6abcdb4298b485dd04de806071", "94a0c95e80"),
        ] {
            let keys = InitialKeys::client(version, &hex(RFC_DCID)).unwrap();
            // A fake packet whose sample sits right after a 0-byte header.
            let mut bytes = vec![0; SAMPLE_OFFSET];
            bytes.extend(hex(sample));
            assert_eq!(keys.mask(&bytes, 0).unwrap()[..5].to_vec(), hex(mask));
        }
    }

    /// Opens the A.2 packet of either RFC: header fields, packet number 2,
    /// and the CRYPTO frame then PADDING to 1162 bytes.
    fn check_a2(packet_hex: &str, version: u32, kind_bits: u8) {
        let datagram = hex(packet_hex);
        assert_eq!(datagram.len(), 1200);
        assert_eq!((datagram[0] >> 4) & 3, kind_bits);
        let (packet, rest) = parse_packet(&datagram).unwrap();
        assert!(rest.is_empty());
        let Packet::Long(p) = packet else {
            panic!("{packet:?}")
        };
        assert_eq!(
            (p.version, p.kind, p.dcid, p.scid, p.token, p.pn_offset),
            (
                version,
                LongType::Initial,
                &hex(RFC_DCID)[..],
                &[][..],
                &[][..],
                18
            )
        );
        let keys = InitialKeys::client(version, p.dcid).unwrap();
        let mut scratch = Vec::new();
        let (pn, frames) = keys.open(&p, None, &mut scratch).unwrap();
        assert_eq!((pn, frames.clone()), (2, 22..1200 - 16));
        let mut want = hex(A2_CRYPTO_FRAME);
        want.resize(1162, 0);
        assert_eq!(scratch[frames], want[..]);
        assert_eq!(open_client_initial(&p).unwrap(), want);
        // One flipped bit anywhere fails the tag.
        let mut bad = datagram.clone();
        bad[600] ^= 1;
        let Ok((Packet::Long(p), _)) = parse_packet(&bad) else {
            panic!()
        };
        assert_eq!(open_client_initial(&p), Err(QuicAnomaly::InitialNotOpened));
    }

    #[test]
    fn rfc9001_a2_client_initial_opens() {
        check_a2(RFC9001_A2_PACKET, VERSION_1, 0);
    }

    #[test]
    fn rfc9369_a2_client_initial_opens() {
        // v2 Initials carry type bits 0b01 (RFC 9369 §3.2).
        check_a2(RFC9369_A2_PACKET, VERSION_2, 1);
    }

    fn check_tracker_on_rfc_flow(client_hex: &str, server_hex: &str, version: u32) {
        let mut t = QuicTracker::new();
        assert_eq!(t.datagram(&hex(client_hex), true), Status::Done);
        assert!(!t.is_finished(), "waits for the server's CID");
        let info = t.info();
        assert_eq!(info.version, version);
        assert_eq!(info.dcid, hex(RFC_DCID));
        assert!(info.scid.is_empty());
        let ch = info.client_hello.as_ref().unwrap();
        assert_eq!(ch.sni.as_deref(), Some("example.com"));
        assert_eq!(ch.alpn, ["alpn"]);
        assert_eq!(ch.cipher_suites, [0x1301, 0x1302]);
        assert_eq!(ch.supported_versions, [0x0304]);
        // 11 extensions; ALPN "alpn" gives "an".
        assert!(ch.ja4(true).starts_with("q13d0211an_"), "{}", ch.ja4(true));
        // The server's Initial names its CID; then nothing more is read.
        assert_eq!(t.datagram(&hex(server_hex), false), Status::Done);
        assert!(t.is_finished());
        assert_eq!(t.info().server_scid, Some(hex("f067a5502a4262b5")));
        assert_eq!(t.anomalies().count(), 0);
        assert_eq!(t.datagrams(), 2);
    }

    #[test]
    fn rfc9001_flow_through_the_tracker() {
        check_tracker_on_rfc_flow(RFC9001_A2_PACKET, RFC9001_A3_PACKET, VERSION_1);
    }

    #[test]
    fn rfc9369_flow_through_the_tracker() {
        check_tracker_on_rfc_flow(RFC9369_A2_PACKET, RFC9369_A3_PACKET, VERSION_2);
    }

    #[test]
    fn server_initials_do_not_open_with_client_keys() {
        for server in [RFC9001_A3_PACKET, RFC9369_A3_PACKET] {
            let bytes = hex(server);
            let Ok((Packet::Long(p), rest)) = parse_packet(&bytes) else {
                panic!()
            };
            assert!(rest.is_empty());
            assert_eq!(
                (p.kind, p.scid),
                (LongType::Initial, &hex("f067a5502a4262b5")[..])
            );
            assert!(open_client_initial(&p).is_err());
        }
    }

    #[test]
    fn rfc_retry_packets() {
        // RFC 9001 A.4 (type bits 0b11) and RFC 9369 A.4 (0b00).
        for (bytes, version) in [
            (
                "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba",
                VERSION_1,
            ),
            (
                "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6",
                VERSION_2,
            ),
        ] {
            let bytes = hex(bytes);
            let (Packet::Long(p), rest) = parse_packet(&bytes).unwrap() else {
                panic!()
            };
            assert!(rest.is_empty());
            assert_eq!(p.version, version);
            assert_eq!(p.kind, LongType::Retry);
            assert_eq!(p.scid, hex("f067a5502a4262b5"));
            assert_eq!(p.token, b"token");
        }
    }

    #[test]
    fn rfc9000_varint_and_packet_number_examples() {
        // RFC 9000 appendix A.1.
        for (bytes, want) in [
            ("c2197c5eff14e88c", 151_288_809_941_952_652u64),
            ("9d7f3e7d", 494_878_333),
            ("7bbd", 15_293),
            ("25", 37),
            ("4025", 37),
        ] {
            let b = hex(bytes);
            let mut r = Reader(&b);
            assert_eq!(r.varint(), Some(want));
            assert!(r.0.is_empty());
        }
        assert_eq!(Reader(&hex("c2197c")).varint(), None);
        // RFC 9000 appendix A.3.
        assert_eq!(
            decode_packet_number(Some(0xa82f30ea), 0x9b32, 16),
            0xa82f9b32
        );
        assert_eq!(decode_packet_number(None, 2, 32), 2);
        assert_eq!(decode_packet_number(Some(0xff), 0x01, 8), 0x101);
    }

    // ---- Synthetic flows: client Initials sealed here with the same keys.

    fn varint(v: u64) -> Vec<u8> {
        match v {
            0..=63 => vec![v as u8],
            64..=16383 => (v as u16 | 0x4000).to_be_bytes().to_vec(),
            _ => (v as u32 | 0x8000_0000).to_be_bytes().to_vec(),
        }
    }

    fn crypto_frame(offset: usize, data: &[u8]) -> Vec<u8> {
        let mut f = vec![0x06];
        f.extend(varint(offset as u64));
        f.extend(varint(data.len() as u64));
        f.extend_from_slice(data);
        f
    }

    /// The ClientHello handshake message of the sample record.
    fn hello_message(sni: &str) -> Vec<u8> {
        tls_client_hello(sni, &["h3"])[5..].to_vec()
    }

    /// A protected client Initial: 4-byte packet number `pn`, `frames`
    /// padded to at least 1162 bytes of payload when `pad`.
    fn seal(version: u32, dcid: &[u8], scid: &[u8], pn: u32, frames: &[u8], pad: bool) -> Vec<u8> {
        seal_keyed(dcid, version, dcid, scid, pn, frames, pad)
    }

    /// The same, with keys from `keys_dcid` (the client's original DCID).
    fn seal_keyed(
        keys_dcid: &[u8],
        version: u32,
        dcid: &[u8],
        scid: &[u8],
        pn: u32,
        frames: &[u8],
        pad: bool,
    ) -> Vec<u8> {
        let keys = InitialKeys::client(version, keys_dcid).unwrap();
        let mut payload = frames.to_vec();
        if pad && payload.len() < 1162 {
            payload.resize(1162, 0);
        }
        let type_bits = if version == VERSION_2 { 1 } else { 0 };
        let mut packet = vec![0xc3 | type_bits << 4];
        packet.extend(version.to_be_bytes());
        packet.push(dcid.len() as u8);
        packet.extend_from_slice(dcid);
        packet.push(scid.len() as u8);
        packet.extend_from_slice(scid);
        packet.push(0); // token length
        packet.extend(((4 + payload.len() + TAG_BYTES) as u16 | 0x4000).to_be_bytes());
        let pn_offset = packet.len();
        packet.extend(pn.to_be_bytes());
        let mut nonce = keys.iv;
        for (n, p) in nonce[4..].iter_mut().zip(u64::from(pn).to_be_bytes()) {
            *n ^= p;
        }
        let tag = keys
            .aead
            .encrypt_inout_detached(&nonce.into(), &packet, payload.as_mut_slice().into())
            .unwrap();
        packet.extend(payload);
        packet.extend(tag);
        let mask = keys.mask(&packet, pn_offset).unwrap();
        packet[0] ^= mask[0] & 0x0f;
        for i in 0..4 {
            packet[pn_offset + i] ^= mask[1 + i];
        }
        packet
    }

    const DCID: &[u8] = b"\x01\x02\x03\x04\x05\x06\x07\x08";
    const SCID: &[u8] = b"\xaa\xbb";

    #[test]
    fn hello_split_over_initials_arriving_out_of_order() {
        let m = hello_message("split.example");
        let (a, b) = m.split_at(40);
        let first = seal(VERSION_1, DCID, SCID, 0, &crypto_frame(0, a), true);
        let second = seal(VERSION_1, DCID, SCID, 1, &crypto_frame(40, b), true);
        let mut t = QuicTracker::new();
        assert_eq!(t.datagram(&second, true), Status::Reading);
        assert_eq!(t.datagram(&first, true), Status::Done);
        let ch = t.info().client_hello.as_ref().unwrap();
        assert_eq!(ch.sni.as_deref(), Some("split.example"));
        assert_eq!(t.info().dcid, DCID);
        assert_eq!(t.info().scid, SCID);
    }

    #[test]
    fn keys_stay_with_the_original_dcid_after_the_server_picks_its_cid() {
        let m = hello_message("server-cid.example");
        let (a, b) = m.split_at(60);
        let server_cid = b"\x5e\x5e\x5e\x5e";
        let mut t = QuicTracker::new();
        let first = seal(VERSION_1, DCID, SCID, 0, &crypto_frame(0, a), true);
        assert_eq!(t.datagram(&first, true), Status::Reading);
        // The server answers from its own CID (keys: server side, never
        // opened here); the client then addresses that CID, still under
        // the Initial keys of its original DCID (RFC 9001 §5.2).
        let mut server = vec![0xc1, 0, 0, 0, 1, 2, 0xaa, 0xbb, 4];
        server.extend_from_slice(server_cid);
        server.extend([0, 0x40, 20]);
        server.extend([0x11; 20]);
        assert_eq!(t.datagram(&server, false), Status::Reading);
        assert_eq!(t.info().server_scid.as_deref(), Some(&server_cid[..]));
        let second = seal_keyed(
            DCID,
            VERSION_1,
            server_cid,
            SCID,
            1,
            &crypto_frame(60, b),
            true,
        );
        assert_eq!(t.datagram(&second, true), Status::Done);
        assert_eq!((t.info().dcid.as_slice(), t.info().restarts), (DCID, 0));
        assert!(t.is_finished());
        assert_eq!(t.anomalies().count(), 0);
    }

    #[test]
    fn hello_in_many_frames_of_one_packet_with_ping_and_padding() {
        let m = hello_message("frames.example");
        let mut frames = Vec::new();
        // Reversed pieces of 7 bytes, a PING and a PADDING run between,
        // an overlapping duplicate, and an ACK before all.
        frames.extend([0x02, 0x00, 0x00, 0x00, 0x00]);
        let pieces: Vec<(usize, &[u8])> =
            m.chunks(7).enumerate().map(|(i, c)| (i * 7, c)).collect();
        for (off, c) in pieces.iter().rev() {
            frames.extend(crypto_frame(*off, c));
            frames.extend([0x01, 0x00, 0x00]);
        }
        frames.extend(crypto_frame(3, &m[3..20]));
        let mut t = QuicTracker::new();
        assert_eq!(
            t.datagram(&seal(VERSION_1, DCID, SCID, 0, &frames, true), true),
            Status::Done
        );
        assert_eq!(
            t.info().client_hello.as_ref().unwrap().sni.as_deref(),
            Some("frames.example")
        );
    }

    #[test]
    fn coalesced_packets_are_walked_by_length() {
        let m = hello_message("coalesced.example");
        let (a, b) = m.split_at(30);
        let mut datagram = seal(VERSION_1, DCID, SCID, 0, &crypto_frame(0, a), false);
        // A 0-RTT packet between the two Initials (never opened).
        datagram.extend([0xd0, 0, 0, 0, 1, 8]);
        datagram.extend_from_slice(DCID);
        datagram.extend([2, 0xaa, 0xbb, 0x05, 1, 2, 3, 4, 5]);
        datagram.extend(seal(VERSION_1, DCID, SCID, 1, &crypto_frame(30, b), false));
        // Zeros after the last packet, as some clients pad the datagram.
        datagram.resize(1200, 0);
        let mut t = QuicTracker::new();
        assert_eq!(t.datagram(&datagram, true), Status::Done);
        assert_eq!(t.anomalies().count(), 0);
    }

    #[test]
    fn client_found_by_content_when_the_server_speaks_first() {
        // The capture starts with the server's Initial: its side is "up".
        let mut t = QuicTracker::new();
        assert_eq!(t.datagram(&hex(RFC9001_A3_PACKET), true), Status::Reading);
        assert_eq!(t.datagram(&hex(RFC9001_A2_PACKET), false), Status::Done);
        assert_eq!(
            t.info().client_hello.as_ref().unwrap().sni.as_deref(),
            Some("example.com")
        );
        // The server's CID is only taken once the sides are known.
        assert_eq!(t.datagram(&hex(RFC9001_A3_PACKET), true), Status::Done);
        assert_eq!(t.info().server_scid, Some(hex("f067a5502a4262b5")));
        assert_eq!(t.anomalies().count(), 0, "a server Initial is no anomaly");
    }

    #[test]
    fn retry_starts_over_with_keys_from_the_new_dcid() {
        let m = hello_message("retry.example");
        let mut t = QuicTracker::new();
        // The first attempt sends only part of its hello before the Retry.
        let first = seal(VERSION_1, DCID, SCID, 0, &crypto_frame(0, &m[..50]), true);
        assert_eq!(t.datagram(&first, true), Status::Reading);
        let new_dcid = b"\x77\x66\x55\x44";
        let mut retry = vec![0xf0, 0, 0, 0, 1, 2, 0xaa, 0xbb, 4];
        retry.extend_from_slice(new_dcid);
        retry.extend(b"token");
        retry.extend([0; 16]);
        assert_eq!(t.datagram(&retry, false), Status::Reading);
        assert!(t.info().retry);
        // The client sends its whole hello again under the new keys; the
        // old attempt's bytes (here, a different hello) are dropped.
        let again = seal(VERSION_1, new_dcid, SCID, 0, &crypto_frame(0, &m), true);
        assert_eq!(t.datagram(&again, true), Status::Done);
        assert_eq!(t.info().dcid, new_dcid);
        assert_eq!(t.info().restarts, 1);
        assert_eq!(
            t.info().client_hello.as_ref().unwrap().sni.as_deref(),
            Some("retry.example")
        );
        // The server's Retry CID is not its Initial CID: still waiting.
        assert!(!t.is_finished());
    }

    #[test]
    fn version_negotiation_then_v2() {
        let mut t = QuicTracker::new();
        // A client forcing negotiation with a reserved version.
        let mut forcing = vec![0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8];
        forcing.extend_from_slice(DCID);
        forcing.extend([2, 0xaa, 0xbb]);
        forcing.resize(1200, 0);
        assert!(starts_like_quic(&forcing));
        assert_eq!(t.datagram(&forcing, true), Status::Reading);
        assert_eq!(t.info().version, 0x1a2a3a4a);
        let mut vn = vec![0x80, 0, 0, 0, 0, 2, 0xaa, 0xbb, 8];
        vn.extend_from_slice(DCID);
        vn.extend(VERSION_2.to_be_bytes());
        vn.extend(VERSION_1.to_be_bytes());
        assert_eq!(t.datagram(&vn, false), Status::Reading);
        assert_eq!(t.info().server_versions, [VERSION_2, VERSION_1]);
        let m = hello_message("v2.example");
        let v2 = seal(
            VERSION_2,
            b"\x09\x09\x09\x09\x09\x09\x09\x09",
            SCID,
            0,
            &crypto_frame(0, &m),
            true,
        );
        assert_eq!(t.datagram(&v2, true), Status::Done);
        assert_eq!(t.info().version, VERSION_2);
        assert_eq!(t.info().restarts, 0, "no earlier keys to replace");
    }

    #[test]
    fn crypto_past_the_cap_gives_up() {
        let frames = crypto_frame(MAX_CRYPTO_BYTES, b"x");
        let mut t = QuicTracker::new();
        let status = t.datagram(&seal(VERSION_1, DCID, SCID, 0, &frames, true), true);
        assert_eq!(status, Status::GaveUp(GiveUp::CryptoCap));
        assert!(t.is_finished());
        // A hello that says it is longer than the cap gives up at once.
        let frames = crypto_frame(0, &[1, 0, 0x50, 0]);
        let mut t = QuicTracker::new();
        let status = t.datagram(&seal(VERSION_1, DCID, SCID, 0, &frames, true), true);
        assert_eq!(status, Status::GaveUp(GiveUp::CryptoCap));
    }

    #[test]
    fn crypto_in_too_many_pieces_gives_up() {
        let mut frames = Vec::new();
        for i in 1..=MAX_CRYPTO_RANGES + 1 {
            frames.extend(crypto_frame(i * 4, b"xx"));
        }
        let mut t = QuicTracker::new();
        let status = t.datagram(&seal(VERSION_1, DCID, SCID, 0, &frames, true), true);
        assert_eq!(status, Status::GaveUp(GiveUp::CryptoFragmented));
    }

    #[test]
    fn crypto_stream_first_arrival_wins_and_merges() {
        let mut c = CryptoStream::default();
        c.insert(4, b"efgh").unwrap();
        c.insert(0, b"abXX").unwrap();
        c.insert(2, b"cdZZZZ").unwrap();
        assert_eq!(c.prefix(), b"abXXefgh", "bytes held are kept");
        assert_eq!(c.ranges, [(0, 8)]);
        c.insert(10, b"k").unwrap();
        assert_eq!(c.ranges, [(0, 8), (10, 11)]);
        c.insert(8, b"ij").unwrap();
        assert_eq!(
            (c.prefix(), &c.ranges[..]),
            (&b"abXXefghijk"[..], &[(0, 11)][..])
        );
    }

    #[test]
    fn not_a_hello_gives_up_with_the_tls_reason() {
        let frames = crypto_frame(0, &[2, 0, 0, 4, 3, 3, 0, 0]);
        let mut t = QuicTracker::new();
        let status = t.datagram(&seal(VERSION_1, DCID, SCID, 0, &frames, true), true);
        assert!(
            matches!(status, Status::GaveUp(GiveUp::BadClientHello(_))),
            "{status:?}"
        );
    }

    #[test]
    fn unknown_frame_is_an_anomaly_and_keeps_what_came_before() {
        let m = hello_message("frame.example");
        let mut frames = crypto_frame(0, &m);
        frames.extend([0x08, 1, 2, 3]); // STREAM: not allowed in an Initial
        let mut t = QuicTracker::new();
        assert_eq!(
            t.datagram(&seal(VERSION_1, DCID, SCID, 0, &frames, true), true),
            Status::Done
        );
        assert_eq!(t.anomalies().collect::<Vec<_>>(), [QuicAnomaly::BadFrame]);
    }

    #[test]
    fn not_quic_and_budget() {
        let mut t = QuicTracker::new();
        assert_eq!(
            t.datagram(b"\x12\x34\x01\x00\x00\x01", true),
            Status::NotQuic
        );
        assert!(t.is_finished());
        // Google QUIC's long header opens nothing here.
        let mut t = QuicTracker::new();
        assert_eq!(t.datagram(b"\xc3Q050\x08", true), Status::NotQuic);
        // A QUIC start whose Initials never open: the budget ends it.
        let mut t = QuicTracker::new();
        let mut junk = hex(RFC9001_A2_PACKET);
        junk[700] ^= 0x40;
        for i in 1..=MAX_DATAGRAMS {
            let s = t.datagram(&junk, true);
            assert_eq!(s == Status::Reading, i < MAX_DATAGRAMS);
        }
        assert_eq!(t.status(), Status::GaveUp(GiveUp::NoInitialOpened));
        assert!(t.is_finished());
        assert_eq!(t.datagram(&hex(RFC9001_A2_PACKET), true), t.status());
        assert_eq!(
            t.datagrams(),
            MAX_DATAGRAMS,
            "finished trackers read nothing"
        );
    }

    #[test]
    fn an_initial_that_never_opens_is_named_once_sides_are_unknown_or_its_the_client() {
        let mut junk = hex(RFC9001_A2_PACKET);
        junk[700] ^= 0x40;
        let mut t = QuicTracker::new();
        t.datagram(&junk, true);
        assert_eq!(
            t.anomalies().collect::<Vec<_>>(),
            [QuicAnomaly::InitialNotOpened]
        );
        // Once the other side proves to be the client, that was the
        // server's Initial: no anomaly.
        t.datagram(&hex(RFC9001_A2_PACKET), false);
        assert_eq!(t.anomalies().count(), 0);
        // The client's own broken Initial stays named.
        let mut t = QuicTracker::new();
        t.datagram(&junk, true);
        t.datagram(&hex(RFC9001_A2_PACKET), true);
        assert_eq!(
            t.anomalies().collect::<Vec<_>>(),
            [QuicAnomaly::InitialNotOpened]
        );
    }

    #[test]
    fn every_truncation_of_the_rfc_packet_is_handled() {
        let full = hex(RFC9001_A2_PACKET);
        for n in 0..full.len() {
            let mut t = QuicTracker::new();
            let s = t.datagram(&full[..n], true);
            assert!(matches!(s, Status::Reading | Status::NotQuic), "{n}: {s:?}");
            if n >= 5 {
                assert!(t.anomalies().count() == 1, "{n}: a named anomaly");
            }
        }
    }

    #[test]
    fn malformed_headers_are_named() {
        assert_eq!(
            parse_packet(b"\xc0\x00\x00"),
            Err(QuicAnomaly::TruncatedHeader)
        );
        let mut long_cid = vec![0xc0, 0, 0, 0, 1, 21];
        long_cid.extend([0; 22]);
        assert_eq!(parse_packet(&long_cid), Err(QuicAnomaly::CidTooLong));
        // Unknown versions may use up to 255 bytes (RFC 8999 §5.1).
        long_cid[1..5].copy_from_slice(&[0, 0, 0, 9]);
        assert!(matches!(
            parse_packet(&long_cid),
            Ok((Packet::OtherVersion { .. }, _))
        ));
        assert_eq!(
            parse_packet(b"\x80\x00\x00\x00\x00\x00\x00\x00\x00\x01"),
            Err(QuicAnomaly::BadVersionList)
        );
        assert_eq!(
            parse_packet(b"\xc0\x00\x00\x00\x01\x00\x00\x00\x40\x10\x00"),
            Err(QuicAnomaly::LengthBeyondDatagram)
        );
        assert_eq!(parse_packet(b"\x40\x01"), Ok((Packet::Short, &[][..])));
    }

    /// Datagrams worth a tracker's time: raw bytes, long headers of v1, v2
    /// and Version Negotiation with random rest, and client Initials that
    /// open, holding random frames or random CRYPTO pieces (so the frame
    /// reader and the reassembly see arbitrary plaintext).
    fn datagram() -> impl Strategy<Value = (Vec<u8>, bool)> {
        let tail = proptest::collection::vec(any::<u8>(), 0..1300);
        (0u8..7, any::<u8>(), tail, any::<bool>()).prop_map(|(kind, seed, tail, up)| {
            let head = |v: [u8; 4]| {
                let mut d = vec![0xc0 | seed & 0x3f];
                d.extend(v);
                d.extend(&tail);
                d
            };
            let d = match kind {
                0 => tail.clone(),
                1 => head(VERSION_1.to_be_bytes()),
                2 => head(VERSION_2.to_be_bytes()),
                3 => head([0; 4]),
                4 => seal(VERSION_1, DCID, SCID, u32::from(seed), &tail, seed & 1 == 0),
                5 => seal(VERSION_2, DCID, SCID, u32::from(seed), &tail, false),
                _ => {
                    let offset = usize::from(seed) * 16;
                    seal(VERSION_1, DCID, SCID, 0, &crypto_frame(offset, &tail), true)
                }
            };
            (d, up)
        })
    }

    proptest! {
        #[test]
        fn arbitrary_datagrams_never_panic(
            datagrams in proptest::collection::vec(datagram(), 1..40),
        ) {
            let mut t = QuicTracker::new();
            for (d, up) in &datagrams {
                t.datagram(d, *up);
                prop_assert!(t.datagrams() <= MAX_DATAGRAMS);
            }
            let info = t.info();
            prop_assert!(info.dcid.len() <= MAX_CID_BYTES && info.scid.len() <= MAX_CID_BYTES);
            prop_assert!(info.server_versions.len() <= MAX_SERVER_VERSIONS);
            prop_assert_eq!(t.status() == Status::Done, info.client_hello.is_some());
            if datagrams.len() as u32 >= MAX_DATAGRAMS {
                prop_assert!(t.is_finished());
            }
        }

        #[test]
        fn edited_rfc_packets_never_panic(
            edits in proptest::collection::vec((0usize..1200, any::<u8>()), 1..8),
            cut in 0usize..1300,
        ) {
            for packet in [RFC9001_A2_PACKET, RFC9369_A2_PACKET] {
                let mut d = hex(packet);
                for (at, b) in &edits {
                    d[*at] = *b;
                }
                d.truncate(cut);
                let mut t = QuicTracker::new();
                let s = t.datagram(&d, true);
                // Only an edit in the (unauthenticated) padding of the
                // header could still open; any opened packet is the RFC's.
                if s == Status::Done {
                    let ch = t.info().client_hello.as_ref().unwrap();
                    prop_assert_eq!(ch.sni.as_deref(), Some("example.com"));
                }
            }
        }
    }
}
