//! Per-flow TCP state: the retransmission detector (the reference's exact
//! algorithm, made per flow so a reused 5-tuple starts afresh) and the
//! close/handshake tracking that decides when a connection ended.

use crate::decode::TcpSegment;

#[derive(Debug, Clone, Default)]
pub struct TcpTracker {
    /// Highest sequence end seen, per direction (0 up, 1 down).
    next_seq: [Option<u32>; 2],
    fin: [bool; 2],
    rst: bool,
    /// SYN without ACK seen from the up side; SYN+ACK from the down side;
    /// then an ACK from the up side.
    syn_up: bool,
    synack_down: bool,
    handshake: bool,
}

impl TcpTracker {
    /// Is this segment a retransmission? (Only updates the detector.)
    ///
    /// Per direction the highest sequence end is tracked; a segment whose
    /// data (payload, SYN and FIN each count one) lies entirely at or below
    /// it is a retransmission, except a keep-alive (≤ 1 byte at next − 1).
    /// Pure ACKs never are. Sequence space wraps (RFC 9293 §3.4).
    pub fn is_retransmission(&mut self, dir: usize, seg: &TcpSegment<'_>) -> bool {
        let syn = seg.flags & TcpSegment::SYN != 0;
        let fin = seg.flags & TcpSegment::FIN != 0;
        let app_len = seg.payload.len() as u32;
        let seq_len = app_len + u32::from(syn) + u32::from(fin);
        if seq_len == 0 {
            return false;
        }
        let seq_end = seg.seq.wrapping_add(seq_len);
        let Some(next) = self.next_seq[dir] else {
            self.next_seq[dir] = Some(seq_end);
            return false;
        };
        if app_len <= 1 && !syn && !fin && seg.seq == next.wrapping_sub(1) {
            return false;
        }
        let diff = seq_end.wrapping_sub(next);
        if diff == 0 {
            true
        } else if diff < 1 << 31 {
            self.next_seq[dir] = Some(seq_end);
            false
        } else {
            true
        }
    }

    /// Note the flags of a segment (counted or not) for close and handshake.
    pub fn observe(&mut self, dir: usize, flags: u8) {
        let syn = flags & TcpSegment::SYN != 0;
        let ack = flags & TcpSegment::ACK != 0;
        if flags & TcpSegment::RST != 0 {
            self.rst = true;
        }
        if flags & TcpSegment::FIN != 0 {
            self.fin[dir] = true;
        }
        match (dir, syn, ack) {
            (0, true, false) => self.syn_up = true,
            (1, true, true) if self.syn_up => self.synack_down = true,
            (0, false, true) if self.synack_down => self.handshake = true,
            _ => {}
        }
    }

    /// FIN seen both ways, or a RST.
    pub fn closed(&self) -> bool {
        self.rst || (self.fin[0] && self.fin[1])
    }

    /// A RST was seen.
    pub fn reset(&self) -> bool {
        self.rst
    }

    /// FIN seen in both directions.
    pub fn fin_both(&self) -> bool {
        self.fin[0] && self.fin[1]
    }

    pub fn handshake_seen(&self) -> bool {
        self.handshake
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::TcpOptions;

    fn seg(seq: u32, flags: u8, len: usize) -> TcpSegment<'static> {
        static DATA: [u8; 2000] = [0; 2000];
        TcpSegment {
            src_port: 1,
            dst_port: 2,
            seq,
            ack: 0,
            flags,
            ns: false,
            window: 0,
            header_len: 20,
            options: TcpOptions::default(),
            payload: &DATA[..len],
        }
    }

    const A: u8 = TcpSegment::ACK;

    #[test]
    fn duplicates_and_old_data_are_retransmissions() {
        let mut t = TcpTracker::default();
        assert!(!t.is_retransmission(0, &seg(100, TcpSegment::SYN, 0)));
        assert!(!t.is_retransmission(0, &seg(101, A, 100)));
        assert!(t.is_retransmission(0, &seg(101, A, 100))); // exact duplicate
        assert!(!t.is_retransmission(0, &seg(201, A, 50)));
        assert!(t.is_retransmission(0, &seg(150, A, 50))); // old data
        assert!(!t.is_retransmission(0, &seg(251, A, 0))); // pure ACK
        assert!(!t.is_retransmission(0, &seg(250, A, 1))); // keep-alive at next-1
        assert!(t.is_retransmission(0, &seg(100, TcpSegment::SYN, 0))); // SYN again
                                                                        // the other direction is independent
        assert!(!t.is_retransmission(1, &seg(150, A, 50)));
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut t = TcpTracker::default();
        assert!(!t.is_retransmission(0, &seg(u32::MAX - 10, A, 10)));
        assert!(!t.is_retransmission(0, &seg(u32::MAX, A, 20)));
        assert!(t.is_retransmission(0, &seg(u32::MAX, A, 20)));
    }

    #[test]
    fn close_and_handshake() {
        let mut t = TcpTracker::default();
        t.observe(0, TcpSegment::SYN);
        t.observe(1, TcpSegment::SYN | A);
        assert!(!t.handshake_seen());
        t.observe(0, A);
        assert!(t.handshake_seen());
        t.observe(0, TcpSegment::FIN | A);
        assert!(!t.closed());
        t.observe(1, TcpSegment::FIN | A);
        assert!(t.closed());
        let mut r = TcpTracker::default();
        r.observe(1, TcpSegment::RST);
        assert!(r.closed());
    }
}
