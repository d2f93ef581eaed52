//! Transport headers: TCP (RFC 9293) with options, UDP (RFC 768), ICMP,
//! ICMPv6, SCTP common header (RFC 9260 §3.1); and the hand-off to tunnels
//! carried over IP or UDP.

use etherparse::err::tcp::{HeaderError as TcpError, HeaderSliceError as TcpSliceError};
use etherparse::TcpHeaderSlice;

use super::tunnel::{self, TunnelKind};
use super::{be16, be32, Anomaly, Layer, Next, Packet};

/// TCP options the flow features use (RFC 9293 §3.2, RFC 7323).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    /// (TSval, TSecr)
    pub timestamp: Option<(u32, u32)>,
    /// Any option bytes at all (the reference's ACK filter keeps those).
    pub present: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    /// The 8 classic flag bits (FIN=1 … CWR=128).
    pub flags: u8,
    /// The NS/AE bit (RFC 3540), kept apart as the reference drops it.
    pub ns: bool,
    pub window: u16,
    /// Data offset · 4 (clamped to the bytes present when it claims more).
    pub header_len: u8,
    pub options: TcpOptions,
    /// Payload bytes present (within the IP extent, so no padding).
    pub payload: &'a [u8],
}

impl TcpSegment<'_> {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

#[derive(Debug, Clone, Copy)]
pub struct UdpDatagram<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    /// The UDP length field as claimed.
    pub length: u16,
    pub payload: &'a [u8],
}

#[derive(Debug, Clone, Copy)]
pub struct IcmpMessage<'a> {
    pub icmp_type: u8,
    pub code: u8,
    /// Bytes after the 4-byte type/code/checksum.
    pub body: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SctpHeader {
    pub src_port: u16,
    pub dst_port: u16,
    pub verification_tag: u32,
}

/// The innermost transport layer of a packet.
#[derive(Debug, Clone, Copy, Default)]
pub enum Transport<'a> {
    /// Nothing decoded (no IP, unknown protocol or cut short).
    #[default]
    None,
    Tcp(TcpSegment<'a>),
    Udp(UdpDatagram<'a>),
    Icmp(IcmpMessage<'a>),
    Icmpv6(IcmpMessage<'a>),
    Sctp(SctpHeader),
    /// An IP fragment: the transport header is decoded after reassembly.
    Fragment,
    /// Another IP protocol number (ESP, OSPF, IGMP …), not decoded.
    Other(u8),
}

impl Transport<'_> {
    /// (source port, destination port) for protocols with ports.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self {
            Transport::Tcp(t) => Some((t.src_port, t.dst_port)),
            Transport::Udp(u) => Some((u.src_port, u.dst_port)),
            Transport::Sctp(s) => Some((s.src_port, s.dst_port)),
            _ => None,
        }
    }
}

/// UDP ports that carry tunnels we decapsulate.
pub(crate) mod port {
    pub const VXLAN: u16 = 4789;
    pub const VXLAN_GPE: u16 = 4790;
    pub const VXLAN_LINUX: u16 = 8472;
    pub const GENEVE: u16 = 6081;
    pub const GTPU: u16 = 2152;
    pub const GRE_UDP: u16 = 4754;
}

/// Is this UDP port pair one [`dispatch`] would look inside?
#[inline]
pub(crate) fn udp_tunnel_ports(src: u16, dst: u16) -> bool {
    is_tunnel_port(dst) || is_tunnel_port(src)
}

#[inline]
fn is_tunnel_port(p: u16) -> bool {
    matches!(
        p,
        port::VXLAN
            | port::VXLAN_GPE
            | port::VXLAN_LINUX
            | port::GENEVE
            | port::GTPU
            | port::GRE_UDP
    )
}

pub(crate) fn dispatch<'a>(proto: u8, b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    match proto {
        6 => {
            tcp(b, p);
            Next::Done
        }
        17 => udp(b, p),
        1 => {
            icmp(b, p, false);
            Next::Done
        }
        58 => {
            icmp(b, p, true);
            Next::Done
        }
        132 => {
            sctp(b, p);
            Next::Done
        }
        47 => tunnel::gre(b, p),
        4 => match tunnel::enter(p, TunnelKind::IpInIp, 0) {
            true => Next::Ipv4(b),
            false => Next::Done,
        },
        41 => match tunnel::enter(p, TunnelKind::IpInIp, 0) {
            true => Next::Ipv6(b),
            false => Next::Done,
        },
        other => {
            p.layers.insert(Layer::OtherL4);
            p.transport = Transport::Other(other);
            Next::Done
        }
    }
}

fn tcp<'a>(b: &'a [u8], p: &mut Packet<'a>) {
    match TcpHeaderSlice::from_slice(b) {
        Ok(h) => {
            let (options, ok) = tcp_options(h.options());
            if !ok {
                p.anomaly(Anomaly::TcpBadOption);
            }
            let hl = h.slice().len();
            p.layers.insert(Layer::Tcp);
            p.transport = Transport::Tcp(TcpSegment {
                src_port: h.source_port(),
                dst_port: h.destination_port(),
                seq: h.sequence_number(),
                ack: h.acknowledgment_number(),
                flags: b[13],
                ns: h.ns(),
                window: h.window_size(),
                header_len: hl as u8,
                options,
                payload: &b[hl..],
            });
        }
        Err(TcpSliceError::Content(TcpError::DataOffsetTooSmall { .. })) => {
            p.anomaly(Anomaly::TcpDataOffsetTooSmall);
        }
        Err(TcpSliceError::Len(_)) => {
            // The fixed 20 bytes may still be there (options snapped off):
            // keep ports and flags, which flows need, with no payload.
            p.cut_short(Anomaly::TruncatedTcp);
            if let (Some(sp), Some(dp), Some(seq), Some(ack), Some(win)) =
                (be16(b, 0), be16(b, 2), be32(b, 4), be32(b, 8), be16(b, 14))
            {
                if b.len() >= 20 {
                    p.layers.insert(Layer::Tcp);
                    p.transport = Transport::Tcp(TcpSegment {
                        src_port: sp,
                        dst_port: dp,
                        seq,
                        ack,
                        flags: b[13],
                        ns: b[12] & 1 == 1,
                        window: win,
                        // clamped to the bytes present: the claim is bogus or snapped
                        header_len: ((b[12] >> 4) * 4).min(b.len().min(60) as u8),
                        options: TcpOptions {
                            present: true,
                            ..TcpOptions::default()
                        },
                        payload: &[],
                    });
                }
            }
        }
    }
}

/// Walk TCP options (RFC 9293 §3.2: kind, length, data; 0 ends, 1 pads).
/// Unknown kinds are skipped by their length; false on an impossible length.
fn tcp_options(b: &[u8]) -> (TcpOptions, bool) {
    let mut o = TcpOptions {
        present: !b.is_empty(),
        ..TcpOptions::default()
    };
    let mut i = 0usize;
    while let Some(&kind) = b.get(i) {
        match kind {
            0 => break,
            1 => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let Some(&len) = b.get(i + 1) else {
            return (o, false);
        };
        let len = usize::from(len);
        let Some(data) = b.get(i + 2..i + len).filter(|_| len >= 2) else {
            return (o, false);
        };
        match (kind, len) {
            (2, 4) => o.mss = Some(u16::from_be_bytes([data[0], data[1]])),
            (3, 3) => o.window_scale = Some(data[0]),
            (4, 2) => o.sack_permitted = true,
            (8, 10) => {
                o.timestamp = Some((
                    u32::from_be_bytes([data[0], data[1], data[2], data[3]]),
                    u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
                ))
            }
            (2 | 3 | 4 | 8, _) => return (o, false),
            _ => {}
        }
        i += len;
    }
    (o, true)
}

fn udp<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let (Some(src_port), Some(dst_port), Some(length)) = (be16(b, 0), be16(b, 2), be16(b, 4))
    else {
        p.cut_short(Anomaly::TruncatedUdp);
        return Next::Done;
    };
    if b.len() < 8 {
        p.cut_short(Anomaly::TruncatedUdp);
        return Next::Done;
    }
    let len = usize::from(length);
    let end = if len < 8 {
        p.anomaly(Anomaly::UdpLenBelowHeader);
        b.len()
    } else if len > b.len() {
        if p.is_snapped() {
            p.truncated = true;
        } else {
            p.anomaly(Anomaly::UdpLenExceedsIp);
        }
        b.len()
    } else {
        len
    };
    let payload = &b[8..end];
    p.layers.insert(Layer::Udp);
    p.transport = Transport::Udp(UdpDatagram {
        src_port,
        dst_port,
        length,
        payload,
    });
    // The destination port decides; failing that the source port (an
    // endpoint answering from the tunnel port: TShark decodes these too).
    let tunnel_port = if is_tunnel_port(dst_port) {
        dst_port
    } else {
        src_port
    };
    match tunnel_port {
        port::VXLAN | port::VXLAN_LINUX => tunnel::vxlan(payload, p),
        port::VXLAN_GPE => tunnel::vxlan_gpe(payload, p),
        port::GENEVE => tunnel::geneve(payload, p),
        port::GTPU => tunnel::gtpu(payload, p),
        port::GRE_UDP => tunnel::gre_in_udp(payload, p),
        _ => Next::Done,
    }
}

fn icmp<'a>(b: &'a [u8], p: &mut Packet<'a>, v6: bool) {
    if b.len() < 4 {
        p.cut_short(Anomaly::TruncatedIcmp);
        return;
    }
    let m = IcmpMessage {
        icmp_type: b[0],
        code: b[1],
        body: &b[4..],
    };
    if v6 {
        p.layers.insert(Layer::Icmpv6);
        p.transport = Transport::Icmpv6(m);
    } else {
        p.layers.insert(Layer::Icmp);
        p.transport = Transport::Icmp(m);
    }
}

fn sctp(b: &[u8], p: &mut Packet<'_>) {
    let (Some(src_port), Some(dst_port), Some(verification_tag)) =
        (be16(b, 0), be16(b, 2), be32(b, 4))
    else {
        p.cut_short(Anomaly::TruncatedSctp);
        return;
    };
    if b.len() < 12 {
        p.cut_short(Anomaly::TruncatedSctp);
        return;
    }
    p.layers.insert(Layer::Sctp);
    p.transport = Transport::Sctp(SctpHeader {
        src_port,
        dst_port,
        verification_tag,
    });
}
