//! Exact statistics over a sequence's absolute values and its up (> 0) and
//! down (< 0) parts: count, sum, mean, std, var (population), min, max,
//! range, median (mean of the two middle values), skew (Fisher–Pearson g1 =
//! m3/m2^1.5), kurt (excess, m4/m2² − 3), cv (std/mean). The statistic of an
//! empty set is 0; skew and kurt of a constant set are 0; cv with mean 0 is 0.
//!
//! Moments are accumulated online (Welford/Terriberry updates), which stays
//! exact for constant data and accurate where the naive E[x²]−E[x]² formula
//! cancels; the median is computed from the values at the end.

/// Streaming count, min, max and power sums of `x − shift` (shifted data:
/// the shift is the first value, which keeps the sums small and the
/// central moments free of cancellation for real traffic). Sets with the
/// same shift add up, which is how "all" is made from "up", "down" and the
/// zeros without updating three sets per packet.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    n: u64,
    /// The shift was chosen (explicitly, or by the first value).
    shifted: bool,
    shift: f64,
    s1: f64,
    s2: f64,
    s3: f64,
    s4: f64,
    min: f64,
    max: f64,
}

impl Moments {
    /// An empty set whose sums are taken about `shift`.
    pub fn with_shift(shift: f64) -> Moments {
        Moments {
            shift,
            shifted: true,
            ..Moments::default()
        }
    }

    #[inline]
    pub fn push(&mut self, x: f64) {
        self.push_repeated(x, 1);
    }

    /// `count` copies of `x` at once.
    #[inline]
    pub fn push_repeated(&mut self, x: f64, count: u64) {
        if count == 0 {
            return;
        }
        if !self.shifted {
            self.shift = x;
            self.shifted = true;
        }
        if self.n == 0 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        let c = count as f64;
        let d = x - self.shift;
        let d2 = d * d;
        self.n += count;
        self.s1 += c * d;
        self.s2 += c * d2;
        self.s3 += c * d2 * d;
        self.s4 += c * d2 * d2;
    }

    /// The union of two sets taken about the same shift.
    pub fn merged(&self, o: &Moments) -> Moments {
        if self.n == 0 {
            return *o;
        }
        if o.n == 0 {
            return *self;
        }
        debug_assert_eq!(self.shift, o.shift);
        Moments {
            n: self.n + o.n,
            shifted: true,
            shift: self.shift,
            s1: self.s1 + o.s1,
            s2: self.s2 + o.s2,
            s3: self.s3 + o.s3,
            s4: self.s4 + o.s4,
            min: self.min.min(o.min),
            max: self.max.max(o.max),
        }
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    /// The statistics, given the median computed elsewhere.
    pub fn finish(&self, median: f64) -> SeqStats {
        if self.n == 0 {
            return SeqStats::default();
        }
        let n = self.n as f64;
        let d = self.s1 / n;
        let (e2, e3, e4) = (self.s2 / n, self.s3 / n, self.s4 / n);
        let m2 = e2 - d * d;
        let m3 = e3 - 3.0 * d * e2 + 2.0 * d * d * d;
        let m4 = e4 - 4.0 * d * e3 + 6.0 * d * d * e2 - 3.0 * d * d * d * d;
        let mean = self.shift + d;
        // A set whose spread is at rounding level is constant.
        let constant = self.max == self.min || m2 <= 1e-12 * (d * d).max(f64::MIN_POSITIVE);
        let var = if constant { 0.0 } else { m2.max(0.0) };
        let std = var.sqrt();
        let (skew, kurt) = if var > 0.0 {
            (m3 / (var * std), m4 / (var * var) - 3.0)
        } else {
            (0.0, 0.0)
        };
        SeqStats {
            count: self.n,
            sum: self.shift * n + self.s1,
            mean,
            std,
            var,
            min: self.min,
            max: self.max,
            range: self.max - self.min,
            median,
            skew,
            kurt,
            cv: if mean != 0.0 { std / mean } else { 0.0 },
        }
    }
}

/// Statistics of one set of values.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct SeqStats {
    pub count: u64,
    pub sum: f64,
    pub mean: f64,
    pub std: f64,
    pub var: f64,
    pub min: f64,
    pub max: f64,
    pub range: f64,
    pub median: f64,
    pub skew: f64,
    pub kurt: f64,
    pub cv: f64,
}

/// Names of the statistics, in column order.
pub const STAT_NAMES: [&str; 12] = [
    "count", "sum", "mean", "std", "var", "min", "max", "range", "median", "skew", "kurt", "cv",
];

impl SeqStats {
    /// The statistic called `name` (one of [`STAT_NAMES`]).
    pub fn get(&self, name: &str) -> Option<f64> {
        Some(match name {
            "count" => self.count as f64,
            "sum" => self.sum,
            "mean" => self.mean,
            "std" => self.std,
            "var" => self.var,
            "min" => self.min,
            "max" => self.max,
            "range" => self.range,
            "median" => self.median,
            "skew" => self.skew,
            "kurt" => self.kurt,
            "cv" => self.cv,
            _ => return None,
        })
    }

    /// Every statistic in [`STAT_NAMES`] order (the count as f64: exact,
    /// counts stay far below 2^53).
    #[inline]
    pub fn values(&self) -> [f64; 12] {
        [
            self.count as f64,
            self.sum,
            self.mean,
            self.std,
            self.var,
            self.min,
            self.max,
            self.range,
            self.median,
            self.skew,
            self.kurt,
            self.cv,
        ]
    }

    /// The statistic at position `i` of [`STAT_NAMES`] (0 past the end).
    #[inline]
    pub fn by_index(&self, i: usize) -> f64 {
        match i {
            0 => self.count as f64,
            1 => self.sum,
            2 => self.mean,
            3 => self.std,
            4 => self.var,
            5 => self.min,
            6 => self.max,
            7 => self.range,
            8 => self.median,
            9 => self.skew,
            10 => self.kurt,
            11 => self.cv,
            _ => 0.0,
        }
    }
}

/// Statistics of a family over all values and the up and down parts.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct DirStats {
    pub all: SeqStats,
    pub up: SeqStats,
    pub down: SeqStats,
}

/// The sequence families statistics are computed for, with their column
/// prefixes (the seed's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `packet_lengths`
    Pkt,
    /// `ip_lengths`
    Ip,
    /// `trans_lengths`
    Trans,
    /// `app_lengths`
    App,
    /// `iats`
    Iat,
}

impl Family {
    pub const ALL: [Family; 5] = [
        Family::Pkt,
        Family::Ip,
        Family::Trans,
        Family::App,
        Family::Iat,
    ];

    pub fn prefix(self) -> &'static str {
        match self {
            Family::Pkt => "pkt",
            Family::Ip => "ip",
            Family::Trans => "trans",
            Family::App => "app",
            Family::Iat => "iat",
        }
    }
}

/// All statistics of a flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct FlowStats {
    pub pkt: DirStats,
    pub ip: DirStats,
    pub trans: DirStats,
    pub app: DirStats,
    pub iat: DirStats,
    /// up packets / down packets (0 when there are no down packets).
    pub up_down_pkt_ratio: f64,
    /// up bytes / down bytes on the wire (0 when there are no down bytes).
    pub up_down_byte_ratio: f64,
}

impl FlowStats {
    pub fn family(&self, f: Family) -> &DirStats {
        match f {
            Family::Pkt => &self.pkt,
            Family::Ip => &self.ip,
            Family::Trans => &self.trans,
            Family::App => &self.app,
            Family::Iat => &self.iat,
        }
    }

    pub(crate) fn family_mut(&mut self, f: Family) -> &mut DirStats {
        match f {
            Family::Pkt => &mut self.pkt,
            Family::Ip => &mut self.ip,
            Family::Trans => &mut self.trans,
            Family::App => &mut self.app,
            Family::Iat => &mut self.iat,
        }
    }

    /// A statistic by its column name, e.g. `pkt_mean`, `pkt_up_count`,
    /// `iat_max`, `app_down_median`, `up_down_pkt_ratio`.
    pub fn get(&self, name: &str) -> Option<f64> {
        match name {
            "up_down_pkt_ratio" => return Some(self.up_down_pkt_ratio),
            "up_down_byte_ratio" => return Some(self.up_down_byte_ratio),
            _ => {}
        }
        let (prefix, rest) = name.split_once('_')?;
        let family = Family::ALL.into_iter().find(|f| f.prefix() == prefix)?;
        let d = self.family(family);
        if let Some(stat) = rest.strip_prefix("up_") {
            d.up.get(stat)
        } else if let Some(stat) = rest.strip_prefix("down_") {
            d.down.get(stat)
        } else {
            d.all.get(rest)
        }
    }
}

/// Median of `values` (mean of the two middle values for an even count); 0
/// for none. Reorders `values` (linear-time selection, no allocation).
pub(crate) fn median_in_place(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return 0.0;
    }
    let (left, mid, _) = values.select_nth_unstable_by(n / 2, |a, b| {
        a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal)
    });
    let upper = *mid;
    if n % 2 == 1 {
        return upper;
    }
    let lower = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lower + upper) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(v: &[f64]) -> SeqStats {
        let mut m = Moments::default();
        for &x in v {
            m.push(x);
        }
        let mut c = v.to_vec();
        m.finish(median_in_place(&mut c))
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn matches_scipy_on_a_textbook_sample() {
        // scipy.stats.skew([2,8,0,4,1,9,9,0]) = 0.2650554122698573
        // scipy.stats.kurtosis(...)           = -1.6660010752838508
        // numpy.var = 13.859375, numpy.median = 3.0
        let s = stats(&[2.0, 8.0, 0.0, 4.0, 1.0, 9.0, 9.0, 0.0]);
        assert_eq!(s.count, 8);
        assert!(close(s.sum, 33.0));
        assert!(close(s.mean, 4.125));
        assert!(close(s.var, 13.859375), "{}", s.var);
        assert!(close(s.median, 3.0));
        assert!(close(s.skew, 0.2650554122698573), "{}", s.skew);
        assert!(close(s.kurt, -1.6660010752838508), "{}", s.kurt);
        assert!(close(s.cv, 13.859375f64.sqrt() / 4.125));
        assert_eq!((s.min, s.max, s.range), (0.0, 9.0, 9.0));
    }

    #[test]
    fn empty_and_constant_sets() {
        assert_eq!(stats(&[]), SeqStats::default());
        let s = stats(&[1514.0; 1000]);
        assert_eq!(
            (s.var, s.std, s.skew, s.kurt, s.cv),
            (0.0, 0.0, 0.0, 0.0, 0.0)
        );
        assert_eq!(s.median, 1514.0);
        let one = stats(&[7.0]);
        assert_eq!(
            (one.count, one.mean, one.median, one.skew),
            (1, 7.0, 7.0, 0.0)
        );
    }

    #[test]
    fn stable_where_the_naive_formula_cancels() {
        // large offset, tiny spread: population variance is exactly 2/3
        let base = 1.0e9;
        let s = stats(&[base + 1.0, base + 2.0, base + 3.0]);
        assert!(close(s.var, 2.0 / 3.0), "{}", s.var);
        assert!(s.skew.abs() < 1e-6);
    }

    #[test]
    fn lookup_by_column_name() {
        let mut fs = FlowStats::default();
        fs.pkt.up.mean = 3.5;
        fs.iat.all.max = 0.25;
        fs.up_down_pkt_ratio = 2.0;
        assert_eq!(fs.get("pkt_up_mean"), Some(3.5));
        assert_eq!(fs.get("iat_max"), Some(0.25));
        assert_eq!(fs.get("up_down_pkt_ratio"), Some(2.0));
        assert_eq!(fs.get("pkt_sideways_mean"), None);
        assert_eq!(fs.get("nope_mean"), None);
    }
}
