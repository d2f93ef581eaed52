//! IPv4 (RFC 791) with options and IPv6 (RFC 8200) with its extension-header
//! chain. Header validation by etherparse; length reconciliation here.

use std::net::IpAddr;

use etherparse::err::ipv4::{HeaderError as V4Error, HeaderSliceError as V4SliceError};
use etherparse::err::ipv6::HeaderSliceError as V6SliceError;
use etherparse::{Ipv4HeaderSlice, Ipv6HeaderSlice};

use super::{transport, Anomaly, FragmentInfo, IpHeader, Layer, Next, Packet, Transport};

const MAX_IPV6_EXT: usize = 16;

pub(crate) fn by_version<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    match b.first().map(|v| v >> 4) {
        Some(4) => Next::Ipv4(b),
        Some(6) => Next::Ipv6(b),
        None => {
            p.cut_short(Anomaly::TruncatedIpv4);
            Next::Done
        }
        _ => {
            p.anomaly(Anomaly::IpBadVersion);
            Next::Done
        }
    }
}

pub(crate) fn ipv4<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let h = match Ipv4HeaderSlice::from_slice(b) {
        Ok(h) => h,
        Err(V4SliceError::Len(_)) => {
            p.cut_short(Anomaly::TruncatedIpv4);
            return ipv4_cut_options(b, p);
        }
        Err(V4SliceError::Content(V4Error::UnexpectedVersion { .. })) => {
            p.anomaly(Anomaly::Ipv4BadVersion);
            return Next::Done;
        }
        Err(V4SliceError::Content(V4Error::HeaderLengthSmallerThanHeader { .. })) => {
            p.anomaly(Anomaly::Ipv4HeaderLenTooSmall);
            return Next::Done;
        }
    };
    let header_len = h.slice().len();
    let total_len = usize::from(h.total_len());
    let extent = if total_len < header_len {
        // Bogus (or TSO-zeroed) length: use what was captured, never a
        // negative payload.
        p.anomaly(Anomaly::Ipv4TotalLenBelowHeader);
        b.len()
    } else if total_len > b.len() {
        if p.is_snapped() {
            p.truncated = true;
        } else {
            p.anomaly(Anomaly::Ipv4TotalLenExceedsFrame);
        }
        b.len()
    } else {
        total_len
    };
    let offset = u32::from(h.fragments_offset().value()) * 8;
    let more = h.more_fragments();
    let fragment = (offset != 0 || more).then_some(FragmentInfo {
        id: u32::from(h.identification()),
        offset_bytes: offset,
        more,
    });
    let protocol = h.protocol().0;
    enter_ip(
        p,
        IpHeader {
            version: 4,
            src: IpAddr::from(h.source()),
            dst: IpAddr::from(h.destination()),
            protocol,
            ttl: h.ttl(),
            total_len: u32::from(h.total_len()),
            header_len: header_len as u16,
            unfragmentable_len: 0,
            fragment,
            bytes: &b[..extent],
        },
        Layer::Ipv4,
    )
}

/// The fixed 20 bytes are there but the options (IHL) run past the data:
/// keep addresses and protocol so the packet still belongs to a flow, with no
/// transport layer.
fn ipv4_cut_options<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let Some(h) = b.get(..20) else {
        return Next::Done;
    };
    if h[0] >> 4 != 4 || h[0] & 0x0f < 5 {
        return Next::Done;
    }
    p.layers.insert(Layer::Ipv4);
    p.ip = Some(IpHeader {
        version: 4,
        src: IpAddr::from([h[12], h[13], h[14], h[15]]),
        dst: IpAddr::from([h[16], h[17], h[18], h[19]]),
        protocol: h[9],
        ttl: h[8],
        total_len: u32::from(u16::from_be_bytes([h[2], h[3]])),
        header_len: b.len() as u16,
        unfragmentable_len: 0,
        fragment: None,
        bytes: b,
    });
    p.transport = Transport::None;
    Next::Done
}

pub(crate) fn ipv6<'a>(b: &'a [u8], p: &mut Packet<'a>) -> Next<'a> {
    let h = match Ipv6HeaderSlice::from_slice(b) {
        Ok(h) => h,
        Err(V6SliceError::Len(_)) => {
            p.cut_short(Anomaly::TruncatedIpv6);
            return Next::Done;
        }
        Err(V6SliceError::Content(_)) => {
            p.anomaly(Anomaly::Ipv6BadVersion);
            return Next::Done;
        }
    };
    let payload_len = usize::from(h.payload_length());
    // Payload length 0 with a hop-by-hop option is a jumbogram (RFC 2675):
    // the captured bytes are the extent.
    let extent = if payload_len == 0 && h.next_header().0 == 0 {
        b.len()
    } else if 40 + payload_len > b.len() {
        if p.is_snapped() {
            p.truncated = true;
        } else {
            p.anomaly(Anomaly::Ipv6PayloadLenExceedsFrame);
        }
        b.len()
    } else {
        40 + payload_len
    };
    let bytes = &b[..extent];
    // Walk the extension headers (RFC 8200 §4) to the upper-layer header.
    let mut next = h.next_header().0;
    let mut off = 40usize;
    let mut fragment = None;
    let mut unfragmentable_len = 0u16;
    let mut truncated_ext = false;
    for i in 0..=MAX_IPV6_EXT {
        if i == MAX_IPV6_EXT {
            p.anomaly(Anomaly::Ipv6ExtChainTooLong);
            truncated_ext = true;
            break;
        }
        let len = match next {
            // hop-by-hop, routing, destination options, mobility, HIP, shim6
            0 | 43 | 60 | 135 | 139 | 140 => bytes.get(off + 1).map(|l| (usize::from(*l) + 1) * 8),
            // fragment header: fixed 8 bytes
            44 => bytes.get(off..off + 8).map(|_| 8),
            // authentication header: payload length in 4-octet units minus 2
            51 => bytes.get(off + 1).map(|l| (usize::from(*l) + 2) * 4),
            _ => break,
        };
        let Some(len) = len.filter(|l| off + l <= bytes.len()) else {
            p.cut_short(Anomaly::TruncatedIpv6Ext);
            truncated_ext = true;
            break;
        };
        if next == 44 {
            let fo = u16::from_be_bytes([bytes[off + 2], bytes[off + 3]]);
            let id = u32::from_be_bytes([
                bytes[off + 4],
                bytes[off + 5],
                bytes[off + 6],
                bytes[off + 7],
            ]);
            let offset_bytes = u32::from(fo >> 3) * 8;
            let more = fo & 1 == 1;
            unfragmentable_len = off as u16;
            next = bytes[off];
            off += len;
            if offset_bytes != 0 || more {
                fragment = Some(FragmentInfo {
                    id,
                    offset_bytes,
                    more,
                });
                break;
            }
            // An atomic fragment (offset 0, M=0, RFC 6946) is a whole packet.
            continue;
        }
        next = bytes[off];
        off += len;
    }
    let header = IpHeader {
        version: 6,
        src: IpAddr::from(h.source()),
        dst: IpAddr::from(h.destination()),
        protocol: next,
        ttl: h.hop_limit(),
        total_len: 40 + u32::from(h.payload_length()),
        header_len: off.min(bytes.len()) as u16,
        unfragmentable_len,
        fragment,
        bytes,
    };
    if truncated_ext {
        p.layers.insert(Layer::Ipv6);
        p.ip = Some(header);
        p.transport = Transport::None;
        return Next::Done;
    }
    enter_ip(p, header, Layer::Ipv6)
}

/// Record `h` as the innermost IP header and continue with its payload.
fn enter_ip<'a>(p: &mut Packet<'a>, h: IpHeader<'a>, layer: Layer) -> Next<'a> {
    p.layers.insert(layer);
    let fragmented = h.fragment.is_some();
    let proto = h.protocol;
    let payload = h.payload();
    p.ip = Some(h);
    p.transport = Transport::None;
    if fragmented {
        p.layers.insert(Layer::Fragment);
        p.transport = Transport::Fragment;
        return Next::Done;
    }
    transport::dispatch(proto, payload, p)
}
