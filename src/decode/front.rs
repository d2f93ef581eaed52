//! The front every pass over packets shares: a decoded frame's layer and
//! anomaly counts, and the reassembly of IP fragments into whole datagrams.
//!
//! Owns: [`Front`] and [`PacketIn`], what it hands on. The engine (library
//! and `convert`) and `inspect` both go through it, so they count alike.

use super::defrag::{DefragConfig, Defragmenter, FragmentOutcome};
use super::{Anomaly, AnomalyCounts, IpHeader, LayerCounts, Packet, Transport};

/// One packet with an IP layer, whole (possibly rebuilt from fragments).
pub struct PacketIn<'p, 'a> {
    pub ts_ns: i64,
    /// Wire length (for a reassembled datagram, the sum over its fragments).
    pub wire_len: u32,
    pub packet: &'p Packet<'a>,
    pub ip: &'p IpHeader<'a>,
    pub reassembled: bool,
}

impl PacketIn<'_, '_> {
    /// (transport length, application payload length): TCP header +
    /// payload and payload; the UDP length field and payload; 0 otherwise.
    #[inline]
    pub fn lengths(&self) -> (u32, u32) {
        match &self.packet.transport {
            Transport::Tcp(t) => (
                u32::from(t.header_len) + t.payload.len() as u32,
                t.payload.len() as u32,
            ),
            Transport::Udp(u) => (u32::from(u.length), u.payload.len() as u32),
            _ => (0, 0),
        }
    }
}

/// What the front made of one packet.
pub enum Fed<R> {
    /// No IP layer: counted, not handed on.
    NonIp,
    /// A fragment kept until its datagram completes, or dropped (counted
    /// by the reassembler), or a datagram that completed without a readable
    /// IP header (its anomalies are counted). A first fragment cut short by
    /// the capture is handed on as it is instead ([`Packet::cut_first_fragment`]).
    Held,
    /// Handed on; what the next stage returned.
    Done(R),
}

/// Layer and anomaly counts plus the fragment reassembler.
pub struct Front {
    reassembly: bool,
    defrag: Defragmenter,
    /// Packets per layer; a rebuilt datagram adds the layers its last
    /// fragment did not show (the transport and what it carries).
    pub layers: LayerCounts,
    /// Anomalies per kind, the reassembler's included after [`Front::finish`];
    /// a rebuilt datagram adds those its last fragment did not have.
    pub anomalies: AnomalyCounts,
    /// IP fragments offered for reassembly.
    pub fragments: u64,
}

impl Front {
    /// With `reassembly` off, fragments are handed on as they are.
    pub fn new(reassembly: bool) -> Front {
        Front {
            reassembly,
            defrag: Defragmenter::new(DefragConfig::default()),
            layers: LayerCounts::default(),
            anomalies: AnomalyCounts::default(),
            fragments: 0,
        }
    }

    /// Count `p` and hand it (or the datagram it completes) to `next`.
    #[inline]
    pub fn feed<R>(
        &mut self,
        ts_ns: i64,
        wire_len: u32,
        p: &Packet<'_>,
        next: impl FnOnce(&PacketIn<'_, '_>) -> R,
    ) -> Fed<R> {
        self.layers.add_set(p.layers);
        self.anomalies.add_set(p.anomalies);
        let Some(ip) = p.ip else {
            return Fed::NonIp;
        };
        if !(self.reassembly && p.is_fragment()) {
            return Fed::Done(next(&PacketIn {
                ts_ns,
                wire_len,
                packet: p,
                ip: &ip,
                reassembled: false,
            }));
        }
        self.fragments += 1;
        // A first fragment the capture cut (a snap length, or a filter
        // that kept only first fragments) can never be rebuilt: it is
        // analysed as it is, as TShark shows it.
        if let Some(cut) = p.cut_first_fragment() {
            self.anomalies.add(Anomaly::FragmentCut, 1);
            self.layers.add_set(cut.layers.without(p.layers));
            self.anomalies.add_set(cut.anomalies.without(p.anomalies));
            return Fed::Done(next(&PacketIn {
                ts_ns,
                wire_len,
                packet: &cut,
                ip: &ip,
                reassembled: false,
            }));
        }
        let FragmentOutcome::Complete(r) = self.defrag.push(ts_ns, &ip, wire_len) else {
            return Fed::Held;
        };
        let whole = p.with_reassembled(&r.bytes);
        self.layers.add_set(whole.layers.without(p.layers));
        self.anomalies.add_set(whole.anomalies.without(p.anomalies));
        let Some(wip) = whole.ip else {
            return Fed::Held;
        };
        Fed::Done(next(&PacketIn {
            ts_ns,
            wire_len: u32::try_from(r.wire_len_sum).unwrap_or(u32::MAX),
            packet: &whole,
            ip: &wip,
            reassembled: true,
        }))
    }

    /// Datagrams rebuilt so far.
    pub fn reassembled(&self) -> u64 {
        self.defrag.stats.reassembled
    }

    /// End of input: incomplete datagrams are dropped and counted.
    pub fn finish(&mut self) -> super::defrag::DefragStats {
        self.defrag.finish();
        self.anomalies += &self.defrag.anomalies;
        self.defrag.stats.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::LinkType;
    use crate::decode::{decode, Anomaly, Layer};
    use crate::sample::fragmented_udp;

    /// Feed `frames` (the last one claiming one byte less on the wire than
    /// captured, an anomaly of that frame alone); what came out.
    fn run(reassembly: bool, frames: &[Vec<u8>]) -> (Front, Vec<(u32, bool, u32)>) {
        let mut front = Front::new(reassembly);
        let mut out = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let wire = f.len() as u32 - u32::from(i + 1 == frames.len());
            let p = decode(LinkType::ETHERNET, f, wire);
            let fed = front.feed(i as i64, wire, &p, |input| {
                (input.wire_len, input.reassembled, input.lengths().1)
            });
            match fed {
                Fed::Done(r) => out.push(r),
                Fed::Held => assert!(reassembly && i + 1 < frames.len()),
                Fed::NonIp => panic!("fragment {i} has no IP"),
            }
        }
        front.finish();
        (front, out)
    }

    #[test]
    fn a_datagram_is_handed_on_once_and_counted_once() {
        let frames = fragmented_udp([1, 1, 1, 1], [2, 2, 2, 2], 9, 4000, 1480).unwrap();
        let wire: u32 = frames.iter().map(|f| f.len() as u32).sum::<u32>() - 1;
        let (front, out) = run(true, &frames);
        assert_eq!(out, vec![(wire, true, 4000)]);
        assert_eq!(front.fragments, 3);
        assert_eq!(front.reassembled(), 1);
        // IPv4 per frame; UDP once, from the rebuilt datagram.
        assert_eq!(front.layers.get(Layer::Ipv4), 3);
        assert_eq!(front.layers.get(Layer::Udp), 1);
        // The last frame's anomaly is not counted again for its datagram.
        assert_eq!(front.anomalies.get(Anomaly::CaplenExceedsWirelen), 1);
    }

    #[test]
    fn without_reassembly_fragments_pass_as_they_are() {
        let frames = fragmented_udp([1, 1, 1, 1], [2, 2, 2, 2], 9, 4000, 1480).unwrap();
        let (front, out) = run(false, &frames);
        assert_eq!(out.len(), 3);
        assert!(out.iter().all(|&(_, re, app)| !re && app == 0));
        assert_eq!(front.fragments, 0);
        assert_eq!(front.layers.get(Layer::Udp), 0);
    }

    #[test]
    fn an_unfinished_datagram_is_counted_at_the_end() {
        let frames = fragmented_udp([1, 1, 1, 1], [2, 2, 2, 2], 9, 4000, 1480).unwrap();
        let mut front = Front::new(true);
        let p = decode(LinkType::ETHERNET, &frames[0], frames[0].len() as u32);
        assert!(matches!(front.feed(0, 1, &p, |_| ()), Fed::Held));
        assert_eq!(front.anomalies.total(), 0);
        front.finish();
        assert_eq!(front.anomalies.total(), 1);
    }

    #[test]
    fn a_cut_first_fragment_is_analysed_as_it_is() {
        let frames = fragmented_udp([1, 1, 1, 1], [2, 2, 2, 2], 9, 4000, 1480).unwrap();
        // Only the first 300 bytes of the first fragment were captured.
        let first = &frames[0][..300];
        let p = decode(LinkType::ETHERNET, first, frames[0].len() as u32);
        let mut front = Front::new(true);
        let fed = front.feed(0, frames[0].len() as u32, &p, |input| {
            (input.reassembled, input.packet.truncated, input.lengths())
        });
        // UDP header, its length field (8 + 4000) and the captured payload.
        let Fed::Done((false, true, (4008, app))) = fed else {
            panic!("not handed on as it is");
        };
        assert_eq!(app, 300 - 14 - 20 - 8);
        assert_eq!(front.anomalies.get(Anomaly::FragmentCut), 1);
        assert_eq!(front.layers.get(Layer::Udp), 1);
        // The later fragments wait for a datagram that cannot complete.
        for f in &frames[1..] {
            let p = decode(LinkType::ETHERNET, f, f.len() as u32);
            assert!(matches!(
                front.feed(1, f.len() as u32, &p, |_| ()),
                Fed::Held
            ));
        }
        front.finish();
        assert_eq!(front.reassembled(), 0);
    }
}
