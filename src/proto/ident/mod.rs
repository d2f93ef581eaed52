//! Application identification by content: a registry (data, not a chain of
//! `if`s) of small pure detectors, each reading the first bytes of a TCP
//! direction or a UDP datagram and answering whether they are its
//! protocol's opening. Ports are not consulted here: they are the last
//! resort, in [`by_port`], and the caller marks that answer as such.
//!
//! Owns: the registry and the names (lower case, as `app_protocol` writes
//! them, `schemas/flows.md`); the detectors, by family: `text.rs`
//! (line-oriented protocols), `stream.rs` (binary framings over TCP),
//! `datagram.rs` (UDP), `asn1.rs` (BER-framed Kerberos and LDAP);
//! `fields.rs` the few fields read from an identified protocol's first
//! bytes (banners, Kerberos names, SIP parties, MQTT client id);
//! `ports.rs` the port fallback. Does not own: which bytes are offered
//! (the flow glue offers each direction's first bytes, or each of a UDP
//! flow's first datagrams, until one detector says yes) or the protocols
//! parsed in full elsewhere (TLS, QUIC, DTLS, HTTP, DNS, DHCP).
//!
//! Each detector must see enough bytes to be sure: a magic value, or a
//! header whose fields all hold values the protocol defines and whose
//! lengths agree with the bytes. Work is bounded by the bytes given (at
//! most a few hundred are read); nothing is allocated; no input panics.

mod asn1;
mod datagram;
pub mod fields;
mod ports;
mod stream;
mod text;

pub use datagram::{rtp_continues, rtp_header};
pub use ports::{by_ip_protocol, by_port};

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

const fn tcp(name: &'static str, detect: fn(&[u8]) -> bool) -> Detector {
    Detector {
        name,
        transport: Transport::Tcp,
        detect,
    }
}

const fn udp(name: &'static str, detect: fn(&[u8]) -> bool) -> Detector {
    Detector {
        name,
        transport: Transport::Udp,
        detect,
    }
}

const fn both(name: &'static str, detect: fn(&[u8]) -> bool) -> Detector {
    Detector {
        name,
        transport: Transport::Both,
        detect,
    }
}

/// The registry, tried in order: magic values first, then headers whose
/// lengths must agree, then first lines, the mid-stream TLS check last.
pub const DETECTORS: &[Detector] = &[
    tcp("ssh", text::ssh),
    tcp("bittorrent", stream::bittorrent_handshake),
    udp("bittorrent", datagram::bittorrent_dht),
    udp("bittorrent", datagram::utp_syn),
    tcp("smb", stream::smb),
    tcp("netbios", stream::nbss),
    tcp("rdp", stream::rdp),
    udp("rdp", datagram::rdp_udp),
    tcp("vnc", stream::vnc),
    tcp("zabbix", stream::zabbix),
    tcp("pptp", stream::pptp),
    tcp("mysql", stream::mysql_greeting),
    tcp("postgresql", stream::postgresql_startup),
    tcp("tds", stream::tds),
    tcp("mqtt", stream::mqtt_connect),
    tcp("amqp", stream::amqp),
    tcp("bgp", stream::bgp),
    tcp("openvpn", stream::openvpn_tcp),
    udp("openvpn", datagram::openvpn_reset),
    tcp("kerberos", stream::kerberos_tcp),
    udp("kerberos", datagram::kerberos),
    both("ldap", asn1::ldap),
    tcp("diameter", stream::diameter),
    tcp("kafka", stream::kafka),
    tcp("ajp", stream::ajp),
    tcp("cassandra", stream::cql),
    both("enip", stream::enip),
    tcp("opcua", stream::opcua),
    tcp("nfs", stream::nfs_tcp),
    udp("nfs", datagram::nfs_udp),
    udp("rpc", datagram::rpc_udp),
    udp("hsrp", datagram::hsrp),
    udp("bfd", datagram::bfd),
    udp("syncthing", datagram::syncthing),
    udp("tuya", datagram::tuya),
    both("tplink_shp", datagram::tplink_shp),
    udp("ubiquiti", datagram::ubiquiti),
    udp("natpmp", datagram::natpmp),
    udp("capwap", datagram::capwap),
    udp("can", datagram::can),
    udp("dropbox", datagram::dropbox),
    tcp("bitcoin", stream::bitcoin),
    tcp("mining", text::stratum),
    both("corba", stream::giop),
    both("c37118", stream::c37118),
    tcp("hartip", stream::hartip),
    udp("hartip", datagram::hartip_datagram),
    tcp("dlms", stream::dlms),
    udp("dlms", datagram::dlms_wrapper),
    tcp("openwire", stream::openwire),
    tcp("jrmi", stream::jrmi),
    tcp("hl7", stream::hl7),
    tcp("ads", stream::ads),
    tcp("afp", stream::afp),
    tcp("edonkey", stream::edonkey),
    tcp("s7comm", stream::s7comm),
    tcp("mms", stream::mms),
    both("trdp", stream::trdp),
    udp("someip", datagram::someip),
    udp("netflow", datagram::netflow),
    udp("gtp", datagram::gtp),
    udp("xdmcp", datagram::xdmcp),
    udp("pfcp", datagram::pfcp),
    tcp("fix", text::fix),
    tcp("nntp", text::nntp),
    udp("tivoconnect", text::tivoconnect),
    both("megaco", text::megaco),
    tcp("checkmk", text::checkmk),
    tcp("rsync", text::rsync),
    tcp("mongodb", stream::mongodb),
    both("stun", datagram::stun),
    udp("snmp", datagram::snmp),
    udp("radius", datagram::radius),
    udp("ipsec", datagram::ike),
    udp("l2tp", datagram::l2tp),
    udp("wireguard", datagram::wireguard),
    udp("netbios", datagram::netbios),
    udp("dnscrypt", datagram::dnscrypt_response),
    udp("bacnet", datagram::bacnet),
    udp("rtcp", datagram::rtcp),
    udp("tftp", datagram::tftp),
    udp("ntp", datagram::ntp),
    udp("memcached", datagram::memcached_udp),
    tcp("dnp3", stream::dnp3),
    tcp("modbus", stream::modbus),
    tcp("openflow", stream::openflow),
    tcp("telnet", text::telnet),
    tcp("smtp", text::smtp),
    tcp("ftp", text::ftp),
    tcp("pop3", text::pop3),
    tcp("imap", text::imap),
    both("sip", text::sip),
    tcp("rtsp", text::rtsp),
    udp("ssdp", text::ssdp),
    tcp("redis", text::redis),
    tcp("xmpp", text::xmpp),
    tcp("git", text::git),
    tcp("nats", text::nats),
    tcp("stomp", text::stomp),
    tcp("memcached", text::memcached),
    both("syslog", text::syslog),
    tcp("tls", stream::tls_records),
    tcp("websocket", stream::websocket_frames),
    tcp("iec104", stream::iec104),
];

/// Every name [`AppName`] can hold: the detectors', the roles the flow
/// glue gives parsed protocols (`mdns`, `llmnr`, `dnscrypt`, `ssdp`,
/// `dot`, `websocket`) and `rtp` (named from a pair of datagrams).
const NAMES: &[&str] = &[
    "ssh",
    "bittorrent",
    "smb",
    "netbios",
    "rdp",
    "vnc",
    "zabbix",
    "pptp",
    "mysql",
    "postgresql",
    "tds",
    "mqtt",
    "amqp",
    "bgp",
    "openvpn",
    "kerberos",
    "ldap",
    "diameter",
    "mongodb",
    "stun",
    "snmp",
    "radius",
    "ipsec",
    "l2tp",
    "wireguard",
    "dnscrypt",
    "bacnet",
    "rtcp",
    "tftp",
    "ntp",
    "memcached",
    "dnp3",
    "modbus",
    "telnet",
    "smtp",
    "ftp",
    "pop3",
    "imap",
    "sip",
    "rtsp",
    "ssdp",
    "redis",
    "syslog",
    "tls",
    "iec104",
    "mdns",
    "llmnr",
    "dot",
    "websocket",
    "rtp",
    "nntp",
    "kafka",
    "ajp",
    "cassandra",
    "enip",
    "opcua",
    "nfs",
    "rpc",
    "hsrp",
    "bfd",
    "syncthing",
    "xmpp",
    "git",
    "nats",
    "stomp",
    "tuya",
    "tplink_shp",
    "ubiquiti",
    "natpmp",
    "capwap",
    "can",
    "dropbox",
    "bitcoin",
    "mining",
    "corba",
    "c37118",
    "hartip",
    "dlms",
    "openwire",
    "jrmi",
    "hl7",
    "ads",
    "afp",
    "edonkey",
    "s7comm",
    "mms",
    "trdp",
    "someip",
    "netflow",
    "gtp",
    "xdmcp",
    "pfcp",
    "fix",
    "tivoconnect",
    "megaco",
    "checkmk",
    "rsync",
    "openflow",
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

fn starts_ci(b: &[u8], prefix: &[u8]) -> bool {
    b.len() >= prefix.len() && b[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The first line (without its line end), if it ended within the bytes.
fn first_line(b: &[u8]) -> Option<&[u8]> {
    let end = memchr::memchr(b'\n', &b[..b.len().min(512)])?;
    Some(b[..end].strip_suffix(b"\r").unwrap_or(&b[..end]))
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
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
        for (bytes, tcp, name) in more_openings() {
            assert_eq!(identify(&bytes, tcp), Some(name), "{name}: {bytes:02x?}");
        }
        let mut stun_msg = vec![0, 1, 0, 8, 0x21, 0x12, 0xa4, 0x42];
        stun_msg.extend([7; 12]);
        stun_msg.extend([0x80, 0x22, 0, 4, b'a', b'b', b'c', b'd']);
        assert_eq!(identify(&stun_msg, false), Some("stun"));
        let mut wg = vec![1, 0, 0, 0];
        wg.resize(148, 9);
        assert_eq!(identify(&wg, false), Some("wireguard"));
    }

    /// Openings of the protocols added with the second set of detectors,
    /// each written from its specification.
    fn more_openings() -> Vec<(Vec<u8>, bool, &'static str)> {
        let pad = |mut v: Vec<u8>, n: usize, fill: u8| {
            v.resize(n, fill);
            v
        };
        let mut cases = vec![
            // TDS SQL batch, first packet of the message (MS-TDS 2.2.3.1).
            (pad(vec![1, 1, 0, 40, 0, 0, 1, 0], 40, b'x'), true, "tds"),
            // AMQP 0-9-1 method frame: type 1, channel 1, size 4, frame end.
            (vec![1, 0, 1, 0, 0, 0, 4, 0, 60, 0, 40, 0xce], true, "amqp"),
            // TFTP: first data block, its acknowledgement, an OACK.
            (pad(vec![0, 3, 0, 1], 516, b'a'), false, "tftp"),
            (vec![0, 4, 0, 1], false, "tftp"),
            (b"\0\x06blksize\x001428\0".to_vec(), false, "tftp"),
            // WireGuard keepalive: type 4, receiver, counter 7, 16-byte tag.
            (
                pad(vec![4, 0, 0, 0, 9, 9, 9, 9, 7], 32, 0),
                false,
                "wireguard",
            ),
            // Classic STUN binding request with CHANGE-REQUEST.
            (
                vec![
                    0, 1, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0, 3, 0, 4,
                    0, 0, 0, 0,
                ],
                false,
                "stun",
            ),
            (
                b"87 <34>1 2003-10-11T22:14:15.003Z host app - - msg".to_vec(),
                true,
                "syslog",
            ),
            // uTP SYN (BEP 29).
            (
                vec![
                    0x41, 0, 0x45, 0x67, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0x10, 0, 0, 0x23, 0xc6, 0, 0,
                ],
                false,
                "bittorrent",
            ),
            // NTPv4 client request: transmit timestamp set.
            (
                pad(vec![0x23, 0, 6, 0xe9], 40, 0)
                    .into_iter()
                    .chain([0xec, 1, 2, 3, 4, 5, 6, 7])
                    .collect(),
                false,
                "ntp",
            ),
            // RADIUS Access-Request with User-Name "bob".
            (
                pad(vec![1, 7, 0, 25], 20, 0xaa)
                    .into_iter()
                    .chain([1, 5, b'b', b'o', b'b'])
                    .collect(),
                false,
                "radius",
            ),
            // L2TP SCCRQ: Message Type AVP 1.
            (
                vec![
                    0xc8, 2, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 8, 0, 0, 0, 0, 0, 1,
                ],
                false,
                "l2tp",
            ),
            // OpenVPN hard reset client v2, plain, over UDP and over TCP.
            (
                vec![0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0],
                false,
                "openvpn",
            ),
            (
                vec![0, 14, 0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0],
                true,
                "openvpn",
            ),
            // BACnet/IP original broadcast NPDU.
            (
                vec![0x81, 0x0b, 0, 12, 1, 0x20, 0xff, 0xff, 0, 0xff, 0x10, 8],
                false,
                "bacnet",
            ),
            // RTCP receiver report without blocks, then SDES.
            (
                vec![
                    0x80, 201, 0, 1, 1, 2, 3, 4, 0x81, 202, 0, 2, 1, 2, 3, 4, 1, 1, b'a', 0,
                ],
                false,
                "rtcp",
            ),
            (b"get user:17 user:18\r\n".to_vec(), true, "memcached"),
            (b"set k 0 900 5\r\nhello\r\n".to_vec(), true, "memcached"),
            (
                [&[0, 1, 0, 0, 0, 1, 0, 0][..], b"get k\r\n"].concat(),
                false,
                "memcached",
            ),
            (vec![0xff, 0xfd, 0x18, 0xff, 0xfd, 0x20], true, "telnet"),
            (
                b"OPTIONS rtsp://10.0.0.1:554/s RTSP/1.0\r\nCSeq: 1\r\n".to_vec(),
                true,
                "rtsp",
            ),
            (b"RTSP/1.0 200 OK\r\n".to_vec(), true, "rtsp"),
            (b"M-SEARCH * HTTP/1.1\r\n".to_vec(), false, "ssdp"),
            (b"ZBXD\x01\x05\0\0\0\0\0\0\0agent".to_vec(), true, "zabbix"),
            // Diameter CER (code 257), request bit, 20-byte header only.
            (
                pad(vec![1, 0, 0, 20, 0x80, 0, 1, 1], 20, 0),
                true,
                "diameter",
            ),
            // Modbus/TCP read holding registers.
            (vec![0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10], true, "modbus"),
            // A TLS alert record alone (a capture that starts late).
            (vec![0x15, 3, 3, 0, 2, 2, 40], true, "tls"),
        ];
        cases.extend([
            // Kafka ApiVersions request from librdkafka.
            (
                b"\0\0\0\x15\0\x12\0\0\0\0\0\x81\0\x07rdkafka\0\0\0\0".to_vec(),
                true,
                "kafka",
            ),
            (vec![0x12, 0x34, 0, 1, 10], true, "ajp"),
            (vec![4, 0, 0, 0, 5, 0, 0, 0, 0], true, "cassandra"),
            // EtherNet/IP RegisterSession: 4 bytes of data.
            (
                pad(vec![0x65, 0, 4, 0], 24, 0)
                    .into_iter()
                    .chain([1, 0, 0, 0])
                    .collect(),
                true,
                "enip",
            ),
            (
                [&b"HEL"[..], b"F", &[28, 0, 0, 0], &[0; 20]].concat(),
                true,
                "opcua",
            ),
            (
                b"<?xml version='1.0'?><stream:stream to='example.org' version='1.0'>".to_vec(),
                true,
                "xmpp",
            ),
            (
                b"<presence to='room@conference.example.org/me'/>".to_vec(),
                true,
                "xmpp",
            ),
            (
                b"0032git-upload-pack /project.git\0host=example.org\0".to_vec(),
                true,
                "git",
            ),
            (b"INFO {\"server_id\":\"x\"}\r\n".to_vec(), true, "nats"),
            (
                b"STOMP\naccept-version:1.2\nhost:example\n\n\0".to_vec(),
                true,
                "stomp",
            ),
            // HSRP v0 hello, state active, authentication `cisco`.
            (
                [
                    &[0, 0, 16, 3, 10, 100, 1, 0][..],
                    b"cisco\0\0\0",
                    &[10, 0, 0, 254],
                ]
                .concat(),
                false,
                "hsrp",
            ),
            // BFD control: version 1, Down, multiplier 3, 24 bytes.
            (
                pad(vec![0x20, 0x40, 3, 24, 0, 0, 0, 1], 24, 0),
                false,
                "bfd",
            ),
            (pad(vec![0x2e, 0xa7, 0xd9, 0x0b], 40, 7), false, "syncthing"),
        ]);
        // TP-Link smart home: `{"system":{}}` under the autokey XOR.
        let mut key = 171u8;
        let tplink: Vec<u8> = b"{\"system\":{}}"
            .iter()
            .map(|&c| {
                key ^= c;
                key
            })
            .collect();
        cases.extend([
            (
                [
                    &[0, 0, 0x55, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0x13, 0, 0, 0, 8][..],
                    &[7; 4],
                    &[0, 0, 0xaa, 0x55],
                ]
                .concat(),
                false,
                "tuya",
            ),
            (tplink, false, "tplink_shp"),
            // Ubiquiti v2 announcement: one MAC+IP TLV.
            (
                [
                    &[2, 6, 0, 13, 2, 0, 10][..],
                    &[0x80, 0x2a, 0xa8, 0x8d, 0x69, 0x2b, 192, 168, 2, 21],
                ]
                .concat(),
                false,
                "ubiquiti",
            ),
            (
                vec![0, 1, 0, 0, 0x1f, 0x90, 0x1f, 0x90, 0, 0, 0x0e, 0x10],
                false,
                "natpmp",
            ),
            (
                vec![
                    1, 0, 0, 0, 0x16, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40,
                ],
                false,
                "capwap",
            ),
            (b"ISO11898\x01\x02\x6a\x12".to_vec(), false, "can"),
            (
                b"{\"version\": [2, 0], \"port\": 17500, \"host_int\": 123, \"namespaces\": []}"
                    .to_vec(),
                false,
                "dropbox",
            ),
            (
                [
                    &[0xf9, 0xbe, 0xb4, 0xd9][..],
                    b"version\0\0\0\0\0",
                    &[0x55, 0, 0, 0],
                ]
                .concat(),
                true,
                "bitcoin",
            ),
            (
                b"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}\n".to_vec(),
                true,
                "mining",
            ),
        ]);
        // ISO-TSAP: a COTP connection request with TSAP parameters, then
        // a data TPDU carrying S7comm (0x32) or an ISO session connect.
        let cr = [
            3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc0, 1, 10, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2,
        ];
        let s7 = [&cr[..], &[3, 0, 0, 11, 2, 0xf0, 0x80, 0x32, 1, 0, 0]].concat();
        let mms = [&cr[..], &[3, 0, 0, 11, 2, 0xf0, 0x80, 0x0d, 0x80, 0, 0]].concat();
        // NetFlow v5: one 48-byte record.
        let nf5 = pad(vec![0, 5, 0, 1], 72, 0);
        cases.extend([
            (s7, true, "s7comm"),
            (mms, true, "mms"),
            (nf5, false, "netflow"),
            (b"8=FIX.4.4\x019=62\x0135=A\x01".to_vec(), true, "fix"),
            (
                b"200 news.example.com NNTP Service Ready\r\n".to_vec(),
                true,
                "nntp",
            ),
            (
                pad([&b"GIOP"[..], &[1, 2, 0, 0, 0, 0, 0, 4]].concat(), 16, 0),
                true,
                "corba",
            ),
            (pad(vec![0xaa, 0x41, 0, 18, 0, 0xf1], 18, 0), true, "c37118"),
            (pad(vec![1, 0, 0, 0, 0, 2, 0, 13, 1], 13, 0), true, "hartip"),
            (b"JRMI\0\x02K".to_vec(), true, "jrmi"),
            (b"\x0bMSH|^~\\&|APP|FAC|".to_vec(), true, "hl7"),
            (b"@RSYNCD: 31.0\n".to_vec(), true, "rsync"),
            (b"<<<check_mk>>>\nVersion: 2.2\n".to_vec(), true, "checkmk"),
            (vec![1, 0, 0, 8, 0, 0, 0, 1], true, "openflow"),
            (pad(vec![0xe3, 0x10, 0, 0, 0, 0x01], 21, 7), true, "edonkey"),
            (
                b"!/1 [10.0.0.1]:2944\nT=1{C=-{AV=DS/1}}".to_vec(),
                false,
                "megaco",
            ),
            (
                b"tivoconnect=1\nswversion=1.0\n".to_vec(),
                false,
                "tivoconnect",
            ),
            (vec![0x21, 5, 0, 4, 0, 0, 1, 0], false, "pfcp"),
            (vec![0x32, 1, 0, 4, 0, 0, 0, 0, 0, 9, 0, 0], false, "gtp"),
            (pad(vec![0, 1, 0, 2, 0, 10], 16, 0), false, "xdmcp"),
            (
                [&[0xff, 0xff, 0x81, 0, 0, 0, 0, 8, 0, 0, 0, 1, 1, 1, 2, 0][..]].concat(),
                false,
                "someip",
            ),
        ]);
        // Classic STUN with a vendor attribute (Zoom's 0x0101, 20 bytes).
        let mut zoom = vec![0, 1, 0, 24];
        zoom.extend([9; 16]);
        zoom.extend([1, 1, 0, 20]);
        zoom.extend(b"12345678901234567890");
        cases.push((zoom, false, "stun"));
        // ONC RPC call to NFS (program 100003) over UDP, AUTH_NULL.
        let mut rpc = vec![0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 2];
        rpc.extend(100_003u32.to_be_bytes());
        rpc.extend([
            0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ]);
        cases.push((rpc, false, "nfs"));
        // MongoDB OP_MSG: length, request id, responseTo 0, opcode 2013,
        // flags 0, a kind-0 section holding a small document.
        let mut mongo = vec![0u8; 16];
        mongo.extend([0, 0, 0, 0, 0, 5, 0, 0, 0, 0]);
        let n = mongo.len() as u32;
        mongo[..4].copy_from_slice(&n.to_le_bytes());
        mongo[12..16].copy_from_slice(&2013u32.to_le_bytes());
        cases.push((mongo, true, "mongodb"));
        // Kerberos AS-REQ over UDP and over TCP (4-byte length first).
        let krb = asn1::tests::as_req();
        let mut krb_tcp = (krb.len() as u32).to_be_bytes().to_vec();
        krb_tcp.extend(&krb);
        cases.push((krb, false, "kerberos"));
        cases.push((krb_tcp, true, "kerberos"));
        // IKEv2 IKE_SA_INIT header alone (28 bytes).
        let mut ike = vec![
            1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 33, 0x20, 34, 0x08,
        ];
        ike.extend([0, 0, 0, 0, 0, 0, 0, 28]);
        cases.push((ike, false, "ipsec"));
        // NetBIOS datagram: direct group, source name encoded.
        let mut dgm = vec![0x11, 2, 0, 1, 10, 0, 0, 1, 0, 138, 0, 80, 0, 0, 0x20];
        dgm.extend([b'E'; 32]);
        dgm.extend([0; 30]);
        cases.push((dgm, false, "netbios"));
        // RDP-UDP SYN (MS-RDPEUDP 3.1.5.1.1): padded to the MTU.
        let mut rdpu = vec![
            0xff, 0xff, 0xff, 0xff, 0, 64, 0, 1, 1, 2, 3, 4, 4, 0xd0, 4, 0xd0,
        ];
        rdpu.resize(1232, 0);
        cases.push((rdpu, false, "rdp"));
        cases
    }

    #[test]
    fn iso_tsap_is_not_rdp() {
        // COTP CR carrying TSAP parameters (S7comm on port 102).
        let cr = [
            3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc0, 1, 10, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2,
        ];
        assert_eq!(identify(&cr, true), None);
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
