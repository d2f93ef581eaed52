//! Application identification by content: a registry (data, not a chain of
//! `if`s) of small pure detectors, each reading the first bytes of a TCP
//! direction or a UDP datagram and answering whether they are its
//! protocol's opening. Ports are not consulted here: they are the last
//! resort, in [`by_port`], and the caller marks that answer as such.
//!
//! Owns: the detectors and the names (lower case, as `app_protocol`
//! writes them, `schemas/flows.md`). Does not own: which bytes are offered
//! (the flow glue offers each direction's first bytes, or each of a UDP
//! flow's first datagrams, until one detector says yes) or the protocols
//! parsed in full elsewhere (TLS, QUIC, DTLS, HTTP, DNS, DHCP).
//!
//! Each detector must see enough bytes to be sure: a magic value, or a
//! header whose fields all hold values the protocol defines and whose
//! lengths agree with the bytes. Work is bounded by the bytes given (at
//! most a few hundred are read); nothing is allocated; no input panics.

/// Where a detector applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
    Both,
}

/// One protocol's detector.
pub struct Detector {
    pub name: &'static str,
    pub transport: Transport,
    pub detect: fn(&[u8]) -> bool,
}

/// The registry, tried in order (more specific openings first).
pub const DETECTORS: &[Detector] = &[
    Detector {
        name: "ssh",
        transport: Transport::Tcp,
        detect: ssh,
    },
    Detector {
        name: "bittorrent",
        transport: Transport::Tcp,
        detect: bittorrent_handshake,
    },
    Detector {
        name: "bittorrent",
        transport: Transport::Udp,
        detect: bittorrent_dht,
    },
    Detector {
        name: "smb",
        transport: Transport::Tcp,
        detect: smb,
    },
    Detector {
        name: "rdp",
        transport: Transport::Tcp,
        detect: rdp,
    },
    Detector {
        name: "vnc",
        transport: Transport::Tcp,
        detect: vnc,
    },
    Detector {
        name: "mysql",
        transport: Transport::Tcp,
        detect: mysql_greeting,
    },
    Detector {
        name: "postgresql",
        transport: Transport::Tcp,
        detect: postgresql_startup,
    },
    Detector {
        name: "tds",
        transport: Transport::Tcp,
        detect: tds_prelogin,
    },
    Detector {
        name: "redis",
        transport: Transport::Tcp,
        detect: redis,
    },
    Detector {
        name: "mqtt",
        transport: Transport::Tcp,
        detect: mqtt_connect,
    },
    Detector {
        name: "amqp",
        transport: Transport::Tcp,
        detect: amqp,
    },
    Detector {
        name: "bgp",
        transport: Transport::Tcp,
        detect: bgp,
    },
    Detector {
        name: "smtp",
        transport: Transport::Tcp,
        detect: smtp,
    },
    Detector {
        name: "ftp",
        transport: Transport::Tcp,
        detect: ftp,
    },
    Detector {
        name: "pop3",
        transport: Transport::Tcp,
        detect: pop3,
    },
    Detector {
        name: "imap",
        transport: Transport::Tcp,
        detect: imap,
    },
    Detector {
        name: "sip",
        transport: Transport::Both,
        detect: sip,
    },
    Detector {
        name: "stun",
        transport: Transport::Both,
        detect: stun,
    },
    Detector {
        name: "snmp",
        transport: Transport::Udp,
        detect: snmp,
    },
    Detector {
        name: "syslog",
        transport: Transport::Udp,
        detect: syslog,
    },
    Detector {
        name: "tftp",
        transport: Transport::Udp,
        detect: tftp,
    },
    Detector {
        name: "wireguard",
        transport: Transport::Udp,
        detect: wireguard,
    },
    Detector {
        name: "netbios",
        transport: Transport::Udp,
        detect: netbios_ns,
    },
    Detector {
        name: "dnp3",
        transport: Transport::Tcp,
        detect: dnp3,
    },
    Detector {
        name: "dnscrypt",
        transport: Transport::Udp,
        detect: dnscrypt_response,
    },
    Detector {
        name: "tls",
        transport: Transport::Tcp,
        detect: tls_records,
    },
    Detector {
        name: "iec104",
        transport: Transport::Tcp,
        detect: iec104,
    },
];

/// Every name [`AppName`] can hold: the detectors' and the roles the flow
/// glue gives parsed protocols (`mdns`, `llmnr`, `dnscrypt`, `ssdp`).
const NAMES: &[&str] = &[
    "ssh",
    "bittorrent",
    "smb",
    "rdp",
    "vnc",
    "mysql",
    "postgresql",
    "tds",
    "redis",
    "mqtt",
    "amqp",
    "bgp",
    "smtp",
    "ftp",
    "pop3",
    "imap",
    "sip",
    "stun",
    "snmp",
    "syslog",
    "tftp",
    "wireguard",
    "netbios",
    "dnp3",
    "iec104",
    "mdns",
    "llmnr",
    "dnscrypt",
    "ssdp",
    "tls",
];

/// A protocol name in one byte (per-flow state stays small).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppName(u8);

impl AppName {
    /// The name, if it is one of [`NAMES`].
    pub fn of(name: &str) -> Option<AppName> {
        NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| AppName(i as u8))
    }

    pub fn as_str(self) -> &'static str {
        NAMES[usize::from(self.0)]
    }
}

/// [`identify`] as an [`AppName`].
pub fn identify_name(b: &[u8], tcp: bool) -> Option<AppName> {
    identify(b, tcp).and_then(AppName::of)
}

/// The first detector of `transport` that recognises `b`.
pub fn identify(b: &[u8], tcp: bool) -> Option<&'static str> {
    DETECTORS
        .iter()
        .filter(|d| match d.transport {
            Transport::Both => true,
            Transport::Tcp => tcp,
            Transport::Udp => !tcp,
        })
        .find(|d| (d.detect)(b))
        .map(|d| d.name)
}

/// Well-known ports, the last resort (`app_confidence` `port`): IANA's
/// registrations for the protocols named by content, both transports.
const PORTS: &[(u16, &str)] = &[
    (20, "ftp"),
    (21, "ftp"),
    (22, "ssh"),
    (23, "telnet"),
    (25, "smtp"),
    (53, "dns"),
    (67, "dhcp"),
    (68, "dhcp"),
    (69, "tftp"),
    (80, "http"),
    (88, "kerberos"),
    (110, "pop3"),
    (123, "ntp"),
    (137, "netbios"),
    (138, "netbios"),
    (139, "netbios"),
    (143, "imap"),
    (161, "snmp"),
    (162, "snmp"),
    (179, "bgp"),
    (389, "ldap"),
    (443, "tls"),
    (445, "smb"),
    (465, "smtp"),
    (500, "ipsec"),
    (502, "modbus"),
    (514, "syslog"),
    (546, "dhcp"),
    (547, "dhcp"),
    (587, "smtp"),
    (636, "ldap"),
    (853, "dot"),
    (993, "imap"),
    (995, "pop3"),
    (1194, "openvpn"),
    (1433, "tds"),
    (1812, "radius"),
    (1813, "radius"),
    (1883, "mqtt"),
    (1900, "ssdp"),
    (2404, "iec104"),
    (3306, "mysql"),
    (3389, "rdp"),
    (3478, "stun"),
    (4500, "ipsec"),
    (5060, "sip"),
    (5061, "sip"),
    (5353, "mdns"),
    (5355, "llmnr"),
    (5432, "postgresql"),
    (5672, "amqp"),
    (5900, "vnc"),
    (6379, "redis"),
    (11211, "memcached"),
    (20000, "dnp3"),
    (27017, "mongodb"),
    (51820, "wireguard"),
];

/// The protocol IANA registers on the lower of the two ports that has one.
pub fn by_port(a: u16, b: u16) -> Option<&'static str> {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    [lo, hi].into_iter().find_map(|p| {
        PORTS
            .binary_search_by_key(&p, |e| e.0)
            .ok()
            .map(|i| PORTS[i].1)
    })
}

fn starts_ci(b: &[u8], prefix: &[u8]) -> bool {
    b.len() >= prefix.len() && b[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The first line (without its line end), if it ended within the bytes.
fn first_line(b: &[u8]) -> Option<&[u8]> {
    let end = b.iter().take(512).position(|&c| c == b'\n')?;
    Some(b[..end].strip_suffix(b"\r").unwrap_or(&b[..end]))
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// `SSH-2.0-…` / `SSH-1.99-…` / `SSH-1.5-…` identification string.
fn ssh(b: &[u8]) -> bool {
    first_line(b).is_some_and(|l| {
        l.starts_with(b"SSH-2.0-") || l.starts_with(b"SSH-1.99-") || l.starts_with(b"SSH-1.5-")
    })
}

fn bittorrent_handshake(b: &[u8]) -> bool {
    b.starts_with(b"\x13BitTorrent protocol")
}

/// A DHT (BEP 5) query or response: a bencoded dictionary with a
/// transaction and type key.
fn bittorrent_dht(b: &[u8]) -> bool {
    (b.starts_with(b"d1:ad2:id20:") || b.starts_with(b"d1:rd2:id20:") || b.starts_with(b"d2:ip6:"))
        && b.ends_with(b"e")
}

/// NetBIOS session message carrying SMB1 (`\xffSMB`) or SMB2/3
/// (`\xfeSMB`, `\xfdSMB` transform).
fn smb(b: &[u8]) -> bool {
    matches!(b, [0, _, _, _, 0xfd..=0xff, b'S', b'M', b'B', ..])
}

/// TPKT (version 3) with an X.224 Connection Request or Confirm whose
/// length matches.
fn rdp(b: &[u8]) -> bool {
    let [3, 0, l0, l1, li, code, ..] = b else {
        return false;
    };
    let tpkt = usize::from(u16::from_be_bytes([*l0, *l1]));
    matches!(code, 0xe0 | 0xd0) && tpkt >= 11 && usize::from(*li) + 5 == tpkt
}

/// `RFB 003.00x\n`.
fn vnc(b: &[u8]) -> bool {
    b.len() >= 12 && b.starts_with(b"RFB 0") && b[11] == b'\n' && b[7] == b'.'
}

/// A server greeting: 3-byte length, sequence 0, protocol 10, a
/// NUL-terminated printable version string.
fn mysql_greeting(b: &[u8]) -> bool {
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
fn postgresql_startup(b: &[u8]) -> bool {
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

/// A TDS PRELOGIN or LOGIN7 packet header whose length agrees with the
/// bytes (or their long first piece).
fn tds_prelogin(b: &[u8]) -> bool {
    // The 8-byte packet header: a client packet type (PRELOGIN, LOGIN7,
    // SQL batch, RPC), a status, a length, SPID, packet id, window 0.
    let [ty, status, l0, l1, _, _, _, 0, ..] = b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([*l0, *l1]));
    matches!(ty, 0x12 | 0x10)
        && matches!(status, 0 | 1)
        && (9..=32768).contains(&len)
        && (len == b.len()
            || (len < b.len() && matches!(b[len], 0x12 | 0x10))
            || (len > b.len() && b.len() >= 64))
}

/// A RESP array command (`*<n>\r\n$<len>\r\n…`).
fn redis(b: &[u8]) -> bool {
    let Some(line) = first_line(b) else {
        return false;
    };
    let [b'*', digits @ ..] = line else {
        return false;
    };
    !digits.is_empty()
        && digits.len() <= 4
        && digits.iter().all(u8::is_ascii_digit)
        && b.get(line.len() + 2) == Some(&b'$')
}

/// A CONNECT packet: type 1, a remaining length, the protocol name
/// `MQTT` (3.1.1, 5) or `MQIsdp` (3.1) and a known level.
fn mqtt_connect(b: &[u8]) -> bool {
    let [0x10, rest @ ..] = b else {
        return false;
    };
    // The remaining length: 1 to 4 bytes, 7 bits each.
    let Some(n) = rest.iter().take(4).position(|&c| c & 0x80 == 0) else {
        return false;
    };
    let body = &rest[n + 1..];
    matches!(
        body,
        [0, 4, b'M', b'Q', b'T', b'T', 3..=5, ..]
            | [0, 6, b'M', b'Q', b'I', b's', b'd', b'p', 3, ..]
    )
}

fn amqp(b: &[u8]) -> bool {
    b.starts_with(b"AMQP")
        && matches!(
            b.get(4..8),
            Some([0, 0, 9, 1] | [1, 1, 0, 9] | [0, 1, 0, 0])
        )
}

/// The 16-byte all-ones marker, a length and a message type 1–5.
fn bgp(b: &[u8]) -> bool {
    b.len() >= 19 && b[..16].iter().all(|&c| c == 0xff) && matches!(b[18], 1..=5) && {
        let len = u16::from_be_bytes([b[16], b[17]]);
        (19..=4096).contains(&len)
    }
}

/// A server greeting `220 … SMTP` / `ESMTP`, or a client's `EHLO`/`HELO`.
fn smtp(b: &[u8]) -> bool {
    first_line(b).is_some_and(|l| {
        ((l.starts_with(b"220 ") || l.starts_with(b"220-")) && contains_ci(l, b"SMTP"))
            || starts_ci(l, b"EHLO ")
            || starts_ci(l, b"HELO ")
    })
}

/// A server greeting `220 … FTP`.
fn ftp(b: &[u8]) -> bool {
    first_line(b).is_some_and(|l| {
        (l.starts_with(b"220 ") || l.starts_with(b"220-")) && contains_ci(l, b"FTP")
    })
}

/// A server greeting `+OK …` (the first bytes of a server direction).
fn pop3(b: &[u8]) -> bool {
    first_line(b).is_some_and(|l| l.starts_with(b"+OK"))
}

/// A server greeting `* OK …` / `* PREAUTH …`.
fn imap(b: &[u8]) -> bool {
    first_line(b).is_some_and(|l| l.starts_with(b"* OK") || l.starts_with(b"* PREAUTH"))
}

/// A SIP request line ending in ` SIP/2.0` or a status line `SIP/2.0 nnn`.
fn sip(b: &[u8]) -> bool {
    first_line(b).is_some_and(|l| {
        (l.starts_with(b"SIP/2.0 ")
            && l.get(8..11)
                .is_some_and(|c| c.iter().all(u8::is_ascii_digit)))
            || (l.ends_with(b" SIP/2.0") && l.first().is_some_and(u8::is_ascii_uppercase))
    })
}

/// A STUN message (RFC 5389): the two top bits clear, a length that is a
/// multiple of 4 and fits, the magic cookie.
fn stun(b: &[u8]) -> bool {
    let [t0, _, l0, l1, 0x21, 0x12, 0xa4, 0x42, ..] = b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([*l0, *l1]));
    t0 & 0xc0 == 0 && len % 4 == 0 && len + 20 <= b.len() && b.len() >= 20
}

/// An SNMP message: a SEQUENCE holding version 0, 1 or 3 and (v1/v2c) a
/// community string.
fn snmp(b: &[u8]) -> bool {
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

/// `<PRI>` (0–191) then a timestamp or version and text.
fn syslog(b: &[u8]) -> bool {
    let [b'<', rest @ ..] = b else {
        return false;
    };
    let Some(close) = rest.iter().take(4).position(|&c| c == b'>') else {
        return false;
    };
    let digits = &rest[..close];
    !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse::<u16>().ok())
            .is_some_and(|p| p <= 191)
        && rest[close + 1..]
            .iter()
            .take(16)
            .all(|c| c.is_ascii_graphic() || *c == b' ')
        && rest.len() > close + 4
}

/// A read or write request: opcode 1 or 2, a file name, a known mode.
fn tftp(b: &[u8]) -> bool {
    let [0, 1 | 2, rest @ ..] = b else {
        return false;
    };
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
            .any(|m| starts_ci(mode, m))
}

/// A handshake initiation (148 bytes), response (92), cookie reply (64)
/// or transport data (type 4, 16 + 16k bytes): type, three zero bytes.
fn wireguard(b: &[u8]) -> bool {
    match b {
        [1, 0, 0, 0, ..] => b.len() == 148,
        [2, 0, 0, 0, ..] => b.len() == 92,
        [3, 0, 0, 0, ..] => b.len() == 64,
        _ => false,
    }
}

/// A name-service query or response: one question whose name is the
/// 32-letter NetBIOS encoding (letters A–P).
fn netbios_ns(b: &[u8]) -> bool {
    b.len() >= 50
        && matches!(b[4..6], [0, 1])
        && b[12] == 0x20
        && b[13..45].iter().all(|c| (b'A'..=b'P').contains(c))
}

/// The link layer: start bytes 0x05 0x64, a length, a control byte.
fn dnp3(b: &[u8]) -> bool {
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
fn iec104(b: &[u8]) -> bool {
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

/// A DNSCrypt response: the fixed resolver magic `r6fnvWj8`.
fn dnscrypt_response(b: &[u8]) -> bool {
    b.len() >= 64 && b.starts_with(b"r6fnvWj8")
}

/// TLS records without a hello (a capture that starts mid-connection):
/// a record header (type 20–23, version 3.0–3.3, a length within the
/// record bound) that the bytes hold, followed by another header or the
/// end of the bytes.
fn tls_records(b: &[u8]) -> bool {
    let mut at = 0;
    let mut records = 0;
    while let Some(&[ty, 3, minor, l0, l1]) = b.get(at..at + 5) {
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        if !(20..=23).contains(&ty) || minor > 3 || len == 0 || len > 16384 + 2048 {
            return false;
        }
        at += 5 + len;
        records += 1;
        if at >= b.len() {
            // The last record may run past the bytes offered.
            return records >= 1 && b.len() >= 64;
        }
    }
    at == b.len() && records >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openings_are_named() {
        let cases: &[(&[u8], bool, &str)] = &[
            (b"SSH-2.0-OpenSSH_9.6\r\n", true, "ssh"),
            (
                b"\x13BitTorrent protocol\0\0\0\0\0\0\0\0",
                true,
                "bittorrent",
            ),
            (b"\0\0\0\x45\xfeSMB\x40\0", true, "smb"),
            (
                &[3, 0, 0, 19, 14, 0xe0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 3, 0, 0, 0],
                true,
                "rdp",
            ),
            (b"RFB 003.008\n", true, "vnc"),
            (b"220 mail.example.com ESMTP Postfix\r\n", true, "smtp"),
            (b"220 ProFTPD Server ready.\r\n", true, "ftp"),
            (b"+OK Dovecot ready.\r\n", true, "pop3"),
            (b"* OK [CAPABILITY IMAP4rev1] ready\r\n", true, "imap"),
            (&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f], true, "postgresql"),
            (b"*2\r\n$4\r\nLLEN\r\n$6\r\nmylist\r\n", true, "redis"),
            (
                b"\x10\x12\x00\x04MQTT\x04\x02\x00\x3c\x00\x06client",
                true,
                "mqtt",
            ),
            (b"AMQP\x00\x00\x09\x01", true, "amqp"),
            (b"INVITE sip:bob@example.com SIP/2.0\r\n", false, "sip"),
            (b"<34>Oct 11 22:14:15 host su: fail", false, "syslog"),
            (b"\x00\x01file.txt\x00octet\x00", false, "tftp"),
            (
                &[
                    0x30, 0x26, 0x02, 0x01, 0x01, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c',
                ],
                false,
                "snmp",
            ),
        ];
        for (bytes, tcp, name) in cases {
            assert_eq!(identify(bytes, *tcp), Some(*name), "{name}");
        }
        let mut stun_msg = vec![0, 1, 0, 8, 0x21, 0x12, 0xa4, 0x42];
        stun_msg.extend([7; 12]);
        stun_msg.extend([0x80, 0x22, 0, 4, b'a', b'b', b'c', b'd']);
        assert_eq!(identify(&stun_msg, false), Some("stun"));
        let mut wg = vec![1, 0, 0, 0];
        wg.resize(148, 9);
        assert_eq!(identify(&wg, false), Some("wireguard"));
    }

    #[test]
    fn ordinary_bytes_are_not_named() {
        for b in [
            &b"GET / HTTP/1.1\r\n\r\n"[..],
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
            b"hello world\r\n",
            b"220 ",
            &[0xff; 64],
            &[0; 64],
        ] {
            assert_eq!(identify(b, true), None, "{b:?}");
            assert_eq!(identify(b, false), None, "{b:?}");
        }
        assert_eq!(by_port(50000, 443), Some("tls"));
        assert_eq!(by_port(50000, 50001), None);
        assert!(PORTS.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
        for d in DETECTORS {
            assert_eq!(AppName::of(d.name).map(AppName::as_str), Some(d.name));
        }
    }

    #[test]
    fn random_bytes_are_rarely_named() {
        let mut noise = crate::sample::Noise::new(0x2545_f491_4f6c_dd1d);
        let mut named = Vec::new();
        for i in 0..100_000usize {
            let b = noise.bytes(1 + i % 300);
            if let Some(n) = identify(&b, i % 2 == 0) {
                named.push((n, b[..b.len().min(12)].to_vec()));
            }
        }
        // None is named today; the bound leaves room for detectors whose
        // magic is short (DNP3's two bytes, checked with its frame length).
        assert!(named.len() < 20, "random payloads named: {named:?}");
    }
}
