//! Detectors of protocols over UDP: one datagram whose header fields hold
//! the protocol's values and whose lengths agree with the datagram, and
//! the RTP header that only a pair of datagrams confirms ([`rtp_header`]).

use super::{asn1, stream, text};

/// A DHT (BEP 5) query or response: a bencoded dictionary with a
/// transaction and type key.
pub(super) fn bittorrent_dht(b: &[u8]) -> bool {
    (b.starts_with(b"d1:ad2:id20:") || b.starts_with(b"d1:rd2:id20:") || b.starts_with(b"d2:ip6:"))
        && b.ends_with(b"e")
}

/// A uTP (BEP 29) connection request: ST_SYN of version 1, no or the
/// extension-bits extension, a zero timestamp difference and ack number.
pub(super) fn utp_syn(b: &[u8]) -> bool {
    let [0x41, ext, ..] = b else {
        return false;
    };
    let header = b.len() >= 20 && b[8..12] == [0; 4] && b[18..20] == [0; 2];
    header
        && match ext {
            0 => b.len() == 20,
            2 => b.len() == 30 && b[20] == 0 && b[21] == 8,
            _ => false,
        }
}

/// A STUN message (RFC 5389): the two top bits clear, a length that is a
/// multiple of 4 and fits, the magic cookie; or a classic (RFC 3489)
/// binding or shared-secret message whose attributes (standard ones, or
/// vendor ones below 0x200, as Zoom's 0x101) fill it exactly.
pub(super) fn stun(b: &[u8]) -> bool {
    match b {
        [t0, _, l0, l1, 0x21, 0x12, 0xa4, 0x42, ..] => {
            let len = usize::from(u16::from_be_bytes([*l0, *l1]));
            t0 & 0xc0 == 0 && len % 4 == 0 && len + 20 <= b.len() && b.len() >= 20
        }
        [t0, t1, l0, l1, ..] => {
            let len = usize::from(u16::from_be_bytes([*l0, *l1]));
            let ty = u16::from_be_bytes([*t0, *t1]);
            if !matches!(ty, 0x0001 | 0x0101 | 0x0111 | 0x0002 | 0x0102 | 0x0112)
                || len == 0
                || len % 4 != 0
                || len + 20 != b.len()
            {
                return false;
            }
            let mut at = 20;
            while let Some(&[a0, a1, l0, l1]) = b.get(at..at + 4) {
                let attr = u16::from_be_bytes([a0, a1]);
                if attr == 0 || (0x0200..0x8000).contains(&attr) {
                    return false;
                }
                at += 4 + usize::from(u16::from_be_bytes([l0, l1])).div_ceil(4) * 4;
            }
            at == b.len()
        }
        _ => false,
    }
}

/// An SNMP message: a SEQUENCE holding version 0, 1 or 3 and (v1/v2c) a
/// community string.
pub(super) fn snmp(b: &[u8]) -> bool {
    let [0x30, l, rest @ ..] = b else {
        return false;
    };
    let rest = if l & 0x80 != 0 {
        rest.get(usize::from(l & 0x7f)..).unwrap_or_default()
    } else {
        rest
    };
    matches!(
        rest,
        [0x02, 0x01, 0 | 1, 0x04, ..] | [0x02, 0x01, 3, 0x30, ..]
    )
}

/// A read or write request (a file name, a known mode), the first data
/// block or its acknowledgement, an error (a code 0–8, a NUL-terminated
/// text filling the datagram) or an option acknowledgement.
pub(super) fn tftp(b: &[u8]) -> bool {
    match b {
        [0, 1 | 2, rest @ ..] => {
            let Some(nul) = rest.iter().position(|&c| c == 0) else {
                return false;
            };
            let mode = &rest[nul + 1..];
            nul > 0
                && rest[..nul]
                    .iter()
                    .all(|c| c.is_ascii_graphic() || *c == b' ')
                && [&b"octet\0"[..], b"netascii\0", b"mail\0"]
                    .iter()
                    .any(|m| super::starts_ci(mode, m))
        }
        [0, 3, 0, 1, data @ ..] => data.len() <= 65464,
        [0, 4, 0, 0 | 1] => true,
        [0, 5, 0, 0..=8, text @ .., 0] => text.iter().all(|c| c.is_ascii_graphic() || *c == b' '),
        [0, 6, opts @ .., 0] => {
            let mut fields = opts.split(|&c| c == 0);
            let mut pairs = 0;
            while let Some(name) = fields.next() {
                let known = [&b"blksize"[..], b"tsize", b"timeout", b"windowsize"]
                    .iter()
                    .any(|k| name.eq_ignore_ascii_case(k));
                let value = fields.next().unwrap_or_default();
                if !known || value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
                    return false;
                }
                pairs += 1;
            }
            pairs > 0
        }
        _ => false,
    }
}

/// A handshake initiation (148 bytes), response (92), cookie reply (64),
/// or transport data (16 header bytes, a counter below 2^32, 16k + 16
/// bytes of ciphertext): type, three zero bytes.
pub(super) fn wireguard(b: &[u8]) -> bool {
    match b {
        [1, 0, 0, 0, ..] => b.len() == 148,
        [2, 0, 0, 0, ..] => b.len() == 92,
        [3, 0, 0, 0, ..] => b.len() == 64,
        [4, 0, 0, 0, ..] => {
            b.len() >= 32 && (b.len() - 32).is_multiple_of(16) && b[12..16] == [0; 4]
        }
        _ => false,
    }
}

/// A name-service query or response (one question whose name is the
/// 32-letter NetBIOS encoding), or a datagram-service message (source
/// name in that encoding after the 14-byte header).
pub(super) fn netbios(b: &[u8]) -> bool {
    let ns = b.len() >= 50 && matches!(b[4..6], [0, 1]) && stream::netbios_name(&b[12..]);
    let dgm =
        matches!(b.first(), Some(0x10..=0x12)) && b.get(14..).is_some_and(stream::netbios_name);
    ns || dgm
}

/// A DNSCrypt response: the fixed resolver magic `r6fnvWj8`.
pub(super) fn dnscrypt_response(b: &[u8]) -> bool {
    b.len() >= 64 && b.starts_with(b"r6fnvWj8")
}

/// An NTP v1–v4 message of a mode 1–5, of the sizes the header, extension
/// fields and MACs make, with a stratum, poll interval, root delay and
/// dispersion in range and a transmit timestamp set.
pub(super) fn ntp(b: &[u8]) -> bool {
    let [flags, stratum, poll, ..] = b else {
        return false;
    };
    let (version, mode) = ((flags >> 3) & 7, flags & 7);
    matches!(b.len(), 48 | 52 | 60 | 68 | 72 | 120)
        && (1..=4).contains(&version)
        && (1..=5).contains(&mode)
        && *stratum <= 16
        && *poll <= 17
        && b[4] < 0x10
        && b[8] < 0x10
        && b[40..48] != [0; 8]
}

/// A RADIUS packet: a known code, the datagram's length (20–4096), and
/// attributes filling it exactly.
pub(super) fn radius(b: &[u8]) -> bool {
    let [code, _, l0, l1, ..] = b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([*l0, *l1]));
    if !matches!(code, 1..=5 | 11..=13 | 40..=45) || len != b.len() || !(20..=4096).contains(&len) {
        return false;
    }
    let (mut at, mut attrs) = (20, 0);
    while at < len {
        match b.get(at..at + 2) {
            Some(&[ty, l]) if ty != 0 && l >= 2 => at += usize::from(l),
            _ => return false,
        }
        attrs += 1;
    }
    // An Accounting-Response may carry none.
    at == len && (attrs > 0 || *code == 5)
}

/// An IKE (v1 or v2) header: an initiator SPI, a next payload, the
/// version, an exchange type of that version, its flags, and the
/// datagram's length; after a non-ESP marker on the NAT-T port.
pub(super) fn ike(b: &[u8]) -> bool {
    let b = b.strip_prefix(&[0, 0, 0, 0]).unwrap_or(b);
    let Some(h) = b.get(..28) else {
        return false;
    };
    let len = u32::from_be_bytes([h[24], h[25], h[26], h[27]]) as usize;
    let version = match h[17] {
        0x10 => matches!(h[18], 1..=6 | 32..=34) && h[19] & !0x07 == 0,
        0x20 => matches!(h[18], 34..=37) && h[19] & !0x38 == 0,
        _ => false,
    };
    h[..8] != [0; 8] && (1..=53).contains(&h[16]) && version && len == b.len()
}

/// An L2TPv2 control message (type, length and sequence bits, version 2)
/// of the datagram's length: a bare acknowledgement, or one opening with
/// its Message Type AVP.
pub(super) fn l2tp(b: &[u8]) -> bool {
    let [0xc8, 0x02, l0, l1, ..] = b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([*l0, *l1]));
    len == b.len() && (len == 12 || matches!(b.get(12..20), Some([0x80, 8, 0, 0, 0, 0, 0, 1..=16])))
}

/// An OpenVPN session reset opening a connection: a client's hard reset
/// (v1, v2, v3, key id 0) in the plain form (no acknowledgements, message
/// id 0), under `tls-auth` (an HMAC, replay id 1, a time) or `tls-crypt`
/// (replay id 1 and a time before the HMAC); or a server's plain reply.
pub(super) fn openvpn_reset(p: &[u8]) -> bool {
    let Some((&op, rest)) = p.split_first() else {
        return false;
    };
    let replay_and_time = |at: usize| matches!(p.get(at..at + 8), Some([0, 0, 0, 1, t0, _, _, _]) if (0x50..=0x7f).contains(t0));
    if op == 0x40 {
        // Server hard reset v2: plain (one acknowledgement of message 0,
        // the client's session id, message id 0) or under tls-crypt.
        return (p.len() >= 26 && p[9] == 1 && p[10..14] == [0; 4] && p[22..26] == [0; 4])
            || (p.len() >= 49 && replay_and_time(9));
    }
    if !matches!(op, 0x08 | 0x38 | 0x50) || rest.len() < 8 {
        return false;
    }
    // Plain: no acknowledgement, message id 0, and at most the early
    // negotiation TLV of 2.6 (type 1, length 2).
    if p.get(9..14) == Some(&[0; 5])
        && (p.len() == 14 || p.len() == 20 && p[14..18] == [0, 1, 0, 2])
    {
        return true;
    }
    [0usize, 16, 20, 32, 64].iter().any(|&hmac| {
        let at = 9 + hmac;
        replay_and_time(at) && (hmac == 0 || p.get(at + 8..at + 13) == Some(&[0; 5]))
    })
}

/// MS-RDPEUDP's connection handshake: a SYN (no acknowledgement yet:
/// source ack -1) or SYN+ACK, with up- and downstream MTUs of 1132–1232,
/// padded to at least 1132 bytes.
pub(super) fn rdp_udp(b: &[u8]) -> bool {
    let Some(h) = b.get(..16) else {
        return false;
    };
    let flags = u16::from_be_bytes([h[6], h[7]]);
    let mtu = |i: usize| (1132..=1232).contains(&u16::from_be_bytes([h[i], h[i + 1]]));
    let syn = flags & 0x0001 != 0;
    let ack = flags & 0x0004 != 0;
    syn && (ack || h[..4] == [0xff; 4]) && mtu(12) && mtu(14) && b.len() >= 1132
}

/// An RTCP compound packet (RFC 3550 §6.1): version 2, packet types
/// 200–207, lengths chaining to the datagram's end; it opens with a sender
/// or receiver report whose length holds its report blocks. An SRTCP
/// index and authentication tag may follow.
pub(super) fn rtcp(b: &[u8]) -> bool {
    let [v, pt @ (200 | 201), l0, l1, ..] = b else {
        return false;
    };
    let words = usize::from(u16::from_be_bytes([*l0, *l1]));
    let blocks = usize::from(v & 0x1f);
    let fixed = if *pt == 200 { 6 } else { 1 };
    if v & 0xc0 != 0x80 || words < fixed + 6 * blocks {
        return false;
    }
    let mut at = 0;
    while let Some(&[v, pt, l0, l1]) = b.get(at..at + 4) {
        if v & 0xc0 != 0x80 || !(200..=207).contains(&pt) {
            break;
        }
        at += 4 * (usize::from(u16::from_be_bytes([l0, l1])) + 1);
    }
    at == b.len() || (at < b.len() && matches!(b.len() - at, 14 | 18 | 24))
}

/// The header of an RTP packet (version 2, a payload type that is not
/// RTCP's, the CSRC list inside the datagram): SSRC, sequence number and
/// payload type. One header alone is no proof; the flow glue names RTP
/// when the next packet of the same direction continues it.
pub fn rtp_header(b: &[u8]) -> Option<(u32, u16, u8)> {
    let [v, m_pt, s0, s1, _, _, _, _, i0, i1, i2, i3, ..] = b else {
        return None;
    };
    let pt = m_pt & 0x7f;
    let csrc = usize::from(v & 0x0f);
    (v & 0xc0 == 0x80 && !(72..=76).contains(&pt) && b.len() > 12 + 4 * csrc).then(|| {
        (
            u32::from_be_bytes([*i0, *i1, *i2, *i3]),
            u16::from_be_bytes([*s0, *s1]),
            pt,
        )
    })
}

/// Whether `next` continues the RTP stream whose last header was `prev`:
/// the same SSRC and payload type, a sequence number 1–4 later.
pub fn rtp_continues(prev: (u32, u16, u8), next: (u32, u16, u8)) -> bool {
    prev.0 == next.0 && prev.2 == next.2 && (1..=4).contains(&next.1.wrapping_sub(prev.1))
}

/// BACnet/IP: a BVLC header (type 0x81, a function, the datagram's
/// length) and, for NPDU-carrying functions, NPDU version 1.
pub(super) fn bacnet(b: &[u8]) -> bool {
    let [0x81, func, l0, l1, ..] = b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([*l0, *l1]));
    len == b.len()
        && match func {
            0x09..=0x0c => b.get(4) == Some(&1),
            0x04 => b.get(10) == Some(&1),
            0x00 | 0x05 => len == 6,
            _ => false,
        }
}

/// Memcached over UDP: the 8-byte frame header of a single-datagram
/// message (sequence 0 of 1), then a text or binary command.
pub(super) fn memcached_udp(b: &[u8]) -> bool {
    matches!(b, [_, _, 0, 0, 0, 1, 0, 0, rest @ ..] if text::memcached(rest))
}

/// Kerberos over UDP: one whole message.
pub(super) fn kerberos(b: &[u8]) -> bool {
    asn1::kerberos(b).is_some()
}

/// HSRP: a version 0/1 hello, coup or resign (20 bytes: a state HSRP
/// defines, hello and hold times, reserved 0, the authentication text), or
/// a version 2 group-state TLV.
pub(super) fn hsrp(b: &[u8]) -> bool {
    match b {
        [0, op @ 0..=2, state, hello, hold, _, _, 0, auth @ ..] if b.len() == 20 => {
            let _ = op;
            matches!(state, 0 | 1 | 2 | 4 | 8 | 16)
                && hello < hold
                && auth[..8].iter().all(|c| c.is_ascii_graphic() || *c == 0)
        }
        [1, 40, 2, 0..=2, 0..=6, ..] => b.len() >= 42,
        _ => false,
    }
}

/// A BFD control packet: version 1, a diagnostic code, a detection
/// multiplier, the datagram's length (24, or with authentication), a
/// discriminator of its own.
pub(super) fn bfd(b: &[u8]) -> bool {
    let [vd, _, mult, len, ..] = b else {
        return false;
    };
    vd >> 5 == 1
        && vd & 0x1f <= 8
        && *mult > 0
        && usize::from(*len) == b.len()
        && b.len() >= 24
        && b[4..8] != [0; 4]
}

/// A Syncthing local-discovery announcement: its magic number.
pub(super) fn syncthing(b: &[u8]) -> bool {
    b.len() >= 16
        && (b.starts_with(&[0x2e, 0xa7, 0xd9, 0x0b]) || b.starts_with(&[0x9d, 0x79, 0xbc, 0x40]))
}

/// Tuya's local protocol: the `000055AA` prefix and `0000AA55` suffix
/// around a frame whose length field counts what follows it.
pub(super) fn tuya(b: &[u8]) -> bool {
    let [0, 0, 0x55, 0xaa, _, _, _, _, _, _, _, _, l0, l1, l2, l3, ..] = b else {
        return false;
    };
    let len = u32::from_be_bytes([*l0, *l1, *l2, *l3]) as usize;
    len + 16 == b.len() && b.ends_with(&[0, 0, 0xaa, 0x55])
}

/// TP-Link's smart-home protocol: JSON under an autokey XOR (initial key
/// 171), here opening as `{"` once decrypted; over TCP after a 4-byte
/// length.
pub(super) fn tplink_shp(b: &[u8]) -> bool {
    let plain = |b: &[u8]| {
        let mut key = 171u8;
        let mut out = [0u8; 4];
        for (o, &c) in out.iter_mut().zip(b) {
            *o = c ^ key;
            key = c;
        }
        b.len() >= 8 && matches!(out, [b'{', b'"', a, _] if a.is_ascii_lowercase())
    };
    match b {
        [0, 0, l0, l1, rest @ ..] if usize::from(u16::from_be_bytes([*l0, *l1])) == rest.len() => {
            plain(rest)
        }
        _ => plain(b),
    }
}

/// Ubiquiti's discovery: version 1 or 2, a known command, the length of
/// what follows, and TLVs filling it exactly.
pub(super) fn ubiquiti(b: &[u8]) -> bool {
    let [1 | 2, 0x00 | 0x06 | 0x08 | 0x09 | 0x0b, l0, l1, rest @ ..] = b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([*l0, *l1]));
    if len != rest.len() || len < 3 {
        return false;
    }
    let mut at = 0;
    while let Some(&[ty, t0, t1]) = rest.get(at..at + 3) {
        if ty == 0 || ty > 0x30 {
            return false;
        }
        at += 3 + usize::from(u16::from_be_bytes([t0, t1]));
    }
    at == rest.len()
}

/// NAT-PMP (RFC 6886): a mapping request (12 bytes), or the answer to an
/// external-address (12 bytes) or mapping request (16), with a defined
/// result code.
pub(super) fn natpmp(b: &[u8]) -> bool {
    match b {
        [0, 1 | 2, 0, 0, ..] => b.len() == 12,
        [0, 0x80, 0, 0..=5, ..] => b.len() == 12,
        [0, 0x81 | 0x82, 0, 0..=5, ..] => b.len() == 16,
        _ => false,
    }
}

/// CAPWAP (RFC 5415): a clear header (preamble 0, a header length that
/// fits, an IEEE 802.11 or EPCGlobal binding) before a control message of
/// a defined type; or the DTLS preamble before a DTLS record.
pub(super) fn capwap(b: &[u8]) -> bool {
    match b {
        [1, 0, 0, 0, 0x14..=0x17, 0xfe, 0xfd | 0xff, ..] => true,
        [0, b1, b2, _, ..] => {
            let hlen = usize::from(b1 >> 3) * 4;
            let wbid = (b2 >> 1) & 0x1f;
            hlen >= 8
                && matches!(wbid, 1 | 3)
                && matches!(b.get(hlen..hlen + 4), Some([0, 0, 0, 1..=26]))
        }
        _ => false,
    }
}

/// CAN frames over UDP: the `ISO11898` magic.
pub(super) fn can(b: &[u8]) -> bool {
    b.len() > 8 && b.starts_with(b"ISO11898")
}

/// Dropbox's LAN sync discovery: a JSON announcement with its `host_int`
/// and `port` keys.
pub(super) fn dropbox(b: &[u8]) -> bool {
    let head = &b[..b.len().min(256)];
    let has = |k: &[u8]| head.windows(k.len()).any(|w| w == k);
    head.starts_with(b"{\"") && has(b"\"host_int\":") && has(b"\"port\":")
}

/// SOME/IP: a message id, a length covering the rest of the datagram (or
/// a message that another follows), protocol version 1, a defined message
/// type and return code.
pub(super) fn someip(b: &[u8]) -> bool {
    let Some(h) = b.get(..16) else {
        return false;
    };
    let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
    h[12] == 1
        && matches!(
            h[14] & !0x20,
            0x00 | 0x01 | 0x02 | 0x40 | 0x41 | 0x80 | 0x81 | 0xc0 | 0xc1
        )
        && h[15] <= 0x3f
        && len >= 8
        && (len + 8 == b.len() || (len + 8 < b.len() && b.len() - len - 8 >= 16))
}

/// NetFlow v5 (24-byte header, 48-byte records of its count), v9 or IPFIX
/// (flow sets chaining to the datagram's end; IPFIX's length is the
/// datagram's).
pub(super) fn netflow(b: &[u8]) -> bool {
    let [0, v, c0, c1, ..] = b else {
        return false;
    };
    let count = usize::from(u16::from_be_bytes([*c0, *c1]));
    let sets = |from: usize| {
        let mut at = from;
        while let Some(&[i0, i1, l0, l1]) = b.get(at..at + 4) {
            let id = u16::from_be_bytes([i0, i1]);
            let len = usize::from(u16::from_be_bytes([l0, l1]));
            if len < 4 || (id > 3 && id < 256) {
                return false;
            }
            at += len;
        }
        at == b.len() && from < b.len()
    };
    match v {
        5 => (1..=30).contains(&count) && b.len() == 24 + 48 * count,
        9 => b.len() >= 24 && count >= 1 && sets(20),
        10 => count == b.len() && b.len() >= 20 && sets(16),
        _ => false,
    }
}

/// GTP: v1 (GTP-C/GTP-U, its length the datagram's after the mandatory
/// 8 bytes), v2 (after 4), or GTP' (its 6-byte header).
pub(super) fn gtp(b: &[u8]) -> bool {
    let [f, ty, l0, l1, ..] = b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([*l0, *l1]));
    match f >> 5 {
        // Echo, version-not-supported, PDP context, error indication,
        // end marker, G-PDU.
        1 if f & 0x18 == 0x10 => {
            matches!(ty, 1..=3 | 16..=21 | 26 | 27 | 31 | 254 | 255) && len + 8 == b.len()
        }
        2 if f & 0x07 == 0 => {
            matches!(ty, 1..=3 | 32..=73 | 95..=101 | 128..=171 | 200 | 201 | 211..=236)
                && len + 4 == b.len()
        }
        0..=2 if f & 0x1f == 0x0e => matches!(ty, 1..=6 | 240 | 241) && len + 6 == b.len(),
        _ => false,
    }
}

/// XDMCP: version 1, an opcode 1–16, the length of what follows.
pub(super) fn xdmcp(b: &[u8]) -> bool {
    let [0, 1, 0, 1..=16, l0, l1, ..] = b else {
        return false;
    };
    usize::from(u16::from_be_bytes([*l0, *l1])) + 6 == b.len()
}

/// PFCP (3GPP TS 29.244): version 1, a node or session message type, its
/// length the datagram's after the first 4 bytes.
pub(super) fn pfcp(b: &[u8]) -> bool {
    let [f, ty, l0, l1, ..] = b else {
        return false;
    };
    f >> 5 == 1
        && f & 0x1c == 0
        && matches!(ty, 1..=15 | 50..=57)
        && usize::from(u16::from_be_bytes([*l0, *l1])) + 4 == b.len()
}

/// An ONC RPC call over UDP of an NFS program.
pub(super) fn nfs_udp(b: &[u8]) -> bool {
    stream::rpc_call(b).is_some_and(stream::nfs_program)
}

/// Another ONC RPC program's call (the portmapper and the rest).
pub(super) fn rpc_udp(b: &[u8]) -> bool {
    stream::rpc_call(b).is_some()
}

/// HART-IP over UDP: the header alone, its byte count the datagram's.
pub(super) fn hartip_datagram(b: &[u8]) -> bool {
    stream::hartip(b) && b.len() >= 8 && usize::from(u16::from_be_bytes([b[6], b[7]])) == b.len()
}

/// DLMS/COSEM's UDP wrapper alone (version 1, wports, the length of the
/// rest exactly): HDLC's framing is too short a proof in a datagram.
pub(super) fn dlms_wrapper(b: &[u8]) -> bool {
    matches!(b, [0, 1, _, _, _, _, l0, l1, ..] if usize::from(u16::from_be_bytes([*l0, *l1])) + 8 == b.len() && b.len() > 8)
}
