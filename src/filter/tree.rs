//! The compiled filter: a tree of primitives and its evaluation on a
//! decoded packet.

use std::net::IpAddr;

use crate::decode::{Layer, Packet, Transport};

#[derive(Debug, Clone)]
pub(super) enum Node {
    Prim(Prim),
    Not(Box<Node>),
    /// `first join₁ n₁ join₂ n₂ …` folded left to right: `and` and `or`
    /// have equal precedence in libpcap.
    Chain(Box<Node>, Vec<(Join, Node)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Join {
    And,
    Or,
}

/// Which address or port of a packet a primitive tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dir {
    Src,
    Dst,
    SrcOrDst,
    SrcAndDst,
}

/// An IPv4 or IPv6 prefix (a host is a full-length prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IpNet {
    V4 { net: u32, mask: u32 },
    V6 { net: u128, mask: u128 },
}

/// Transport protocols a port test applies to, as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PortProtos(pub(super) u8);

/// IP versions a protocol-number test applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    Any,
    V4,
    V6,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RelOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prim {
    /// `host`, `net`: the innermost IP source and/or destination.
    Net {
        net: IpNet,
        dir: Dir,
    },
    /// `port`, `portrange`: inclusive range on TCP/UDP/SCTP ports.
    Port {
        protos: PortProtos,
        dir: Dir,
        lo: u16,
        hi: u16,
    },
    /// `ip proto N`, `tcp`, `icmp` …: the innermost IP protocol number.
    Proto {
        family: Family,
        number: u8,
    },
    /// `ip` (4) or `ip6` (6): the innermost IP version.
    IpVersion(u8),
    Arp,
    /// `vlan` (any tag) or `vlan N` (the VLAN id of the innermost tag).
    Vlan(Option<u16>),
    Mpls,
    /// `len <op> N`, `less N`, `greater N` on the wire length.
    Len {
        op: RelOp,
        bytes: u32,
    },
}

impl Node {
    pub(super) fn eval(&self, p: &Packet<'_>, wire_len: u32) -> bool {
        match self {
            Node::Prim(prim) => prim.matches(p, wire_len),
            Node::Not(n) => !n.eval(p, wire_len),
            Node::Chain(first, rest) => {
                let mut acc = first.eval(p, wire_len);
                for (join, n) in rest {
                    acc = match join {
                        Join::And => acc && n.eval(p, wire_len),
                        Join::Or => acc || n.eval(p, wire_len),
                    };
                }
                acc
            }
        }
    }
}

impl Dir {
    #[inline]
    pub(super) fn test<T: Copy>(self, src: T, dst: T, f: impl Fn(T) -> bool) -> bool {
        match self {
            Dir::Src => f(src),
            Dir::Dst => f(dst),
            Dir::SrcOrDst => f(src) || f(dst),
            Dir::SrcAndDst => f(src) && f(dst),
        }
    }
}

impl IpNet {
    #[inline]
    pub(super) fn contains(self, a: IpAddr) -> bool {
        match (self, a) {
            (IpNet::V4 { net, mask }, IpAddr::V4(a)) => u32::from(a) & mask == net,
            (IpNet::V6 { net, mask }, IpAddr::V6(a)) => u128::from(a) & mask == net,
            _ => false,
        }
    }
}

impl PortProtos {
    pub(super) const TCP: PortProtos = PortProtos(1);
    pub(super) const UDP: PortProtos = PortProtos(2);
    pub(super) const SCTP: PortProtos = PortProtos(4);
    pub(super) const TCP_UDP: PortProtos = PortProtos(3);
    pub(super) const ALL: PortProtos = PortProtos(7);

    #[inline]
    pub(super) fn has_ip_proto(self, number: u8) -> bool {
        let bit = match number {
            6 => 1,
            17 => 2,
            132 => 4,
            _ => return false,
        };
        self.0 & bit != 0
    }

    pub(super) fn intersect(self, other: PortProtos) -> PortProtos {
        PortProtos(self.0 & other.0)
    }
}

impl RelOp {
    #[inline]
    pub(super) fn holds(self, a: u32, b: u32) -> bool {
        match self {
            RelOp::Lt => a < b,
            RelOp::Le => a <= b,
            RelOp::Gt => a > b,
            RelOp::Ge => a >= b,
            RelOp::Eq => a == b,
            RelOp::Ne => a != b,
        }
    }
}

impl Prim {
    pub(super) fn matches(&self, p: &Packet<'_>, wire_len: u32) -> bool {
        match *self {
            Prim::Net { net, dir } => match &p.ip {
                Some(ip) => dir.test(ip.src, ip.dst, |a| net.contains(a)),
                None => false,
            },
            Prim::Port {
                protos,
                dir,
                lo,
                hi,
            } => match ports(p, protos) {
                Some((src, dst)) => dir.test(src, dst, |port| lo <= port && port <= hi),
                None => false,
            },
            Prim::Proto { family, number } => match &p.ip {
                Some(ip) => {
                    let family_ok = match family {
                        Family::Any => true,
                        Family::V4 => ip.version == 4,
                        Family::V6 => ip.version == 6,
                    };
                    family_ok && ip.protocol == number
                }
                None => false,
            },
            Prim::IpVersion(v) => p.ip.as_ref().is_some_and(|ip| ip.version == v),
            Prim::Arp => p.layers.contains(Layer::Arp),
            Prim::Vlan(None) => p.layers.contains(Layer::Vlan),
            Prim::Vlan(Some(id)) => p.vlan_id == Some(id),
            Prim::Mpls => p.layers.contains(Layer::Mpls),
            Prim::Len { op, bytes } => op.holds(wire_len, bytes),
        }
    }
}

/// (source, destination) port of the innermost transport header when its
/// protocol is in `protos`. As libpcap: the first fragment of an IPv4
/// datagram has ports (read from its payload), later fragments have none,
/// and IPv6 fragments have none. A header cut too short to decode still has
/// ports when its first 4 bytes are there.
pub(super) fn ports(p: &Packet<'_>, protos: PortProtos) -> Option<(u16, u16)> {
    let ip = p.ip.as_ref()?;
    if !protos.has_ip_proto(ip.protocol) {
        return None;
    }
    match p.transport {
        Transport::Tcp(t) => Some((t.src_port, t.dst_port)),
        Transport::Udp(u) => Some((u.src_port, u.dst_port)),
        Transport::Sctp(s) => Some((s.src_port, s.dst_port)),
        Transport::Fragment | Transport::None => {
            if let Some(f) = ip.fragment {
                if ip.version != 4 || f.offset_bytes != 0 {
                    return None;
                }
            }
            match ip.payload() {
                [a, b, c, d, ..] => {
                    Some((u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d])))
                }
                _ => None,
            }
        }
        Transport::Icmp(_) | Transport::Icmpv6(_) | Transport::Other(_) => None,
    }
}
