//! One direction of a TCP connection as the byte stream parsers read: bytes
//! from the first one on, in sequence order, whatever order the segments
//! arrived in, and only as many as the parsers need.
//!
//! Owns: placing segments by sequence number (modulo 2^32), holding early
//! (out-of-order) segments until the hole before them fills, overlap
//! resolution, and the bound. Policy: the first byte to arrive for a
//! position wins (a retransmission never rewrites what was read — the same
//! rule as IPv4 reassembly in `decode::defrag`); bytes before the stream's
//! start and beyond `cap` are dropped. The stream starts at SYN + 1 when the SYN was seen,
//! otherwise at the first segment with payload (a capture that starts
//! mid-connection: earlier bytes arriving later are dropped). A hole that
//! never fills ends the readable stream at the hole.
//!
//! Memory: at most `cap` bytes per direction, in a
//! [`RangeBuffer`](crate::decode::ranges::RangeBuffer) (the reassembler IP
//! fragments and QUIC CRYPTO streams use too); work per segment is linear
//! in its length plus the number of held ranges.

use crate::decode::ranges::RangeBuffer;

/// Holds one direction's stream prefix.
#[derive(Debug, Clone)]
pub struct TcpStream {
    /// Sequence number of stream byte 0, once known.
    start: Option<u32>,
    /// The stream's first `cap` bytes by offset: in order and early.
    bytes: RangeBuffer,
    /// Segments (or parts) dropped: behind the start or beyond the bound.
    pub dropped_segments: u64,
    /// Bytes that arrived again for positions already filled.
    pub overlap_bytes: u64,
}

impl TcpStream {
    /// A stream that keeps its first `cap` bytes.
    pub fn new(cap: usize) -> TcpStream {
        TcpStream {
            start: None,
            bytes: RangeBuffer::new(cap),
            dropped_segments: 0,
            overlap_bytes: 0,
        }
    }

    /// A SYN with sequence number `seq` fixes the start at `seq + 1` (only
    /// before any byte was placed).
    pub fn syn(&mut self, seq: u32) {
        if self.bytes.ranges().is_empty() {
            self.start = Some(seq.wrapping_add(1));
        }
    }

    /// Heap bytes held (in-order and early segments), for memory budgets.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.heap_bytes()
    }

    /// The in-order bytes so far.
    pub fn bytes(&self) -> &[u8] {
        self.bytes.prefix()
    }

    /// The bound is reached: later segments cannot add anything.
    pub fn is_full(&self) -> bool {
        self.bytes.prefix_len() >= self.bytes.cap()
    }

    /// Early segments are waiting for a hole before them to fill.
    pub fn has_hole(&self) -> bool {
        self.bytes.has_hole()
    }

    /// Place a segment's payload starting at sequence number `seq`; returns
    /// whether the in-order bytes grew.
    pub fn segment(&mut self, seq: u32, payload: &[u8]) -> bool {
        if payload.is_empty() || self.is_full() {
            return false;
        }
        let start = *self.start.get_or_insert(seq);
        // Offset of the payload in the stream; more than 2^31 ahead is
        // taken as behind the start (a wrapped, old segment).
        let rel = seq.wrapping_sub(start);
        let (offset, payload) = if rel > u32::MAX / 2 {
            let behind = start.wrapping_sub(seq) as usize;
            if behind >= payload.len() {
                self.dropped_segments += 1;
                return false;
            }
            (0, &payload[behind..])
        } else {
            (rel as usize, payload)
        };
        if offset >= self.bytes.cap() {
            self.dropped_segments += 1;
            return false;
        }
        let before = self.bytes.prefix_len();
        let placed = self.bytes.insert(offset, payload);
        self.overlap_bytes += placed.overlap as u64;
        self.bytes.prefix_len() > before
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ISN: u32 = 1000;

    #[test]
    fn in_order_out_of_order_and_holes() {
        let mut s = TcpStream::new(1 << 10);
        s.syn(ISN);
        assert!(s.segment(ISN + 1, b"hello "));
        // early segment: held, not readable yet
        assert!(!s.segment(ISN + 13, b"!"));
        assert_eq!(s.bytes(), b"hello ");
        assert!(s.has_hole());
        // the hole fills: both become readable
        assert!(s.segment(ISN + 7, b"world?"));
        assert_eq!(s.bytes(), b"hello world?!");
        assert!(!s.has_hole());
    }

    #[test]
    fn first_arrival_wins_on_overlap() {
        let mut s = TcpStream::new(64);
        s.syn(ISN);
        s.segment(ISN + 1, b"abcd");
        // retransmission with other content over 3..6: only "ef" is new
        s.segment(ISN + 3, b"XXef");
        assert_eq!(s.bytes(), b"abcdef");
        assert_eq!(s.overlap_bytes, 2);
        // overlapping early segments: the first held keeps its bytes
        s.segment(ISN + 10, b"KLMN");
        s.segment(ISN + 8, b"ijYYYYop");
        // "h" arrives after "i" was held for the same position: "i" stays
        s.segment(ISN + 7, b"gh");
        assert_eq!(s.bytes(), b"abcdefgijKLMNop");
    }

    #[test]
    fn bounded_and_wrapping() {
        let mut s = TcpStream::new(8);
        s.syn(u32::MAX - 2);
        // stream starts at u32::MAX - 1 and wraps through 0
        assert!(s.segment(u32::MAX - 1, b"0123"));
        assert!(s.segment(2, b"456789abc"));
        assert_eq!(s.bytes(), b"01234567");
        assert!(s.is_full());
        assert!(!s.segment(10, b"more"));
        // behind the start: dropped
        let mut t = TcpStream::new(8);
        t.syn(ISN);
        t.segment(ISN + 1, b"ab");
        assert!(!t.segment(ISN - 5, b"old"));
        assert_eq!(t.dropped_segments, 1);
        // partly behind: the part at/after the start is used
        let mut u = TcpStream::new(8);
        u.syn(ISN);
        assert!(u.segment(ISN - 1, b"xyab"));
        assert_eq!(u.bytes(), b"ab");
    }

    #[test]
    fn without_syn_the_first_payload_starts_the_stream() {
        let mut s = TcpStream::new(32);
        s.segment(5000, b"mid");
        s.segment(5003, b"-stream");
        assert_eq!(s.bytes(), b"mid-stream");
    }

    proptest! {
        /// Any split of a stream into segments, delivered in any order with
        /// duplicates, reads back as the stream (up to the bound).
        #[test]
        fn any_order_reassembles(
            data in proptest::collection::vec(any::<u8>(), 1..600),
            cuts in proptest::collection::vec(0usize..600, 0..20),
            order in proptest::collection::vec(any::<u32>(), 0..40),
            isn in any::<u32>(),
            cap in 1usize..700,
        ) {
            let mut points: Vec<usize> = cuts.into_iter().filter(|&c| c < data.len()).collect();
            points.push(0);
            points.push(data.len());
            points.sort_unstable();
            points.dedup();
            let mut segs: Vec<(usize, usize)> = points.windows(2).map(|w| (w[0], w[1])).collect();
            // shuffle deterministically from `order`, and repeat some
            for (i, k) in order.iter().enumerate() {
                let n = segs.len();
                segs.swap(i % n, (*k as usize) % n);
                if k % 3 == 0 {
                    let dup = segs[(*k as usize) % n];
                    segs.push(dup);
                }
            }
            let mut s = TcpStream::new(cap);
            s.syn(isn);
            for (a, b) in segs {
                s.segment(isn.wrapping_add(1).wrapping_add(a as u32), &data[a..b]);
            }
            let want = &data[..data.len().min(cap)];
            prop_assert_eq!(s.bytes(), want);
        }
    }
}
