//! The last resort: well-known ports (`app_confidence` `port`), IANA's
//! registrations for the protocols named by content, per transport; and
//! the names of protocols IP carries directly, by protocol number.

/// (port, TCP name, UDP name); `None` where IANA registers nothing on that
/// transport or the protocol does not run on it.
const PORTS: &[(u16, Option<&str>, Option<&str>)] = &[
    (20, Some("ftp"), None),
    (21, Some("ftp"), None),
    (22, Some("ssh"), None),
    (23, Some("telnet"), None),
    (25, Some("smtp"), None),
    (53, Some("dns"), Some("dns")),
    (67, None, Some("dhcp")),
    (68, None, Some("dhcp")),
    (69, None, Some("tftp")),
    (80, Some("http"), None),
    (88, Some("kerberos"), Some("kerberos")),
    (110, Some("pop3"), None),
    (111, Some("rpc"), Some("rpc")),
    (123, None, Some("ntp")),
    (137, None, Some("netbios")),
    (138, None, Some("netbios")),
    (139, Some("netbios"), None),
    (143, Some("imap"), None),
    (161, None, Some("snmp")),
    (162, None, Some("snmp")),
    (179, Some("bgp"), None),
    (389, Some("ldap"), Some("ldap")),
    (443, Some("tls"), Some("quic")),
    (445, Some("smb"), None),
    (465, Some("smtp"), None),
    (500, None, Some("ipsec")),
    (502, Some("modbus"), None),
    (514, None, Some("syslog")),
    (546, None, Some("dhcp")),
    (547, None, Some("dhcp")),
    (554, Some("rtsp"), None),
    (587, Some("smtp"), None),
    (636, Some("ldap"), None),
    (853, Some("dot"), None),
    (993, Some("imap"), None),
    (995, Some("pop3"), None),
    (1194, Some("openvpn"), Some("openvpn")),
    (1433, Some("tds"), None),
    (1701, None, Some("l2tp")),
    (1812, None, Some("radius")),
    (1813, None, Some("radius")),
    (1883, Some("mqtt"), None),
    (1900, None, Some("ssdp")),
    (1985, None, Some("hsrp")),
    (2049, Some("nfs"), Some("nfs")),
    (2404, Some("iec104"), None),
    (3306, Some("mysql"), None),
    (3389, Some("rdp"), Some("rdp")),
    (3478, Some("stun"), Some("stun")),
    (3784, None, Some("bfd")),
    (3868, Some("diameter"), None),
    (4222, Some("nats"), None),
    (4500, None, Some("ipsec")),
    (4840, Some("opcua"), None),
    (5060, Some("sip"), Some("sip")),
    (5061, Some("sip"), None),
    (5222, Some("xmpp"), None),
    (5269, Some("xmpp"), None),
    (5353, None, Some("mdns")),
    (5355, None, Some("llmnr")),
    (5432, Some("postgresql"), None),
    (5672, Some("amqp"), None),
    (5900, Some("vnc"), None),
    (6379, Some("redis"), None),
    (8009, Some("ajp"), None),
    (9042, Some("cassandra"), None),
    (9092, Some("kafka"), None),
    (9418, Some("git"), None),
    (10050, Some("zabbix"), None),
    (10051, Some("zabbix"), None),
    (11211, Some("memcached"), Some("memcached")),
    (20000, Some("dnp3"), None),
    (21027, None, Some("syncthing")),
    (27017, Some("mongodb"), None),
    (44818, Some("enip"), Some("enip")),
    (47808, None, Some("bacnet")),
    (51820, None, Some("wireguard")),
    (61613, Some("stomp"), None),
];

/// The protocol IANA registers on the lower of the two ports that has one
/// on this transport.
pub fn by_port(a: u16, b: u16, tcp: bool) -> Option<&'static str> {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    [lo, hi].into_iter().find_map(|p| {
        let i = PORTS.binary_search_by_key(&p, |e| e.0).ok()?;
        if tcp {
            PORTS[i].1
        } else {
            PORTS[i].2
        }
    })
}

/// A protocol IP carries directly (not TCP or UDP), by its number.
pub fn by_ip_protocol(protocol: u8) -> Option<&'static str> {
    Some(match protocol {
        1 => "icmp",
        2 => "igmp",
        47 => "gre",
        50 | 51 => "ipsec",
        58 => "icmpv6",
        89 => "ospf",
        103 => "pim",
        112 => "vrrp",
        132 => "sctp",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_sorted_and_per_transport() {
        assert!(PORTS.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
        assert_eq!(by_port(50000, 443, true), Some("tls"));
        assert_eq!(by_port(50000, 443, false), Some("quic"));
        assert_eq!(by_port(123, 50000, true), None);
        assert_eq!(by_port(50000, 50001, false), None);
    }
}
