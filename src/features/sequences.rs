//! Signed per-packet sequences of a flow and the accumulators behind its
//! statistics. Sequences may be capped (`max_sequence_len`); the statistics
//! still cover every packet exactly (moments are streaming; medians past the
//! cap come from a value histogram, or the stored inter-arrival times).

use std::collections::HashMap;

use serde::Serialize;

use super::stats::{median_in_place, Family, FlowStats, Moments};

/// The per-packet sequences of a flow, in capture order. Lengths are signed,
/// positive for packets of the up direction (the first packet's sender) and
/// negative for down; a zero stays 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Sequences {
    /// ± wire (original) length.
    pub packet_lengths: Vec<i64>,
    /// ± IP total length field (IPv6: 40 + payload length), innermost IP.
    pub ip_lengths: Vec<i64>,
    /// ± TCP header + payload present, or ± UDP length field; 0 otherwise.
    pub trans_lengths: Vec<i64>,
    /// ± transport payload bytes present (never negative in magnitude).
    pub app_lengths: Vec<i64>,
    /// ± payload length, TCP and UDP alike (equal to `app_lengths`).
    pub payload_bytes: Vec<i64>,
    /// Seconds since the epoch.
    pub timestamps: Vec<f64>,
    /// Successive differences of `timestamps` (n − 1 values).
    pub iats: Vec<f64>,
    /// TCP flags byte per TCP packet (empty for other protocols).
    pub tcp_flags: Vec<u8>,
    /// Raw 16-bit TCP window per TCP packet.
    pub tcp_window_sizes: Vec<u16>,
}

/// What one counted packet contributes to the sequences.
#[derive(Debug, Clone, Copy)]
pub struct PacketValues {
    /// +1 up, −1 down.
    pub sign: i64,
    pub wire_len: u32,
    pub ip_len: u32,
    pub trans_len: u32,
    pub app_len: u32,
    pub ts_s: f64,
    /// (flags, window) for TCP.
    pub tcp: Option<(u8, u16)>,
}

const INT_FAMILIES: [Family; 4] = [Family::Pkt, Family::Ip, Family::Trans, Family::App];

/// Up and down sets of one family about a shared shift, plus the zeros:
/// one update per packet; "all" is their union.
#[derive(Debug, Clone, Default)]
struct FamilyAcc {
    started: bool,
    up: Moments,
    down: Moments,
    zeros: u64,
}

impl FamilyAcc {
    #[inline]
    fn push(&mut self, signed: f64) {
        let a = signed.abs();
        if !self.started {
            self.started = true;
            self.up = Moments::with_shift(a);
            self.down = Moments::with_shift(a);
        }
        if signed > 0.0 {
            self.up.push(a);
        } else if signed < 0.0 {
            self.down.push(a);
        } else {
            self.zeros += 1;
        }
    }

    fn all(&self) -> Moments {
        let mut all = self.up.merged(&self.down);
        if all.count() == 0 && self.zeros > 0 {
            all = Moments::with_shift(0.0);
        }
        all.push_repeated(0.0, self.zeros);
        all
    }
}

/// One counted packet's values, kept row-wise: a packet touches one cache
/// line, and the column sequences are built once, at the end.
#[derive(Debug, Clone, Copy)]
struct Row {
    ts_s: f64,
    ints: [i32; 4],
    window: u16,
    flags: u8,
    tcp: bool,
}

/// Accumulates one flow's sequences and statistics.
///
/// Up to the cap, packets are stored as rows and the statistics are
/// computed from them when the flow ends (one sequential pass). Past the
/// cap, packets update streaming accumulators and value histograms instead.
#[derive(Debug, Clone)]
pub struct SequenceRecorder {
    cap: usize,
    stats_on: bool,
    rows: Vec<Row>,
    /// Streaming accumulators, only once packets go past the cap (keeps the
    /// per-flow state small: most flows never need them).
    acc: Option<Box<[FamilyAcc; 5]>>,
    last_ts: Option<f64>,
    /// Past the cap: counts of each signed integer value, per family.
    hist: Option<Box<[HashMap<i64, u64>; 4]>>,
    /// Past the cap: the remaining inter-arrival times.
    iat_rest: Vec<f64>,
}

impl SequenceRecorder {
    /// `cap`: most packets whose values are kept in the sequences
    /// (`usize::MAX` for all). `stats`: compute statistics at all.
    pub fn new(cap: usize, stats: bool) -> SequenceRecorder {
        SequenceRecorder {
            cap,
            stats_on: stats,
            // Allocated at the first packet, for 4 rows, then doubling.
            rows: Vec::new(),
            acc: None,
            last_ts: None,
            hist: None,
            iat_rest: Vec::new(),
        }
    }

    #[inline]
    pub fn push(&mut self, v: &PacketValues) {
        let signed =
            |x: u32| (v.sign * i64::from(x)).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        let ints = [
            signed(v.wire_len),
            signed(v.ip_len),
            signed(v.trans_len),
            signed(v.app_len),
        ];
        let iat = self.last_ts.map(|t| v.ts_s - t);
        self.last_ts = Some(v.ts_s);
        if self.rows.len() < self.cap {
            let (flags, window) = v.tcp.unwrap_or((0, 0));
            self.rows.push(Row {
                ts_s: v.ts_s,
                ints,
                window,
                flags,
                tcp: v.tcp.is_some(),
            });
            return;
        }
        if !self.stats_on {
            return;
        }
        if self.hist.is_none() {
            // First packet past the cap: fold the stored rows into the
            // accumulators and histograms, then carry on streaming.
            let mut h: Box<[HashMap<i64, u64>; 4]> = Box::default();
            for r in &self.rows {
                for (i, x) in r.ints.iter().enumerate() {
                    *h[i].entry(i64::from(*x)).or_insert(0) += 1;
                }
            }
            self.hist = Some(h);
            let mut acc: Box<[FamilyAcc; 5]> = Box::default();
            fold_rows(&self.rows, &mut acc);
            self.acc = Some(acc);
        }
        if let Some(acc) = self.acc.as_mut() {
            for (i, x) in ints.iter().enumerate() {
                acc[i].push(f64::from(*x));
            }
            if let Some(d) = iat {
                acc[4].push(d);
                self.iat_rest.push(d);
            }
        }
        if let Some(h) = self.hist.as_mut() {
            for (i, x) in ints.iter().enumerate() {
                *h[i].entry(i64::from(*x)).or_insert(0) += 1;
            }
        }
    }

    /// Heap bytes held (rows, and past the cap the accumulators,
    /// histograms and inter-arrival times), for memory budgets.
    pub fn heap_bytes(&self) -> usize {
        let hist = self.hist.as_ref().map_or(0, |h| {
            std::mem::size_of::<[HashMap<i64, u64>; 4]>()
                + h.iter().map(|m| m.capacity() * 24).sum::<usize>()
        });
        self.rows.capacity() * std::mem::size_of::<Row>()
            + self
                .acc
                .as_ref()
                .map_or(0, |_| std::mem::size_of::<[FamilyAcc; 5]>())
            + hist
            + self.iat_rest.capacity() * 8
    }

    /// The sequences and statistics (ratios are the caller's). `scratch` is
    /// reused between flows to compute medians without allocating.
    pub fn finish(mut self, scratch: &mut Scratch) -> (Sequences, Box<FlowStats>) {
        let seq = self.sequences();
        let mut stats: Box<FlowStats> = Box::default();
        if !self.stats_on {
            return (seq, stats);
        }
        let acc_all = match self.acc.take() {
            Some(a) => a,
            None => {
                let mut a: Box<[FamilyAcc; 5]> = Box::default();
                fold_rows(&self.rows, &mut a);
                a
            }
        };
        for (i, fam) in INT_FAMILIES.into_iter().enumerate() {
            let [m_all, m_up, m_down] = match &self.hist {
                Some(h) => medians_from_hist(&h[i]),
                None => int_medians(self.rows.iter().map(|r| r.ints[i]), &mut scratch.ints),
            };
            let acc = &acc_all[i];
            let d = stats.family_mut(fam);
            d.all = acc.all().finish(m_all);
            d.up = acc.up.finish(m_up);
            d.down = acc.down.finish(m_down);
        }
        let iats = seq.iats.iter().chain(self.iat_rest.iter()).copied();
        let [m_all, m_up, m_down] = medians_of(iats, &mut scratch.floats);
        stats.iat.all = acc_all[4].all().finish(m_all);
        stats.iat.up = acc_all[4].up.finish(m_up);
        stats.iat.down = acc_all[4].down.finish(m_down);
        (seq, stats)
    }

    /// The column sequences from the stored rows.
    fn sequences(&self) -> Sequences {
        let n = self.rows.len();
        let col = |i: usize| {
            self.rows
                .iter()
                .map(|r| i64::from(r.ints[i]))
                .collect::<Vec<i64>>()
        };
        let app = col(3);
        let tcp_rows = self.rows.iter().filter(|r| r.tcp);
        let mut iats = Vec::with_capacity(n.saturating_sub(1));
        iats.extend(self.rows.windows(2).map(|w| w[1].ts_s - w[0].ts_s));
        Sequences {
            packet_lengths: col(0),
            ip_lengths: col(1),
            trans_lengths: col(2),
            payload_bytes: app.clone(),
            app_lengths: app,
            timestamps: self.rows.iter().map(|r| r.ts_s).collect(),
            iats,
            tcp_flags: tcp_rows.clone().map(|r| r.flags).collect(),
            tcp_window_sizes: tcp_rows.map(|r| r.window).collect(),
        }
    }
}

/// Reusable buffers for medians, so finishing a flow does not allocate.
#[derive(Debug, Default)]
pub struct Scratch {
    ints: Vec<i32>,
    floats: Vec<f64>,
}

/// Medians of |v|, of v > 0 and of |v| for v < 0, for integer values: one
/// sort by magnitude, one pass to split by sign, then indexing.
fn int_medians(values: impl Iterator<Item = i32>, buf: &mut Vec<i32>) -> [f64; 3] {
    buf.clear();
    buf.extend(values);
    buf.sort_unstable_by_key(|v| v.unsigned_abs());
    let all = median_sorted(buf.len(), |k| buf[k].unsigned_abs());
    // positives and negatives keep magnitude order; gather their magnitudes
    let n = buf.len();
    buf.reserve(n);
    for k in 0..n {
        let v = buf[k];
        if v > 0 {
            buf.push(v);
        }
    }
    let ups = buf.len() - n;
    for k in 0..n {
        let v = buf[k];
        if v < 0 {
            buf.push(v);
        }
    }
    let up = median_sorted(ups, |k| buf[n + k].unsigned_abs());
    let down = median_sorted(buf.len() - n - ups, |k| buf[n + ups + k].unsigned_abs());
    [all, up, down]
}

/// Median of `len` sorted values read through `at`.
fn median_sorted(len: usize, at: impl Fn(usize) -> u32) -> f64 {
    match len {
        0 => 0.0,
        _ if len % 2 == 1 => f64::from(at(len / 2)),
        _ => (f64::from(at(len / 2 - 1)) + f64::from(at(len / 2))) / 2.0,
    }
}

/// Push the stored rows (in order) into the accumulators.
fn fold_rows(rows: &[Row], acc: &mut [FamilyAcc; 5]) {
    let mut prev: Option<f64> = None;
    for r in rows {
        for (i, x) in r.ints.iter().enumerate() {
            acc[i].push(f64::from(*x));
        }
        if let Some(p) = prev {
            acc[4].push(r.ts_s - p);
        }
        prev = Some(r.ts_s);
    }
}

/// Medians of |v| over all, v > 0 and v < 0.
fn medians_of(values: impl Iterator<Item = f64> + Clone, scratch: &mut Vec<f64>) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (i, keep) in [|_: f64| true, |v: f64| v > 0.0, |v: f64| v < 0.0]
        .into_iter()
        .enumerate()
    {
        scratch.clear();
        scratch.extend(values.clone().filter(|v| keep(*v)).map(f64::abs));
        out[i] = median_in_place(scratch);
    }
    out
}

fn medians_from_hist(h: &HashMap<i64, u64>) -> [f64; 3] {
    let mut all: Vec<(i64, u64)> = Vec::new();
    let mut up = Vec::new();
    let mut down = Vec::new();
    for (&v, &c) in h {
        all.push((v.abs(), c));
        if v > 0 {
            up.push((v, c));
        } else if v < 0 {
            down.push((-v, c));
        }
    }
    [
        weighted_median(all),
        weighted_median(up),
        weighted_median(down),
    ]
}

/// Median of a multiset given as (value, count) pairs.
fn weighted_median(mut pairs: Vec<(i64, u64)>) -> f64 {
    pairs.sort_unstable();
    // merge equal values (|v| of opposite signs)
    let total: u64 = pairs.iter().map(|p| p.1).sum();
    if total == 0 {
        return 0.0;
    }
    let nth = |k: u64| -> f64 {
        let mut seen = 0u64;
        for &(v, c) in &pairs {
            seen += c;
            if k < seen {
                return v as f64;
            }
        }
        0.0
    };
    if total % 2 == 1 {
        nth(total / 2)
    } else {
        (nth(total / 2 - 1) + nth(total / 2)) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pv(sign: i64, len: u32, ts: f64) -> PacketValues {
        PacketValues {
            sign,
            wire_len: len,
            ip_len: len.saturating_sub(14),
            trans_len: len.saturating_sub(34),
            app_len: len.saturating_sub(54),
            ts_s: ts,
            tcp: Some((0x10, 1000)),
        }
    }

    fn run(cap: usize, packets: &[(i64, u32, f64)]) -> (Sequences, Box<FlowStats>) {
        let mut r = SequenceRecorder::new(cap, true);
        for &(s, l, t) in packets {
            r.push(&pv(s, l, t));
        }
        r.finish(&mut Scratch::default())
    }

    const TRACE: [(i64, u32, f64); 7] = [
        (1, 74, 0.0),
        (-1, 74, 0.5),
        (1, 54, 0.75),
        (1, 600, 1.0),
        (-1, 1514, 3.0),
        (-1, 54, 2.5),
        (1, 54, 4.0),
    ];

    #[test]
    fn signed_sequences_and_iats() {
        let (s, st) = run(usize::MAX, &TRACE);
        assert_eq!(s.packet_lengths, vec![74, -74, 54, 600, -1514, -54, 54]);
        assert_eq!(s.app_lengths, vec![20, -20, 0, 546, -1460, 0, 0]);
        assert_eq!(s.iats, vec![0.5, 0.25, 0.25, 2.0, -0.5, 1.5]);
        assert_eq!(s.tcp_flags.len(), 7);
        // zeros belong to neither direction
        assert_eq!(
            (st.app.up.count, st.app.down.count, st.app.all.count),
            (2, 2, 7)
        );
        // pkt median of |lengths| = 74; up: [74,54,600,54] -> 64; down: [74,1514,54] -> 74
        assert_eq!(
            (st.pkt.all.median, st.pkt.up.median, st.pkt.down.median),
            (74.0, 64.0, 74.0)
        );
        // iat: negative gap counts as down
        assert_eq!((st.iat.up.count, st.iat.down.count), (5, 1));
        assert_eq!(st.iat.all.max, 2.0);
    }

    #[test]
    fn capped_sequences_keep_exact_statistics() {
        let (full_s, full) = run(usize::MAX, &TRACE);
        for cap in [0, 1, 2, 3, 6] {
            let (s, st) = run(cap, &TRACE);
            assert_eq!(s.packet_lengths, full_s.packet_lengths[..cap.min(7)]);
            assert_eq!(s.timestamps.len(), cap.min(7));
            assert_eq!(s.iats.len(), cap.saturating_sub(1));
            assert_eq!(st, full, "cap {cap}");
        }
    }

    #[test]
    fn statistics_can_be_turned_off() {
        let mut r = SequenceRecorder::new(usize::MAX, false);
        r.push(&pv(1, 100, 0.0));
        let (s, st) = r.finish(&mut Scratch::default());
        assert_eq!(s.packet_lengths, vec![100]);
        assert_eq!(*st, FlowStats::default());
    }
}
