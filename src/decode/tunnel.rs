//! Tunnels decapsulated to the innermost IP packet: GRE (RFC 2784/2890,
//! PPTP's enhanced GRE, ERSPAN I/II/III, GRE over UDP RFC 8086), VXLAN
//! (RFC 7348), Geneve (RFC 8926), GTP-U (3GPP TS 29.281), IP-in-IP/6in4/4in6.
//! The outermost tunnel's kind, id and outer addresses are kept.

use std::net::IpAddr;

use super::link::ethertype;
use super::{be16, be32, Anomaly, Layer, Next, Packet, Transport, MAX_TUNNEL_DEPTH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelKind {
    Gre,
    Erspan,
    Vxlan,
    Geneve,
    Gtpu,
    IpInIp,
}

impl TunnelKind {
    pub fn name(self) -> &'static str {
        match self {
            TunnelKind::Gre => "gre",
            TunnelKind::Erspan => "erspan",
            TunnelKind::Vxlan => "vxlan",
            TunnelKind::Geneve => "geneve",
            TunnelKind::Gtpu => "gtpu",
            TunnelKind::IpInIp => "ipip",
        }
    }
}

/// The outermost encapsulation of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunnelInfo {
    pub kind: TunnelKind,
    /// GRE key, ERSPAN session, VXLAN/Geneve VNI, GTP-U TEID (0 if none).
    pub id: u32,
    pub outer_src: IpAddr,
    pub outer_dst: IpAddr,
}

/// Note that we are entering a tunnel; false when nested too deep.
pub(crate) fn enter(p: &mut Packet<'_>, kind: TunnelKind, id: u32) -> bool {
    p.tunnel_depth = p.tunnel_depth.saturating_add(1);
    if p.tunnel_depth > MAX_TUNNEL_DEPTH {
        p.anomaly(Anomaly::TunnelTooDeep);
        return false;
    }
    p.layers.insert(match kind {
        TunnelKind::Gre => Layer::Gre,
        TunnelKind::Erspan => Layer::Erspan,
        TunnelKind::Vxlan => Layer::Vxlan,
        TunnelKind::Geneve => Layer::Geneve,
        TunnelKind::Gtpu => Layer::Gtpu,
        TunnelKind::IpInIp => Layer::IpInIp,
    });
    if p.tunnel.is_none() {
        if let Some(ip) = &p.ip {
            p.tunnel = Some(TunnelInfo {
                kind,
                id,
                outer_src: ip.src,
                outer_dst: ip.dst,
            });
        }
    }
    true
}

/// Upgrade the recorded tunnel kind/id (GRE found to carry ERSPAN).
fn refine(p: &mut Packet<'_>, kind: TunnelKind, id: u32) {
    p.layers.insert(Layer::Erspan);
    if let Some(t) = p.tunnel.as_mut() {
        if p.tunnel_depth == 1 {
            t.kind = kind;
            t.id = id;
        }
    }
}

const ERSPAN_II: u16 = 0x88be;
const ERSPAN_III: u16 = 0x22eb;

pub(crate) fn gre<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let (Some(flags), Some(proto)) = (be16(b, 0), be16(b, 2)) else {
        p.cut_short(Anomaly::TruncatedGre);
        return Next::Done;
    };
    let c = flags & 0x8000 != 0;
    let r = flags & 0x4000 != 0;
    let k = flags & 0x2000 != 0;
    let s = flags & 0x1000 != 0;
    let version = flags & 0x0007;
    let mut off = 4usize;
    let mut key = 0u32;
    match version {
        0 => {
            if r {
                // Source routing (RFC 1701) is obsolete and unbounded.
                p.anomaly(Anomaly::GreUnsupported);
                return Next::Done;
            }
            if c {
                off += 4;
            }
            if k {
                key = be32(b, off).unwrap_or(0);
                off += 4;
            }
            if s {
                off += 4;
            }
        }
        1 => {
            // Enhanced GRE (RFC 2637 §4.1): key = payload length + call id,
            // optional sequence and acknowledgment numbers.
            key = u32::from(be16(b, 6).unwrap_or(0));
            off += 4;
            if s {
                off += 4;
            }
            if flags & 0x0080 != 0 {
                off += 4;
            }
        }
        _ => {
            p.anomaly(Anomaly::GreUnsupported);
            return Next::Done;
        }
    }
    let Some(rest) = b.get(off..) else {
        p.cut_short(Anomaly::TruncatedGre);
        return Next::Done;
    };
    if !enter(p, TunnelKind::Gre, key) {
        return Next::Done;
    }
    p.transport = Transport::None;
    match proto {
        ERSPAN_II if !s => {
            // ERSPAN type I: no ERSPAN header, no GRE sequence number.
            refine(p, TunnelKind::Erspan, 0);
            Next::Ethernet(rest)
        }
        ERSPAN_II => {
            let Some(h) = be32(rest, 0).filter(|_| rest.len() >= 8) else {
                p.cut_short(Anomaly::TruncatedErspan);
                return Next::Done;
            };
            refine(p, TunnelKind::Erspan, h & 0x3ff);
            Next::Ethernet(&rest[8..])
        }
        ERSPAN_III => {
            let Some(h) = be32(rest, 0).filter(|_| rest.len() >= 12) else {
                p.cut_short(Anomaly::TruncatedErspan);
                return Next::Done;
            };
            // Bit O (last bit of word 3) announces an 8-byte platform subheader.
            let len = if rest[11] & 0x01 != 0 { 20 } else { 12 };
            let Some(inner) = rest.get(len..) else {
                p.cut_short(Anomaly::TruncatedErspan);
                return Next::Done;
            };
            refine(p, TunnelKind::Erspan, h & 0x3ff);
            Next::Ethernet(inner)
        }
        ethertype::PPP => ppp_in_gre(rest),
        t => Next::EtherType(t, rest),
    }
}

/// PPTP carries PPP with optional address/control bytes.
fn ppp_in_gre(b: &[u8]) -> Next<'_> {
    if b.starts_with(&[0xff, 0x03]) {
        Next::Ppp(&b[2..])
    } else {
        Next::Ppp(b)
    }
}

pub(crate) fn gre_in_udp<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    gre(b, p)
}

pub(crate) fn vxlan<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let Some(h) = b.get(..8) else {
        p.cut_short(Anomaly::TruncatedVxlan);
        return Next::Done;
    };
    // RFC 7348 §5: the I flag must be set for a valid VNI; otherwise this is
    // not VXLAN and the UDP datagram stays as it is.
    if h[0] & 0x08 == 0 {
        return Next::Done;
    }
    let vni = u32::from_be_bytes([0, h[4], h[5], h[6]]);
    if !enter(p, TunnelKind::Vxlan, vni) {
        return Next::Done;
    }
    Next::Ethernet(&b[8..])
}

/// VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe §3): VXLAN's header with a
/// next-protocol byte, so IP rides without an Ethernet header.
pub(crate) fn vxlan_gpe<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let Some(h) = b.get(..8) else {
        p.cut_short(Anomaly::TruncatedVxlan);
        return Next::Done;
    };
    // I flag for a valid VNI. The next-protocol byte is read even when the
    // P flag is clear, as TShark does (senders leave it clear).
    if h[0] & 0x08 == 0 {
        return Next::Done;
    }
    let next = match h[3] {
        1 => Some(0x0800),
        2 => Some(0x86dd),
        3 => None,
        5 => Some(0x8847),
        _ => return Next::Done, // NSH and unknown protocols stay UDP
    };
    let vni = u32::from_be_bytes([0, h[4], h[5], h[6]]);
    if !enter(p, TunnelKind::Vxlan, vni) {
        return Next::Done;
    }
    match next {
        Some(ethertype) => Next::EtherType(ethertype, &b[8..]),
        None => Next::Ethernet(&b[8..]),
    }
}

pub(crate) fn geneve<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let Some(h) = b.get(..8) else {
        p.cut_short(Anomaly::TruncatedGeneve);
        return Next::Done;
    };
    if h[0] >> 6 != 0 {
        return Next::Done; // unknown Geneve version: leave as UDP
    }
    let len = 8 + usize::from(h[0] & 0x3f) * 4;
    let proto = u16::from_be_bytes([h[2], h[3]]);
    let vni = u32::from_be_bytes([0, h[4], h[5], h[6]]);
    let Some(inner) = b.get(len..) else {
        p.cut_short(Anomaly::TruncatedGeneve);
        return Next::Done;
    };
    if !enter(p, TunnelKind::Geneve, vni) {
        return Next::Done;
    }
    Next::EtherType(proto, inner)
}

pub(crate) fn gtpu<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let Some(h) = b.get(..8) else {
        p.cut_short(Anomaly::TruncatedGtpu);
        return Next::Done;
    };
    // Version 1, protocol type GTP (TS 29.281 §5.1); only G-PDU (255)
    // carries user IP packets.
    if h[0] >> 5 != 1 || h[0] & 0x10 == 0 || h[1] != 0xff {
        return Next::Done;
    }
    let teid = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
    let mut off = 8usize;
    if h[0] & 0x07 != 0 {
        // sequence number, N-PDU number, next extension header type
        let Some(&next_ext) = b.get(off + 3) else {
            p.cut_short(Anomaly::TruncatedGtpu);
            return Next::Done;
        };
        off += 4;
        let mut next = next_ext;
        let mut guard = 0;
        while next != 0 {
            guard += 1;
            let Some(&units) = b.get(off).filter(|_| guard <= 16) else {
                p.cut_short(Anomaly::TruncatedGtpu);
                return Next::Done;
            };
            let len = usize::from(units) * 4;
            if len == 0 {
                p.cut_short(Anomaly::TruncatedGtpu);
                return Next::Done;
            }
            let Some(&n) = b.get(off + len - 1) else {
                p.cut_short(Anomaly::TruncatedGtpu);
                return Next::Done;
            };
            next = n;
            off += len;
        }
    }
    let Some(inner) = b.get(off..) else {
        p.cut_short(Anomaly::TruncatedGtpu);
        return Next::Done;
    };
    if inner.is_empty() || !enter(p, TunnelKind::Gtpu, teid) {
        return Next::Done;
    }
    Next::Ip(inner)
}
