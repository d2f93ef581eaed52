//! Flow keys: the oriented key users see (first packet's sender as source)
//! and the direction-free key flows are looked up by.

use std::net::IpAddr;

use serde::Serialize;

/// (src_ip, dst_ip, src_port, dst_port, protocol, vlan_id), oriented so that
/// `src` sent the flow's first counted packet. Ports are 0 for protocols
/// without ports; `vlan_id` 0 when untagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FlowKey {
    pub src_ip: IpAddr,
    pub dst_ip: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub protocol: u8,
    pub vlan_id: u16,
}

impl FlowKey {
    pub fn canonical(&self) -> CanonicalKey {
        let a = (ip_bytes(self.src_ip), self.src_port);
        let b = (ip_bytes(self.dst_ip), self.dst_port);
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        CanonicalKey {
            lo_ip: lo.0,
            hi_ip: hi.0,
            lo_port: lo.1,
            hi_port: hi.1,
            protocol: self.protocol,
            vlan_id: self.vlan_id,
        }
    }

    /// Did a packet from `src_ip:src_port` travel in the up direction?
    #[inline]
    pub fn is_up(&self, src_ip: IpAddr, src_port: u16) -> bool {
        self.src_ip == src_ip && self.src_port == src_port
    }

    /// Human form, as the reference prints it: `a:1 -> b:2 (TCP)`.
    pub fn display(&self) -> String {
        let name = match self.protocol {
            6 => "TCP".to_string(),
            17 => "UDP".to_string(),
            1 => "ICMP".to_string(),
            58 => "ICMPv6".to_string(),
            132 => "SCTP".to_string(),
            p => format!("PROTO({p})"),
        };
        format!(
            "{}:{} -> {}:{} ({name})",
            self.src_ip, self.src_port, self.dst_ip, self.dst_port
        )
    }
}

/// IPv4 as IPv4-mapped IPv6 so both families share one fixed-size layout.
#[inline]
fn ip_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// Direction-free flow identity: the two endpoints in a fixed order. Tables
/// hash it with a secret key ([`crate::keyed`]): its `Hash` is what they
/// feed, never a fixed mix an attacker could invert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CanonicalKey {
    lo_ip: [u8; 16],
    hi_ip: [u8; 16],
    lo_port: u16,
    hi_port: u16,
    protocol: u8,
    vlan_id: u16,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(a: &str, ap: u16, b: &str, bp: u16) -> FlowKey {
        FlowKey {
            src_ip: a.parse().unwrap(),
            dst_ip: b.parse().unwrap(),
            src_port: ap,
            dst_port: bp,
            protocol: 6,
            vlan_id: 0,
        }
    }

    #[test]
    fn both_directions_share_a_canonical_key() {
        let k = key("10.0.0.1", 1234, "10.0.0.2", 80);
        let r = key("10.0.0.2", 80, "10.0.0.1", 1234);
        assert_eq!(k.canonical(), r.canonical());
        assert!(k.is_up("10.0.0.1".parse().unwrap(), 1234));
        assert!(!k.is_up("10.0.0.2".parse().unwrap(), 80));
    }

    #[test]
    fn vlan_protocol_and_ports_separate_flows() {
        let k = key("10.0.0.1", 1234, "10.0.0.2", 80);
        let mut v = k;
        v.vlan_id = 7;
        let mut u = k;
        u.protocol = 17;
        let mut p = k;
        p.src_port = 1235;
        for other in [v, u, p] {
            assert_ne!(k.canonical(), other.canonical());
        }
        // same address and port on both sides still works
        let s = key("::1", 5, "::1", 5);
        assert_eq!(s.canonical(), s.canonical());
        assert_eq!(
            key("1.2.3.4", 0, "5.6.7.8", 0).display(),
            "1.2.3.4:0 -> 5.6.7.8:0 (TCP)"
        );
    }
}
