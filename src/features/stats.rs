//! Exact statistics over a sequence's absolute values and its up (> 0) and
//! down (< 0) parts: count, sum, mean, std, var (population), min, max,
//! range, median (mean of the two middle values), skew (Fisher–Pearson g1 =
//! m3/m2^1.5), kurt (excess, m4/m2² − 3), cv (std/mean). The statistic of an
//! empty set is 0; skew and kurt of a constant set are 0; cv with mean 0 is 0.
//!
//! Moments are accumulated online (Welford/Terriberry updates), which stays
//! exact for constant data and accurate where the naive E[x²]−E[x]² formula
//! cancels; the median is computed from the values at the end.

/// Streaming count, sum, min, max and central moments M2..M4.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    n: u64,
    sum: f64,
    mean: f64,
    m2: f64,
    m3: f64,
    m4: f64,
    min: f64,
    max: f64,
}

impl Moments {
    #[inline]
    pub fn push(&mut self, x: f64) {
        let n1 = self.n as f64;
        self.n += 1;
        let n = self.n as f64;
        let delta = x - self.mean;
        let delta_n = delta / n;
        let delta_n2 = delta_n * delta_n;
        let term1 = delta * delta_n * n1;
        self.mean += delta_n;
        self.m4 += term1 * delta_n2 * (n * n - 3.0 * n + 3.0) + 6.0 * delta_n2 * self.m2
            - 4.0 * delta_n * self.m3;
        self.m3 += term1 * delta_n * (n - 2.0) - 3.0 * delta_n * self.m2;
        self.m2 += term1;
        self.sum += x;
        if self.n == 1 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
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
        let mean = self.sum / n;
        let var = (self.m2 / n).max(0.0);
        let std = var.sqrt();
        let (skew, kurt) = if self.m2 > 0.0 && var > 0.0 {
            (
                n.sqrt() * self.m3 / self.m2.powf(1.5),
                n * self.m4 / (self.m2 * self.m2) - 3.0,
            )
        } else {
            (0.0, 0.0)
        };
        SeqStats {
            count: self.n,
            sum: self.sum,
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

    /// All statistics in [`STAT_NAMES`] order.
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
/// for none. Sorts in place.
pub(crate) fn median_in_place(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return 0.0;
    }
    values.sort_unstable_by(|a, b| a.total_cmp(b));
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
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
