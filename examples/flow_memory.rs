//! Memory per active flow: feeds N concurrent two-packet UDP flows (a query
//! and an answer each, like DNS) into one flow table and reports the peak
//! resident memory growth per million active flows (Linux /proc).
//!
//! `cargo run --release --no-default-features --example flow_memory -- 1000000`

use wa1kpcap::capture::{LinkType, RawPacket};
use wa1kpcap::Analyzer;

fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let base = status_kib("VmRSS:");
    let analyzer = Analyzer::new();
    let mut engine = analyzer.engine();
    let mut frame = wa1kpcap::sample::ethernet(0x0800, &[0u8; 20 + 8 + 40]);
    let mut sink = |_f: wa1kpcap::Flow| {};
    for i in 0..n {
        for reply in [false, true] {
            let (a, b) = (
                [10, (i >> 16) as u8, (i >> 8) as u8, i as u8],
                [192, 0, 2, 1],
            );
            let (src, dst) = if reply { (b, a) } else { (a, b) };
            let mut ip = wa1kpcap::sample::ipv4_header(src, dst, 17, 1, 48, 0, false);
            let (sp, dp) = if reply {
                (53u16, 40000u16)
            } else {
                (40000, 53)
            };
            ip.extend_from_slice(&sp.to_be_bytes());
            ip.extend_from_slice(&dp.to_be_bytes());
            ip.extend_from_slice(&48u16.to_be_bytes());
            ip.extend_from_slice(&[0, 0]);
            ip.extend_from_slice(&[0u8; 40]);
            frame.truncate(14);
            frame.extend_from_slice(&ip);
            let raw = RawPacket {
                ts_ns: 1_700_000_000_000_000_000 + i64::from(i) * 1000 + i64::from(reply),
                wire_len: frame.len() as u32,
                frame: u64::from(i) * 2 + u64::from(reply) + 1,
                interface: 0,
                linktype: LinkType::ETHERNET,
                data: &frame,
            };
            engine.packet(&raw, &mut sink);
        }
    }
    let peak = status_kib("VmHWM:");
    let summary = engine.finish(&mut sink);
    let grown_mib = peak.saturating_sub(base) as f64 / 1024.0;
    println!(
        "{} flows active at once; peak RSS grew {:.1} MiB = {:.0} MiB per million active flows ({:.0} bytes per flow)",
        summary.table.max_active_flows,
        grown_mib,
        grown_mib * 1e6 / f64::from(n),
        grown_mib * 1048576.0 / f64::from(n)
    );
}
