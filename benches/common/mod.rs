//! Bench input shared by the benches: `WA1KPCAP_BENCH_PCAP` (default
//! `/tmp/corpus-big.pcap`, from `../shared/tools/make_big.sh`), or else the
//! built-in sample repeated to about `fallback_bytes`.

use std::path::PathBuf;

use wa1kpcap::capture::writer::PcapWriter;
use wa1kpcap::capture::{Capture, LinkType};

pub fn input(fallback_bytes: usize) -> (String, Capture) {
    let path = std::env::var_os("WA1KPCAP_BENCH_PCAP")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/corpus-big.pcap"));
    if let Ok(c) = Capture::open(&path) {
        if c.bytes().is_some() {
            return (path.display().to_string(), c);
        }
    }
    let frames = wa1kpcap::sample::sample_frames().expect("sample");
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).expect("writer");
    let mut size = 0usize;
    let mut round = 0i64;
    while size < fallback_bytes {
        for (ts, f) in &frames {
            w.write(ts + round * 1_000_000_000, f, f.len() as u32)
                .expect("write");
            size += f.len() + 16;
        }
        round += 1;
    }
    (
        "generated sample, repeated".to_string(),
        Capture::from_bytes(w.into_inner()).expect("sample capture"),
    )
}
