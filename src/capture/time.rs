//! Timestamp arithmetic: pcapng resolution units to integer nanoseconds, and
//! ISO 8601 rendering at a file's own precision.

/// Convert `units` of an interface with `if_tsresol = tsresol` (pcapng §4.2:
/// bit 7 clear → 10^-n s, set → 2^-n s) plus `if_tsoffset` seconds into
/// nanoseconds since the epoch. Exact for resolutions down to 1 ns; finer
/// ones are truncated to the nanosecond. Saturates instead of overflowing.
pub fn units_to_ns(units: u64, tsresol: u8, tsoffset_s: i64) -> i64 {
    let n = u32::from(tsresol & 0x7f);
    let ns: i128 = if tsresol & 0x80 == 0 {
        if n <= 9 {
            i128::from(units) * 10i128.pow(9 - n)
        } else if n <= 38 {
            i128::from(units) / 10i128.pow(n - 9)
        } else {
            0
        }
    } else if n < 127 {
        (i128::from(units) * 1_000_000_000) >> n
    } else {
        0
    };
    let total = ns + i128::from(tsoffset_s) * 1_000_000_000;
    total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Decimal digits needed to show a timestamp of this resolution (max 9).
pub fn resolution_digits(tsresol: u8) -> u8 {
    let n = tsresol & 0x7f;
    if tsresol & 0x80 == 0 {
        n.min(9)
    } else {
        // 2^-n needs ceil(n · log10 2) digits.
        ((u32::from(n) * 30103).div_ceil(100_000) as u8).min(9)
    }
}

/// `2024-05-01T12:00:00.123456Z` with `digits` fractional digits (0..=9).
pub fn iso8601(ts_ns: i64, digits: u8) -> String {
    let secs = ts_ns.div_euclid(1_000_000_000);
    let frac = ts_ns.rem_euclid(1_000_000_000) as u32;
    let Some(dt) = chrono::DateTime::from_timestamp(secs, frac) else {
        return format!("{ts_ns}ns");
    };
    let base = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
    let digits = u32::from(digits.min(9));
    if digits == 0 {
        return format!("{base}Z");
    }
    let shown = frac / 10u32.pow(9 - digits);
    format!("{base}.{shown:0width$}Z", width = digits as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_resolutions_are_exact() {
        // 1.5 s in µs, ns and ms units.
        assert_eq!(units_to_ns(1_500_000, 6, 0), 1_500_000_000);
        assert_eq!(units_to_ns(1_500_000_000, 9, 0), 1_500_000_000);
        assert_eq!(units_to_ns(1_500, 3, 0), 1_500_000_000);
        // picoseconds truncate to ns
        assert_eq!(units_to_ns(1_500_000_000_123, 12, 0), 1_500_000_000);
    }

    #[test]
    fn binary_resolution_and_offset() {
        // 2^-10 s units: 1024 units = 1 s; offset 100 s.
        assert_eq!(units_to_ns(1024, 0x80 | 10, 100), 101_000_000_000);
        assert_eq!(units_to_ns(512, 0x80 | 10, 0), 500_000_000);
    }

    #[test]
    fn absurd_resolution_saturates_not_panics() {
        assert_eq!(units_to_ns(u64::MAX, 0, i64::MAX), i64::MAX);
        assert_eq!(units_to_ns(u64::MAX, 0xff, 0), 0);
        let _ = units_to_ns(u64::MAX, 0x7f, i64::MIN);
    }

    #[test]
    fn digits() {
        assert_eq!(resolution_digits(6), 6);
        assert_eq!(resolution_digits(9), 9);
        assert_eq!(resolution_digits(12), 9);
        assert_eq!(resolution_digits(0x80 | 10), 4); // 1/1024 s ≈ 0.98 ms
    }

    #[test]
    fn iso_formats() {
        assert_eq!(
            iso8601(1_700_000_000_123_456_789, 9),
            "2023-11-14T22:13:20.123456789Z"
        );
        assert_eq!(
            iso8601(1_700_000_000_123_456_789, 6),
            "2023-11-14T22:13:20.123456Z"
        );
        assert_eq!(iso8601(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(-1, 3), "1969-12-31T23:59:59.999Z");
    }
}
