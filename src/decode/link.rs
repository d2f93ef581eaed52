//! Link layers: Ethernet with VLAN (802.1Q, 802.1ad, QinQ) and MPLS stacks
//! and PPPoE; BSD loopback; raw IP; Linux SLL/SLL2; NFLOG; PPP; Cisco HDLC.

use super::{be16, Anomaly, Layer, Next, Packet};
use crate::capture::LinkType;

/// EtherType registry values we dispatch on.
pub(crate) mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const VLAN: u16 = 0x8100;
    pub const QINQ: u16 = 0x88a8;
    pub const QINQ_OLD1: u16 = 0x9100;
    pub const QINQ_OLD2: u16 = 0x9200;
    pub const IPV6: u16 = 0x86dd;
    pub const MPLS_UC: u16 = 0x8847;
    pub const MPLS_MC: u16 = 0x8848;
    pub const PPPOE_SESSION: u16 = 0x8864;
    pub const PPP: u16 = 0x880b;
    pub const TEB: u16 = 0x6558;
}

const MAX_VLAN_TAGS: u8 = 8;
const MAX_MPLS_LABELS: u8 = 16;

pub(crate) fn start<'a>(lt: LinkType, b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    match lt.0 {
        1 => Next::Ethernet(b),
        0 | 108 => null(b, p),
        12 | 14 | 101 => Next::Ip(b),
        228 => Next::Ipv4(b),
        229 => Next::Ipv6(b),
        113 => sll(b, p),
        276 => sll2(b, p),
        239 => nflog(b, p),
        9 | 50 => ppp_frame(b, p),
        104 => chdlc(b, p),
        _ => {
            p.anomaly(Anomaly::UnknownLinktype);
            Next::Done
        }
    }
}

pub(crate) fn ethernet<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let Some(t) = be16(b, 12) else {
        p.cut_short(Anomaly::TruncatedEthernet);
        return Next::Done;
    };
    p.layers.insert(Layer::Ethernet);
    if t <= 1500 {
        // 802.3 length field: LLC/SNAP frames (STP, CDP …) carry no IP here.
        p.layers.insert(Layer::OtherL3);
        return Next::Done;
    }
    Next::EtherType(t, &b[14..])
}

pub(crate) fn ethertype<'a>(t: u16, b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    use ethertype::*;
    match t {
        IPV4 => Next::Ipv4(b),
        IPV6 => Next::Ipv6(b),
        VLAN => vlan(b, p),
        QINQ | QINQ_OLD1 | QINQ_OLD2 => {
            p.layers.insert(Layer::VlanS);
            vlan(b, p)
        }
        MPLS_UC | MPLS_MC => Next::Mpls(b),
        PPPOE_SESSION => pppoe(b, p),
        TEB => Next::Ethernet(b),
        ARP => {
            p.layers.insert(Layer::Arp);
            Next::Done
        }
        _ => {
            p.layers.insert(Layer::OtherL3);
            Next::Done
        }
    }
}

/// 802.1Q / 802.1ad tag (IEEE 802.1Q §9.6): TCI, then the next EtherType.
fn vlan<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let (Some(tci), Some(next)) = (be16(b, 0), be16(b, 2)) else {
        p.cut_short(Anomaly::TruncatedVlan);
        return Next::Done;
    };
    p.layers.insert(Layer::Vlan);
    p.vlan_depth = p.vlan_depth.saturating_add(1);
    if p.vlan_depth > MAX_VLAN_TAGS {
        p.anomaly(Anomaly::VlanStackTooDeep);
        return Next::Done;
    }
    p.vlan_id = Some(tci & 0x0fff);
    Next::EtherType(next, &b[4..])
}

/// MPLS label stack (RFC 3032 §2.1) down to bottom-of-stack; the payload
/// type is not signalled, so guess by the first nibble (RFC 4385: 0 is a
/// pseudowire control word followed by Ethernet).
pub(crate) fn mpls<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    p.layers.insert(Layer::Mpls);
    let mut off = 0usize;
    loop {
        let Some(entry) = b.get(off..off + 4) else {
            p.cut_short(Anomaly::TruncatedMpls);
            return Next::Done;
        };
        off += 4;
        p.mpls_depth = p.mpls_depth.saturating_add(1);
        if entry[2] & 0x01 != 0 {
            break;
        }
        if p.mpls_depth >= MAX_MPLS_LABELS {
            p.anomaly(Anomaly::MplsStackTooDeep);
            return Next::Done;
        }
    }
    let rest = &b[off..];
    match rest.first().map(|v| v >> 4) {
        Some(4) => Next::Ipv4(rest),
        Some(6) => Next::Ipv6(rest),
        Some(0) if rest.len() >= 4 + 14 => Next::Ethernet(&rest[4..]),
        None => {
            p.cut_short(Anomaly::TruncatedMpls);
            Next::Done
        }
        _ => {
            p.anomaly(Anomaly::MplsUnknownPayload);
            Next::Done
        }
    }
}

/// PPPoE session stage (RFC 2516 §4): 6-byte header, then a PPP protocol.
fn pppoe<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    if b.len() < 6 {
        p.cut_short(Anomaly::TruncatedPppoe);
        return Next::Done;
    }
    p.layers.insert(Layer::Pppoe);
    Next::Ppp(&b[6..])
}

/// PPP frame (RFC 1661/1662) with optional address/control bytes.
fn ppp_frame<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    if b.starts_with(&[0xff, 0x03]) {
        Next::Ppp(&b[2..])
    } else {
        let _ = p;
        Next::Ppp(b)
    }
}

/// PPP protocol field, possibly compressed to one byte (RFC 1661 §6.5: an
/// odd first byte is a one-byte protocol).
pub(crate) fn ppp_protocol<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let Some(&first) = b.first() else {
        p.cut_short(Anomaly::TruncatedPpp);
        return Next::Done;
    };
    p.layers.insert(Layer::Ppp);
    let (proto, rest) = if first & 1 == 1 {
        (u16::from(first), &b[1..])
    } else {
        match be16(b, 0) {
            Some(v) => (v, &b[2..]),
            None => {
                p.cut_short(Anomaly::TruncatedPpp);
                return Next::Done;
            }
        }
    };
    match proto {
        0x0021 => Next::Ipv4(rest),
        0x0057 => Next::Ipv6(rest),
        0x0281 | 0x0283 => Next::Mpls(rest),
        _ => {
            p.layers.insert(Layer::OtherL3);
            Next::Done
        }
    }
}

/// BSD loopback (DLT_NULL host order, DLT_LOOP network order; either is seen
/// in the wild, so both orders are accepted for both).
fn null<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let Some(h) = b.get(..4) else {
        p.cut_short(Anomaly::TruncatedNull);
        return Next::Done;
    };
    p.layers.insert(Layer::Null);
    let le = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    let family = if le > 0xffff { le.swap_bytes() } else { le };
    let rest = &b[4..];
    match family {
        2 => Next::Ipv4(rest),
        // AF_INET6: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30
        10 | 24 | 28 | 30 => Next::Ipv6(rest),
        _ => {
            p.anomaly(Anomaly::UnknownNullFamily);
            Next::Done
        }
    }
}

/// Linux cooked capture v1: 16-byte header, protocol at 14.
fn sll<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let (Some(arphrd), Some(proto)) = (be16(b, 2), be16(b, 14)) else {
        p.cut_short(Anomaly::TruncatedSll);
        return Next::Done;
    };
    p.layers.insert(Layer::Sll);
    sll_payload(arphrd, proto, &b[16..], p)
}

/// Linux cooked capture v2: 20-byte header, protocol at 0, ARPHRD at 8.
fn sll2<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let (Some(proto), Some(arphrd)) = (be16(b, 0), be16(b, 8)) else {
        p.cut_short(Anomaly::TruncatedSll);
        return Next::Done;
    };
    if b.len() < 20 {
        p.cut_short(Anomaly::TruncatedSll);
        return Next::Done;
    }
    p.layers.insert(Layer::Sll2);
    sll_payload(arphrd, proto, &b[20..], p)
}

fn sll_payload<'a>(arphrd: u16, proto: u16, rest: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    match (arphrd, proto) {
        // ARPHRD_NETLINK carries netlink messages, not frames.
        (824, _) => {
            p.layers.insert(Layer::OtherL3);
            Next::Done
        }
        // ARPHRD_IPGRE: the protocol field is the GRE protocol type.
        (778, t) => ethertype(t, rest, p),
        // Linux pseudo-protocols (ETH_P_802_3, ETH_P_802_2 …).
        (_, t) if t < 0x0600 => {
            p.layers.insert(Layer::OtherL3);
            Next::Done
        }
        (_, t) => ethertype(t, rest, p),
    }
}

/// NFLOG (DLT 239): 4-byte header, then TLVs (length and type in host byte
/// order, padded to 4); NFULA_PAYLOAD (9) holds the IP packet.
fn nflog<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    if b.len() < 4 {
        p.cut_short(Anomaly::TruncatedNflog);
        return Next::Done;
    }
    p.layers.insert(Layer::Nflog);
    let family = b[0];
    let mut off = 4usize;
    let mut little_endian: Option<bool> = None;
    while let Some(tl) = b.get(off..off + 4) {
        let le_len = u16::from_le_bytes([tl[0], tl[1]]) as usize;
        let be_len = u16::from_be_bytes([tl[0], tl[1]]) as usize;
        let remaining = b.len() - off;
        let le = *little_endian.get_or_insert_with(|| {
            (4..=remaining).contains(&le_len) || !(4..=remaining).contains(&be_len)
        });
        let (len, ty) = if le {
            (le_len, u16::from_le_bytes([tl[2], tl[3]]))
        } else {
            (be_len, u16::from_be_bytes([tl[2], tl[3]]))
        };
        if len < 4 {
            p.anomaly(Anomaly::TruncatedNflog);
            return Next::Done;
        }
        if len > remaining {
            p.cut_short(Anomaly::TruncatedNflog);
            // A cut payload TLV still starts the IP packet.
            if ty & 0x7fff == 9 {
                return nflog_ip(family, &b[off + 4..]);
            }
            return Next::Done;
        }
        if ty & 0x7fff == 9 {
            return nflog_ip(family, &b[off + 4..off + len]);
        }
        off += (len + 3) & !3;
    }
    p.anomaly(Anomaly::NflogNoPayload);
    Next::Done
}

fn nflog_ip(family: u8, payload: &[u8]) -> Next<'_> {
    match family {
        2 => Next::Ipv4(payload),
        10 => Next::Ipv6(payload),
        _ => Next::Ip(payload),
    }
}

/// Cisco HDLC (DLT 104): address, control, then an EtherType.
fn chdlc<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let Some(t) = be16(b, 2) else {
        p.cut_short(Anomaly::TruncatedChdlc);
        return Next::Done;
    };
    p.layers.insert(Layer::Chdlc);
    ethertype(t, &b[4..], p)
}
