//! Stateless packet decoding: link layer → (tunnels) → innermost IP →
//! transport header, over borrowed bytes.
//!
//! Owns: every per-packet header check and the named anomalies they raise.
//! Does not own: state across packets (IP reassembly lives in [`defrag`],
//! flows in later stages).
//!
//! Invariant: [`decode`] never panics and never reads past the slice; every
//! length a header claims is checked against the bytes present. Layers that
//! decoded before a problem are kept (lax parsing, as etherparse's
//! `LaxSlicedPacket`).

mod anomaly;
pub mod defrag;
pub mod front;
mod ip;
mod layers;
mod link;
pub mod ranges;
mod transport;
mod tunnel;

use std::net::IpAddr;

pub use anomaly::{Anomaly, AnomalyCounts, AnomalySet};
pub use layers::{Layer, LayerCounts, LayerSet};
pub use transport::{IcmpMessage, SctpHeader, TcpOptions, TcpSegment, Transport, UdpDatagram};
pub use tunnel::{TunnelInfo, TunnelKind};

use crate::capture::LinkType;

/// Most nested encapsulations we follow (tunnels, not VLAN/MPLS).
pub const MAX_TUNNEL_DEPTH: u8 = 8;

/// IPv4/IPv6 fragment description (offsets in bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentInfo {
    pub id: u32,
    pub offset_bytes: u32,
    pub more: bool,
}

/// The innermost IP header of a packet.
#[derive(Debug, Clone, Copy)]
pub struct IpHeader<'a> {
    pub version: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 protocol, or the IPv6 next header after the extension chain.
    pub protocol: u8,
    /// TTL or hop limit.
    pub ttl: u8,
    /// Claimed length: IPv4 total length field; IPv6 40 + payload length.
    pub total_len: u32,
    /// IPv4 IHL·4; IPv6 40 + extension headers up to the payload.
    pub header_len: u16,
    /// IPv6: offset of the fragment header's next-header byte's owner, i.e.
    /// where the unfragmentable part ends (0 when not fragmented).
    pub unfragmentable_len: u16,
    pub fragment: Option<FragmentInfo>,
    /// The IP packet as present: header and payload, clamped to the claimed
    /// length (Ethernet padding excluded) and to the captured bytes.
    pub bytes: &'a [u8],
}

impl<'a> IpHeader<'a> {
    /// Payload after the IP header (and IPv6 extension headers).
    pub fn payload(&self) -> &'a [u8] {
        self.bytes
            .get(usize::from(self.header_len)..)
            .unwrap_or(&[])
    }
}

/// Everything decoded from one packet.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    pub layers: LayerSet,
    pub anomalies: AnomalySet,
    /// Captured bytes ended before a header or a claimed payload did
    /// (snaplen): the layers that decoded are kept.
    pub truncated: bool,
    /// VLAN id of the last 802.1Q/802.1ad tag parsed (the inner tag of QinQ).
    pub vlan_id: Option<u16>,
    pub vlan_depth: u8,
    pub mpls_depth: u8,
    /// The outermost tunnel and its outer addresses, when encapsulated.
    pub tunnel: Option<TunnelInfo>,
    pub tunnel_depth: u8,
    pub ip: Option<IpHeader<'a>>,
    pub transport: Transport<'a>,
    /// The frame was snapped (captured < wire length).
    snapped: bool,
}

impl<'a> Packet<'a> {
    fn new(snapped: bool) -> Packet<'a> {
        Packet {
            layers: LayerSet::default(),
            anomalies: AnomalySet::default(),
            truncated: false,
            vlan_id: None,
            vlan_depth: 0,
            mpls_depth: 0,
            tunnel: None,
            tunnel_depth: 0,
            ip: None,
            transport: Transport::None,
            snapped,
        }
    }

    /// A header needed `need` bytes that the capture did not hold: a snapped
    /// frame is marked truncated; both raise the layer's anomaly.
    #[inline]
    pub(crate) fn cut_short(&mut self, a: Anomaly) {
        self.anomalies.insert(a);
        if self.snapped {
            self.truncated = true;
        }
    }

    #[inline]
    pub(crate) fn anomaly(&mut self, a: Anomaly) {
        self.anomalies.insert(a);
    }

    #[inline]
    pub(crate) fn is_snapped(&self) -> bool {
        self.snapped
    }

    /// Is this an IP fragment still waiting for reassembly?
    pub fn is_fragment(&self) -> bool {
        matches!(self.transport, Transport::Fragment)
    }

    /// A first fragment that the capture cut short (its datagram can never
    /// be rebuilt): its transport header and the payload captured, decoded
    /// as they are, as TShark shows them. `None` for other packets.
    pub fn cut_first_fragment(&self) -> Option<Packet<'a>> {
        let ip = self.ip?;
        let frag = ip.fragment?;
        if frag.offset_bytes != 0 || ip.bytes.len() as u64 >= u64::from(ip.total_len) {
            return None;
        }
        let mut p = *self;
        p.transport = Transport::None;
        // Only the transport header: what it carries further (a tunnel)
        // is not followed in a cut datagram.
        let _ = transport::dispatch(ip.protocol, ip.payload(), &mut p);
        p.truncated = true;
        Some(p)
    }

    /// Re-decode the transport layer of a reassembled IP datagram `ip_bytes`
    /// (a complete IP packet), keeping this packet's link and tunnel facts.
    pub fn with_reassembled<'b>(&self, ip_bytes: &'b [u8]) -> Packet<'b> {
        let mut p = Packet {
            layers: self.layers,
            anomalies: self.anomalies,
            truncated: false,
            vlan_id: self.vlan_id,
            vlan_depth: self.vlan_depth,
            mpls_depth: self.mpls_depth,
            tunnel: self.tunnel,
            tunnel_depth: self.tunnel_depth,
            ip: None,
            transport: Transport::None,
            snapped: false,
        };
        walk(Next::Ip(ip_bytes), &mut p);
        p
    }
}

/// Where the layer walk goes next.
pub(crate) enum Next<'a> {
    Done,
    Ethernet(&'a [u8]),
    EtherType(u16, &'a [u8]),
    /// IP by version nibble.
    Ip(&'a [u8]),
    Ipv4(&'a [u8]),
    Ipv6(&'a [u8]),
    /// PPP frame starting at the protocol field (address/control removed).
    Ppp(&'a [u8]),
    Mpls(&'a [u8]),
}

/// Decode one captured frame of `linktype`; `wire_len` is its length on the
/// wire (to tell snaplen truncation from malformed lengths).
pub fn decode(linktype: LinkType, data: &[u8], wire_len: u32) -> Packet<'_> {
    let mut p = Packet::new((data.len() as u64) < u64::from(wire_len));
    if data.len() as u64 > u64::from(wire_len) {
        p.anomaly(Anomaly::CaplenExceedsWirelen);
    }
    let next = link::start(linktype, data, &mut p);
    walk(next, &mut p);
    p
}

/// Decode bytes that start with an IP header (used by tests and re-decoding).
pub fn decode_ip(data: &[u8]) -> Packet<'_> {
    let mut p = Packet::new(false);
    walk(Next::Ip(data), &mut p);
    p
}

fn walk<'a>(mut next: Next<'a>, p: &mut Packet<'a>) {
    // Each step consumes at least one header, and tunnels and label stacks
    // are bounded, so this terminates; the cap is a second line of defence.
    for _ in 0..64 {
        next = match next {
            Next::Done => return,
            Next::Ethernet(b) => link::ethernet(b, p),
            Next::EtherType(t, b) => link::ethertype(t, b, p),
            Next::Ip(b) => ip::by_version(b, p),
            Next::Ipv4(b) => ip::ipv4(b, p),
            Next::Ipv6(b) => ip::ipv6(b, p),
            Next::Ppp(b) => link::ppp_protocol(b, p),
            Next::Mpls(b) => link::mpls(b, p),
        };
    }
    p.anomaly(Anomaly::TunnelTooDeep);
}

/// Big-endian u16 at `off`, if present.
#[inline]
pub(crate) fn be16(b: &[u8], off: usize) -> Option<u16> {
    b.get(off..off + 2)
        .map(|s| u16::from_be_bytes([s[0], s[1]]))
}

/// Big-endian u32 at `off`, if present.
#[inline]
pub(crate) fn be32(b: &[u8], off: usize) -> Option<u32> {
    b.get(off..off + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// The IP pair [`decode`] would report as the innermost, read cheaply when
/// the frame is plain: Ethernet II (up to two VLAN tags), Linux cooked
/// (SLL, SLL2) or raw IP, then IPv4 or IPv6 (no extension header),
/// carrying TCP, UDP on ports that are no tunnel, or a fragment (whose inner
/// headers decode does not open either). `None`: decode to know. The
/// pipeline's reader uses it to pick a worker without decoding the packet
/// twice (a corpus test checks it against the decoder on every packet).
#[inline]
pub fn plain_ip_pair(linktype: LinkType, data: &[u8]) -> Option<(IpAddr, IpAddr)> {
    let (mut ethertype, mut at) = match linktype {
        LinkType::ETHERNET => (be16(data, 12)?, 14),
        // ARPHRD_NETLINK (824) carries no frames.
        LinkType::LINUX_SLL if be16(data, 2)? != 824 => (be16(data, 14)?, 16),
        LinkType::LINUX_SLL2 if be16(data, 8)? != 824 => (be16(data, 0)?, 20),
        LinkType::RAW
        | LinkType::RAW_BSD12
        | LinkType::RAW_BSD14
        | LinkType::IPV4
        | LinkType::IPV6 => match *data.first()? >> 4 {
            4 if linktype != LinkType::IPV6 => (0x0800, 0),
            6 if linktype != LinkType::IPV4 => (0x86dd, 0),
            _ => return None,
        },
        _ => return None,
    };
    if linktype == LinkType::ETHERNET {
        for _ in 0..2 {
            if !matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
                break;
            }
            ethertype = be16(data, at + 2)?;
            at += 4;
        }
    }
    let ip = data.get(at..)?;
    let ports = |l4: &[u8]| -> Option<(u16, u16)> {
        Some((
            u16::from_be_bytes([*l4.first()?, *l4.get(1)?]),
            u16::from_be_bytes([*l4.get(2)?, *l4.get(3)?]),
        ))
    };
    let plain = |proto: u8, l4: &[u8]| match proto {
        6 => l4.len() >= 20,
        17 => ports(l4).is_some_and(|(s, d)| !transport::udp_tunnel_ports(s, d)),
        _ => false,
    };
    match ethertype {
        0x0800 => {
            let ihl = usize::from(*ip.first()? & 0x0f) * 4;
            if *ip.first()? >> 4 != 4 || ihl < 20 || ip.len() < ihl {
                return None;
            }
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            if total < ihl {
                return None;
            }
            let fragment = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0;
            let l4 = &ip[ihl..ip.len().min(total)];
            if !fragment && !plain(ip[9], l4) {
                return None;
            }
            let a = |i: usize| IpAddr::from([ip[i], ip[i + 1], ip[i + 2], ip[i + 3]]);
            Some((a(12), a(16)))
        }
        0x86dd => {
            if ip.len() < 40 || *ip.first()? >> 4 != 6 || !plain(ip[6], &ip[40..]) {
                return None;
            }
            let a = |i: usize| {
                let mut b = [0u8; 16];
                b.copy_from_slice(&ip[i..i + 16]);
                IpAddr::from(b)
            };
            Some((a(8), a(24)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
