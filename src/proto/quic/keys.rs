//! QUIC Initial packet protection (RFC 9001 §5, RFC 9369 §3.3): the
//! per-version salts and labels, the keys anyone can derive from a client's
//! Destination Connection ID, and removing header and payload protection.

use std::fmt;
use std::ops::Range;

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::{AeadInOut, Aes128Gcm};
use hkdf::Hkdf;
use sha2::Sha256;

use super::*;

/// What differs between the versions whose Initials are opened here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Profile {
    /// `initial_salt` (RFC 9001 §5.2).
    pub(super) salt: &'static [u8; 20],
    /// HKDF-Expand-Label labels of the packet key, IV and header key.
    pub(super) labels: [&'static [u8]; 3],
    /// RFC 9369 §3.2: v2 renumbers the long-header packet types.
    pub(super) v2_types: bool,
    /// Google's QUIC over TLS (T050, T051) carries the handshake in frames
    /// of type 0x08 laid out as CRYPTO frames.
    pub(super) gquic_crypto: bool,
}

pub(super) const SALT_V1: &[u8; 20] =
    b"\x38\x76\x2c\xf7\xf5\x59\x34\xb3\x4d\x17\x9a\xe6\xa4\xc8\x0c\xad\xcc\xbb\x7f\x0a";
/// RFC 9369 §3.3.1.
pub(super) const SALT_V2: &[u8; 20] =
    b"\x0d\xed\xe3\xde\xf7\x00\xa6\xdb\x81\x93\x81\xbe\x6e\x26\x9d\xcb\xf9\xbd\x2e\xd9";
/// draft-ietf-quic-tls-29 §5.2 (drafts 29 to 32).
pub(super) const SALT_DRAFT_29: &[u8; 20] =
    b"\xaf\xbf\xec\x28\x99\x93\xd2\x4c\x9e\x97\x86\xf1\x9c\x61\x11\xe0\x43\x90\xa8\x99";
/// draft-ietf-quic-tls-23 §5.2 (drafts 23 to 28).
pub(super) const SALT_DRAFT_23: &[u8; 20] =
    b"\xc3\xee\xf7\x12\xc7\x2e\xbb\x5a\x11\xa7\xd2\x43\x2b\xb4\x63\x65\xbe\xf9\xf5\x02";

/// Google QUIC T050 and T051 (QUIC over TLS before the IETF versions), as
/// Chromium and Wireshark define them.
pub(super) const SALT_T050: &[u8; 20] =
    b"\x7f\xf5\x79\xe5\xac\xd0\x72\x91\x55\x80\x30\x4c\x43\xa2\x36\x7c\x60\x48\x83\x10";
/// Google QUIC Q050 (QUIC crypto in IETF-style protected Initials).
pub(super) const SALT_Q050: &[u8; 20] =
    b"\x50\x45\x74\xef\xd0\x66\xfe\x2f\x9d\x94\x5c\xfc\xdb\xd3\xa7\xf0\xd3\xb5\x6b\x45";
pub(super) const SALT_T051: &[u8; 20] =
    b"\x7a\x4e\xde\xf4\xe7\xcc\xee\x5f\xa4\x50\x6c\x19\x12\x4f\xc8\xcc\xda\x6e\x03\x3d";

pub(super) const LABELS_V1: [&[u8]; 3] = [b"quic key", b"quic iv", b"quic hp"];
/// RFC 9369 §3.3.2.
pub(super) const LABELS_V2: [&[u8]; 3] = [b"quicv2 key", b"quicv2 iv", b"quicv2 hp"];

/// The Initial-protection profile of `version`; `None` for versions whose
/// Initials are not opened here. Drafts 33 and 34 already used the final
/// salt; mvfst's 0xfaceb002 and 0xfaceb00e are draft-27 builds (so TShark
/// and nDPI treat them).
pub(super) fn profile(version: u32) -> Option<Profile> {
    let v1 = |salt| Profile {
        salt,
        labels: LABELS_V1,
        v2_types: false,
        gquic_crypto: false,
    };
    let t05 = |salt| Profile {
        gquic_crypto: true,
        ..v1(salt)
    };
    match version {
        VERSION_1 | 0xff00_0021..=0xff00_0022 => Some(v1(SALT_V1)),
        VERSION_2 => Some(Profile {
            salt: SALT_V2,
            labels: LABELS_V2,
            v2_types: true,
            gquic_crypto: false,
        }),
        T050 => Some(t05(SALT_T050)),
        super::gquic::Q050 => Some(t05(SALT_Q050)),
        T051 => Some(t05(SALT_T051)),
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

/// The client or server Initial packet keys of one connection attempt
/// (RFC 9001 §5.2), derived from the Destination Connection ID of the
/// client's first Initial (or the one a Retry gave).
pub(super) struct InitialKeys {
    pub(super) version: u32,
    pub(super) dcid: Vec<u8>,
    pub(super) aead: Aes128Gcm,
    pub(super) iv: [u8; 12],
    pub(super) hp: Aes128,
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
pub(super) struct ClientSecrets {
    pub(super) key: [u8; 16],
    pub(super) iv: [u8; 12],
    pub(super) hp: [u8; 16],
}

/// HKDF-Expand-Label with an empty context (RFC 8446 §7.1).
pub(super) fn expand_label(hk: &Hkdf<Sha256>, label: &[u8], out: &mut [u8]) -> Option<()> {
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

#[cfg(test)]
pub(super) fn client_secrets(profile: &Profile, dcid: &[u8]) -> Option<ClientSecrets> {
    secrets(profile, dcid, CLIENT_IN)
}

/// The labels of the two sides' Initial secrets.
pub(super) const CLIENT_IN: &[u8] = b"client in";
pub(super) const SERVER_IN: &[u8] = b"server in";

/// The key, IV and header key of one side (`CLIENT_IN`, `SERVER_IN`).
pub(super) fn secrets(profile: &Profile, dcid: &[u8], side: &[u8]) -> Option<ClientSecrets> {
    let initial = Hkdf::<Sha256>::new(Some(profile.salt), dcid);
    let mut client = [0u8; 32];
    expand_label(&initial, side, &mut client)?;
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
    pub(super) fn client(version: u32, dcid: &[u8]) -> Option<InitialKeys> {
        InitialKeys::new(version, dcid, CLIENT_IN)
    }

    /// The server's Initial keys (from the client's DCID too).
    pub(super) fn server(version: u32, dcid: &[u8]) -> Option<InitialKeys> {
        InitialKeys::new(version, dcid, SERVER_IN)
    }

    fn new(version: u32, dcid: &[u8], side: &[u8]) -> Option<InitialKeys> {
        let s = secrets(&profile(version)?, dcid, side)?;
        Some(InitialKeys {
            version,
            dcid: dcid.to_vec(),
            aead: Aes128Gcm::new_from_slice(&s.key).ok()?,
            iv: s.iv,
            hp: Aes128::new_from_slice(&s.hp).ok()?,
        })
    }

    /// The header-protection mask for the sample after `pn_offset`.
    pub(super) fn mask(&self, bytes: &[u8], pn_offset: usize) -> Option<[u8; 16]> {
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
    pub(super) fn open(
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
pub(super) fn decode_packet_number(largest: Option<u64>, truncated: u64, bits: usize) -> u64 {
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
    let keys = InitialKeys::client(packet.keys_version, packet.dcid)
        .ok_or(QuicAnomaly::InitialNotOpened)?;
    let mut scratch = Vec::new();
    let (_, frames) = keys.open(packet, None, &mut scratch)?;
    scratch.truncate(frames.end);
    scratch.drain(..frames.start);
    Ok(scratch)
}

// ---- Sealing: fixtures and generators only (tests, `sample::hostile`).

/// A protected client Initial of `version` with keys from `keys_dcid`
/// (the client's original DCID; `dcid` itself unless the server picked
/// another): 4-byte packet number `pn`, `frames` padded to at least 1162
/// bytes of payload when `pad`. `None` for a version without known keys.
pub fn seal_client_initial(
    keys_dcid: &[u8],
    version: u32,
    dcid: &[u8],
    scid: &[u8],
    pn: u32,
    frames: &[u8],
    pad: bool,
) -> Option<Vec<u8>> {
    let keys = InitialKeys::client(version, keys_dcid)?;
    let type_bits = if version == super::VERSION_2 { 1 } else { 0 };
    seal_with(&keys, type_bits, version, dcid, scid, pn, frames, pad)
}

/// An Initial of wire `version` sealed with `keys`, long-header type bits
/// `type_bits`.
#[allow(clippy::too_many_arguments)]
pub(super) fn seal_with(
    keys: &InitialKeys,
    type_bits: u8,
    version: u32,
    dcid: &[u8],
    scid: &[u8],
    pn: u32,
    frames: &[u8],
    pad: bool,
) -> Option<Vec<u8>> {
    let mut payload = frames.to_vec();
    if pad && payload.len() < 1162 {
        payload.resize(1162, 0);
    }
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
        .ok()?;
    packet.extend(payload);
    packet.extend(tag);
    let mask = keys.mask(&packet, pn_offset)?;
    packet[0] ^= mask[0] & 0x0f;
    for i in 0..4 {
        packet[pn_offset + i] ^= mask[1 + i];
    }
    Some(packet)
}
