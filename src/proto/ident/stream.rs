//! Detectors of binary protocols over TCP: a header whose fixed fields
//! hold the protocol's values and whose length agrees with the bytes (the
//! message fills them, another header follows it, or a long first piece
//! of it is there). The registry also offers a few of them datagrams
//! (EtherNet/IP, GIOP, C37.118, TRDP), whose framing is the same.

use super::asn1;

/// A message of `len` bytes fits the bytes: it fills them, the next
/// message starts with `next` right after it, or it runs past a first
/// piece of at least 64 bytes.
fn framed(b: &[u8], len: usize, next: impl Fn(&[u8]) -> bool) -> bool {
    len == b.len() || (len < b.len() && next(&b[len..])) || (len > b.len() && b.len() >= 64)
}

pub(super) fn bittorrent_handshake(b: &[u8]) -> bool {
    b.starts_with(b"\x13BitTorrent protocol")
}

/// NetBIOS session message carrying SMB1 (`\xffSMB`) or SMB2/3
/// (`\xfeSMB`, `\xfdSMB` transform).
pub(super) fn smb(b: &[u8]) -> bool {
    matches!(b, [0, _, _, _, 0xfd..=0xff, b'S', b'M', b'B', ..])
}

/// A NetBIOS name in its first-level encoding: length 32, letters A–P.
pub(super) fn netbios_name(b: &[u8]) -> bool {
    b.len() >= 33 && b[0] == 0x20 && b[1..33].iter().all(|c| (b'A'..=b'P').contains(c))
}

/// A NetBIOS session request (called and calling names) or its positive
/// or negative response.
pub(super) fn nbss(b: &[u8]) -> bool {
    match b {
        [0x81, 0, _, _, rest @ ..] => netbios_name(rest),
        [0x82, 0, 0, 0] => true,
        _ => false,
    }
}

/// TPKT (version 3) with an X.224 Connection Request or Confirm whose
/// length matches and which carries RDP's cookie, routing token or
/// negotiation (not the TSAP parameters of ISO-TSAP services such as
/// S7comm and MMS, which share the framing).
pub(super) fn rdp(b: &[u8]) -> bool {
    let [3, 0, l0, l1, li, code, ..] = b else {
        return false;
    };
    let tpkt = usize::from(u16::from_be_bytes([*l0, *l1]));
    let after = b.get(11..).unwrap_or_default();
    matches!(code, 0xe0 | 0xd0)
        && tpkt >= 11
        && usize::from(*li) + 5 == tpkt
        && !matches!(after.first(), Some(0xc0..=0xc2))
}

/// `RFB 003.00x\n`.
pub(super) fn vnc(b: &[u8]) -> bool {
    b.len() >= 12 && b.starts_with(b"RFB 0") && b[11] == b'\n' && b[7] == b'.'
}

/// A server greeting: 3-byte length, sequence 0, protocol 10, a
/// NUL-terminated printable version string.
pub(super) fn mysql_greeting(b: &[u8]) -> bool {
    let [l0, l1, l2, 0, 10, rest @ ..] = b else {
        return false;
    };
    let len = usize::from(*l0) | usize::from(*l1) << 8 | usize::from(*l2) << 16;
    let Some(nul) = rest.iter().position(|&c| c == 0) else {
        return false;
    };
    (30..=1024).contains(&len) && nul > 0 && rest[..nul].iter().all(|c| c.is_ascii_graphic())
}

/// A StartupMessage (protocol 3.0), SSLRequest or GSSENCRequest.
pub(super) fn postgresql_startup(b: &[u8]) -> bool {
    let [a, c, d, e, p0, p1, p2, p3, ..] = b else {
        return false;
    };
    let len = u32::from_be_bytes([*a, *c, *d, *e]) as usize;
    match u32::from_be_bytes([*p0, *p1, *p2, *p3]) {
        // The whole message is there, or a long first piece of it.
        0x0003_0000 => (9..=10_000).contains(&len) && (len <= b.len() || b.len() >= 64),
        0x04d2_162f | 0x04d2_1630 => len == 8,
        _ => false,
    }
}

/// A TDS packet header (MS-TDS §2.2.3.1) whose length agrees with the
/// bytes: a client's PRELOGIN or LOGIN7, or, for a capture that starts
/// later, the first packet of an SQL batch, RPC, attention, bulk load,
/// transaction or tabular-result message.
pub(super) fn tds(b: &[u8]) -> bool {
    // Type, status, length, SPID, packet id, window (always 0).
    let [ty, status, l0, l1, _, _, id, 0, ..] = b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([*l0, *l1]));
    // Status: end of message, ignore, reset connection (and its
    // skip-transaction variant) only.
    let status_ok = status & !0x1b == 0;
    let type_ok = match ty {
        0x12 | 0x10 => true,
        // Later messages: the first packet of one (packet id 1), so the
        // id adds to the evidence.
        0x01 | 0x03 | 0x04 | 0x06 | 0x07 | 0x0e => *id == 1,
        _ => false,
    };
    type_ok && status_ok && (9..=32768).contains(&len) && framed(b, len, |n| n.first() == Some(ty))
}

/// A CONNECT packet: type 1, a remaining length, the protocol name
/// `MQTT` (3.1.1, 5) or `MQIsdp` (3.1) and a known level.
pub(super) fn mqtt_connect(b: &[u8]) -> bool {
    mqtt_connect_body(b).is_some()
}

/// The variable header and payload of an MQTT CONNECT packet (after the
/// protocol name), and the protocol level.
pub(super) fn mqtt_connect_body(b: &[u8]) -> Option<(&[u8], u8)> {
    let [0x10, rest @ ..] = b else {
        return None;
    };
    // The remaining length: 1 to 4 bytes, 7 bits each.
    let n = rest.iter().take(4).position(|&c| c & 0x80 == 0)?;
    match &rest[n + 1..] {
        [0, 4, b'M', b'Q', b'T', b'T', level @ 3..=5, body @ ..] => Some((body, *level)),
        [0, 6, b'M', b'Q', b'I', b's', b'd', b'p', 3, body @ ..] => Some((body, 3)),
        _ => None,
    }
}

/// The protocol header `AMQP` with a known version, or (a capture that
/// starts later) a frame: type method, header, body or heartbeat, a
/// channel, a size, and the frame-end octet 0xCE where the size puts it.
pub(super) fn amqp(b: &[u8]) -> bool {
    if b.starts_with(b"AMQP") {
        return matches!(
            b.get(4..8),
            Some([0, 0, 9, 1] | [1, 1, 0, 9] | [0, 1, 0, 0])
        );
    }
    let [1 | 2 | 3 | 8, _, _, s0, s1, s2, s3, ..] = b else {
        return false;
    };
    let size = u32::from_be_bytes([*s0, *s1, *s2, *s3]) as usize;
    size <= 1 << 20 && b.get(7 + size) == Some(&0xce) && b.len() >= 8 + size
}

/// The 16-byte all-ones marker, a length and a message type 1–5.
pub(super) fn bgp(b: &[u8]) -> bool {
    b.len() >= 19 && b[..16].iter().all(|&c| c == 0xff) && matches!(b[18], 1..=5) && {
        let len = u16::from_be_bytes([b[16], b[17]]);
        (19..=4096).contains(&len)
    }
}

/// The link layer: start bytes 0x05 0x64, a length, a control byte.
pub(super) fn dnp3(b: &[u8]) -> bool {
    // The length counts from the control byte, CRCs excluded (2 per 16
    // data bytes, 2 for the header): the frame must hold exactly that.
    let [0x05, 0x64, len, ..] = b else {
        return false;
    };
    let data = usize::from(*len).saturating_sub(5);
    let frame = 10 + data + 2 * data.div_ceil(16);
    *len >= 5 && (frame == b.len() || b.get(frame..frame + 2) == Some(&[0x05, 0x64]))
}

/// An APCI: start byte 0x68, a length (4–253) the bytes hold, and a
/// U-format (STARTDT/TESTFR) or I/S control field.
pub(super) fn iec104(b: &[u8]) -> bool {
    let [0x68, len, c0, c1, c2, c3, ..] = b else {
        return false;
    };
    let end = usize::from(*len) + 2;
    // The APDU ends the bytes or another one follows.
    let framed = end == b.len() || b.get(end) == Some(&0x68);
    let control = match c0 & 0x03 {
        // U format: one function bit, the rest of the control field zero.
        0x03 => {
            matches!(c0, 0x07 | 0x0b | 0x13 | 0x23 | 0x43 | 0x83)
                && [*c1, *c2, *c3] == [0, 0, 0]
                && *len == 4
        }
        // S format: only a receive sequence number.
        0x01 => *c0 == 0x01 && *c1 == 0 && *len == 4,
        // I format: an ASDU follows.
        _ => *len >= 10,
    };
    (4..=253).contains(len) && framed && control
}

/// A Modbus/TCP ADU: protocol id 0, a length (2–254) that the bytes hold
/// exactly (or another ADU follows), and a public function code.
pub(super) fn modbus(b: &[u8]) -> bool {
    let [_, _, 0, 0, l0, l1, _unit, fc, ..] = b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([*l0, *l1]));
    let function = matches!(fc, 1..=8 | 11 | 12 | 15..=17 | 20..=24 | 43)
        || (matches!(fc, 0x81..=0x98 | 0xab) && len == 3);
    (2..=254).contains(&len)
        && function
        && (len + 6 == b.len() || matches!(b.get(len + 8..len + 10), Some([0, 0])))
}

/// A MongoDB wire-protocol message: its length, and a request (OP_MSG,
/// OP_QUERY, OP_COMPRESSED) or reply with the fields that opcode defines.
pub(super) fn mongodb(b: &[u8]) -> bool {
    let Some(h) = b.get(..21) else {
        return false;
    };
    let le = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let (len, response_to, op) = (le(0) as usize, le(8), le(12));
    let body = match op {
        // OP_MSG: flag bits (checksum, more to come, exhaust) and a
        // section kind 0 or 1.
        2013 => h[16] & 0xfc == 0 && h[17] == 0 && h[18] & 0xfe == 0 && h[19] == 0 && h[20] <= 1,
        // OP_QUERY: flags, then a `db.collection` name.
        2004 => {
            response_to == 0 && h[18] == 0 && h[19] == 0 && {
                let name = &b[20..];
                let end = name.iter().take(256).position(|&c| c == 0);
                end.is_some_and(|e| {
                    e > 2 && name[..e].contains(&b'.') && name[..e].iter().all(u8::is_ascii_graphic)
                })
            }
        }
        // OP_COMPRESSED: the original opcode and a known compressor.
        2012 => matches!(le(16), 2004 | 2013 | 1) && b.get(24).is_some_and(|c| *c <= 3),
        // OP_REPLY: an answer to a request, response flags in their 4 bits.
        1 => response_to != 0 && len >= 36 && h[16] & 0xf0 == 0 && h[17..20] == [0; 3],
        _ => false,
    };
    body && len <= 48_000_000 && framed(b, len, |_| true)
}

/// A Diameter header: version 1, a length that is a multiple of 4, the
/// flag bits Diameter defines and a registered command code.
pub(super) fn diameter(b: &[u8]) -> bool {
    let [1, l0, l1, l2, flags, c0, c1, c2, ..] = b else {
        return false;
    };
    let len = usize::from(*l0) << 16 | usize::from(*l1) << 8 | usize::from(*l2);
    let code = u32::from(*c0) << 16 | u32::from(*c1) << 8 | u32::from(*c2);
    b.len() >= 20
        && len >= 20
        && len % 4 == 0
        && flags & 0x0f == 0
        && matches!(
            code,
            257 | 258 | 271 | 272 | 274 | 275 | 280 | 282 | 300..=329
        )
        && framed(b, len, |n| n.first() == Some(&1))
}

/// A PPTP control message (RFC 2637): its length, message type 1
/// (control) and the magic cookie.
pub(super) fn pptp(b: &[u8]) -> bool {
    let [l0, l1, 0, 1, 0x1a, 0x2b, 0x3c, 0x4d, ..] = b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([*l0, *l1]));
    len >= 12
        && framed(b, len, |n| {
            n.get(2..8) == Some(&[0, 1, 0x1a, 0x2b, 0x3c, 0x4d])
        })
}

/// Zabbix's `ZBXD` header with a known flags byte.
pub(super) fn zabbix(b: &[u8]) -> bool {
    b.starts_with(b"ZBXD") && matches!(b.get(4), Some(1 | 3 | 5))
}

/// An OpenVPN packet over TCP: a 2-byte length, then a session reset.
pub(super) fn openvpn_tcp(b: &[u8]) -> bool {
    let [l0, l1, p @ ..] = b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([*l0, *l1]));
    (len == p.len() || (len < p.len() && p.len() >= len + 2))
        && super::datagram::openvpn_reset(&p[..len.min(p.len())])
}

/// Kerberos over TCP: a 4-byte length (top bit reserved), then a message.
pub(super) fn kerberos_tcp(b: &[u8]) -> bool {
    let [0, l1, l2, l3, m @ ..] = b else {
        return false;
    };
    let len = u32::from_be_bytes([0, *l1, *l2, *l3]) as usize;
    (len == m.len() || (len > m.len() && m.len() >= 64)) && asn1::kerberos(m).is_some()
}

/// TLS records without a hello (a capture that starts mid-connection):
/// record headers (type 20–23, version 3.0–3.3, a length within the
/// record bound) that the bytes hold, chained to the end of the bytes: two
/// or more, or one filling them exactly (an alert, a last application
/// record), or one running past at least 64 bytes.
pub(super) fn tls_records(b: &[u8]) -> bool {
    let mut at = 0;
    let mut records = 0;
    while let Some(&[ty, 3, minor, l0, l1]) = b.get(at..at + 5) {
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        if !(20..=23).contains(&ty) || minor > 3 || len == 0 || len > 16384 + 2048 {
            return false;
        }
        at += 5 + len;
        records += 1;
        if at > b.len() {
            // The last record may run past the bytes offered.
            return b.len() >= 64;
        }
    }
    at == b.len() && records >= 1
}

/// WebSocket frames (RFC 6455 §5.2) of a capture that starts after the
/// upgrade: final frames whose lengths chain exactly to the end of the
/// bytes, two or more, or one unmasked text frame of printable UTF-8.
pub(super) fn websocket_frames(b: &[u8]) -> bool {
    let (mut at, mut frames) = (0, 0);
    let mut text = false;
    while at < b.len() {
        let Some(&[b0, b1]) = b.get(at..at + 2) else {
            return false;
        };
        // FIN, no extension bits, text, binary, close, ping or pong.
        if !matches!(b0, 0x81 | 0x82 | 0x88 | 0x89 | 0x8a) {
            return false;
        }
        let (len, ext) = match b1 & 0x7f {
            126 => match b.get(at + 2..at + 4) {
                Some(&[x, y]) => (usize::from(u16::from_be_bytes([x, y])), 2),
                _ => return false,
            },
            127 => return false,
            n => (usize::from(n), 0),
        };
        let mask = if b1 & 0x80 != 0 { 4 } else { 0 };
        let start = at + 2 + ext + mask;
        if frames == 0 && b0 == 0x81 && mask == 0 {
            text = b.get(start..start + len).is_some_and(|p| {
                len >= 2 && std::str::from_utf8(p).is_ok_and(|t| !t.chars().any(char::is_control))
            });
        }
        at = start + len;
        frames += 1;
    }
    at == b.len() && (frames >= 2 || text)
}

/// A Kafka request: a length (under 16 MiB), a known API key and
/// version, a correlation id, and a client id of the characters Kafka
/// allows (`[A-Za-z0-9._-]`), inside the request.
pub(super) fn kafka(b: &[u8]) -> bool {
    let [l0, l1, l2, l3, k0, k1, v0, v1, _, _, _, _, c0, c1, rest @ ..] = b else {
        return false;
    };
    let len = u32::from_be_bytes([*l0, *l1, *l2, *l3]) as usize;
    let key = u16::from_be_bytes([*k0, *k1]);
    let version = u16::from_be_bytes([*v0, *v1]);
    let n = usize::from(u16::from_be_bytes([*c0, *c1]));
    let client = (1..=255).contains(&n)
        && n + 10 <= len
        && rest.get(..n).is_some_and(|id| {
            id.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        });
    key <= 74
        && version <= 16
        && len <= 1 << 24
        && client
        && framed(b, len + 4, |n| n.len() >= 4 && n[..2] == [0, 0])
}

/// An AJP13 packet: the web server's (magic `12 34`) forward request,
/// shutdown or ping, or the container's (`AB`) send-body, headers, end,
/// get-body or pong, of the length its header gives.
pub(super) fn ajp(b: &[u8]) -> bool {
    let [m0, m1, l0, l1, code, ..] = b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([*l0, *l1])) + 4;
    let kind = match (m0, m1) {
        (0x12, 0x34) => matches!(code, 2 | 7 | 8 | 10),
        (b'A', b'B') => matches!(code, 3..=6 | 9),
        _ => false,
    };
    kind && len >= 5 && framed(b, len, |n| matches!(n, [0x12, 0x34, ..] | [b'A', b'B', ..]))
}

/// A CQL (Cassandra) frame: protocol version 3–5 of a request or response,
/// known flags and opcode, and a body length the bytes hold.
pub(super) fn cql(b: &[u8]) -> bool {
    let [version, flags, _, _, op, l0, l1, l2, l3, ..] = b else {
        return false;
    };
    let len = u32::from_be_bytes([*l0, *l1, *l2, *l3]) as usize;
    // Opcodes by direction: requests (STARTUP, OPTIONS, QUERY, PREPARE,
    // EXECUTE, REGISTER, BATCH, AUTH_RESPONSE), responses (ERROR, READY,
    // AUTHENTICATE, SUPPORTED, RESULT, EVENT, AUTH_CHALLENGE,
    // AUTH_SUCCESS).
    let op_ok = match version {
        0x03..=0x05 => matches!(op, 0x01 | 0x05 | 0x07 | 0x09 | 0x0a | 0x0b | 0x0d | 0x0f),
        0x83..=0x85 => matches!(op, 0x00 | 0x02 | 0x03 | 0x06 | 0x08 | 0x0c | 0x0e | 0x10),
        _ => false,
    };
    op_ok
        && flags & !0x1f == 0
        && len <= 1 << 28
        && framed(b, len + 9, |n| {
            n.first() == Some(version) || n.first() == Some(&(version ^ 0x80))
        })
}

/// An EtherNet/IP encapsulation header: a known command, a length the
/// bytes hold, options 0.
pub(super) fn enip(b: &[u8]) -> bool {
    let Some(h) = b.get(..24) else {
        return false;
    };
    let command = u16::from_le_bytes([h[0], h[1]]);
    let len = usize::from(u16::from_le_bytes([h[2], h[3]]));
    matches!(
        command,
        0x0004 | 0x0063 | 0x0064 | 0x0065 | 0x0066 | 0x006f | 0x0070
    ) && h[20..24] == [0; 4]
        && framed(b, len + 24, |n| n.len() >= 24 && n[1] == 0)
}

/// An OPC UA binary message: a known type (`HEL`, `ACK`, `OPN`, `MSG`,
/// `CLO`, `ERR`), a chunk type and a size the bytes hold.
pub(super) fn opcua(b: &[u8]) -> bool {
    let [t0, t1, t2, chunk, s0, s1, s2, s3, ..] = b else {
        return false;
    };
    let ty = [*t0, *t1, *t2];
    let size = u32::from_le_bytes([*s0, *s1, *s2, *s3]) as usize;
    [b"HEL", b"ACK", b"OPN", b"MSG", b"CLO", b"ERR"].contains(&&ty)
        && matches!(chunk, b'F' | b'C' | b'A')
        && size >= 8
        && framed(b, size, |n| n.len() >= 4 && n[3] == b'F')
}

/// The program of an ONC RPC call (RFC 5531): message type call, RPC
/// version 2, a known credential flavor and a credential within bounds.
pub(super) fn rpc_call(b: &[u8]) -> Option<u32> {
    let word = |i: usize| {
        b.get(i..i + 4)
            .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
    };
    let (msg_type, version, program) = (word(4)?, word(8)?, word(12)?);
    let (flavor, cred_len) = (word(24)?, word(28)?);
    (msg_type == 0
        && version == 2
        && (100_000..=100_300).contains(&program)
        && matches!(flavor, 0 | 1 | 2 | 3 | 6)
        && cred_len <= 400
        && word(20)? <= 1000)
        .then_some(program)
}

/// NFS and its companion programs (mount, lock, status, ACL).
pub(super) fn nfs_program(p: u32) -> bool {
    matches!(p, 100_003 | 100_005 | 100_021 | 100_024 | 100_227)
}

/// An ONC RPC call over TCP (after its record marker), of an NFS program.
pub(super) fn nfs_tcp(b: &[u8]) -> bool {
    let [m0, m1, m2, m3, call @ ..] = b else {
        return false;
    };
    let len = (u32::from_be_bytes([*m0, *m1, *m2, *m3]) & 0x7fff_ffff) as usize;
    len >= 40 && framed(call, len, |_| true) && rpc_call(call).is_some_and(nfs_program)
}

/// A Bitcoin P2P message header: a network's magic (main, testnet3,
/// signet, regtest), then a NUL-padded ASCII command.
pub(super) fn bitcoin(b: &[u8]) -> bool {
    let magic = matches!(
        b.get(..4),
        Some(
            [0xf9, 0xbe, 0xb4, 0xd9]
                | [0x0b, 0x11, 0x09, 0x07]
                | [0x0a, 0x03, 0xcf, 0x40]
                | [0xfa, 0xbf, 0xb5, 0xda]
        )
    );
    let Some(command) = b.get(4..16) else {
        return false;
    };
    let name = command.iter().take_while(|&&c| c != 0).count();
    magic
        && name > 0
        && command[..name].iter().all(u8::is_ascii_lowercase)
        && command[name..].iter().all(|&c| c == 0)
}

/// A CORBA GIOP message: `GIOP`, version 1.0–1.3, flags, a message type
/// 0–7, a size (in the byte order the flags give) the bytes hold.
pub(super) fn giop(b: &[u8]) -> bool {
    let [b'G', b'I', b'O', b'P', 1, 0..=3, flags, 0..=7, s0, s1, s2, s3, ..] = b else {
        return false;
    };
    let size = if flags & 1 == 0 {
        u32::from_be_bytes([*s0, *s1, *s2, *s3])
    } else {
        u32::from_le_bytes([*s0, *s1, *s2, *s3])
    } as usize;
    flags & !0x03 == 0 && framed(b, size + 12, |n| n.starts_with(b"GIOP"))
}

/// An IEEE C37.118 synchrophasor frame: sync byte `AA`, a frame type
/// (data, header, configuration 1–3, command) and version 1–3, a frame
/// size the bytes hold exactly (the sync byte alone is too short a proof
/// for a cut frame).
pub(super) fn c37118(b: &[u8]) -> bool {
    let [0xaa, ty, l0, l1, ..] = b else {
        return false;
    };
    let size = usize::from(u16::from_be_bytes([*l0, *l1]));
    (ty >> 4) & 0x07 <= 5
        && ty & 0x80 == 0
        && (1..=3).contains(&(ty & 0x0f))
        && size >= 16
        && (size == b.len() || b.get(size) == Some(&0xaa))
}

/// A HART-IP header: version 1, a message type and id HART-IP defines, a
/// byte count the bytes hold.
pub(super) fn hartip(b: &[u8]) -> bool {
    let [1, 0..=3, 0..=3 | 128, _, _, _, l0, l1, ..] = b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([*l0, *l1]));
    len >= 8 && framed(b, len, |n| n.first() == Some(&1))
}

/// DLMS/COSEM (IEC 62056): an HDLC frame (flag `7E`, frame format type
/// A, its length, the closing flag) or the TCP wrapper (version 1, the
/// length of what follows).
pub(super) fn dlms(b: &[u8]) -> bool {
    match b {
        [0x7e, f0, f1, ..] if f0 >> 4 == 0x0a => {
            let len = usize::from(u16::from_be_bytes([f0 & 0x07, *f1]));
            len >= 5 && b.get(len + 1) == Some(&0x7e) && matches!(b.len() - len, 2)
        }
        [0, 1, _, _, _, _, l0, l1, ..] => {
            let len = usize::from(u16::from_be_bytes([*l0, *l1]));
            len >= 1 && framed(b, len + 8, |n| n.starts_with(&[0, 1]))
        }
        _ => false,
    }
}

/// ActiveMQ's OpenWire: a length, then the WireFormatInfo command and
/// its `ActiveMQ` magic.
pub(super) fn openwire(b: &[u8]) -> bool {
    matches!(
        b.get(4..13),
        Some([1, b'A', b'c', b't', b'i', b'v', b'e', b'M', b'Q'])
    )
}

/// OpenFlow's HELLO, which both sides send first: version 1–6, type 0,
/// its length the bytes hold.
pub(super) fn openflow(b: &[u8]) -> bool {
    let [v @ 1..=6, 0, l0, l1, ..] = b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([*l0, *l1]));
    // The bare header, or (1.3 on) a version-bitmap element filling it.
    let body = match b.get(8..12) {
        _ if len == 8 => true,
        Some(&[0, 1, e0, e1]) => usize::from(u16::from_be_bytes([e0, e1])) + 8 == len,
        _ => false,
    };
    body && framed(b, len, |n| n.first() == Some(v))
}

/// Java RMI's stream header: `JRMI`, version 2, a protocol (stream,
/// single-op, multiplex).
pub(super) fn jrmi(b: &[u8]) -> bool {
    matches!(b, [b'J', b'R', b'M', b'I', 0, 2, 0x4b..=0x4d, ..])
}

/// HL7 v2 over MLLP: the start block `0B`, then a message header segment.
pub(super) fn hl7(b: &[u8]) -> bool {
    b.starts_with(b"\x0bMSH|")
}

/// Beckhoff ADS over AMS/TCP: a reserved zero, the length of the AMS
/// packet, an AMS header whose command, state flags and data length
/// agree.
pub(super) fn ads(b: &[u8]) -> bool {
    let Some(h) = b.get(..38) else {
        return false;
    };
    let le32 = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]) as usize;
    let len = le32(2);
    let command = u16::from_le_bytes([h[22], h[23]]);
    let state = u16::from_le_bytes([h[24], h[25]]);
    h[..2] == [0, 0]
        && command <= 9
        && matches!(state & !0x0040, 0x0004 | 0x0005)
        && le32(26) + 32 == len
        && framed(b, len + 6, |n| n.starts_with(&[0, 0]))
}

/// AFP over DSI: flags (request, reply), a command 1–8, the total data
/// length the bytes hold, reserved zero.
pub(super) fn afp(b: &[u8]) -> bool {
    let Some(h) = b.get(..16) else {
        return false;
    };
    let len = u32::from_be_bytes([h[8], h[9], h[10], h[11]]) as usize;
    matches!(h[0], 0 | 1)
        && (1..=8).contains(&h[1])
        && h[12..16] == [0; 4]
        && len <= 1 << 20
        && framed(b, len + 16, |n| matches!(n.first(), Some(0 | 1)))
}

/// An eDonkey/eMule message: protocol byte (eDonkey, eMule, packed), a
/// little-endian length the bytes hold, and a hello as the first opcode.
pub(super) fn edonkey(b: &[u8]) -> bool {
    let [0xe3 | 0xc5 | 0xd4, l0, l1, l2, l3, 0x01 | 0x4c, ..] = b else {
        return false;
    };
    let len = u32::from_le_bytes([*l0, *l1, *l2, *l3]) as usize;
    (2..=1 << 20).contains(&len)
        && framed(b, len + 5, |n| {
            matches!(n.first(), Some(0xe3 | 0xc5 | 0xd4))
        })
}

/// The first COTP data (DT) payload after the connection request of an
/// ISO-TSAP connection (TPKT framing, TSAP parameters: port 102).
fn iso_tsap_data(b: &[u8]) -> Option<u8> {
    let mut at = 0;
    let mut saw_cr = false;
    while let Some(&[3, 0, l0, l1]) = b.get(at..at + 4) {
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let frame = b.get(at + 4..at + len.max(4))?;
        match frame {
            [_, 0xe0 | 0xd0, _, _, _, _, _, p, ..] if (0xc0..=0xc2).contains(p) => saw_cr = true,
            [2, 0xf0, 0x80, first, ..] if saw_cr => return Some(*first),
            _ => return None,
        }
        at += len;
    }
    None
}

/// S7comm or S7comm-plus over ISO-TSAP: its first data PDU opens with
/// protocol id `32` or `72`.
pub(super) fn s7comm(b: &[u8]) -> bool {
    matches!(iso_tsap_data(b), Some(0x32 | 0x72))
}

/// MMS over ISO-TSAP: its first data PDU is an ISO 8327 session connect
/// (or accept) SPDU.
pub(super) fn mms(b: &[u8]) -> bool {
    matches!(iso_tsap_data(b), Some(0x0d | 0x0e))
}

/// TRDP (IEC 61375-2-3): a sequence counter, protocol version 1.x and a
/// process- or message-data type (`Pd`, `Pr`, `Pp`, `Pe`, `Mn`, `Mr`,
/// `Mp`, `Mq`, `Mc`, `Me`).
pub(super) fn trdp(b: &[u8]) -> bool {
    matches!(
        b.get(4..8),
        Some(
            [1, _, b'P', b'd' | b'r' | b'p' | b'e']
                | [1, _, b'M', b'n' | b'r' | b'p' | b'q' | b'c' | b'e']
        )
    ) && b.len() >= 40
}
