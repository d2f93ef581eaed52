//! [`RangeBuffer`]: the one reassembler of byte ranges the project uses —
//! IP fragments (`decode::defrag`), TCP directions (`proto::stream`) and
//! QUIC CRYPTO streams (`proto::quic`) each place their pieces in one.
//!
//! Owns: placing bytes by offset with **first arrival wins** (a later piece
//! never rewrites a position already filled: the rule of IPv4 reassembly
//! on most stacks, and what TShark shows), the ranges received (sorted,
//! disjoint, never touching), and the capacity bound. Does not own: what an
//! overlap means (a duplicate, an attack, a drop for IPv6 — the caller
//! decides from [`Placed`] and [`RangeBuffer::overlaps`]), sequence-number
//! arithmetic, or timeouts.
//!
//! Memory: the buffer spans offset 0 to the furthest byte placed, at most
//! `cap`; work per insert is linear in the piece plus the ranges held.

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Placed {
    /// Bytes written (positions not held before).
    pub new: usize,
    /// Bytes of the piece at positions already held (kept as they were).
    pub overlap: usize,
    /// Bytes of the piece at or beyond the capacity (dropped).
    pub beyond: usize,
}

/// Bytes by offset from 0, with the ranges received.
#[derive(Debug, Clone, Default)]
pub struct RangeBuffer {
    buf: Vec<u8>,
    /// Received ranges: sorted, disjoint, not touching.
    ranges: Vec<(usize, usize)>,
    cap: usize,
}

impl RangeBuffer {
    /// A buffer that keeps no byte at or beyond offset `cap`.
    pub fn new(cap: usize) -> RangeBuffer {
        RangeBuffer {
            buf: Vec::new(),
            ranges: Vec::new(),
            cap,
        }
    }

    /// Place `data` at `offset`; positions already held keep their bytes.
    pub fn insert(&mut self, offset: usize, data: &[u8]) -> Placed {
        let end_wanted = offset.saturating_add(data.len());
        let end = end_wanted.min(self.cap);
        let mut placed = Placed {
            beyond: if offset >= self.cap {
                data.len()
            } else {
                end_wanted - end
            },
            ..Placed::default()
        };
        if offset >= end {
            return placed;
        }
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        let (buf, start) = (&mut self.buf, offset);
        let mut copy = |from: usize, to: usize| {
            if let (Some(dst), Some(src)) =
                (buf.get_mut(from..to), data.get(from - start..to - start))
            {
                dst.copy_from_slice(src);
            }
            to - from
        };
        // The gaps of [start, end) between the ranges held.
        let mut pos = start;
        let first = self.ranges.partition_point(|r| r.1 <= start);
        for &(s, e) in &self.ranges[first..] {
            if s >= end {
                break;
            }
            if s > pos {
                placed.new += copy(pos, s);
            }
            placed.overlap += e.min(end) - s.max(pos);
            pos = pos.max(e);
            if pos >= end {
                break;
            }
        }
        if pos < end {
            placed.new += copy(pos, end);
        }
        // Merge [start, end) with every range it overlaps or touches.
        let i = self.ranges.partition_point(|r| r.1 < start);
        let (mut s, mut e) = (start, end);
        let mut j = i;
        while let Some(&(rs, re)) = self.ranges.get(j) {
            if rs > e {
                break;
            }
            s = s.min(rs);
            e = e.max(re);
            j += 1;
        }
        // In place rather than `splice`, whose iterator machinery was a
        // fifth of the time of QUIC hellos sent a byte per frame.
        if j > i {
            self.ranges[i] = (s, e);
            self.ranges.drain(i + 1..j);
        } else {
            self.ranges.insert(i, (s, e));
        }
        placed
    }

    /// Whether any byte of `[start, end)` is held.
    pub fn overlaps(&self, start: usize, end: usize) -> bool {
        let i = self.ranges.partition_point(|r| r.1 <= start);
        self.ranges.get(i).is_some_and(|&(s, _)| s < end)
    }

    /// The bytes held without a hole from offset 0.
    pub fn prefix(&self) -> &[u8] {
        match self.ranges.first() {
            Some(&(0, end)) => self.buf.get(..end).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Length of [`prefix`](Self::prefix).
    pub fn prefix_len(&self) -> usize {
        match self.ranges.first() {
            Some(&(0, end)) => end,
            _ => 0,
        }
    }

    /// Bytes are held beyond the prefix (a hole before them).
    pub fn has_hole(&self) -> bool {
        self.ranges.iter().any(|&(s, _)| s > 0)
    }

    /// The received ranges, sorted, disjoint and not touching.
    pub fn ranges(&self) -> &[(usize, usize)] {
        &self.ranges
    }

    /// The buffer from offset 0 to the furthest byte placed (unheld
    /// positions are zero).
    pub fn span(&self) -> &[u8] {
        &self.buf
    }

    /// Take the buffer out (the ranges are forgotten).
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Heap bytes held, for memory budgets.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity() + self.ranges.capacity() * std::mem::size_of::<(usize, usize)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn first_arrival_wins_and_ranges_merge() {
        let mut b = RangeBuffer::new(64);
        assert_eq!(b.insert(4, b"efgh").new, 4);
        assert_eq!(b.prefix(), b"");
        assert!(b.has_hole());
        let p = b.insert(0, b"abcdXX");
        assert_eq!((p.new, p.overlap), (4, 2));
        assert_eq!(b.prefix(), b"abcdefgh");
        assert_eq!(b.ranges(), &[(0, 8)]);
        assert!(!b.has_hole());
        // Touching ranges merge; a piece past the cap is cut.
        b.insert(8, b"ij");
        assert_eq!(b.ranges(), &[(0, 10)]);
        let p = b.insert(60, b"0123456789");
        assert_eq!((p.new, p.beyond), (4, 6));
        assert_eq!(b.ranges(), &[(0, 10), (60, 64)]);
        assert!(b.overlaps(9, 11) && !b.overlaps(10, 60) && b.overlaps(63, 70));
        assert_eq!(b.insert(64, b"zz").beyond, 2);
        assert_eq!(b.insert(70, b"zz").beyond, 2);
    }

    proptest! {
        /// Pieces of a stream in any order, with overlaps that disagree:
        /// each position holds the first byte that arrived for it, the
        /// ranges are exactly the positions covered, the counts add up.
        #[test]
        fn matches_a_byte_map(
            pieces in proptest::collection::vec((0usize..300, proptest::collection::vec(any::<u8>(), 0..80)), 0..30),
            cap in 1usize..400,
        ) {
            let mut b = RangeBuffer::new(cap);
            let mut model: Vec<Option<u8>> = vec![None; cap];
            for (off, data) in &pieces {
                let mut want = Placed::default();
                for (k, &byte) in data.iter().enumerate() {
                    match model.get_mut(off + k) {
                        Some(slot @ None) => { *slot = Some(byte); want.new += 1; }
                        Some(Some(_)) => want.overlap += 1,
                        None => want.beyond += 1,
                    }
                }
                prop_assert_eq!(b.insert(*off, data), want);
            }
            let mut ranges = Vec::new();
            let mut k = 0;
            while k < cap {
                if model[k].is_some() {
                    let s = k;
                    while k < cap && model[k].is_some() { k += 1; }
                    ranges.push((s, k));
                } else {
                    k += 1;
                }
            }
            prop_assert_eq!(b.ranges(), &ranges[..]);
            for &(s, e) in &ranges {
                for (have, want) in b.span()[s..e].iter().zip(&model[s..e]) {
                    prop_assert_eq!(Some(*have), *want);
                }
            }
            let prefix: Vec<u8> = model.iter().map_while(|x| *x).collect();
            prop_assert_eq!(b.prefix(), &prefix[..]);
        }
    }
}
