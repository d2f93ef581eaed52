//! IPv4 and IPv6 fragment reassembly, bounded in memory and (capture) time.
//!
//! Owns: the table of incomplete datagrams and the rebuilt datagrams. This is
//! one of the few places that copies packet bytes.
//!
//! Policy (deterministic, documented in `schemas/decode.md`):
//! - key: IPv4 (src, dst, protocol, id) (RFC 791); IPv6 (src, dst, id) (RFC 8200 §4.5);
//! - an exact duplicate fragment is ignored (`fragment_duplicate`);
//! - overlapping IPv4 fragments: the bytes that arrived first win
//!   (`fragment_overlap`); overlapping IPv6 fragments discard the whole
//!   datagram, as RFC 5722 requires (`fragment_overlap`);
//! - a non-final fragment whose length is not a multiple of 8 is dropped
//!   (`fragment_bad_length`); data beyond 65535 bytes drops the datagram
//!   (`fragment_too_large`);
//! - incomplete datagrams expire 30 s (IPv4, Linux's default) or 60 s (IPv6,
//!   RFC 8200) of capture time after their first fragment (`fragment_timeout`);
//! - past `max_datagrams` or `max_bytes` the oldest incomplete datagram is
//!   dropped (`fragment_evicted`).
//!
//! The table's keys come from the wire: std's `HashMap` hashes them with a
//! secret key per table ([`crate::keyed`]), so crafted ids cannot collide.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use super::ranges::RangeBuffer;
use super::{Anomaly, AnomalyCounts, IpHeader};

/// The largest IP datagram (its header included).
const MAX_DATAGRAM: usize = 65_535;

#[derive(Debug, Clone, Copy)]
pub struct DefragConfig {
    pub max_datagrams: usize,
    pub max_bytes: usize,
    pub timeout_v4_ns: i64,
    pub timeout_v6_ns: i64,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig {
            max_datagrams: 16_384,
            max_bytes: 64 << 20,
            timeout_v4_ns: 30_000_000_000,
            timeout_v6_ns: 60_000_000_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    /// IPv4 protocol; 0 for IPv6 (not part of its key).
    proto: u8,
}

struct Pending {
    generation: u64,
    version: u8,
    first_ts_ns: i64,
    /// Unfragmentable part from the offset-0 fragment (empty until seen).
    header: Vec<u8>,
    /// IPv6: next header carried in the fragment header.
    v6_next: u8,
    /// The fragment data by offset, with the ranges received.
    data: RangeBuffer,
    total: Option<u32>,
    fragments: u32,
    wire_len_sum: u64,
}

/// A rebuilt datagram: a complete IP packet.
#[derive(Debug, Clone)]
pub struct Reassembled {
    pub bytes: Vec<u8>,
    pub fragments: u32,
    /// Sum of the fragments' wire lengths.
    pub wire_len_sum: u64,
    pub first_ts_ns: i64,
}

#[derive(Debug)]
pub enum FragmentOutcome {
    /// Kept, waiting for more fragments.
    Pending,
    Complete(Reassembled),
    /// Dropped for this reason (fragment or whole datagram).
    Dropped(Anomaly),
}

/// Reassembly statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DefragStats {
    pub fragments: u64,
    pub reassembled: u64,
}

pub struct Defragmenter {
    config: DefragConfig,
    table: HashMap<Key, Pending>,
    order: VecDeque<(i64, Key, u64)>,
    bytes_in_use: usize,
    generation: u64,
    pub anomalies: AnomalyCounts,
    pub stats: DefragStats,
}

impl Default for Defragmenter {
    fn default() -> Self {
        Defragmenter::new(DefragConfig::default())
    }
}

impl Defragmenter {
    pub fn new(config: DefragConfig) -> Defragmenter {
        Defragmenter {
            config,
            table: HashMap::with_hasher(crate::keyed::table_state()),
            order: VecDeque::new(),
            bytes_in_use: 0,
            generation: 0,
            anomalies: AnomalyCounts::default(),
            stats: DefragStats::default(),
        }
    }

    /// Incomplete datagrams held.
    pub fn pending(&self) -> usize {
        self.table.len()
    }

    /// Offer one fragment (an `IpHeader` whose `fragment` is set).
    pub fn push(&mut self, ts_ns: i64, ip: &IpHeader<'_>, wire_len: u32) -> FragmentOutcome {
        self.expire(ts_ns);
        let Some(frag) = ip.fragment else {
            return FragmentOutcome::Dropped(Anomaly::FragmentBadLength);
        };
        self.stats.fragments += 1;
        let key = Key {
            src: ip.src,
            dst: ip.dst,
            id: frag.id,
            proto: if ip.version == 4 { ip.protocol } else { 0 },
        };
        let payload = ip.payload();
        let start = frag.offset_bytes;
        let end = start + payload.len() as u32;
        if frag.more && !payload.len().is_multiple_of(8) {
            return self.drop_fragment(Anomaly::FragmentBadLength);
        }
        let header_len = if ip.version == 4 {
            u32::from(ip.header_len)
        } else {
            u32::from(ip.unfragmentable_len).saturating_sub(40)
        };
        if (end + header_len) as usize > MAX_DATAGRAM {
            self.remove(&key);
            return self.drop_fragment(Anomaly::FragmentTooLarge);
        }
        if !self.table.contains_key(&key) {
            self.make_room(payload.len());
            self.generation += 1;
            self.order.push_back((ts_ns, key, self.generation));
            self.table.insert(
                key,
                Pending {
                    generation: self.generation,
                    version: ip.version,
                    first_ts_ns: ts_ns,
                    header: Vec::new(),
                    v6_next: 0,
                    data: RangeBuffer::new(MAX_DATAGRAM),
                    total: None,
                    fragments: 0,
                    wire_len_sum: 0,
                },
            );
        }
        let Some(entry) = self.table.get_mut(&key) else {
            return FragmentOutcome::Dropped(Anomaly::FragmentEvicted);
        };
        // Duplicate / overlap checks against what we already hold.
        let (s0, e0) = (start as usize, end as usize);
        if entry.data.ranges().contains(&(s0, e0)) {
            self.anomalies.add(Anomaly::FragmentDuplicate, 1);
            return FragmentOutcome::Pending;
        }
        let overlaps = entry.data.overlaps(s0, e0);
        let inconsistent_end = match (frag.more, entry.total) {
            (false, Some(t)) => t != end,
            (true, Some(t)) => end > t,
            (false, None) => entry.data.ranges().iter().any(|&(_, e)| e > e0),
            (true, None) => false,
        };
        if inconsistent_end || (overlaps && entry.version == 6) {
            self.remove(&key);
            return self.drop_fragment(Anomaly::FragmentOverlap);
        }
        if overlaps {
            self.anomalies.add(Anomaly::FragmentOverlap, 1);
        }
        if start == 0 {
            let unfrag = if ip.version == 4 {
                usize::from(ip.header_len)
            } else {
                usize::from(ip.unfragmentable_len)
            };
            if entry.header.is_empty() {
                entry.header = ip.bytes.get(..unfrag).unwrap_or(&[]).to_vec();
                entry.v6_next = ip.protocol;
            }
        }
        if !frag.more {
            entry.total = Some(end);
        }
        // Earlier bytes win where fragments overlap.
        let before = entry.data.span().len();
        entry.data.insert(s0, payload);
        self.bytes_in_use += entry.data.span().len() - before;
        entry.fragments += 1;
        entry.wire_len_sum += u64::from(wire_len);
        let complete = matches!(entry.total, Some(t) if entry.data.ranges() == [(0, t as usize)] && !entry.header.is_empty());
        if !complete {
            return FragmentOutcome::Pending;
        }
        let Some(done) = self.remove(&key) else {
            return FragmentOutcome::Pending;
        };
        match rebuild(done) {
            Some(r) => {
                self.stats.reassembled += 1;
                FragmentOutcome::Complete(r)
            }
            None => self.drop_fragment(Anomaly::FragmentTooLarge),
        }
    }

    /// Drop incomplete datagrams older than the timeout at capture time `now_ns`.
    pub fn expire(&mut self, now_ns: i64) {
        while let Some(&(ts, key, generation)) = self.order.front() {
            let live = self.table.get(&key).filter(|e| e.generation == generation);
            let Some(entry) = live else {
                self.order.pop_front();
                continue;
            };
            let timeout = if entry.version == 4 {
                self.config.timeout_v4_ns
            } else {
                self.config.timeout_v6_ns
            };
            if now_ns.saturating_sub(ts) <= timeout {
                break;
            }
            self.order.pop_front();
            self.remove(&key);
            self.anomalies.add(Anomaly::FragmentTimeout, 1);
        }
    }

    /// End of input: everything still pending is incomplete.
    pub fn finish(&mut self) {
        let n = self.table.len() as u64;
        self.table.clear();
        self.order.clear();
        self.bytes_in_use = 0;
        self.anomalies.add(Anomaly::FragmentTimeout, n);
    }

    fn drop_fragment(&mut self, a: Anomaly) -> FragmentOutcome {
        self.anomalies.add(a, 1);
        FragmentOutcome::Dropped(a)
    }

    fn remove(&mut self, key: &Key) -> Option<Pending> {
        let e = self.table.remove(key)?;
        self.bytes_in_use = self.bytes_in_use.saturating_sub(e.data.span().len());
        Some(e)
    }

    fn make_room(&mut self, incoming: usize) {
        while self.table.len() >= self.config.max_datagrams
            || (self.bytes_in_use + incoming > self.config.max_bytes && !self.table.is_empty())
        {
            let Some((_, key, generation)) = self.order.pop_front() else {
                break;
            };
            if self
                .table
                .get(&key)
                .is_some_and(|e| e.generation == generation)
            {
                self.remove(&key);
                self.anomalies.add(Anomaly::FragmentEvicted, 1);
            }
        }
    }
}

/// Build the complete IP packet from the unfragmentable part and the data.
fn rebuild(p: Pending) -> Option<Reassembled> {
    let mut bytes = p.header;
    let data = p.data.into_bytes();
    let payload_len = data.len();
    if p.version == 4 {
        let total = bytes.len() + payload_len;
        let total16 = u16::try_from(total).ok()?;
        bytes.get_mut(2..4)?.copy_from_slice(&total16.to_be_bytes());
        // Clear MF and the offset, keep DF (RFC 791 §3.2).
        let df = bytes.get(6)? & 0x40;
        bytes[6] = df;
        bytes[7] = 0;
        bytes[10] = 0;
        bytes[11] = 0;
        let ihl = bytes.len();
        let sum = checksum(&bytes[..ihl]);
        bytes[10..12].copy_from_slice(&sum.to_be_bytes());
    } else {
        // Point the last header before the fragment header at its payload.
        let unfrag = bytes.len();
        let mut field = 6usize;
        let mut next = *bytes.get(6)?;
        let mut off = 40usize;
        while off < unfrag {
            let len = match next {
                51 => (usize::from(*bytes.get(off + 1)?) + 2) * 4,
                _ => (usize::from(*bytes.get(off + 1)?) + 1) * 8,
            };
            field = off;
            next = bytes[off];
            off += len;
        }
        *bytes.get_mut(field)? = p.v6_next;
        let plen = u16::try_from(unfrag - 40 + payload_len).ok()?;
        bytes.get_mut(4..6)?.copy_from_slice(&plen.to_be_bytes());
    }
    bytes.extend_from_slice(&data);
    Some(Reassembled {
        bytes,
        fragments: p.fragments,
        wire_len_sum: p.wire_len_sum,
        first_ts_ns: p.first_ts_ns,
    })
}

/// RFC 1071 Internet checksum of an IPv4 header (checksum field zeroed).
fn checksum(h: &[u8]) -> u16 {
    let mut sum = 0u32;
    for c in h.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        sum += u32::from(w);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests;
